"""What the events API answers (read models); the requests are beside the routes in `api.py`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EventView(BaseModel):
    """An event as the API shows it (never the reporter's contact)."""

    id: str
    title: str
    description: str
    category: str
    category_name: str
    department: str
    department_name: str
    priority: str = Field(description="urgent | high | normal | low")
    confidence: float = Field(description="自动分类的置信度 the classifier's confidence")
    status: str
    allowed_actions: list[str] = Field(description="当前状态下可执行的操作 actions the status allows")
    source: str
    address: str | None
    district: str | None
    lat: float | None
    lon: float | None
    media: list[str]
    merged_into: str | None = Field(description="合并到的事件 the event this duplicate was merged into")
    reporters: int = Field(description="上报人数（含合并的重复上报）people who reported it, duplicates included")
    sla_due_at: str | None
    sla_breached: bool
    created_at: str
    updated_at: str


class ReportedEvent(EventView):
    report_id: str
    merged: bool = Field(description="是否并入了已有事件 whether it joined an existing event")
    replayed: bool = Field(description="同一 Idempotency-Key 的重复提交 a repeat of an earlier submission")
    reporter_token: str | None = Field(
        default=None, description="市民首次上报时签发，之后以 X-Reporter-Token 回传 issued on a citizen's first report")


class EventList(BaseModel):
    events: list[EventView]
    count: int


class HistoryStep(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: str
    note: str


class EventHistoryView(BaseModel):
    id: str
    history: list[HistoryStep]


class DistrictProperties(BaseModel):
    id: str
    name: str
    name_en: str


class PolygonGeometry(BaseModel):
    type: str = Field(examples=["Polygon"])
    coordinates: list[list[list[float]]] = Field(description="[[ [lon, lat], … ]] a single outer ring")


class DistrictFeature(BaseModel):
    type: str = Field(examples=["Feature"])
    id: str
    properties: DistrictProperties
    geometry: PolygonGeometry


class DistrictCollection(BaseModel):
    """GeoJSON FeatureCollection (RFC 7946) of the city's districts."""

    type: str = Field(examples=["FeatureCollection"])
    features: list[DistrictFeature]


class Ranked(BaseModel):
    key: str | None
    name: str
    count: int
    share: float


class Trend(BaseModel):
    dimension: str = Field(description="category | district")
    key: str
    name: str
    current: int
    baseline_mean: float
    ratio: float | None = Field(description="与基线的比值；基线为 0 时为 null the rate ratio; null over a zero baseline")
    p_value: float
    window_days: int


class EventBrief(BaseModel):
    id: str
    title: str
    category: str
    category_name: str
    district: str | None
    district_name: str
    department: str
    department_name: str
    status: str
    status_name: str
    priority: str
    address: str | None
    created_at: str = Field(description="本市时间，精确到分钟 city time, to the minute")


class Backlog(BaseModel):
    department: str
    name: str
    open: int
    overdue: int


class DayCount(BaseModel):
    date: str
    new: int
    done: int


class Briefing(BaseModel):
    """The daily city-operations briefing (城市运行日报)."""

    date: str
    generated_at: str
    new: int
    done: int
    open: int
    sla_breaches: int
    overdue_open: int
    top_categories: list[Ranked]
    top_districts: list[Ranked]
    trends: list[Trend]
    urgent: list[EventBrief]
    breached: list[EventBrief]
    backlog: list[Backlog]
    series: list[DayCount] = Field(description="截至当天的 14 天 the 14 days up to the day")



# --- Open311 GeoReport v2 (the JSON form; `.xml` answers carry the same fields as elements) ---


class Open311Endpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Open311Discovery(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Service(BaseModel):
    service_code: str = Field(description="事件类别 id our event category")
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str = Field(description="处置部门 the department that handles it")


class Open311ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, Any]] = Field(description="无附加属性 no extra attributes (always empty)")


class Open311Created(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class Open311Request(BaseModel):
    service_request_id: str
    status: str = Field(description="open | closed")
    status_notes: str
    service_name: str
    service_code: str
    description: str = Field(description="个人信息已遮盖 personal information masked")
    agency_responsible: str
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Error(BaseModel):
    code: int = Field(description="HTTP 状态码 the HTTP status")
    description: str
