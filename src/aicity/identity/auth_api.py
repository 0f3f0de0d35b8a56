"""Console sessions over HTTP: log in with an API key or an OIDC ID token, log out; and the
assistant's per-key rate limit as a dependency for its router."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Header, Request, Response
from pydantic import BaseModel, Field

from aicity.core.errors import unauthorized
from aicity.identity import auth
from aicity.identity.api import Caller, bearer, client_address
from aicity.identity.schemas import SessionIssued

router = APIRouter(prefix="/api/v1/auth", tags=["identity"])


class KeyLogin(BaseModel):
    api_key: str = Field(max_length=200, description="API key（aic_…）")


class OidcLogin(BaseModel):
    id_token: str = Field(max_length=16_000, description="身份提供方签发的 ID token (RS256)")


def _session_response(response: Response, request: Request, session: dict[str, Any]) -> dict[str, Any]:
    response.set_cookie(auth.COOKIE, session["token"], max_age=auth.config().session_minutes * 60, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    response.headers["Cache-Control"] = "no-store"
    return session


@router.post("/login", response_model=SessionIssued,
             summary="用 API key 登录控制台 Open a console session with an API key")
def login(body: KeyLogin, request: Request, response: Response) -> dict[str, Any]:
    """A signed, expiring session: `token` (for `Authorization: Bearer`) and the same token in an
    HttpOnly cookie. Attempts per client address are limited (429 with Retry-After)."""
    return _session_response(response, request, auth.login_with_key(body.api_key, client_address(request)))


@router.post("/oidc", response_model=SessionIssued,
             summary="用 OIDC 身份令牌登录 Open a session with an OpenID Connect ID token")
def login_oidc(body: OidcLogin, request: Request, response: Response) -> dict[str, Any]:
    return _session_response(response, request, auth.login_with_oidc(body.id_token, client_address(request)))


@router.post("/logout", status_code=204, summary="退出会话 Log out (revokes the session)")
def logout(
    response: Response,
    authorization: Annotated[str | None, Header()] = None,
    aicity_session: Annotated[str | None, Cookie()] = None,
) -> None:
    token = bearer(authorization) or aicity_session
    if not token:
        raise unauthorized("没有会话 no session to log out of")
    auth.logout(token)
    response.delete_cookie(auth.COOKIE, path="/")


def assistant_rate_limit(request: Request, principal: Caller) -> None:
    """Router dependency: 429 (Retry-After) when a key, or an address without one, asks too often."""
    auth.admit_assistant(principal, client_address(request))
