"""Operations HTTP API."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Cookie, Header, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aicity import __version__
from aicity.core import slices, streams
from aicity.core.config import settings
from aicity.core.errors import forbidden, unauthorized
from aicity.hub.knowledge import service as knowledge
from aicity.identity.api import Caller, bearer, caller, client_address
from aicity.ops.metrics import counters
from aicity.ops.schemas import BusStats, Health, RunStats

router = APIRouter(prefix="/api/v1", tags=["ops"])
#: tells the processes of `serve --workers N` apart in health answers without publishing a pid
WORKER_ID = secrets.token_hex(4)
metrics = APIRouter(tags=["ops"])


class BusCollector(Collector):
    """The bus's backlog and dead letters in `/metrics` (read from Redis when scraped)."""

    def collect(self) -> Iterator[Metric]:
        try:
            found = streams.stats()
        except Exception:  # Redis away: the scrape still answers the other metrics
            return
        for name, help_text in (("pending", "durable bus events delivered, not yet acknowledged"),
                                ("dead_letters", "durable bus events that failed every attempt"),
                                ("durable", "entries in the durable bus stream")):
            yield GaugeMetricFamily(f"aicity_bus_{name}", help_text, value=found[name])


REGISTRY.register(BusCollector())


@metrics.get("/metrics", summary="Prometheus 指标 Prometheus metrics", response_class=Response,
             responses={200: {"description": "Prometheus 文本格式 text exposition format",
                              "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})
def prometheus(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
    aicity_session: Annotated[str | None, Cookie()] = None,
) -> Response:
    """For staff keys, or a scraper presenting `metrics_token` (`Authorization: Bearer …`, the
    Prometheus `authorization` setting): the metrics name deployments, owners and agents."""
    token = settings().metrics_token
    presented = bearer(authorization)
    if not (token and presented and hmac.compare_digest(presented.encode(), token.encode())):
        principal = caller(authorization, x_api_key, aicity_session, client_address(request))
        if principal is None:
            raise unauthorized("需要工作人员 API key 或 metrics_token / a staff key or the metrics token is required")
        if not principal.is_staff:
            raise forbidden("需要工作人员 API key / staff key required")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/health", response_model=Health, summary="健康检查 Health")
def health() -> dict:
    return {"status": "ok", "version": __version__, "worker": WORKER_ID,
            "knowledge": knowledge.document_stats({knowledge.GLOBAL_KB}), "slices": slices.health()}


@router.get("/ops/stats", response_model=RunStats, summary="运行统计（工作人员）Run statistics (staff)")
def stats(principal: Caller) -> dict:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return counters.snapshot()


@router.get("/ops/bus", response_model=BusStats, summary="事件总线与死信（工作人员）The bus and its dead letters (staff)")
def bus_stats(principal: Caller) -> dict:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return {**streams.stats(), "dead": streams.dead_letters()}
