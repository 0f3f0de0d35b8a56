"""Events HTTP API under `/api/v1/events`: report, list, read, act, correct.

Citizens report without a key. Their first report answers with a `reporter_token`; sending it
back as `X-Reporter-Token` (on later reports too) is how they see and confirm their own
events. Staff act with their API key's role and department.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from aicity.core.errors import PROBLEM_RESPONSES, forbidden
from aicity.hub.events import insights, service
from aicity.hub.events.briefing import MEDIA_TYPES, render
from aicity.hub.events.classify import categories
from aicity.hub.events.schemas import (
    Briefing,
    DistrictCollection,
    EventHistoryView,
    EventList,
    EventView,
    ReportedEvent,
)
from aicity.hub.geo import gazetteer
from aicity.identity.api import Caller
from aicity.identity.models import Role
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/events", tags=["events"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="同一个键重复提交只产生一个事件 one event per key")]
ReporterToken = Annotated[str | None, Header(alias="X-Reporter-Token", max_length=200,
                                             description="上报时获得的凭证 the token a citizen's report returned")]


class Contact(BaseModel):
    """How to reach the reporter; kept with the event only, never logged."""

    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)


class ReportRequest(BaseModel):
    text: str = Field(description="问题描述 what is wrong")
    title: str | None = Field(None, max_length=200)
    category: str | None = Field(None, description="事件类别 id；不填则自动分类")
    location: str | None = Field(None, max_length=300, description="地址或地标，如 幸福路12号")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    media: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=20)
    source: str | None = Field(None, description="来源：市民上报固定为 citizen；工作人员可填 sensor、camera 等")
    contact: Contact | None = None


class TransitionRequest(BaseModel):
    action: str = Field(description="dispatch, accept, start, resolve, close, reopen, reject")
    note: str = Field("", max_length=2000, description="说明；reject 和 reopen 必填原因")
    department: str | None = Field(None, description="派发（dispatch）时改派的部门")


class CorrectionRequest(BaseModel):
    category: str


def _viewer(principal: Principal | None) -> Principal:
    return principal or Principal(role=Role.citizen)


def _reporter(principal: Principal | None, token: str | None) -> str | None:
    return service.reporter_from_token(token) if principal is None and token else None


@router.post("", status_code=201, response_model=ReportedEvent, response_model_exclude_unset=True,
             summary="上报事件 Report a city problem")
def report(body: ReportRequest, response: Response, principal: Caller, idempotency_key: IdempotencyKey = None,
           x_reporter_token: ReporterToken = None) -> dict[str, Any]:
    issued: str | None = None
    if principal is None or not principal.is_staff:
        if body.source not in (None, "citizen"):
            raise forbidden("市民上报的来源只能是 citizen / citizens report as source 'citizen'")
        source = "citizen"
        token = x_reporter_token or (issued := service.new_reporter_token())
        ref = service.reporter_from_token(token)
    else:
        source = body.source or "operator"
        ref = service.staff_reporter(principal)
    contact = body.contact.model_dump(exclude_none=True) if body.contact else {}
    result = service.report(body.text, source, service.Reporter(ref, contact), location=body.location, lat=body.lat,
                            lon=body.lon, category=body.category, idempotency_key=idempotency_key,
                            media=body.media, title=body.title)
    if not result.created:
        response.status_code = 200
    out = {**service.event_json(result.event), "report_id": result.report_id, "merged": result.merged,
           "replayed": not result.created}
    if issued and result.created:
        out["reporter_token"] = issued
    return out


@router.get("", response_model=EventList, summary="事件列表 List events")
def list_events(
    principal: Caller,
    x_reporter_token: ReporterToken = None,
    status: str | None = None,
    department: str | None = None,
    district: str | None = None,
    category: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601，如 2026-11-24T00:00:00+08:00")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 100,
) -> dict[str, Any]:
    events = service.list_events(_viewer(principal), _reporter(principal, x_reporter_token), status=status,
                                 department=department, district=district, category=category, since=since,
                                 limit=limit)
    return {"events": [service.event_json(e) for e in events], "count": len(events)}


@router.get("/categories", summary="事件类别 Event categories")
def list_categories() -> list[dict[str, str]]:
    return [{"id": c.id, "name": c.name, "department": c.department} for c in categories().values()]


@router.get("/districts", response_model=DistrictCollection, summary="辖区边界 The city's districts (GeoJSON)")
def list_districts() -> dict[str, Any]:
    """The demo city's district polygons as a GeoJSON FeatureCollection (the console draws its map from it)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": d.id, "properties": {"id": d.id, "name": d.name, "name_en": d.name_en},
         "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in d.ring]]}}
        for d in gazetteer.districts()]}


@router.get("/briefing", response_model=Briefing,
            summary="城市运行日报（工作人员）The daily city-operations briefing (staff)",
            responses={200: {"content": {"text/markdown": {}, "text/html": {}}}})
def briefing(
    principal: Caller,
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD，默认今天（本市时间）")] = None,
    fmt: Annotated[Literal["json", "md", "html"], Query(alias="format")] = "json",
) -> Any:
    if principal is None or not principal.is_staff:
        raise forbidden("城市运行日报仅限工作人员 the briefing is for staff only")
    report = insights.briefing(day)
    if fmt == "json":
        return report
    return Response(render(report, fmt), media_type=MEDIA_TYPES[fmt])


@router.get("/{event_id}", response_model=EventView, summary="事件详情 One event")
def get_event(event_id: str, principal: Caller, x_reporter_token: ReporterToken = None) -> dict[str, Any]:
    return service.event_json(service.get(event_id, _viewer(principal), _reporter(principal, x_reporter_token)))


@router.get("/{event_id}/history", response_model=EventHistoryView, summary="事件时间线 An event's history")
def get_history(event_id: str, principal: Caller, x_reporter_token: ReporterToken = None) -> dict[str, Any]:
    rows = service.history(event_id, _viewer(principal), _reporter(principal, x_reporter_token))
    return {"id": event_id, "history": [service.history_json(r) for r in rows]}


@router.post("/{event_id}/transitions", response_model=EventView,
             summary="处置事件 Act on an event (409 lists the allowed actions)",
             responses={409: {"description": "当前状态不允许此操作；allowed_actions 列出可执行的操作",
                              "content": PROBLEM_RESPONSES[400]["content"]}})
def transition(event_id: str, body: TransitionRequest, principal: Caller,
               x_reporter_token: ReporterToken = None) -> dict[str, Any]:
    event = service.transition(event_id, body.action, _viewer(principal), body.note,
                               reporter=_reporter(principal, x_reporter_token), department=body.department)
    return service.event_json(event)


@router.post("/{event_id}/correction", response_model=EventView,
             summary="纠正事件类别（工作人员）Correct an event's category")
def correction(event_id: str, body: CorrectionRequest, principal: Caller) -> dict[str, Any]:
    return service.event_json(service.record_correction(event_id, body.category, _viewer(principal)))
