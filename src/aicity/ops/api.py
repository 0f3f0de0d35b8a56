"""Operations HTTP API."""

from __future__ import annotations

from fastapi import APIRouter

from aicity import __version__
from aicity.core.errors import forbidden
from aicity.hub.knowledge import service as knowledge
from aicity.identity.api import Caller
from aicity.ops.metrics import counters

router = APIRouter(prefix="/api/v1", tags=["ops"])


@router.get("/health", summary="健康检查 Health")
def health() -> dict:
    return {"status": "ok", "version": __version__, "knowledge": knowledge.document_stats({knowledge.GLOBAL_KB})}


@router.get("/ops/stats", summary="运行统计（工作人员）Run statistics (staff)")
def stats(principal: Caller) -> dict:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return counters.snapshot()
