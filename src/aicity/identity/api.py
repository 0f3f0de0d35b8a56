"""Identity HTTP API and the dependencies other routers use to know the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Header, Request
from pydantic import BaseModel

from aicity.core.errors import forbidden
from aicity.identity import auth, service
from aicity.identity.models import Role
from aicity.identity.schemas import ApiKeyCreated, ApiKeyView, DepartmentView, Me
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1", tags=["identity"])


def caller(authorization: str | None = None, x_api_key: str | None = None, session: str | None = None,
           client: str = "") -> Principal | None:
    """The authenticated principal, from `Authorization: Bearer KEY|SESSION`, `X-API-Key` or
    the console's session cookie (`identity/auth.py`)."""
    presented = bearer(authorization)
    return auth.identify(x_api_key if presented is None else presented, session, client)


def bearer(authorization: str | None) -> str | None:
    """The credential in an `Authorization: Bearer …` header, or None without one."""
    return authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else None


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def _request_caller(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
    aicity_session: Annotated[str | None, Cookie()] = None,
) -> Principal | None:
    return caller(authorization, x_api_key, aicity_session, client_address(request))


Caller = Annotated[Principal | None, Depends(_request_caller)]


def require_admin(principal: Caller) -> Principal:
    if principal is None or principal.role != Role.admin:
        raise forbidden("需要管理员 API key / admin key required")
    return principal


@router.get("/departments", response_model=list[DepartmentView], summary="部门列表 Departments")
def departments() -> list[dict]:
    return [{"id": d.id, "name": d.name, "name_en": d.name_en, "duties": d.duties} for d in service.list_departments()]


@router.get("/me", response_model=Me, summary="当前身份 Who am I")
def me(principal: Caller) -> dict:
    p = principal or Principal(role=Role.citizen)
    return {"role": p.role.value, "department": p.department, "authenticated": principal is not None}


class KeyRequest(BaseModel):
    name: str
    role: str
    department: str | None = None


Admin = Annotated[Principal, Depends(require_admin)]


@router.post("/keys", status_code=201, response_model=ApiKeyCreated, summary="创建 API key（管理员）")
def create_key(body: KeyRequest, admin: Admin) -> dict:
    key, plaintext = service.create_api_key(body.name, body.role, body.department, actor=admin.actor)
    return {"id": key.id, "name": key.name, "role": key.role, "department": key.department_id, "key": plaintext}


@router.get("/keys", response_model=list[ApiKeyView], summary="API key 列表（管理员）")
def list_keys(_: Annotated[Principal, Depends(require_admin)]) -> list[dict]:
    return [{"id": k.id, "name": k.name, "prefix": k.prefix, "role": k.role, "department": k.department_id,
             "revoked": k.revoked} for k in service.list_api_keys()]


@router.delete("/keys/{key_id}", status_code=204, summary="吊销 API key（管理员）")
def revoke_key(key_id: str, admin: Admin) -> None:
    service.revoke_api_key(key_id, actor=admin.actor)
