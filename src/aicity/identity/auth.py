"""Identity hardening (身份加固): console sessions, login with an API key or an OIDC ID token,
rate limits, and the audit of failed authentication.

- A session is a JWT (HS256) signed with a key derived (HKDF-SHA256) from the audit ledger's
  Ed25519 key, so there is no second secret to keep; it expires (`session_minutes`), names
  its role, department and the key or OIDC subject behind it, and is given as an HttpOnly
  SameSite=Strict cookie and as a bearer token. A session made from an API key dies with the
  key (checked on every request); `logout` revokes one session (its id is kept in the meta
  table until it would have expired anyway).
- OIDC (`[aicity.oidc]`): an RS256 ID token is checked against the configured JWKS (a file,
  or a URL fetched and cached by PyJWT), issuer, audience (`client_id`) and expiry; a claim
  (`role_claim`, a string or a list) is mapped to a role by `role_map` (the most privileged
  match wins; `default_role` otherwise, or refused), `department_claim` to a department.
- Rate limits (moving windows, like the gateway's quotas; in memory, or in Redis for every
  worker of the city when `redis_url` is set: core/scale.py): login attempts per client
  address, assistant requests per key (per client address without one). Over the limit: 429
  with Retry-After.
- Failed authentication is audited (`auth.failure`, `auth.login_failed`); a client that keeps
  failing is recorded at most `_FAILURE_AUDITS` times a minute, the rest counted in the next
  entry, so invalid keys cannot flood the ledger.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from limits import RateLimitItem, parse
from pydantic import ValidationError

from aicity.core import audit, egress, scale
from aicity.core.config import settings
from aicity.core.errors import Problem, forbidden, too_many, unauthorized
from aicity.core.meta import get_meta, set_meta
from aicity.identity import service as identity
from aicity.identity.auth_settings import AuthConfig as AuthConfig
from aicity.identity.auth_settings import OidcConfig as OidcConfig
from aicity.identity.models import Role
from aicity.identity.service import KEY_PREFIX, Principal

COOKIE = "aicity_session"
_ISSUER = "aicity"
_AUDIENCE = "aicity-console"
_REVOKED = "auth.revoked."
#: audit entries per client per minute for failed authentication; the rest are counted
_FAILURE_AUDITS = 6
#: privilege order: an OIDC user whose claims map to several roles gets the last of these
_RANK = [Role.citizen, Role.enterprise, Role.official, Role.operator, Role.admin]


def _invalid_config(table: str, exc: ValidationError) -> Problem:
    return Problem(500, "身份配置不合法 Invalid identity configuration", f"[aicity.{table}]: {exc}", "auth-config")


def config() -> AuthConfig:
    try:
        return AuthConfig.model_validate(settings().auth)
    except ValidationError as exc:
        raise _invalid_config("auth", exc) from None


def oidc_config() -> OidcConfig | None:
    if not settings().oidc:
        return None
    try:
        cfg = OidcConfig.model_validate(settings().oidc)
    except ValidationError as exc:
        raise _invalid_config("oidc", exc) from None
    if (cfg.jwks_file is None) == (cfg.jwks_url is None):
        raise Problem(500, "身份配置不合法 Invalid identity configuration",
                      "[aicity.oidc]: 须且只能给出 jwks_file 或 jwks_url 之一 give exactly one of jwks_file, jwks_url",
                      "auth-config")
    return cfg


# --- rate limits --------------------------------------------------------------------------

@cache
def _item(rate: str) -> RateLimitItem:
    return parse(rate)


def _admit(rate: str, scope: str, who: str, detail: str) -> None:
    item = _item(rate)
    if not scale.limiter().hit(item, scope, who):
        reset = scale.limiter().get_window_stats(item, scope, who).reset_time
        raise too_many(f"{detail}（上限 {rate}）", reset - datetime.now(UTC).timestamp(), "rate-limited")


def admit_assistant(principal: Principal | None, client: str) -> None:
    """Count one assistant request: per key (or session), else per client address."""
    cfg = config()
    if principal is not None and principal.key_id:
        _admit(cfg.assistant_rate, "assistant", principal.key_id, "请求过于频繁，请稍后再试 too many requests for this key")
    else:
        _admit(cfg.anonymous_rate, "assistant-anonymous", client,
               "请求过于频繁，请稍后再试 too many requests from this address")


# --- audit of failures --------------------------------------------------------------------

_failure_lock = threading.Lock()
_suppressed: dict[str, int] = {}
_failure_item = _item(f"{_FAILURE_AUDITS}/minute")


def _audit_failure(action: str, client: str, reason: str) -> None:
    with _failure_lock:
        if not scale.limiter().hit(_failure_item, "auth-failure-audit", client):
            if len(_suppressed) > 10_000:  # many addresses: keep memory bounded, lose only counts
                _suppressed.clear()
            _suppressed[client] = _suppressed.get(client, 0) + 1
            return
        suppressed = _suppressed.pop(client, 0)
    audit.record("auth", action, client[:500], {"reason": reason, "client": client, "suppressed": suppressed})


# --- sessions -----------------------------------------------------------------------------

def _secret() -> bytes:
    """HS256 key for sessions, derived from the ledger's Ed25519 key (domain-separated)."""
    raw = audit.signing_key().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                            serialization.NoEncryption())
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"aicity-console-session-v1").derive(raw)


def issue_session(principal: Principal, source: str, subject: str) -> dict[str, Any]:
    """A signed, expiring session token for `principal` (`source`: key | oidc)."""
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=config().session_minutes)
    claims = {"iss": _ISSUER, "aud": _AUDIENCE, "sub": subject, "iat": now, "exp": expires,
              "jti": secrets.token_urlsafe(16), "role": principal.role.value, "dept": principal.department,
              "kid": principal.key_id, "src": source}
    token = jwt.encode(claims, _secret(), algorithm="HS256")
    return {"token": token, "token_type": "bearer", "expires_at": expires.isoformat(timespec="seconds"),
            "role": principal.role.value, "department": principal.department}


def _claims(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, _secret(), algorithms=["HS256"], audience=_AUDIENCE, issuer=_ISSUER,
                          options={"require": ["exp", "iat", "jti", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise unauthorized("会话已过期，请重新登录 session expired; log in again") from None
    except jwt.InvalidTokenError:
        raise unauthorized("会话无效 invalid session token") from None


def session_principal(token: str) -> Principal:
    claims = _claims(token)
    if get_meta(_REVOKED + claims["jti"]) is not None:
        raise unauthorized("会话已退出 session logged out")
    if claims.get("src") == "key":
        principal = identity.principal_for_key(str(claims.get("kid")))
        if principal is None:
            raise unauthorized("会话所用的 API key 已吊销 the session's API key was revoked")
        return principal
    return Principal(role=Role(claims["role"]), department=claims.get("dept"), key_id=claims.get("kid"))


def logout(token: str) -> None:
    """Revoke one session (until it would have expired) and audit it."""
    claims = _claims(token)
    set_meta(_REVOKED + claims["jti"], str(claims["exp"]))
    audit.record(f"{claims['role']}:{claims['sub']}"[:200], "auth.logout", "session", {"source": claims.get("src")})


# --- who is calling -----------------------------------------------------------------------

def identify(credential: str | None, session_cookie: str | None, client: str) -> Principal | None:
    """The principal behind a presented API key or session token (a header's credential wins
    over the cookie); None when nothing was presented. Failures are audited (throttled)."""
    presented = credential or session_cookie
    if not presented:
        return None
    try:
        if credential and credential.startswith(KEY_PREFIX):
            return identity.authenticate(credential)
        return session_principal(presented)
    except Problem as exc:
        _audit_failure("auth.failure", client, exc.detail)
        raise


def login_with_key(api_key: str, client: str) -> dict[str, Any]:
    _admit(config().login_rate, "login", client, "登录尝试过于频繁 too many login attempts")
    try:
        principal = identity.authenticate(api_key)
    except Problem:
        principal = None
    if principal is None:
        _audit_failure("auth.login_failed", client, "invalid API key")
        raise unauthorized("API key 无效或已吊销 invalid or revoked API key")
    audit.record(principal.actor, "auth.login", client[:500], {"source": "key"})
    return issue_session(principal, "key", str(principal.key_id))


# --- OIDC ---------------------------------------------------------------------------------

#: a provider's keys are fetched again after this long (or when a token names an unknown key)
JWKS_TTL_S = 300.0
_jwks: dict[str, tuple[float, str]] = {}


def _jwks_text(url: str, refresh: bool) -> str:
    """The provider's JWKS, fetched under the egress policy (no redirects, no internal
    addresses unless allowed) and kept for JWKS_TTL_S."""
    held = _jwks.get(url)
    if held is not None and not refresh and time.monotonic() - held[0] < JWKS_TTL_S:
        return held[1]
    try:
        with egress.client(timeout=10) as http:
            response = http.get(url)  # the client checks the URL as it connects (one lookup, pinned)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise jwt.InvalidTokenError(f"the JWKS at {url} could not be fetched: {exc}") from None
    if response.status_code != 200:
        raise jwt.InvalidTokenError(f"the JWKS at {url} answered {response.status_code}")
    _jwks[url] = (time.monotonic(), response.text)
    return response.text


def _signing_key(cfg: OidcConfig, token: str) -> Any:
    kid = jwt.get_unverified_header(token).get("kid")
    if cfg.jwks_url:
        keys = jwt.PyJWKSet.from_json(_jwks_text(cfg.jwks_url, refresh=False)).keys
        if kid is not None and all(k.key_id != kid for k in keys):  # the provider rotated its keys
            keys = jwt.PyJWKSet.from_json(_jwks_text(cfg.jwks_url, refresh=True)).keys
    else:
        assert cfg.jwks_file is not None
        keys = jwt.PyJWKSet.from_json(cfg.jwks_file.read_text(encoding="utf-8")).keys
    found = [k for k in keys if kid is None or k.key_id == kid]
    if not found:
        raise jwt.InvalidTokenError(f"no key '{kid}' in the JWKS")
    return found[0].key


def _oidc_role(cfg: OidcConfig, claims: dict[str, Any]) -> Role:
    value = claims.get(cfg.role_claim)
    values = value if isinstance(value, list) else [value]
    roles = [cfg.role_map[v] for v in values if isinstance(v, str) and v in cfg.role_map]
    if roles:
        return max(roles, key=_RANK.index)
    if cfg.default_role is None:
        raise forbidden(f"身份令牌的 {cfg.role_claim} 未对应任何角色 no role maps from the token's claims",
                        "no-role")
    return cfg.default_role


def login_with_oidc(id_token: str, client: str) -> dict[str, Any]:
    """Open a session from an ID token of the configured provider."""
    cfg = oidc_config()
    if cfg is None:
        raise Problem(404, "未启用 OIDC OIDC not configured", "本城市未配置 [aicity.oidc]", "oidc-disabled")
    _admit(config().login_rate, "login", client, "登录尝试过于频繁 too many login attempts")
    try:
        claims = jwt.decode(id_token, _signing_key(cfg, id_token), algorithms=["RS256"], audience=cfg.client_id,
                            issuer=cfg.issuer, leeway=cfg.leeway_seconds,
                            options={"require": ["exp", "iat", "iss", "aud", "sub"]})
    except (jwt.InvalidTokenError, jwt.PyJWKClientError, OSError) as exc:
        _audit_failure("auth.login_failed", client, f"oidc: {type(exc).__name__}")
        raise unauthorized(f"身份令牌无效 invalid ID token: {exc}") from None
    role = _oidc_role(cfg, claims)
    dept = claims.get(cfg.department_claim) if cfg.department_claim else None
    known = {d.id for d in identity.list_departments()}
    subject = f"oidc:{claims['sub']}"[:100]
    principal = Principal(role=role, department=dept if dept in known else None, key_id=subject)
    audit.record(f"{role.value}:{subject}", "auth.login", client[:500], {"source": "oidc", "issuer": cfg.issuer})
    return issue_session(principal, "oidc", subject)
