"""Settings from `aicity.toml` and `AICITY_*` environment variables.

Precedence (highest first): explicit overrides, environment, `aicity.toml` in the
working directory (or the file named by `AICITY_CONFIG`), defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AICITY_", extra="ignore")

    data_dir: Path = Field(default=Path(".aicity"), description="where the city's state lives")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file in the data dir"
    )
    max_text_chars: int = Field(default=8000, ge=1, description="longest request text accepted")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="largest document accepted")
    dense: bool = Field(default=True, description="use the offline embedding model beside BM25")
    embedding_cache: Path = Field(default=Path("~/.cache/aicity/embeddings"),
                                  description="passage vectors, shared by every data dir of this user")
    gateway: dict[str, Any] = Field(default_factory=dict,
                                    description="[aicity.gateway]: model deployments and groups (see the gateway docs)")
    guard: dict[str, Any] = Field(default_factory=dict,
                                  description="[aicity.guard]: the guard pipeline's policy (see security/guard.py)")
    auth: dict[str, Any] = Field(default_factory=dict,
                                 description="[aicity.auth]: console sessions and rate limits (see security/auth.py)")
    oidc: dict[str, Any] = Field(default_factory=dict,
                                 description="[aicity.oidc]: an OpenID Connect provider whose ID tokens log in")
    iot: dict[str, Any] = Field(default_factory=dict,
                                description="[aicity.iot]: provisioning key, MQTT broker, offline threshold, command_policy")
    safety: dict[str, Any] = Field(default_factory=dict,
                                   description="[aicity.safety]: the waterlogging watch (flood_check_s, flood_horizon_min)")
    planner: Literal["auto", "embedded", "llm"] = Field(
        default="auto", description="auto: plan with the LLM when its model group has a deployment")
    planner_group: str = Field(default="chat-large", description="the model group the LLM planner uses")

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
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the `[aicity]` table (or the top level) of `aicity.toml`."""

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("AICITY_CONFIG", "aicity.toml"))
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return data.get("aicity", data)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


_current: Settings | None = None


def settings() -> Settings:
    """The process-wide settings, read on first use."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def configure(**overrides: Any) -> Settings:
    """Replace the process-wide settings (CLI flags, tests); `None` values are ignored."""
    global _current
    _current = Settings(**{k: v for k, v in overrides.items() if v is not None})
    return _current
