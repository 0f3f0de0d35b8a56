"""The approval queue's HTTP API (审批队列): staff list and read; approvers approve or reject. A request for the
devices of one district needs two approvers, neither the requester: the first approval leaves it pending
(`progress`: 需要 2 人审批，已批 1 人), the second runs it; the same approver twice is a 403 `approval-same-approver`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from aicity.core.errors import forbidden
from aicity.identity.api import Caller
from aicity.identity.service import Principal
from aicity.security import approvals
from aicity.security.schemas import ApprovalView

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])


def require_staff(principal: Caller) -> Principal:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return principal


Staff = Annotated[Principal, Depends(require_staff)]


class Decision(BaseModel):
    note: str = Field(default="", max_length=2000, description="审批意见或驳回理由 the approver's note or reason")


@router.get("", response_model=list[ApprovalView], summary="审批申请列表（工作人员）Approval requests")
def list_approvals(_: Staff, status: Annotated[str | None, Query(pattern="^(" + "|".join(approvals.STATUSES) + ")$")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    return [approvals.to_dict(r) for r in approvals.list_approvals(status, limit)]


@router.get("/{approval_id}", response_model=ApprovalView, summary="一条审批申请 One approval request")
def get_approval(approval_id: str, _: Staff) -> dict[str, Any]:
    return approvals.to_dict(approvals.get(approval_id))


@router.post("/{approval_id}/approve", response_model=ApprovalView,
             summary="批准，批满所需人数后执行（审批人，非申请人）Approve, and run once approved by enough")
def approve(approval_id: str, body: Decision, approver: Staff) -> dict[str, Any]:
    return approvals.to_dict(approvals.approve(approval_id, approver, body.note))


@router.post("/{approval_id}/reject", response_model=ApprovalView, summary="驳回（审批人，非申请人）Reject")
def reject(approval_id: str, body: Decision, approver: Staff) -> dict[str, Any]:
    return approvals.to_dict(approvals.reject(approval_id, approver, body.note))
