"""The security center's API (安全中心): security events for admins and operators; the console
page that shows them beside the guard policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from aicity.identity.service import Principal
from aicity.security import events
from aicity.security.api import require_auditor
from aicity.security.schemas import SecurityEvents

router = APIRouter(prefix="/api/v1/security", tags=["security"])


@router.get("/events", response_model=SecurityEvents, summary="安全事件（管理员、运维）Security events, newest first")
def security_events(
    _: Annotated[Principal, Depends(require_auditor)],
    days: Annotated[float, Query(gt=0, le=366, description="最近几天 the last N days")] = 7,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    type: Annotated[list[str] | None, Query(description="类型或前缀 type or prefix: guard, auth, approval …")] = None,
) -> dict[str, Any]:
    """`events` [{time, type, source, ref, actor, stage, role, rules, kinds, detail}] and
    `summary` (counts by type, stage, role; top rules; blocked attacks; approvals)."""
    found = events.security_events(days, limit, set(type) if type else None)
    return {"events": [e.to_dict() for e in found], "summary": events.summarise(found)}


