"""The sign-in settings: `[aicity.auth]` and `[aicity.oidc]`. Apart from auth.py so that validating
the settings, which every command does, does not load the token and HTTP libraries."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from aicity.identity.models import Role


class AuthConfig(BaseModel):
    """`[aicity.auth]`."""

    model_config = ConfigDict(extra="forbid")

    session_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60, description="a console session's life")
    login_rate: str = Field(default="10/minute", description="login attempts per client address")
    assistant_rate: str = Field(default="60/minute", description="assistant requests per API key or session")
    anonymous_rate: str = Field(default="300/minute", description="assistant requests per address without a key")


class OidcConfig(BaseModel):
    """`[aicity.oidc]`: an identity provider whose ID tokens may open a console session."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    client_id: str
    jwks_file: Path | None = None
    jwks_url: str | None = None
    role_claim: str = "roles"
    role_map: dict[str, Role] = Field(default_factory=dict, description="claim value → role")
    default_role: Role | None = Field(default=None, description="role when no claim value maps (none: refuse)")
    department_claim: str | None = "department"
    leeway_seconds: int = Field(default=30, ge=0, le=300)
