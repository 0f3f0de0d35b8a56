"""Identity service: departments, API keys, and who a caller is."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from aicity.core import audit
from aicity.core.db import PerDatabase, database
from aicity.core.errors import bad_request, forbidden, not_found, unauthorized
from aicity.core.ids import new_id, secret_digest, utcnow
from aicity.identity.models import PUBLIC_ROLES, STAFF_ROLES, ApiKey, Department, Role

KEY_PREFIX = "aic_"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role, maybe a department, maybe the key that proved it."""

    role: Role
    department: str | None = None
    key_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def actor(self) -> str:
        """How the audit ledger and the approval queue name this caller: `role:key_id`
        (`role:local` without a key)."""
        return f"{self.role.value}:{self.key_id or 'local'}"


OPERATOR_ROLES = frozenset({Role.operator, Role.admin})


def require_operator(principal: Principal | None) -> Principal:
    """Operators and admins only (403 `operator-only` for anyone else, other staff included)."""
    if principal is None or principal.role not in OPERATOR_ROLES:
        raise forbidden("需要运营人员或管理员 API key / an operator or admin key is required", "operator-only")
    return principal


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise bad_request(f"未知角色 unknown role '{value}'; allowed: {allowed}", "unknown-role") from None


def load_departments(rows: list[dict[str, Any]]) -> int:
    with database().session() as s:
        for row in rows:
            s.merge(
                Department(
                    id=row["id"], name=row["name"], name_en=row.get("name_en", ""), duties=row.get("duties", [])
                )
            )
    _departments.invalidate()
    return len(rows)


def _read_departments() -> list[Department]:
    with database().session() as s:
        return list(s.scalars(select(Department).order_by(Department.id)))


#: departments change only when a city's data is loaded: read once per database
_departments = PerDatabase(_read_departments)


def list_departments() -> list[Department]:
    return _departments.get()


def department_name(dept_id: str) -> str:
    """The department's Chinese name, or the id when it is unknown."""
    return next((d.name for d in list_departments() if d.id == dept_id), dept_id)



def create_api_key(name: str, role: str, department: str | None = None, *,
                   actor: str = "system") -> tuple[ApiKey, str]:
    """Create a key; the plaintext is returned once and never stored. `actor` (who asked: the
    admin's `role:key_id`, or "cli") is recorded in the audit ledger with the key's id and role."""
    parsed = parse_role(role)
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    with database().session() as s:
        if department and s.get(Department, department) is None:
            raise bad_request(f"未知部门 unknown department '{department}'", "unknown-department")
        key = ApiKey(
            id=new_id("key"),
            name=name,
            prefix=plaintext[:10],
            key_hash=secret_digest(plaintext),
            role=parsed.value,
            department_id=department,
            created_at=utcnow(),
        )
        s.add(key)
    audit.record(actor, "identity.key.created", key.id,
                 {"name": name, "role": key.role, "department": department, "prefix": key.prefix})
    return key, plaintext


def list_api_keys() -> list[ApiKey]:
    with database().session() as s:
        return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_api_key(key_id: str, *, actor: str = "system") -> None:
    with database().session() as s:
        key = s.get(ApiKey, key_id)
        if key is None:
            raise not_found(f"API key '{key_id}' not found")
        key.revoked = True
        role = key.role
    audit.record(actor, "identity.key.revoked", key_id, {"role": role})


def authenticate(plaintext: str | None) -> Principal | None:
    """The principal behind a presented key; None when no key was presented."""
    if not plaintext:
        return None
    digest = secret_digest(plaintext)
    with database().session() as s:
        key = s.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or key.revoked or not hmac.compare_digest(key.key_hash, digest):
        raise unauthorized("API key 无效或已吊销 invalid or revoked API key")
    return Principal(role=Role(key.role), department=key.department_id, key_id=key.id)


def principal_for_key(key_id: str) -> Principal | None:
    """The principal of an active key by its id (a session made from it lives only as long)."""
    with database().session() as s:
        key = s.get(ApiKey, key_id)
    if key is None or key.revoked:
        return None
    return Principal(role=Role(key.role), department=key.department_id, key_id=key.id)


def acting_principal(authenticated: Principal | None, requested_role: str | None) -> Principal:
    """Decide the role a request runs as.

    Without a key a caller may act as a citizen or an enterprise. Staff roles need a key of
    that role; an admin key may act as any role.
    """
    role = parse_role(requested_role) if requested_role else None
    if authenticated is None:
        role = role or Role.citizen
        if role not in PUBLIC_ROLES:
            raise forbidden(f"角色 '{role.value}' 需要对应的 API key / role '{role.value}' requires an API key")
        return Principal(role=role)
    if role is None or role == authenticated.role:
        return authenticated
    if authenticated.role == Role.admin or role in PUBLIC_ROLES:
        return Principal(role=role, department=authenticated.department, key_id=authenticated.key_id)
    raise forbidden(f"此 API key 的角色为 '{authenticated.role.value}'，不能以 '{role.value}' 身份访问")
