"""What the identity API answers: departments, the caller, API keys (a key's plaintext only on creation)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DepartmentView(BaseModel):
    id: str
    name: str
    name_en: str
    duties: list[str] = Field(description="职责，用于分派 what the unit is responsible for (routing, dispatch)")


class Me(BaseModel):
    role: str
    department: str | None
    authenticated: bool = Field(description="是否出示了有效凭据 whether a valid credential was presented")


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    role: str
    department: str | None
    key: str = Field(description="API key 明文，只显示这一次 the key itself, shown this once")


class ApiKeyView(BaseModel):
    id: str
    name: str
    prefix: str
    role: str
    department: str | None
    revoked: bool


class SessionIssued(BaseModel):
    """A console session: the token also travels in an HttpOnly cookie."""

    token: str = Field(description="签名的会话令牌，用于 Authorization: Bearer the signed session token")
    token_type: str = Field(examples=["bearer"])
    expires_at: str
    role: str
    department: str | None
