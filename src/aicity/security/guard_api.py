"""The guard pipeline's HTTP API: check a text; read and set the policy (admin); provenance:
verify a text's mark, read an answer's record, export an answer with the mark."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from aicity.identity.api import Caller, require_admin
from aicity.identity.service import Principal, acting_principal
from aicity.security import guard, provenance
from aicity.security.normalize import MAX_CHARS
from aicity.security.schemas import CheckResult, GuardPolicyView, MarkedText, ProvenanceView, TextVerification

router = APIRouter(prefix="/api/v1/guard", tags=["guard"])


class CheckRequest(BaseModel):
    text: str = Field(max_length=MAX_CHARS, description="要检查的文字 the text to check")
    stage: guard.Stage = "input"
    role: str | None = Field(default=None, description="按此角色的策略检查（不得超出调用者的身份）the role whose policy applies")


@router.post("/check", response_model=CheckResult, summary="安全护栏检查 Check a text: allow, mask or block")
def check(body: CheckRequest, principal: Caller) -> dict[str, Any]:
    """`verdict` (allow | mask | block), `findings` [{kind, type, start, end, rule, score, action}],
    `text` (the text as it may pass: PII masked, injected instructions neutralised; '' when blocked)."""
    role = acting_principal(principal, body.role).role.value
    return guard.check(body.text, body.stage, role).to_dict()


@router.get("/policy", response_model=GuardPolicyView, summary="护栏策略（管理员）The guard policy in force")
def get_policy(_: Annotated[Principal, Depends(require_admin)]) -> dict[str, Any]:
    policy, source = guard.current_policy()
    return {"source": source, **policy.model_dump()}


@router.put("/policy",
            response_model=GuardPolicyView,
            summary="修改护栏策略（管理员，立即生效，记入审计）Replace the guard policy")
def put_policy(body: dict[str, Any], admin: Annotated[Principal, Depends(require_admin)]) -> dict[str, Any]:
    policy = guard.set_policy(body, actor=admin.actor)
    return {"source": "runtime", **policy.model_dump()}


#: the longest document a mark is looked for in
MAX_DOCUMENT_CHARS = 1_000_000


class DocumentText(BaseModel):
    text: str = Field(max_length=MAX_DOCUMENT_CHARS)


@router.post("/verify", response_model=TextVerification,
             summary="溯源校验：文字是否出自本平台 Verify a text's provenance mark")
def verify(body: DocumentText) -> dict[str, Any]:
    """`status`: intact (a genuine mark, text unchanged) | edited (genuine mark, text changed) |
    unmarked | forged; `marks` [{valid, id, time, count, record}]."""
    return provenance.verify_text(body.text).to_dict()


@router.get("/provenance/{record_id}", response_model=ProvenanceView,
            summary="回答的溯源记录 An answer's provenance record")
def provenance_record(record_id: str) -> dict[str, Any]:
    return provenance.lookup(record_id)


@router.post("/provenance/{record_id}/export", response_model=MarkedText,
             summary="导出带水印的回答 Export an answer with the invisible mark")
def export(record_id: str, body: DocumentText) -> dict[str, Any]:
    """Only the platform's own text of that answer is marked (409 `provenance-mismatch` otherwise)."""
    return {"id": record_id, "text": provenance.export_answer(record_id, body.text)}
