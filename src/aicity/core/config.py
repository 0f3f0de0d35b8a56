"""Settings from `aicity.toml` and `AICITY_*` environment variables.

Precedence (highest first): explicit overrides, environment, `aicity.toml` in the
working directory (or the file named by `AICITY_CONFIG`), defaults.

`Settings` holds the kernel's plain settings; every slice adds its own typed section
(`[aicity.iot]` → `settings().section(IotSettings)`), so the class the process uses is built
from the installed slices (`settings_class()`). A key of a section may also come from
`AICITY_<SECTION>_<KEY>` (`AICITY_IOT_MQTT_URL`). A wrong value is a `ConfigError` naming
the key (`aicity.iot.offline_after_s: …`); nothing else in the code reads the environment.
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError, create_model
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from aicity.core import slices

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """Settings that cannot be used; the message names every wrong key (`aicity.iot.offline_after_s`)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AICITY_", extra="ignore")

    data_dir: Path = Field(default=Path(".aicity"), description="where the city's state lives")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file in the data dir"
    )
    max_text_chars: int = Field(default=8000, ge=1, description="longest request text accepted")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="largest document accepted")
    max_request_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, description="largest request body of any "
                                   "kind, refused at the door before a route spools it (above every upload limit)")
    max_json_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="largest JSON request body")
    dense: bool = Field(default=True, description="use the offline embedding model beside BM25")
    embedding_cache: Path = Field(default=Path("~/.cache/aicity/embeddings"),
                                  description="passage vectors, shared by every data dir of this user")
    shipped_vectors: bool = Field(default=True, description="use the vectors the package ships for the bundled "
                                                            "texts (a fresh machine answers without computing them)")
    planner: Literal["auto", "embedded", "llm"] = Field(
        default="auto", description="auto: plan with the LLM when its model group has a deployment")
    planner_group: str = Field(default="chat-large", description="the model group the LLM planner uses")
    # ---- security hardening (docs/security.md, "Red-team findings") ----
    embed_wait_s: float = Field(default=3.0, gt=0,
                                description="longest a request waits for the query embedder before keyword-only")
    egress_allow: list[str] = Field(
        default_factory=list,
        description="hosts or CIDR ranges the server may call although they are loopback/private (e.g. 127.0.0.1)")
    audit_key_file: Path | None = Field(
        default=None, description="the audit signing key (PEM); default ~/.config/aicity/audit_signing_key.pem "
                                  "(AICITY_AUDIT_SIGNING_KEY may hold the PEM itself)")
    audit_signing_key: SecretStr | None = Field(
        default=None, description="the audit signing key's PEM itself (set AICITY_AUDIT_SIGNING_KEY from a secret store)")
    metrics_token: str | None = Field(
        default=None, description="a bearer token Prometheus may present to read /metrics (staff keys work too)")
    redispatch_policy: Literal["own_department", "any"] = Field(
        default="own_department",
        description="which events an official may act on: their department's only, or any department's")
    max_json_depth: int = Field(default=32, ge=2, description="deepest JSON nesting a request body may have")
    # ---- scale-out (docs/scale-out.md): unset keeps the embedded single process ----
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 turns on the distributed mode: shared rate limits, "
                                  "the durable bus, background workers (`aicity worker`), shared ingest counters")
    redis_prefix: str = Field(default="aicity", pattern=r"^[A-Za-z0-9_.-]{1,40}$",
                              description="prefix of every Redis key this city uses (several cities on one Redis)")
    bus_claim_idle_s: float = Field(default=30.0, gt=0, description="a durable bus event pending this long (its "
                                    "handler failed or its worker died) is delivered again; doubled per attempt")
    bus_max_attempts: int = Field(default=5, ge=1, description="deliveries of a durable bus event before it goes "
                                                               "to the dead-letter stream")

    #: the slices' sections: name → model (filled on the class that `settings_class()` builds)
    sections: ClassVar[dict[str, type[BaseModel]]] = {}

    def optional_section(self, model: type[M]) -> M | None:
        """The section `model` validates; None when it has required keys and is not configured."""
        for name, declared in type(self).sections.items():
            if declared is model:
                value = getattr(self, name)
                return value if isinstance(value, model) else None
        raise LookupError(f"no installed slice declares the settings {model.__name__}")

    def section(self, model: type[M]) -> M:
        """The typed section `model` validates (`settings().section(IotSettings)`)."""
        value = self.optional_section(model)
        if value is None:
            raise LookupError(f"the settings {model.__name__} are not configured")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aicity.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SectionEnvSource(settings_cls), _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the `[aicity]` table (or the top level) of `aicity.toml`."""

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("AICITY_CONFIG", "aicity.toml"))
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        table: dict[str, Any] = data.get("aicity", data)
        return table

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


class _SectionEnvSource(PydanticBaseSettingsSource):
    """`AICITY_<SECTION>_<KEY>` for each key of each slice's section (a JSON value for lists and tables)."""

    def __call__(self) -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = {}
        sections: dict[str, type[BaseModel]] = getattr(self.settings_cls, "sections", {})
        for name, model in sections.items():
            for key in model.model_fields:
                raw = os.environ.get(f"AICITY_{name}_{key}".upper())
                if raw:
                    found.setdefault(name, {})[key] = _env_value(raw)
        return found

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


def _env_value(raw: str) -> Any:
    if raw.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


@cache
def _build_class(declared: tuple[tuple[str, str], ...]) -> type[Settings]:
    sections: dict[str, type[BaseModel]] = {}
    fields: dict[str, Any] = {}
    for name, ref in declared:
        if name in Settings.model_fields or name in sections:
            raise slices.SliceError(f"settings section '{name}' is declared twice (or is a kernel setting)")
        model = sections[name] = slices.settings_model(ref)
        try:
            model()
        except ValidationError:  # a section with required keys (e.g. [aicity.oidc]) is off unless given
            fields[name] = (model | None, Field(default=None, description=model.__doc__))
        else:
            fields[name] = (model, Field(default_factory=model, description=model.__doc__))
    cls = create_model("CitySettings", __base__=Settings, **fields)
    cls.sections = sections
    return cls


def settings_class() -> type[Settings]:
    """`Settings` with a typed field per section that the installed slices declare."""
    return _build_class(tuple((sec.name, sec.model) for s in slices.slices() for sec in s.settings))


def _error(exc: ValidationError) -> ConfigError:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        given = err.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
        lines.append(f"aicity.{key}: {err['msg']}{shown}" if key else err["msg"])
    return ConfigError("配置有误 invalid settings — " + "; ".join(lines))


def load(**overrides: Any) -> Settings:
    """Read the settings (overrides, environment, aicity.toml) into the slices' settings class."""
    try:
        return settings_class()(**overrides)
    except ValidationError as exc:
        raise _error(exc) from None


_current: Settings | None = None
_overrides: dict[str, Any] = {}
_read_for: tuple[slices.Slice, ...] | None = None
_lock = threading.RLock()


def settings() -> Settings:
    """The process-wide settings, read on first use (again when the installed slices change)."""
    global _current, _read_for
    with _lock:
        installed = slices.slices()
        if _current is None or (_read_for is not None and installed is not _read_for):
            _current, _read_for = load(**_overrides), installed
        return _current


def configure(**overrides: Any) -> Settings:
    """Replace the process-wide settings (CLI flags, tests); `None` values are ignored."""
    global _current, _overrides, _read_for
    given = {k: v for k, v in overrides.items() if v is not None}
    current = load(**given)
    with _lock:
        _current, _overrides, _read_for = current, given, slices.slices()
    return current
