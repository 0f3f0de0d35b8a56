"""The guard pipeline's HTTP API: check a text; read and set the policy (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from aicity.identity.api import Caller, require_admin
from aicity.identity.service import Principal, acting_principal
from aicity.security import guard
from aicity.security.normalize import MAX_CHARS

router = APIRouter(prefix="/api/v1/guard", tags=["guard"])


class CheckRequest(BaseModel):
    text: str = Field(max_length=MAX_CHARS, description="要检查的文字 the text to check")
    stage: guard.Stage = "input"
    role: str | None = Field(default=None, description="按此角色的策略检查（不得超出调用者的身份）the role whose policy applies")


@router.post("/check", summary="安全护栏检查 Check a text: allow, mask or block")
def check(body: CheckRequest, principal: Caller) -> dict[str, Any]:
    """`verdict` (allow | mask | block), `findings` [{kind, type, start, end, rule, score, action}],
    `text` (the text as it may pass: PII masked, injected instructions neutralised; '' when blocked)."""
    role = acting_principal(principal, body.role).role.value
    return guard.check(body.text, body.stage, role).to_dict()


@router.get("/policy", summary="护栏策略（管理员）The guard policy in force")
def get_policy(_: Annotated[Principal, Depends(require_admin)]) -> dict[str, Any]:
    policy, source = guard.current_policy()
    return {"source": source, **policy.model_dump()}


@router.put("/policy", summary="修改护栏策略（管理员，立即生效，记入审计）Replace the guard policy")
def put_policy(body: dict[str, Any], admin: Annotated[Principal, Depends(require_admin)]) -> dict[str, Any]:
    policy = guard.set_policy(body, actor=f"{admin.role.value}:{admin.key_id}")
    return {"source": "runtime", **policy.model_dump()}
