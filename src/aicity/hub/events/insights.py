"""Insights over live event data for the city's officials: filtered queries, hotspots, rising
trends and the daily city-operations briefing (城市运行日报).

Everything is computed from the events slice's own tables at the moment it is asked, so the
answers are as fresh as the events. Days are the city's local days (UTC+8).

Rising trends use the conditional test for a Poisson rate ratio: with `c` events in the
latest window and `b` in the `k` windows before it, under "the rate has not changed" `c`
is Binomial(c + b, 1 / (k + 1)). A key is rising when the latest window has at least
`MIN_COUNT` events, at least `MIN_RATIO` times the earlier windows' mean, and the
one-sided p-value P(X ≥ c) is below `ALPHA`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select

from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.events.classify import categories
from aicity.hub.events.lifecycle import OPEN_STATES, Status, as_utc
from aicity.hub.events.models import Event, EventHistory
from aicity.hub.geo import gazetteer
from aicity.identity.service import department_name

#: the demo city's local time
CITY_TZ = timezone(timedelta(hours=8), "UTC+8")
#: dimensions hotspots can be counted by (Event attributes)
DIMENSIONS = ("category", "district", "department", "address", "priority", "status")
#: rising-trend test (see the module's docstring)
BASELINE_WINDOWS = 3
MIN_COUNT = 5
MIN_RATIO = 1.5
ALPHA = 0.05
#: days in the briefing's line chart
SERIES_DAYS = 14

STATUS_NAMES = {
    Status.reported: "待派单", Status.dispatched: "已派单", Status.accepted: "已受理",
    Status.in_progress: "处理中", Status.resolved: "已处置", Status.closed: "已办结", Status.merged: "已合并",
}
_DONE = frozenset({Status.resolved, Status.closed})


@dataclass(frozen=True)
class Filters:
    """What to select; None/empty means no restriction. `statuses` are Status values;
    `overdue` keeps open events past their SLA deadline."""

    district: str | None = None
    category: str | None = None
    department: str | None = None
    statuses: frozenset[str] = frozenset()
    overdue: bool = False
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class QueryResult:
    events: list[Event]
    total: int
    by_status: dict[str, int] = field(default_factory=dict)


# --- time --------------------------------------------------------------------------------------

def local_day(day: date) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of a local calendar day."""
    start = datetime.combine(day, time(), CITY_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def today() -> date:
    return utcnow().astimezone(CITY_TZ).date()


def _local(t: datetime) -> datetime:
    return as_utc(t).astimezone(CITY_TZ)


# --- reading -------------------------------------------------------------------------------------

def _select(filters: Filters) -> Any:
    query = select(Event).where(Event.status != Status.merged).order_by(Event.created_at.desc())
    for column, value in ((Event.district, filters.district), (Event.category, filters.category),
                          (Event.department, filters.department)):
        if value:
            query = query.where(column == value)
    if filters.statuses:
        query = query.where(Event.status.in_(sorted(filters.statuses)))
    if filters.overdue:
        query = query.where(Event.status.in_([str(s) for s in OPEN_STATES]), Event.sla_due_at < utcnow())
    if filters.since is not None:
        query = query.where(Event.created_at >= as_utc(filters.since))
    if filters.until is not None:
        query = query.where(Event.created_at < as_utc(filters.until))
    return query


def events(filters: Filters) -> list[Event]:
    """Every event that matches (merged duplicates excluded), newest first."""
    with database().session() as s:
        return list(s.scalars(_select(filters)))


def query(filters: Filters, limit: int = 100) -> QueryResult:
    """The matching events (the newest `limit`), how many match, and how many per status."""
    found = events(filters)
    return QueryResult(found[:limit], len(found), dict(Counter(e.status for e in found).most_common()))


# --- names ---------------------------------------------------------------------------------------

def label(dimension: str, key: str | None) -> str:
    """How a key of a dimension is shown to people."""
    if key is None:
        return "未知"
    if dimension == "category":
        known = categories().get(key)
        return known.name if known else key
    if dimension == "district":
        district = gazetteer.gazetteer().districts.get(key)
        return district.name if district else key
    if dimension == "department":
        return department_name(key)
    if dimension == "status":
        return STATUS_NAMES.get(Status(key), key) if key in Status.__members__ else key
    return key


def _ranking(dimension: str, counts: Counter[str | None], top: int) -> list[dict[str, Any]]:
    total = sum(counts.values())
    return [{"key": key, "name": label(dimension, key), "count": n, "share": round(n / total, 4)}
            for key, n in counts.most_common(top)]


# --- hotspots and trends -------------------------------------------------------------------------

def hotspots(since: datetime | None, until: datetime | None, by: Iterable[str] = ("category", "district"),
             top: int = 10, filters: Filters = Filters()) -> dict[str, Any]:
    """Counts of the events reported in [since, until), ranked per dimension."""
    dims = list(by)
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; dimensions: {', '.join(DIMENSIONS)}")
    rows = events(replace(filters, since=since, until=until))
    return {"total": len(rows),
            **{d: _ranking(d, Counter(getattr(e, d) for e in rows), top) for d in dims}}


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p)."""
    return min(1.0, sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def rising(current: int, baseline: int, windows: int = BASELINE_WINDOWS) -> tuple[bool, float, float]:
    """The test of the module's docstring: (rising?, rate ratio, p-value)."""
    mean = baseline / windows
    ratio = current / mean if mean else math.inf
    p_value = binomial_tail(current, current + baseline, 1 / (windows + 1))
    return (current >= MIN_COUNT and ratio >= MIN_RATIO and p_value < ALPHA), ratio, p_value


def trends(window_days: int = 7, until: datetime | None = None, by: Iterable[str] = ("category", "district"),
           windows: int = BASELINE_WINDOWS, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """Keys whose count in the last `window_days` rose significantly against the `windows`
    windows before, most significant first, with the numbers behind each."""
    end = until or utcnow()
    window = timedelta(days=window_days)
    start = end - window * (windows + 1)
    rows = events(replace(filters, since=start, until=end))
    out = []
    for dim in by:
        current: Counter[str | None] = Counter()
        baseline: Counter[str | None] = Counter()
        for e in rows:
            (current if as_utc(e.created_at) >= end - window else baseline)[getattr(e, dim)] += 1
        for key, c in current.items():
            up, ratio, p_value = rising(c, baseline[key], windows)
            if up and key is not None:
                out.append({"dimension": dim, "key": key, "name": label(dim, key), "current": c,
                            "baseline_mean": round(baseline[key] / windows, 2),
                            "ratio": None if math.isinf(ratio) else round(ratio, 2), "p_value": round(p_value, 4),
                            "window_days": window_days})
    return sorted(out, key=lambda r: (r["p_value"], -r["current"]))


# --- the daily briefing --------------------------------------------------------------------------

def _status_at(end: datetime) -> dict[str, str]:
    """Every event's status at `end`, from its history (the last step before then)."""
    with database().session() as s:
        rows = s.execute(select(EventHistory.event_id, EventHistory.to_status)
                         .where(EventHistory.at < end).order_by(EventHistory.at, EventHistory.id))
        return {event_id: status for event_id, status in rows}


def _done_on(start: datetime, end: datetime) -> set[str]:
    """Events resolved or closed in [start, end)."""
    with database().session() as s:
        return set(s.scalars(select(EventHistory.event_id).where(
            EventHistory.at >= start, EventHistory.at < end,
            EventHistory.to_status.in_([str(x) for x in _DONE]), EventHistory.action != "merge")))


def _escalated_on(start: datetime, end: datetime) -> list[str]:
    with database().session() as s:
        return list(dict.fromkeys(s.scalars(select(EventHistory.event_id).where(
            EventHistory.at >= start, EventHistory.at < end, EventHistory.action == "escalate")
            .order_by(EventHistory.at))))


def event_brief(e: Event) -> dict[str, Any]:
    return {"id": e.id, "title": e.title, "category": e.category, "category_name": label("category", e.category),
            "district": e.district, "district_name": label("district", e.district), "department": e.department,
            "department_name": label("department", e.department), "status": e.status,
            "status_name": label("status", e.status), "priority": e.priority, "address": e.address,
            "created_at": _local(e.created_at).isoformat(timespec="minutes")}


def briefing(day: date | None = None, top: int = 5) -> dict[str, Any]:
    """The city-operations briefing of a local day: new, resolved/closed and open events
    (open as at the day's end), SLA breaches, top categories and districts, rising trends,
    urgent events, each department's backlog, and the 14 days up to the day."""
    day = day or today()
    start, end = local_day(day)
    everything = {e.id: e for e in events(Filters(until=end))}
    new = [e for e in everything.values() if as_utc(e.created_at) >= start]
    status_then = _status_at(end)
    open_events = [e for e in everything.values() if status_then.get(e.id) in OPEN_STATES]
    open_ids = {e.id for e in open_events}
    breached = [everything[i] for i in _escalated_on(start, end) if i in everything]
    overdue = [e for e in open_events if e.sla_due_at is not None and as_utc(e.sla_due_at) < min(end, utcnow())]
    urgent = [e for e in everything.values()
              if e.priority == "urgent" and (as_utc(e.created_at) >= start or e.id in open_ids)]
    backlog = Counter(e.department for e in open_events)
    series = []
    for offset in range(SERIES_DAYS - 1, -1, -1):
        d = day - timedelta(days=offset)
        d_start, d_end = local_day(d)
        series.append({"date": d.isoformat(),
                       "new": sum(d_start <= as_utc(e.created_at) < d_end for e in everything.values()),
                       "done": len(_done_on(d_start, d_end))})
    spots = hotspots(start, end, top=top)
    return {
        "date": day.isoformat(),
        "generated_at": utcnow().astimezone(CITY_TZ).isoformat(timespec="seconds"),
        "new": len(new),
        "done": len(_done_on(start, end)),
        "open": len(open_events),
        "sla_breaches": len(breached),
        "overdue_open": len(overdue),
        "top_categories": spots["category"],
        "top_districts": spots["district"],
        "trends": trends(7, until=end),
        "urgent": [event_brief(e) for e in sorted(urgent, key=lambda e: e.created_at, reverse=True)],
        "breached": [event_brief(e) for e in breached],
        "backlog": [{"department": d, "name": label("department", d), "open": n,
                     "overdue": sum(e.department == d for e in overdue)} for d, n in backlog.most_common()],
        "series": series,
    }
