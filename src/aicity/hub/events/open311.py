"""Open311 GeoReport v2 under `/open311/v2/`, in JSON and XML (`.json` / `.xml`).

Our categories are the service codes. Our lifecycle maps onto Open311's two states: resolved,
closed and merged reports are `closed`, the rest `open`; `status_notes` says where the event
stands and `agency_responsible` names the department. Errors are Open311's own list of
`{code, description}` with the matching HTTP status. Reporters' names, emails and phones are
kept with the event to inform them and never appear in any answer or log; descriptions are
public, so personal information in them is masked.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import select

from aicity.core.db import database
from aicity.core.errors import PROBLEM_RESPONSES, Problem, bad_request, not_found
from aicity.hub.events import service
from aicity.hub.events.classify import Category, categories
from aicity.hub.events.lifecycle import as_utc
from aicity.hub.events.models import Event, EventHistory
from aicity.hub.events.schemas import (
    Open311Created,
    Open311Discovery,
    Open311Error,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from aicity.identity.service import department_name
from aicity.security import pii

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-24T00:00:00Z"
MAX_REQUESTS = 1000
FORMATS = {"json": "application/json", "xml": "text/xml"}
_CLOSED = frozenset({"resolved", "closed", "merged"})
#: XML element of each list's items
_ITEM = {"services": "service", "service_requests": "request", "endpoints": "endpoint", "formats": "format",
         "errors": "error", "attributes": "attribute"}
_NOTES = {"reported": "已登记，等待派发", "dispatched": "已派发至{dept}", "accepted": "{dept}已接单",
          "in_progress": "{dept}正在处置", "resolved": "{dept}已处置完毕", "closed": "已办结",
          "merged": "与 {merged_into} 为同一问题，已合并办理"}


# --- rendering -------------------------------------------------------------------------------

def _element(tag: str, value: Any) -> ET.Element:
    el = ET.Element(tag)
    if isinstance(value, dict):
        el.extend(_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        el.extend(_element(_ITEM.get(tag, "item"), v) for v in value)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)
    return el


def render(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    """`body` as JSON, or as XML under `<root>`."""
    if fmt == "xml":
        xml = ET.tostring(_element(root, body), encoding="utf-8", xml_declaration=True)
        return Response(xml, status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(body, status_code=status)


def _format(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def _errors(fmt: str, status: int, description: str) -> Response:
    return render(fmt, "errors", [{"code": status, "description": description}], status)


class Open311Route(APIRoute):
    """Answers every failure in Open311's error format instead of problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt = _format(request.url.path)
            try:
                return await handler(request)
            except Problem as exc:
                return _errors(fmt, exc.status, f"{exc.title}: {exc.detail}" if exc.detail else exc.title)
            except RequestValidationError as exc:
                detail = "; ".join(f"{'.'.join(map(str, e.get('loc', ())[1:]))}: {e.get('msg', '')}"
                                   for e in exc.errors())
                return _errors(fmt, 400, f"请求参数不合法 invalid parameters: {detail}")

        return route


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


_XML = {"schema": {"type": "string", "description": "the same fields as XML elements"}}
#: failures answer Open311's own error list (in the request's format), never problem+json
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": doc["description"], "content": {
        "application/json": {"schema": {"type": "array", "items": Open311Error.model_json_schema()}},
        "text/xml": _XML}}
    for status, doc in PROBLEM_RESPONSES.items()
}


def _documented(model: Any, status: int = 200) -> dict[str, Any]:
    """A route's OpenAPI: `model` in JSON (`.json`) or as XML elements (`.xml`), Open311's errors."""
    return {"response_model": model, "responses": {status: {"content": {"text/xml": _XML}}, **_ERRORS}}


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise not_found(f"不支持的格式 unsupported format '.{fmt}'; use .json or .xml")
    return fmt


# --- discovery and services ------------------------------------------------------------------

@router.get("/discovery.{fmt}", summary="Open311 discovery", **_documented(Open311Discovery))
def discovery(fmt: str, request: Request) -> Response:
    url = str(request.base_url).rstrip("/") + router.prefix + "/"
    return render(_check(fmt), "discovery", {
        "changeset": CHANGESET, "contact": "城市运行管理中心 12345", "key_service": "不需要 api_key / no key needed",
        "endpoints": [{"specification": SPEC, "url": url, "changeset": CHANGESET, "type": "production",
                       "formats": list(FORMATS.values())}],
    })


def _service(category: Category) -> dict[str, Any]:
    return {"service_code": category.id, "service_name": category.name,
            "description": f"{category.name}（{department_name(category.department)}处置）",
            "metadata": False, "type": "realtime", "keywords": "", "group": department_name(category.department)}


@router.get("/services.{fmt}", summary="Open311 service list (our event categories)",
            **_documented(list[Open311Service]))
def services(fmt: str) -> Response:
    return render(_check(fmt), "services", [_service(c) for c in categories().values()])


@router.get("/services/{code}.{fmt}", summary="Open311 service definition",
            **_documented(Open311ServiceDefinition))
def service_definition(code: str, fmt: str) -> Response:
    _check(fmt)
    if code not in categories():
        raise not_found(f"未知服务 unknown service_code '{code}'")
    return render(fmt, "service_definition", {"service_code": code, "attributes": []})


# --- requests --------------------------------------------------------------------------------

def _float(name: str, value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise bad_request(f"{name} 不是数字 '{name}' is not a number") from None


@router.post("/requests.{fmt}", status_code=201, summary="Open311 create a service request (form-encoded)",
             **_documented(list[Open311Created], 201))
def create_request(
    fmt: str,
    service_code: Annotated[str | None, Form()] = None,
    description: Annotated[str | None, Form(max_length=8000)] = None,
    lat: Annotated[str | None, Form()] = None,
    long: Annotated[str | None, Form()] = None,
    address_string: Annotated[str | None, Form(max_length=300)] = None,
    address_id: Annotated[str | None, Form(max_length=300)] = None,
    email: Annotated[str | None, Form(max_length=200)] = None,
    first_name: Annotated[str | None, Form(max_length=100)] = None,
    last_name: Annotated[str | None, Form(max_length=100)] = None,
    phone: Annotated[str | None, Form(max_length=40)] = None,
    device_id: Annotated[str | None, Form(max_length=200)] = None,
    account_id: Annotated[str | None, Form(max_length=200)] = None,
    media_url: Annotated[str | None, Form(max_length=2000)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response:
    _check(fmt)
    if not service_code:
        raise bad_request("缺少 service_code / service_code is required")
    category = categories().get(service_code)
    if category is None:
        raise not_found(f"未知服务 unknown service_code '{service_code}'")
    latitude, longitude = _float("lat", lat), _float("long", long)
    address = address_string or address_id
    if (latitude is None or longitude is None) and not address:
        raise bad_request("需要位置：lat 和 long，或 address_string / location required: lat & long, or address_string")
    contact = {k: v for k, v in {"email": email, "first_name": first_name, "last_name": last_name,
                                 "phone": phone, "device_id": device_id, "account_id": account_id}.items() if v}
    # the reporter is known by the device or account that reports, never by a name or phone
    who = device_id or account_id
    ref = service.reporter_from_token(f"open311:{who}" if who else secrets.token_urlsafe(24))
    result = service.report((description or "").strip() or category.name, "open311", service.Reporter(ref, contact),
                            location=address, lat=latitude, lon=longitude, category=service_code,
                            idempotency_key=idempotency_key, media=[media_url] if media_url else [])
    notice = f"已与同一问题的上报 {result.event.id} 合并办理" if result.merged else "已受理"
    return render(fmt, "service_requests", [{"service_request_id": result.event.id, "service_notice": notice,
                                             "account_id": account_id}], 201 if result.created else 200)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _date(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise bad_request(f"{name} 不是 ISO 8601 时间 '{name}' is not an ISO 8601 datetime") from None


def _request(event: Event, note: str) -> dict[str, Any]:
    dept = department_name(event.department)
    category = categories().get(event.category)
    notes = _NOTES[event.status].format(dept=dept, merged_into=event.merged_into)
    return {
        "service_request_id": event.id, "status": "closed" if event.status in _CLOSED else "open",
        "status_notes": f"{notes}：{note}" if note else notes,
        "service_name": category.name if category else event.category, "service_code": event.category,
        "description": pii.mask(event.description).text, "agency_responsible": dept, "service_notice": "",
        "requested_datetime": as_utc(event.created_at).isoformat(),
        "updated_datetime": as_utc(event.updated_at).isoformat(),
        "expected_datetime": as_utc(event.sla_due_at).isoformat() if event.sla_due_at else None,
        "address": event.address, "address_id": None, "zipcode": None, "lat": event.lat, "long": event.lon,
        "media_url": event.media[0] if event.media else None,
    }


def _requests(events: list[Event]) -> list[dict[str, Any]]:
    """Each event with the note of its latest step (e.g. a reject's reason)."""
    notes: dict[str, str] = {}
    with database().session() as s:
        rows = s.execute(select(EventHistory.event_id, EventHistory.note)
                         .where(EventHistory.event_id.in_([e.id for e in events]), EventHistory.action != "report")
                         .order_by(EventHistory.at, EventHistory.id))
        for event_id, note in rows:
            notes[event_id] = note
    return [_request(e, notes.get(e.id, "")) for e in events]


@router.get("/requests.{fmt}", summary="Open311 service requests (filters: ids, codes, status, dates)",
            **_documented(list[Open311Request]))
def list_requests(
    fmt: str,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_REQUESTS)] = MAX_REQUESTS,
) -> Response:
    _check(fmt)
    query = select(Event).order_by(Event.created_at.desc()).limit(limit)
    if ids := _split(service_request_id):
        query = query.where(Event.id.in_(ids))
    else:
        query = query.where(Event.merged_into.is_(None))
    if codes := _split(service_code):
        query = query.where(Event.category.in_(codes))
    if states := _split(status):
        if not set(states) <= {"open", "closed"}:
            raise bad_request(f"status 只能是 open 或 closed / status must be open or closed, got '{status}'")
        if states == ["open"]:
            query = query.where(Event.status.not_in(_CLOSED))
        elif states == ["closed"]:
            query = query.where(Event.status.in_(_CLOSED))
    if start := _date("start_date", start_date):
        query = query.where(Event.created_at >= start)
    if end := _date("end_date", end_date):
        query = query.where(Event.created_at <= end)
    with database().session() as s:
        events = list(s.scalars(query))
    return render(fmt, "service_requests", _requests(events))


@router.get("/requests/{request_id}.{fmt}", summary="Open311 one service request",
            **_documented(list[Open311Request]))
def get_request(request_id: str, fmt: str) -> Response:
    _check(fmt)
    with database().session() as s:
        event = s.get(Event, request_id)
    if event is None:
        raise not_found(f"未找到服务请求 service request '{request_id}' not found")
    return render(fmt, "service_requests", _requests([event]))
