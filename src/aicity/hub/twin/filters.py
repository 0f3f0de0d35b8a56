"""Entity queries compiled to SQL where SQL can say it exactly or as a superset (type, id, the
literal prefix of idPattern, scopes, the bounding box of a geo-query), and to Python checks for the
rest (the regex itself, `+` scope levels, the exact geometry, q, attrs). Works on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from aicity.core.db import database
from aicity.hub.twin.attrs import geometry_of
from aicity.hub.twin.errors import bad_data
from aicity.hub.twin.models import TwinEntity, TwinEntityScope
from aicity.hub.twin.query import GeoFilter, parse_geoquery, parse_q
from aicity.hub.twin.scope import Node, Term, matches, parse_scope_q, terms

Entity = dict[str, Any]
_META = set(".^$*+?{}[]|()\\")


@dataclass(frozen=True)
class Selector:
    """Entities of one of `types` (any when empty), with one of `ids` (any when empty), whose id
    matches the regular expression `id_pattern` (when given)."""

    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    id_pattern: str | None = None


@dataclass(frozen=True)
class GeoQuery:
    georel: str
    geometry: str | None
    coordinates: Any
    geoproperty: str = "location"


@dataclass(frozen=True)
class EntityQuery:
    """What Query Entities asks for: entities matching any selector (every entity when there are
    none) and every other filter given."""

    selectors: tuple[Selector, ...] = ()
    attrs: tuple[str, ...] | None = None
    q: str | None = None
    geo: GeoQuery | None = None
    scope_q: str | None = None
    #: an attribute name in q → its stored form (the request's @context); None: names as written
    names: Callable[[str], str] | None = field(default=None, compare=False)

    @property
    def empty(self) -> bool:
        return not (self.selectors or self.attrs or self.q or self.geo or self.scope_q)


@dataclass
class Plan:
    """A compiled query: SQL conditions, and the checks left to Python on each row SQL returns
    (first on the row, then on the entity); none left means SQL's answer is exact."""

    where: list[ColumnElement[bool]]
    row_checks: list[Callable[[TwinEntity], bool]]
    entity_checks: list[Callable[[Entity], bool]]

    @property
    def exact(self) -> bool:
        return not (self.row_checks or self.entity_checks)


def geo_query(georel: str | None, geometry: str | None, coordinates: Any,
              geoproperty: str | None = None) -> GeoQuery | None:
    if not georel:
        if geometry or coordinates:
            raise bad_data("geometry and coordinates need georel")
        return None
    return GeoQuery(georel, geometry, coordinates, geoproperty or "location")


def literal_prefix(pattern: str) -> str:
    """Text that every id this regex fully matches starts with ('' when that cannot be told
    cheaply: alternation, a leading group or class, flags)."""
    if "|" in pattern:
        return ""
    out: list[str] = []
    i = 1 if pattern.startswith("^") else 0
    while i < len(pattern):
        char, step = pattern[i], 1
        if char == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1].isalnum():
                break  # \d, \w, a back-reference …: not a literal
            char, step = pattern[i + 1], 2
        elif char in _META:
            break
        quantifier = pattern[i + step:i + step + 1]
        if quantifier and quantifier in "*?{":
            break  # this character may be absent
        out.append(char)
        if quantifier == "+":
            break
        i += step
    return "".join(out)


def starts_with(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, exactly, in a form the dialect can answer from an index."""
    if database().engine.dialect.name != "sqlite":
        return column.startswith(prefix, autoescape=True)
    # SQLite's LIKE ignores case and cannot use the (BINARY) index; a range on code points can
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    if following > 0x10FFFF:
        return column >= prefix
    return and_(column >= prefix, column < prefix[:-1] + chr(following))


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise bad_data(f"idPattern is not a regular expression: {exc}") from exc


def _selector_clause(sel: Selector) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if sel.types:
        parts.append(TwinEntity.type.in_(sel.types))
    if sel.ids:
        parts.append(TwinEntity.id.in_(sel.ids))
    prefix = literal_prefix(sel.id_pattern) if sel.id_pattern is not None else ""
    if prefix:
        parts.append(starts_with(TwinEntity.id, prefix))
    return and_(true(), *parts)


def _selects(selectors: tuple[Selector, ...]) -> Callable[[TwinEntity], bool]:
    compiled = [(sel, _regex(sel.id_pattern) if sel.id_pattern is not None else None) for sel in selectors]

    def check(row: TwinEntity) -> bool:
        return any((not sel.types or row.type in sel.types) and (not sel.ids or row.id in sel.ids)
                   and (pattern is None or pattern.fullmatch(row.id) is not None) for sel, pattern in compiled)

    return check


def _term_conditions(term: Term) -> list[ColumnElement[bool]]:
    column, path = TwinEntityScope.scope, term.literal
    if not term.exact:
        return [starts_with(column, path + "/")] if path else []
    if not term.below:
        return [column == path]
    return [or_(column == path, starts_with(column, path + "/"))] if path else []


def scope_clause(node: Node) -> ColumnElement[bool]:
    """The scope query in SQL: per scope pattern, the entity is among those with a matching scope
    (answered from the scope index)."""
    if isinstance(node, Term):
        return TwinEntity.id.in_(select(TwinEntityScope.entity_id).where(*_term_conditions(node)))
    parts = [scope_clause(part) for part in node.parts]
    return and_(*parts) if node.kind == "and" else or_(*parts)


def _box_conditions(found: GeoFilter) -> list[ColumnElement[bool]]:
    if found.box is None:
        return []
    min_lon, min_lat, max_lon, max_lat = found.box
    e = TwinEntity
    if found.within:
        lat = [e.min_lat >= min_lat, e.max_lat <= max_lat]
        lon = [e.min_lon >= min_lon, e.max_lon <= max_lon]
    else:
        lat = [e.min_lat <= max_lat, e.max_lat >= min_lat]
        lon = [e.min_lon <= max_lon, e.max_lon >= min_lon]
    return lat + (lon if math.isfinite(min_lon) and math.isfinite(max_lon) else [])


def _add_geo(plan: Plan, geo: GeoQuery) -> None:
    found = parse_geoquery(geo.georel, geo.geometry, geo.coordinates)
    if geo.geoproperty == "location":  # the stored box and geometry answer without decoding attributes
        plan.where += [TwinEntity.min_lat.is_not(None), *_box_conditions(found)]
        plan.row_checks.append(lambda row: row.geometry is not None and found.test(row.geometry))
        return

    def other(entity: Entity) -> bool:
        shape = geometry_of(entity.get(geo.geoproperty))
        return shape is not None and found.test(shape)

    plan.entity_checks.append(other)


def compile_query(query: EntityQuery) -> Plan:
    """SQL conditions and Python checks for a query; malformed parts raise BadRequestData."""
    plan = Plan([], [], [])
    if query.selectors:
        plan.where.append(or_(*(_selector_clause(sel) for sel in query.selectors)))
        if any(sel.id_pattern is not None for sel in query.selectors):
            plan.row_checks.append(_selects(query.selectors))
    if query.scope_q is not None:
        node = parse_scope_q(query.scope_q)
        plan.where.append(scope_clause(node))
        if not all(term.exact for term in terms(node)):
            plan.row_checks.append(lambda row: matches(node, row.scope or []))
    if query.geo is not None:
        _add_geo(plan, query.geo)
    if query.q is not None:
        plan.entity_checks.append(parse_q(query.q, query.names))
    if query.attrs is not None:
        wanted = query.attrs
        plan.entity_checks.append(lambda entity: any(a in entity for a in wanted))
    return plan
