"""Operations HTTP API."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from aicity import __version__
from aicity.core.errors import forbidden
from aicity.hub.knowledge import service as knowledge
from aicity.identity.api import Caller
from aicity.ops.metrics import counters

router = APIRouter(prefix="/api/v1", tags=["ops"])
metrics = APIRouter(tags=["ops"])


@metrics.get("/metrics", summary="Prometheus 指标 Prometheus metrics", response_class=Response)
def prometheus() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/health", summary="健康检查 Health")
def health() -> dict:
    return {"status": "ok", "version": __version__, "knowledge": knowledge.document_stats({knowledge.GLOBAL_KB})}


@router.get("/ops/stats", summary="运行统计（工作人员）Run statistics (staff)")
def stats(principal: Caller) -> dict:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return counters.snapshot()
