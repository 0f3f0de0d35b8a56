"""Event service: report (classify, locate, merge duplicates, dispatch), act on events under
each role's permissions, read them, and record operators' corrections (announced for the corpus centre).

Every change is one transaction; the bus and the audit ledger hear of it after it committed.
Reporters are known by an opaque `reporter_ref`; their contacts stay in `event_reporters`.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import bad_request, forbidden, not_found
from aicity.core.ids import new_id, secret_digest, utcnow
from aicity.hub.events.classify import (
    Classification,
    categories,
    classify,
    with_category,
)
from aicity.hub.events.lifecycle import (
    OPEN_STATES,
    Status,
    add_history,
    allowed_actions,
    announce,
    apply,
    as_utc,
    start,
)
from aicity.hub.events.models import Event, EventHistory, EventReporter
from aicity.hub.geo import gazetteer
from aicity.identity.models import Role
from aicity.identity.service import Principal, department_name, list_departments

SOURCES = ("citizen", "assistant", "open311", "sensor", "camera", "operator")
#: a report this close to an open event of the same category (or at the same address) repeats it
MERGE_DISTANCE_M = 200.0
#: … when that event was reported this recently
MERGE_WINDOW = timedelta(hours=24)
#: the most events one listing returns
MAX_LIST = 500
TITLE_CHARS = 40
#: the longest reporter reference (a sensor's or camera's id, a hashed token)
REF_CHARS = 80


@dataclass(frozen=True)
class Reporter:
    """Who reports: an opaque reference (`reporter_ref`) and, kept out of every log, how to
    reach them (name, phone, email …)."""

    ref: str
    contact: dict[str, str] = field(default_factory=dict)


def reporter_from_token(token: str) -> str:
    """The reporter reference a citizen's secret token stands for (the token is never stored)."""
    return "r_" + secret_digest(token)[:24]


def new_reporter_token() -> str:
    return "rt_" + secrets.token_urlsafe(24)


def staff_reporter(principal: Principal) -> str:
    return f"key:{principal.key_id}" if principal.key_id else f"{principal.role.value}:cli"


def actor_name(principal: Principal, reporter: str | None = None) -> str:
    """How an actor appears in history and the audit ledger: role, department, key id — or a
    citizen's reporter reference; never a name or a phone number."""
    if principal.role in (Role.citizen, Role.enterprise):
        return f"{principal.role.value}:{reporter or 'anonymous'}"
    parts = [principal.role.value, principal.department or "", principal.key_id or "cli"]
    return ":".join(p for p in parts if p)


@dataclass(frozen=True)
class ReportResult:
    event: Event
    #: False when an idempotency key returned an earlier report's event
    created: bool
    #: the id of this report's own row: the event itself, or the duplicate merged into it
    report_id: str
    merged: bool


# --- reporting -------------------------------------------------------------------------------

def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _same_place(event: Event, address: str | None, lat: float | None, lon: float | None) -> bool:
    if address and event.address == address:
        return True
    if None in (lat, lon, event.lat, event.lon):
        return False
    return _distance_m(lat, lon, event.lat, event.lon) <= MERGE_DISTANCE_M  # type: ignore[arg-type]


def _duplicate_of(s: Session, category: str, address: str | None, lat: float | None, lon: float | None,
                  now: datetime) -> Event | None:
    """The most recent open event of the category at the same place within the window."""
    candidates = s.scalars(select(Event).where(
        Event.category == category, Event.merged_into.is_(None), Event.created_at >= now - MERGE_WINDOW,
        Event.status.in_([str(x) for x in OPEN_STATES]),
    ).order_by(Event.created_at.desc()))
    return next((e for e in candidates if _same_place(e, address, lat, lon)), None)


@dataclass(frozen=True)
class _Place:
    address: str | None
    district: str | None
    lat: float | None
    lon: float | None


def _place(text: str, location: str | None, lat: float | None, lon: float | None) -> _Place:
    """Where it happened: a point (which must be in the city), else the address given or one
    named in the text, resolved by the gazetteer."""
    if (lat is None) != (lon is None):
        raise bad_request("经纬度需同时提供 lat and lon go together", "invalid-location")
    if lat is not None and lon is not None:
        district = gazetteer.locate(lat, lon)
        if district is None:
            raise bad_request(f"位置 ({lat}, {lon}) 不在本市范围内 the point is outside the city", "outside-city",
                              lat=lat, lon=lon)
        found = gazetteer.resolve(location) if location else None
        return _Place(location or (found.address if found else None), district.id, lat, lon)
    found = gazetteer.resolve(location or text)
    if found is None:
        return _Place(location.strip() if location else None, None, None, None)
    return _Place(location.strip() if location else found.address, found.district, found.lat, found.lon)


def _classification(text: str, category: str | None) -> Classification:
    return classify(text) if category is None else with_category(text, category)


def _title(text: str) -> str:
    first = text.strip().splitlines()[0]
    return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS - 1] + "…"


def _replay(s: Session, key: str) -> ReportResult | None:
    earlier = s.scalar(select(Event).where(Event.idempotency_key == key))
    if earlier is None:
        return None
    event = s.get(Event, earlier.merged_into) if earlier.merged_into else earlier
    return ReportResult(event, created=False, report_id=earlier.id, merged=earlier.merged_into is not None)


def report(text: str, source: str, reporter: Reporter, location: str | None = None, lat: float | None = None,
           lon: float | None = None, category: str | None = None, idempotency_key: str | None = None,
           media: list[str] | None = None, title: str | None = None, urgent: str | None = None) -> ReportResult:
    """File a report. A duplicate of an open event (same category, within 200 m or at the same
    address, within 24 h) is kept as a `merged` row and its reporter joins the open event; a
    confident classification is dispatched to its department at once, the rest wait in the
    human dispatch queue (`reported`). The same idempotency key returns the first result.
    `urgent` (a reason, e.g. the assistant's emergency detector's hazard) makes the event urgent
    whatever the urgency rules say."""
    if source not in SOURCES:
        raise bad_request(f"未知来源 unknown source '{source}'; sources: {', '.join(SOURCES)}", "unknown-source")
    if not reporter.ref or len(reporter.ref) > REF_CHARS:
        raise bad_request(f"上报人引用须为 1–{REF_CHARS} 字符 reporter_ref must be 1–{REF_CHARS} characters",
                          "invalid-reporter")
    if idempotency_key:
        with database().session() as s:
            if earlier := _replay(s, idempotency_key):
                return earlier
    place = _place(text, location, lat, lon)
    judged = _classification(text, category)  # an empty or over-long text is a 400 / 413 problem here
    if urgent and urgent not in judged.urgent_reasons:
        judged = replace(judged, priority="urgent", urgent_reasons=[*judged.urgent_reasons, urgent])
    text = text.strip()
    now = utcnow()
    actor = f"{source}:{reporter.ref}"
    try:
        with database().session() as s:
            target = _duplicate_of(s, judged.category, place.address, place.lat, place.lon, now)
            event = Event(
                id=new_id("evt"), category=judged.category, department=judged.department,
                title=(title or _title(text))[:200], description=text, address=place.address,
                district=place.district, lat=place.lat, lon=place.lon, priority=judged.priority,
                confidence=round(judged.confidence, 4), status=Status.reported, source=source,
                reporter_ref=reporter.ref, media=list(media or []), idempotency_key=idempotency_key or None,
                merged_into=target.id if target else None, created_at=now, updated_at=now, sla_started_at=now,
            )
            s.add(event)
            s.flush()
            start(s, event, actor, f"紧急 urgent: {'、'.join(judged.urgent_reasons)}" if judged.urgent_reasons else "")
            owner = target or event
            s.add(EventReporter(event_id=owner.id, reporter_ref=reporter.ref, source=source,
                                contact=dict(reporter.contact), report_id=event.id, at=now))
            if target is not None:
                _merge(s, event, target, actor, now)
            elif not judged.needs_human:
                apply(s, event, "dispatch", "system:dispatch", f"自动派发（置信度 {judged.confidence:.2f}）", now)
    except IntegrityError:  # the same key, raced by a concurrent request: the first one won
        if idempotency_key:
            with database().session() as s:
                if earlier := _replay(s, idempotency_key):
                    return earlier
        raise
    announce("events.reported", actor, event, source=source, confidence=event.confidence,
             merged_into=event.merged_into)
    if target is not None:
        announce("events.merged", actor, target, report_id=event.id)
        return ReportResult(target, created=True, report_id=event.id, merged=True)
    if event.status == Status.dispatched:
        announce("events.dispatched", "system:dispatch", event)
    return ReportResult(event, created=True, report_id=event.id, merged=False)


def _merge(s: Session, duplicate: Event, target: Event, actor: str, now: datetime) -> None:
    duplicate.status = Status.merged
    duplicate.sla_due_at = None
    add_history(s, duplicate, "merge", Status.reported, actor, f"与 {target.id} 重复，已合并", now)
    add_history(s, target, "merge", target.status, actor, f"合并重复上报 {duplicate.id}（新增上报人）", now)
    target.updated_at = now


# --- acting on events ------------------------------------------------------------------------

#: the bus topic each action announces
TOPICS = {"dispatch": "events.dispatched", "accept": "events.accepted", "start": "events.started",
          "resolve": "events.resolved", "close": "events.closed", "reopen": "events.reopened",
          "reject": "events.rejected"}
_DEPARTMENT_ACTIONS = frozenset({"accept", "start", "resolve", "reject"})
_DISPATCH_ACTIONS = frozenset({"dispatch", "close", "reopen", "reject"})


def is_dispatcher(principal: Principal) -> bool:
    """The city's dispatch centre: officials, and operators who belong to no department."""
    return principal.role == Role.official or (principal.role == Role.operator and principal.department is None)


def _is_reporter(s: Session, event: Event, reporter: str | None) -> bool:
    if not reporter:
        return False
    return event.reporter_ref == reporter or s.scalar(select(EventReporter.id).where(
        EventReporter.event_id == event.id, EventReporter.reporter_ref == reporter).limit(1)) is not None


def _check_action(s: Session, event: Event, action: str, principal: Principal, reporter: str | None) -> None:
    """Admins may do anything; the dispatch centre dispatches, rejects, closes and reopens; a
    department's operators accept, start, resolve and reject their department's events; a
    reporter confirms (closes) or reopens a resolved event of theirs."""
    if principal.role == Role.admin:
        return
    if principal.role in (Role.citizen, Role.enterprise):
        if action in ("close", "reopen") and event.status != Status.reported and _is_reporter(s, event, reporter):
            return
        raise forbidden("上报人只能确认办结（close）或要求重办（reopen）自己上报的已处理事件 "
                        "a reporter may only close or reopen their own resolved event")
    if is_dispatcher(principal):
        if action not in _DISPATCH_ACTIONS:
            raise forbidden(f"指挥调度只能执行 {', '.join(sorted(_DISPATCH_ACTIONS))} / dispatchers may not '{action}'")
        if not _may_dispatch(principal, event):
            raise forbidden(f"事件 {event.id} 属于部门 {event.department}；按 redispatch_policy，部门工作人员只能处置本部门的事件 "
                            f"/ under redispatch_policy an official acts on their own department's events only")
        return
    if principal.role == Role.operator and principal.department == event.department and action in _DEPARTMENT_ACTIONS:
        return
    raise forbidden(f"事件 {event.id} 属于部门 {event.department}，当前身份无权执行 {action} "
                    f"/ not allowed to '{action}' an event of department '{event.department}'")


def _may_dispatch(principal: Principal, event: Event) -> bool:
    """`redispatch_policy`: with `own_department` (the default) an official who belongs to a
    department dispatches, rejects, closes and reopens only that department's events; the city's
    dispatch centre (officials and operators of no department) and admins act on any; with `any`
    every official does."""
    return (settings().redispatch_policy == "any" or principal.department is None
            or principal.department == event.department)


def _event(s: Session, event_id: str) -> Event:
    event = s.get(Event, event_id)
    if event is None:
        raise not_found(f"事件不存在 event '{event_id}' not found", "event-not-found")
    return event


def _known_department(department: str) -> str:
    if department not in {d.id for d in list_departments()}:
        raise bad_request(f"未知部门 unknown department '{department}'", "unknown-department")
    return department


def transition(event_id: str, action: str, actor: Principal, note: str = "", reporter: str | None = None,
               department: str | None = None) -> Event:
    """Take `action` on the event as `actor` (a citizen acts through their `reporter` ref).
    `department` re-routes a dispatch (e.g. after a reject: wrong department)."""
    if department is not None and action != "dispatch":
        raise bad_request("只有派发（dispatch）可以指定部门 only dispatch takes a department", "invalid-request")
    who = actor_name(actor, reporter)
    with database().session() as s:
        event = _event(s, event_id)
        _check_action(s, event, action, actor, reporter)
        if department is not None:
            event.department = _known_department(department)
        previous = apply(s, event, action, who, note.strip(), utcnow())
    announce(TOPICS[action], who, event, action=action, from_status=previous, note=note.strip())
    return event


def record_correction(event_id: str, category: str, actor: Principal) -> Event:
    """An operator's correction of an event's category: the event moves to the category's
    department, and `events.corrected` tells the corpus centre, which proposes the report with the
    right category for review (持续进化); the classifier learns it only from a reviewed corpus version
    that passed the model centre's evaluation gate (`aicity.ops.model_centre`)."""
    known = categories().get(category)
    if known is None:
        raise bad_request(f"未知事件类别 unknown event category '{category}'", "unknown-category", category=category)
    who = actor_name(actor)
    now = utcnow()
    with database().session() as s:
        event = _event(s, event_id)
        if not (actor.role == Role.admin or is_dispatcher(actor)
                or (actor.role == Role.operator and actor.department == event.department)):
            raise forbidden("只有工作人员可以纠正事件类别 only staff may correct an event's category")
        previous = event.category
        event.category, event.department, event.updated_at = known.id, known.department, now
        add_history(s, event, "correct", event.status, who, f"类别 {previous} → {known.id}", now)
    announce("events.corrected", who, event, previous_category=previous)
    return event


# --- reading ---------------------------------------------------------------------------------

def get(event_id: str, viewer: Principal, reporter: str | None = None) -> Event:
    """One event: staff see every event, citizens and enterprises only those they reported."""
    with database().session() as s:
        event = _event(s, event_id)
        if not viewer.is_staff and not _is_reporter(s, event, reporter):
            raise forbidden("只能查看自己上报的事件 you may only see events you reported")
        return event


def list_events(viewer: Principal, reporter: str | None = None, status: str | None = None,
                department: str | None = None, district: str | None = None, category: str | None = None,
                since: datetime | None = None, limit: int = 100) -> list[Event]:
    """Events newest first, filtered; merged duplicates only when asked for by status."""
    query = select(Event).order_by(Event.created_at.desc()).limit(min(max(limit, 1), MAX_LIST))
    if not viewer.is_staff:
        if not reporter:
            raise forbidden("查看事件需要上报凭证（X-Reporter-Token）a reporter token is needed to list events")
        query = query.where(Event.id.in_(select(EventReporter.event_id).where(EventReporter.reporter_ref == reporter)))
    if status is not None and status not in Status.__members__:
        raise bad_request(f"未知状态 unknown status '{status}'; statuses: {', '.join(Status)}", "unknown-status")
    query = query.where(Event.status == status) if status else query.where(Event.status != Status.merged)
    for column, value in ((Event.department, department), (Event.district, district), (Event.category, category)):
        if value:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Event.created_at >= as_utc(since))
    with database().session() as s:
        return list(s.scalars(query))


def history(event_id: str, viewer: Principal, reporter: str | None = None) -> list[EventHistory]:
    get(event_id, viewer, reporter)
    with database().session() as s:
        return list(s.scalars(select(EventHistory).where(EventHistory.event_id == event_id)
                              .order_by(EventHistory.at, EventHistory.id)))


def reporter_count(event_id: str) -> int:
    with database().session() as s:
        return len(s.scalars(select(EventReporter.reporter_ref).where(EventReporter.event_id == event_id)
                             .distinct()).all())


def _iso(t: datetime | None) -> str | None:
    return as_utc(t).isoformat() if t else None


def event_json(event: Event) -> dict[str, Any]:
    """An event as the API and the CLI show it (no reporter contact, ever)."""
    category = categories().get(event.category)
    return {
        "id": event.id, "title": event.title, "description": event.description,
        "category": event.category, "category_name": category.name if category else event.category,
        "department": event.department, "department_name": department_name(event.department),
        "priority": event.priority, "confidence": event.confidence, "status": event.status,
        "allowed_actions": allowed_actions(event.status), "source": event.source,
        "address": event.address, "district": event.district, "lat": event.lat, "lon": event.lon,
        "media": event.media, "merged_into": event.merged_into, "reporters": reporter_count(event.id),
        "sla_due_at": _iso(event.sla_due_at), "sla_breached": event.sla_breached_at is not None,
        "created_at": _iso(event.created_at), "updated_at": _iso(event.updated_at),
    }


def history_json(row: EventHistory) -> dict[str, Any]:
    return {"action": row.action, "from_status": row.from_status, "to_status": row.to_status, "actor": row.actor,
            "at": _iso(row.at), "note": row.note}
