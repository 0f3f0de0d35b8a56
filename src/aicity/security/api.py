"""Audit ledger HTTP API: entries for staff who audit, heads and proofs for any verifier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from aicity.core import audit
from aicity.core.errors import forbidden
from aicity.identity.api import Caller, require_admin
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security.schemas import AuditEntries, ConsistencyProof, InclusionProof, SignedTreeHead

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def require_auditor(principal: Caller) -> Principal:
    if principal is None or principal.role not in (Role.admin, Role.operator):
        raise forbidden("需要管理员或运维 API key / admin or operator key required")
    return principal


@router.get("/entries", response_model=AuditEntries, summary="审计记录（管理员、运维）Entries, newest first")
def entries(
    _: Annotated[Principal, Depends(require_auditor)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[int | None, Query(ge=1, description="只列出序号小于它的 entries before this seq")] = None,
) -> dict[str, Any]:
    return {"entries": [audit.entry_json(e) for e in audit.recent_entries(limit, before)]}


@router.get("/head",
            response_model=SignedTreeHead,
            summary="签名树头 Signed tree head of the current tree (RFC 6962 §3.5, Ed25519)")
def head() -> dict[str, Any]:
    return audit.head_json(audit.sign_tree_head())


@router.get("/proof/{seq}", response_model=InclusionProof,
            summary="包含证明 Inclusion proof of an entry (RFC 6962 §2.1.1)")
def proof(seq: int, tree_size: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    return audit.inclusion_proof(seq, tree_size)


@router.get("/consistency",
            response_model=ConsistencyProof,
            summary="一致性证明 Consistency proof between two tree sizes (RFC 6962 §2.1.2)")
def consistency(first: Annotated[int, Query(ge=0)],
                second: Annotated[int | None, Query(ge=0, description="默认当前 default: current")] = None
                ) -> dict[str, Any]:
    return audit.consistency_proof(first, second)


@router.post("/verify", response_model=audit.VerifyReport, summary="校验整个账本（管理员）Verify the whole ledger (admin)")
def verify(_: Annotated[Principal, Depends(require_admin)]) -> dict[str, Any]:
    return audit.verify().to_dict()
