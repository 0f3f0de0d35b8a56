"""Temporal retrieval: attribute instances over time (`twin_attribute_history`), for one entity or
for every entity a query selects. The time window and lastN (per attribute instance, i.e. per
datasetId) are answered by SQL."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from aicity.core.db import database
from aicity.hub.twin.attrs import VALUE_MEMBER
from aicity.hub.twin.errors import bad_data, not_found
from aicity.hub.twin.filters import EntityQuery
from aicity.hub.twin.models import TwinAttributeInstance, TwinEntity
from aicity.hub.twin.service import find, instance_id, iso, utc

Entity = dict[str, Any]
History = TwinAttributeInstance
#: the key of a simplified temporal series, by attribute type
_SERIES = {"Relationship": "objects", "LanguageProperty": "languageMaps", "VocabProperty": "vocabs",
           "JsonProperty": "jsons", "ListProperty": "valueLists", "ListRelationship": "objectLists"}


@dataclass(frozen=True)
class Window:
    """`timerel` with `timeAt` (and `endTimeAt` for between) over observedAt; no timerel: all time."""

    timerel: str | None = None
    time_at: datetime | None = None
    end_time_at: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        column = History.observed_at
        if self.timerel == "before":
            return [column < self.time_at]
        if self.timerel == "after":
            return [column >= self.time_at]
        if self.timerel == "between":
            return [column >= self.time_at, column < self.end_time_at]
        return []


def parse_time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise bad_data(f"{what} must be an ISO 8601 date-time") from exc
    if at.tzinfo is None:
        raise bad_data(f"{what} needs a time zone (e.g. Z)")
    return utc(at)


def window(timerel: str | None, time_at: str | None, end_time_at: str | None) -> Window:
    """A temporal query's window from its parameters; BadRequestData when they do not make one."""
    start, end = parse_time(time_at, "timeAt"), parse_time(end_time_at, "endTimeAt")
    if timerel is None:
        if start or end:
            raise bad_data("timeAt and endTimeAt need timerel (before, after or between)")
        return Window()
    if timerel not in ("before", "after", "between") or start is None:
        raise bad_data("timerel must be before, after or between, with timeAt")
    if timerel == "between" and (end is None or end <= start):
        raise bad_data("timerel=between needs an endTimeAt later than timeAt")
    return Window(timerel, start, end if timerel == "between" else None)


def _check_last(last_n: int | None) -> None:
    if last_n is not None and last_n < 1:
        raise bad_data("lastN must be a positive integer")


def _conditions(attrs: list[str] | None, span: Window) -> list[ColumnElement[bool]]:
    return [*span.where(), *([History.attr.in_(attrs)] if attrs else [])]


def _instances(s: Session, entity_ids: list[str], attrs: list[str] | None, span: Window,
               last_n: int | None) -> Iterable[History]:
    """The entities' instances in the window, oldest first; with lastN, the newest N of each
    attribute instance (entity, attribute, datasetId)."""
    conditions = [History.entity_id.in_(entity_ids), *_conditions(attrs, span)]
    if last_n is None:
        stmt = select(History).where(*conditions)
    else:
        rank = func.row_number().over(partition_by=(History.entity_id, History.attr, History.dataset_id),
                                      order_by=(History.observed_at.desc(), History.id.desc())).label("rank")
        ranked = select(History.id, rank).where(*conditions).subquery()
        stmt = select(History).join(ranked, ranked.c.id == History.id).where(ranked.c.rank <= last_n)
    return s.scalars(stmt.order_by(History.observed_at, History.id))


def _represent(entities: list[tuple[str, str]], rows: Iterable[History]) -> list[Entity]:
    """Temporal entity representations: {id, type, attr: [instance, …]}, in the entities' order."""
    out = {entity_id: {"id": entity_id, "type": kind} for entity_id, kind in entities}
    for row in rows:
        body = {**row.body, "instanceId": instance_id(row.id)}
        body.setdefault("observedAt", iso(row.observed_at))
        out[row.entity_id].setdefault(row.attr, []).append(body)
    return list(out.values())


def history(entity_id: str, attrs: list[str] | None = None, span: Window | None = None,
            last_n: int | None = None) -> Entity:
    """One entity's attribute instances over time (ResourceNotFound when there is no such entity)."""
    _check_last(last_n)
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        if row is None:
            raise not_found(f"entity {entity_id} not found")
        if attrs and s.scalar(select(History.id).where(History.entity_id == entity_id, History.attr.in_(attrs))
                              .limit(1)) is None:
            raise not_found(f"entity {entity_id} has no attribute {', '.join(attrs)} (now or in its history)")
        return _represent([(row.id, row.type)], _instances(s, [row.id], attrs, span or Window(), last_n))[0]


def query(found: EntityQuery, span: Window, last_n: int | None = None, limit: int = 20, offset: int = 0,
          count: bool = False, by_id: bool | None = None) -> tuple[list[Entity], int | None]:
    """Query Temporal Evolution of Entities: the entities the query selects (on their current
    state) that have instances of `found.attrs` (any attribute when None) in the window."""
    _check_last(last_n)
    attrs = list(found.attrs) if found.attrs is not None else None
    in_window = exists().where(History.entity_id == TwinEntity.id, *_conditions(attrs, span))
    current = EntityQuery(found.selectors, None, found.q, found.geo, found.scope_q)
    entities, total = find(current, limit, offset, count, extra=(in_window,), by_id=by_id)
    with database().session() as s:
        rows = _instances(s, [e["id"] for e in entities], attrs, span, last_n) if entities else []
        return _represent([(e["id"], e["type"]) for e in entities], rows), total


@dataclass(frozen=True)
class Page:
    """A temporal answer cut by the instance limit: the time range it covers and its size (`*`, or lastN)."""

    start: datetime
    end: datetime
    size: str

    def header(self) -> str:
        return f"date-time {iso(self.start)}-{iso(self.end)}/{self.size}"


def _at(instance: dict[str, Any]) -> datetime:
    return utc(datetime.fromisoformat(str(instance["observedAt"])))


def paginate(found: list[Entity], span: Window, last_n: int | None, limit: int) -> Page | None:
    """Temporal pagination (GS CIM 009 clause 6.3.10): when an attribute instance (attribute and
    datasetId) of an entity has more than `limit` instances, every series is cut at one time: the
    oldest instances are kept (the newest with lastN) up to the time where the most cut series
    ends, so that no series has a gap. Cuts `found` in place; None when nothing is cut."""
    series = [[i for i in items if i.get("datasetId") == key]
              for entity in found for name, items in entity.items() if name not in ("id", "type", "scope")
              for key in {i.get("datasetId") for i in items}]
    newest_first = last_n is not None
    cuts = [sorted((_at(i) for i in s), reverse=newest_first)[limit - 1] for s in series if len(s) > limit]
    if not cuts:
        return None
    bound = max(cuts) if newest_first else min(cuts)
    for entity in found:
        for name, items in list(entity.items()):
            if name not in ("id", "type", "scope"):
                entity[name] = [i for i in items if (_at(i) >= bound if newest_first else _at(i) <= bound)]
    kept = [_at(i) for e in found for n, items in e.items() if n not in ("id", "type", "scope") for i in items]
    if newest_first:
        start = span.end_time_at if span.timerel == "between" else span.time_at if span.timerel == "before" \
            else max(kept, default=bound)
        return Page(start or bound, bound, str(last_n))
    start = span.time_at if span.timerel in ("after", "between") else min(kept, default=bound)
    return Page(start or bound, bound, "*")


def temporal_values(found: Entity) -> Entity:
    """The simplified temporal representation (options=temporalValues): per attribute instance
    (datasetId), its type and [value, observedAt] pairs."""
    out: Entity = {"id": found["id"], "type": found["type"]}
    for name, items in found.items():
        if name in ("id", "type"):
            continue
        series: dict[str | None, dict[str, Any]] = {}
        for item in items:
            key = item.get("datasetId")
            kind = item.get("type", "Property")
            entry = series.setdefault(key, {"type": kind, **({"datasetId": key} if key else {})})
            member = VALUE_MEMBER.get(kind, "value")
            value = {member: item.get(member)} if member in ("languageMap", "vocab", "json") else item.get(member)
            entry.setdefault(_SERIES.get(kind, "values"), []).append([value, item["observedAt"]])
        found_series = list(series.values()) or [{"type": "Property", "values": []}]  # cut by a page: none
        out[name] = found_series[0] if len(found_series) == 1 else found_series
    return out


#: aggregation methods (GS CIM 009 clause 4.5.19)
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


@dataclass(frozen=True)
class Aggregation:
    """`aggrMethods` over periods of `aggrPeriodDuration` (None: the whole time range is one period)."""

    methods: tuple[str, ...]
    period: relativedelta | None = None


def aggregation(methods: Any, duration: str | None) -> Aggregation:
    """aggrMethods (a comma-separated string or an array) and aggrPeriodDuration (ISO 8601, e.g.
    PT1H, P1D, P1M; PT0S: the whole range); BadRequestData for anything else."""
    names = methods.split(",") if isinstance(methods, str) else methods
    if not isinstance(names, list) or not names or not all(isinstance(m, str) for m in names):
        raise bad_data("aggrMethods must name at least one aggregation method")
    unknown = sorted({m.strip() for m in names} - set(AGGR_METHODS))
    if unknown:
        raise bad_data(f"unknown aggrMethods {', '.join(unknown)}; known: {', '.join(AGGR_METHODS)}")
    period = None
    if duration is not None:
        found = _DURATION.match(duration) if isinstance(duration, str) else None
        if found is None:
            raise bad_data(f"aggrPeriodDuration must be an ISO 8601 duration such as PT1H, got {duration!r}")
        years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
        period = relativedelta(years=years, months=months, weeks=weeks, days=days, hours=hours, minutes=minutes,
                               seconds=seconds)
        if not any((years, months, weeks, days, hours, minutes, seconds)):
            period = None
    return Aggregation(tuple(dict.fromkeys(m.strip() for m in names)), period)


def _aggregate(method: str, values: list[Any]) -> Any:
    if method == "totalCount":
        return len(values)
    if method == "distinctCount":
        return len({json.dumps(v, sort_keys=True) for v in values})
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers:
        return None
    if method == "sum":
        return math.fsum(numbers)
    if method == "avg":
        return math.fsum(numbers) / len(numbers)
    if method == "min":
        return min(numbers)
    if method == "max":
        return max(numbers)
    if method == "sumsq":
        return math.fsum(n * n for n in numbers)
    return statistics.pstdev(numbers)  # stddev


def aggregated(found: Entity, how: Aggregation, span: Window) -> Entity:
    """The aggregated temporal representation: per attribute instance (datasetId), for each method,
    [value, period start, period end] over consecutive periods from timeAt (or the entity's first
    instance); periods without instances are left out."""
    out: Entity = {"id": found["id"], "type": found["type"]}
    times = [_at(i) for name, items in found.items() if name not in ("id", "type", "scope") for i in items]
    if not times:
        return out
    start = span.time_at if span.timerel in ("after", "between") and span.time_at else min(times)
    last = span.end_time_at if span.timerel == "between" and span.end_time_at else max(times)
    for name, items in found.items():
        if name in ("id", "type", "scope"):
            continue
        series = []
        for key in dict.fromkeys(i.get("datasetId") for i in items):
            chosen = [i for i in items if i.get("datasetId") == key]
            kind = chosen[0].get("type", "Property")
            entry: Entity = {"type": kind, **({"datasetId": key} if key else {})}
            member = VALUE_MEMBER.get(kind, "value")
            begin = start
            while begin <= last:
                end = begin + how.period if how.period is not None else last
                inside = [i.get(member) for i in chosen
                          if begin <= _at(i) < end or (how.period is None and _at(i) == end)]
                if inside:
                    for method in how.methods:
                        entry.setdefault(method, []).append([_aggregate(method, inside), iso(begin), iso(end)])
                if how.period is None:
                    break
                begin = end
            series.append(entry)
        out[name] = series[0] if len(series) == 1 else series
    return out
