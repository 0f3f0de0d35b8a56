"""An event's life: the states, the actions that move it between them, SLA deadlines and
their escalation.

    dispatch  reported → dispatched          (the dispatch centre, or at once when the classifier is sure)
    accept    dispatched → accepted          (the department)
    start     accepted → in_progress
    resolve   accepted | in_progress → resolved
    close     resolved → closed              (the reporter confirms, or the dispatch centre)
              reported → closed              (the dispatch centre: no city problem, with a note)
    reopen    resolved | closed → dispatched (with a reason; the SLA clock starts again)
    reject    dispatched | accepted → reported (with a reason, e.g. wrong department: back to the queue)

A duplicate report is `merged` into the open event it repeats (terminal, no actions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from aicity.core import audit, scale
from aicity.core.bus import bus
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request
from aicity.core.ids import utcnow
from aicity.hub.events.models import Event, EventHistory

log = logging.getLogger(__name__)


class Status(StrEnum):
    reported = "reported"
    dispatched = "dispatched"
    accepted = "accepted"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"
    merged = "merged"


#: action → (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "dispatch": (frozenset({Status.reported}), Status.dispatched),
    "accept": (frozenset({Status.dispatched}), Status.accepted),
    "start": (frozenset({Status.accepted}), Status.in_progress),
    "resolve": (frozenset({Status.accepted, Status.in_progress}), Status.resolved),
    "close": (frozenset({Status.reported, Status.resolved}), Status.closed),
    "reopen": (frozenset({Status.resolved, Status.closed}), Status.dispatched),
    "reject": (frozenset({Status.dispatched, Status.accepted}), Status.reported),
}
#: actions that must say why
NEEDS_NOTE = frozenset({"reject", "reopen"})
#: states an event is still being worked on in (duplicates merge into these, SLA runs in these)
OPEN_STATES = frozenset({Status.reported, Status.dispatched, Status.accepted, Status.in_progress})
_ACCEPT_STAGE = frozenset({Status.reported, Status.dispatched})
PRIORITIES = ("urgent", "high", "normal", "low")


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def next_status(status: str, action: str) -> Status:
    """Where `action` leads from `status`; 400 for an unknown action, 409 with the allowed
    actions when it may not be taken from here."""
    if action not in TRANSITIONS:
        raise bad_request(f"未知操作 unknown action '{action}'; actions: {', '.join(TRANSITIONS)}",
                          "unknown-action", actions=list(TRANSITIONS))
    sources, target = TRANSITIONS[action]
    if status not in sources:
        allowed = allowed_actions(status)
        raise Problem(409, "状态不允许此操作 Conflict",
                      f"事件当前状态为 {status}，不能执行 {action}；可执行：{', '.join(allowed) or '无'} "
                      f"/ '{action}' is not allowed from '{status}'", "illegal-transition",
                      current_status=status, allowed_actions=allowed)
    return target


# --- SLA -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sla:
    accept: timedelta
    resolve: timedelta


def _sla(row: dict[str, Any]) -> Sla:
    return Sla(timedelta(minutes=row["accept_minutes"]), timedelta(hours=row["resolve_hours"]))


@cache
def _sla_table() -> tuple[dict[str, Sla], dict[str, dict[str, Sla]]]:
    path = resources.files("aicity") / "demo" / "data" / "events" / "sla.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = {priority: _sla(row) for priority, row in data["priorities"].items()}
    overrides = {category: {priority: _sla(row) for priority, row in rows.items()}
                 for category, rows in (data.get("categories") or {}).items()}
    return defaults, overrides


def sla_for(category: str, priority: str) -> Sla:
    defaults, overrides = _sla_table()
    return overrides.get(category, {}).get(priority) or defaults[priority]


def as_utc(t: datetime) -> datetime:
    """SQLite gives naive datetimes back; every time here is stored in UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def due_at(event: Event) -> datetime | None:
    """The deadline of the event's current stage: accepted, then resolved, counted from the
    report (or the last reopen); none once it is resolved."""
    sla = sla_for(event.category, event.priority)
    start = as_utc(event.sla_started_at)
    if event.status in _ACCEPT_STAGE:
        return start + sla.accept
    if event.status in OPEN_STATES:
        return start + sla.resolve
    return None


def _set_deadline(event: Event) -> None:
    due = due_at(event)
    if due != (as_utc(event.sla_due_at) if event.sla_due_at else None):
        event.sla_due_at = due
        event.sla_breached_at = None  # a new stage: its own deadline may be breached once


# --- applying a step -------------------------------------------------------------------------

def add_history(s: Session, event: Event, action: str, from_status: str | None, actor: str, note: str,
                at: datetime) -> EventHistory:
    row = EventHistory(event_id=event.id, action=action, from_status=from_status, to_status=event.status,
                       actor=actor, at=at, note=note)
    s.add(row)
    return row


def start(s: Session, event: Event, actor: str, note: str) -> None:
    """A new event's first history entry and deadline."""
    event.sla_started_at = event.created_at
    _set_deadline(event)
    add_history(s, event, "report", None, actor, note, event.created_at)


def apply(s: Session, event: Event, action: str, actor: str, note: str, now: datetime) -> str:
    """Move the event by `action` (checked against the table), record who and why, and set
    the next deadline. Returns the status it came from."""
    target = next_status(event.status, action)
    if action in NEEDS_NOTE and not note.strip():
        raise bad_request(f"操作 {action} 需要填写原因 a reason (note) is required to {action}", "note-required")
    previous = event.status
    event.status = target
    event.updated_at = now
    if action == "reopen":
        event.sla_started_at = now
    _set_deadline(event)
    add_history(s, event, action, previous, actor, note, now)
    return previous


def announce(topic: str, actor: str, event: Event, **detail: Any) -> None:
    """Tell the bus and write the audit ledger. Only ids and public fields: never a
    reporter's contact."""
    payload = {"id": event.id, "category": event.category, "department": event.department,
               "district": event.district, "status": event.status, "priority": event.priority, **detail}
    audit.record(actor, topic, event.id, payload)
    bus.publish(topic, {**payload, "actor": actor})


# --- escalation ------------------------------------------------------------------------------

SLA_ACTOR = "system:sla"


def _raised(priority: str) -> str:
    return PRIORITIES[max(PRIORITIES.index(priority) - 1, 0)]


def check_sla(now: datetime | None = None) -> list[dict[str, Any]]:
    """Escalate every open event whose current deadline has passed (once per stage): its
    priority goes up one level, a history entry says so, `events.sla.breached` is published."""
    now = now or utcnow()
    breached: list[tuple[Event, datetime]] = []
    with database().session() as s:
        rows = s.scalars(select(Event).where(Event.sla_due_at <= now, Event.sla_breached_at.is_(None),
                                             Event.status.in_([str(x) for x in OPEN_STATES]))
                         .order_by(Event.sla_due_at))
        for event in rows:
            due = as_utc(event.sla_due_at)  # type: ignore[arg-type]
            stage = "受理" if event.status in _ACCEPT_STAGE else "办结"
            event.sla_breached_at = now
            event.priority = _raised(event.priority)
            add_history(s, event, "escalate", event.status, SLA_ACTOR,
                        f"超过{stage}时限（{due:%Y-%m-%d %H:%M} UTC），已升级为 {event.priority} 优先级 "
                        f"/ SLA breached, escalated", now)
            breached.append((event, due))
    report = []
    for event, due in breached:
        overdue = int((now - due).total_seconds() // 60)
        announce("events.sla.breached", SLA_ACTOR, event, due_at=due.isoformat(), overdue_minutes=overdue)
        report.append({"id": event.id, "category": event.category, "department": event.department,
                       "status": event.status, "priority": event.priority, "due_at": due.isoformat(),
                       "overdue_minutes": overdue})
    return report


def start_sla_watcher(interval_s: float = 60.0) -> Callable[[], None]:
    """Check SLAs every `interval_s` (once per period in the whole city, core/scale.py `every`);
    returns the function that stops it."""
    return scale.every("events-sla", interval_s, check_sla)
