"""The NGSI-LD query language subset (`q`) and geo-queries, evaluated on normalized entities.

q: `attr==value`, `!=`, `<`, `>`, `<=`, `>=`, `~=` (regex), ranges `a==1..5`, lists `a==1,2`,
`attr` alone (exists), `attr.sub` (a sub-attribute) and `attr[key]` (inside a compound value),
`;` for AND (binds tighter), `|` for OR, parentheses. A multi-attribute (instances told apart by
datasetId) satisfies a term when one of its instances does.

Geo-queries: an exact test on a geometry, and a bounding box for prefiltering stored boxes in SQL.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aicity.hub.twin.errors import bad_data

Names = Callable[[str], str]

Entity = dict[str, Any]
Predicate = Callable[[Entity], bool]

_TERM = re.compile(r'\s*([A-Za-z_@][\w@:/#.\-]*(?:\[[^\]]+\])*)\s*(==|!=|>=|<=|~=|!~=|>|<)?\s*')
_ITEM = r'"(?:[^"\\]|\\.)*"|[^;|()<>=!~",]+'
#: a value: one item, or a comma-separated list of them (quoted strings may hold commas)
_VALUE = re.compile(rf'(?:{_ITEM})(?:,(?:{_ITEM}))*')
_ABSENT = object()


def _scalar(token: str) -> Any:
    token = token.strip()
    if token.startswith('"'):
        try:
            return json.loads(token)
        except ValueError as exc:
            raise bad_data(f"q: bad string {token}") from exc
    if token in ("true", "false"):
        return token == "true"
    try:
        return float(token) if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", token) else _datetime(token)
    except ValueError:
        return token


def _datetime(token: str) -> Any:
    if re.fullmatch(r"\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?", token):
        return datetime.fromisoformat(token)
    return token


def _comparable(value: Any, like: Any) -> Any:
    """The attribute's value, made comparable with a query value (ISO dates become datetimes)."""
    if isinstance(like, datetime) and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed if (parsed.tzinfo is None) == (like.tzinfo is None) else value
    return value


#: the member q compares, by what an attribute carries (Property and GeoProperty: value)
_Q_MEMBERS = ("object", "languageMap", "vocab", "valueList", "json")


def attribute_value(attr: Any) -> Any:
    """What q compares: a Property's value, a Relationship's object, a LanguageProperty's map (its
    languages are keys: `name[en]`), a VocabProperty's vocab, a ListProperty's list, a JsonProperty's json."""
    if not isinstance(attr, dict):
        return attr
    for member in _Q_MEMBERS:
        if member in attr:
            return attr[member]
    return attr.get("value")


def instances(attr: Any) -> list[dict[str, Any]]:
    """An attribute's instances: one object, or an array of them told apart by datasetId."""
    if isinstance(attr, list):
        return [a for a in attr if isinstance(a, dict)]
    return [attr] if isinstance(attr, dict) else []


def _path_values(entity: Entity, path: str, names: Names | None = None, ordering: bool = False) -> list[Any]:
    """The values a q path names, one per attribute instance that has it (none: the path is absent);
    `names` gives an attribute name's stored form (the request's @context). `[*]` on a LanguageProperty
    is any of its languages. An ordering comparison (`ordering`) never matches a Relationship."""
    keys = re.findall(r"\[([^\]]+)\]", path)
    head = path.split("[", 1)[0]
    name, _, sub = head.partition(".")
    if names is not None and name not in ("id", "type"):
        name, sub = names(name), names(sub) if sub else sub
    if name in ("id", "type") and not sub:
        return [entity.get(name)]
    found = []
    for attr in instances(entity.get(name)):
        if sub:  # a sub-attribute (observedAt, unitCode, a property of the property)
            attr = attr.get(sub)
            if attr is None:
                continue
        if ordering and isinstance(attr, dict) and attr.get("type") in ("Relationship", "ListRelationship"):
            continue
        value = attribute_value(attr)
        for key in keys:
            if key == "*" and isinstance(attr, dict) and attr.get("type") == "LanguageProperty" and \
                    isinstance(value, dict):
                value = list(value.values())
                continue
            value = value.get(key, _ABSENT) if isinstance(value, dict) else _ABSENT
        if value is not _ABSENT:
            found.append(value)
    return found


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if isinstance(actual, list) and op in ("==", "!="):  # a list attribute matches any element
        hit = any(_compare("==", a, expected) for a in actual)
        return hit if op == "==" else not hit
    if isinstance(expected, tuple):  # range
        low, high = expected
        ok = _compare(">=", actual, low) and _compare("<=", actual, high)
        return ok if op == "==" else not ok
    if isinstance(expected, list):
        hit = any(_compare("==", actual, e) for e in expected)
        return hit if op == "==" else not hit
    actual = _comparable(actual, expected)
    if op in ("~=", "!~="):
        found = isinstance(actual, str) and re.search(str(expected), actual) is not None
        return found if op == "~=" else not found
    if op == "==":
        return actual == expected
    if op == "!=":
        return actual != expected
    try:
        return {">": actual > expected, "<": actual < expected, ">=": actual >= expected,
                "<=": actual <= expected}[op]
    except TypeError:
        return False


def _parse_value(raw: str, op: str) -> Any:
    raw = raw.strip()
    if not raw:
        raise bad_data("q: a comparison needs a value")
    if op in ("~=", "!~="):
        pattern = _scalar(raw)
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise bad_data(f"q: bad pattern {raw}") from exc
        return str(pattern)
    if not raw.startswith('"') and ".." in raw:
        low, _, high = raw.partition("..")
        if not low or not high:
            raise bad_data(f"q: bad range {raw}")
        if op not in ("==", "!="):
            raise bad_data(f"q: a range ({raw}) goes with == or != only, not {op}")
        return (_scalar(low), _scalar(high))
    items = re.findall(_ITEM, raw)
    if len(items) > 1:
        return [_scalar(part) for part in items]
    return _scalar(raw)


@dataclass
class _Parser:
    text: str
    names: Names | None = None
    pos: int = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.pos != len(self.text):
            raise bad_data(f"q: unexpected {self.text[self.pos:]!r}")
        return predicate

    def _peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == "|":
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._term()]
        while self._peek() == ";":
            self.pos += 1
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def _term(self) -> Predicate:
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            if self._peek() != ")":
                raise bad_data("q: missing )")
            self.pos += 1
            return inner
        match = _TERM.match(self.text, self.pos)
        if not match:
            raise bad_data(f"q: expected an attribute at {self.text[self.pos:]!r}")
        path, op = match.group(1), match.group(2)
        self.pos = match.end()
        if not op:
            return lambda e: bool(_path_values(e, path, self.names))
        value_match = _VALUE.match(self.text, self.pos)
        if not value_match:
            raise bad_data(f"q: {path}{op} needs a value")
        self.pos = value_match.end()
        expected = _parse_value(value_match.group(0), op)

        def predicate(entity: Entity) -> bool:  # a multi-attribute matches when one instance does
            found = _path_values(entity, path, self.names, ordering=op in (">", "<", ">=", "<="))
            return any(_compare(op, actual, expected) for actual in found)

        return predicate


def parse_q(text: str, names: Names | None = None) -> Predicate:
    """A predicate over normalized entities; a malformed query raises BadRequestData. `names` maps
    the attribute names written in q to their stored form (the request's @context)."""
    if not text.strip():
        raise bad_data("q is empty")
    return _Parser(text, names).parse()


# --- geo-queries ---------------------------------------------------------------------------

EARTH_M = 6_371_008.8
#: degrees added around computed boxes, so that rounding never drops an entity on the edge
_PAD = 1e-7


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points, in metres."""
    (lon1, lat1), (lon2, lat2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def points(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """Every (lon, lat) vertex of a GeoJSON geometry."""
    def walk(c: Any) -> list[tuple[float, float]]:
        if isinstance(c, list) and len(c) >= 2 and all(isinstance(x, (int, float)) for x in c[:2]):
            return [(float(c[0]), float(c[1]))]
        return [p for item in c for p in walk(item)] if isinstance(c, list) else []
    return walk(geometry.get("coordinates"))


def _in_ring(point: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The outer rings of a Polygon or MultiPolygon."""
    coords = geometry.get("coordinates") or []
    polygons = [coords] if geometry.get("type") == "Polygon" else coords if geometry.get("type") == "MultiPolygon" else []
    return [[(float(p[0]), float(p[1])) for p in polygon[0]] for polygon in polygons if polygon]


def _inside(point: tuple[float, float], geometry: dict[str, Any]) -> bool:
    return any(_in_ring(point, ring) for ring in _rings(geometry))


def validate_geometry(geometry: Any) -> dict[str, Any]:
    kinds = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
    if not isinstance(geometry, dict) or geometry.get("type") not in kinds or not points(geometry):
        raise bad_data("a geometry must be GeoJSON (Point, LineString, Polygon, Multi…) with coordinates")
    if not all(math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
               for lon, lat in points(geometry)):
        raise bad_data("coordinates must be [longitude, latitude] within [-180, 180] and [-90, 90]")
    return geometry


Box = tuple[float, float, float, float]


def bbox(geometry: dict[str, Any]) -> Box:
    """(min lon, min lat, max lon, max lat) over a geometry's vertices."""
    lons, lats = zip(*points(geometry), strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def _circle_box(centre: tuple[float, float], metres: float) -> Box:
    """The box around every point within `metres` of `centre` (unbounded longitudes near a pole or
    across the antimeridian)."""
    lon, lat = centre
    angle = metres / EARTH_M
    dlat = math.degrees(angle) + _PAD
    low, high = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    spread = math.sin(angle) / math.cos(math.radians(lat)) if abs(lat) < 90 else math.inf
    if low <= -90 or high >= 90 or spread >= 1:
        return -math.inf, low, math.inf, high
    dlon = math.degrees(math.asin(spread)) + _PAD
    if lon - dlon < -180 or lon + dlon > 180:
        return -math.inf, low, math.inf, high
    return lon - dlon, low, lon + dlon, high


@dataclass(frozen=True)
class GeoFilter:
    """A geo-query: the exact test on an entity's geometry, and the bounding box that any matching
    geometry's box overlaps (lies within, for `within`) — a cheap prefilter on stored boxes."""

    test: Callable[[dict[str, Any]], bool]
    box: Box | None
    within: bool = False


def _query_geometry(geometry: str | None, coordinates: Any) -> dict[str, Any]:
    if not geometry or coordinates is None or coordinates == "":
        raise bad_data("a geo-query needs georel, geometry and coordinates")
    if isinstance(coordinates, str):
        try:
            coordinates = json.loads(coordinates)
        except ValueError as exc:
            raise bad_data("coordinates must be a JSON array") from exc
    return validate_geometry({"type": geometry, "coordinates": coordinates})


def _near(query: dict[str, Any], mods: list[str]) -> GeoFilter:
    """`near;maxDistance==N` or `near;minDistance==N` (one of them; a maxDistance above 0), measured
    from the reference geometry's nearest vertex."""
    limits: dict[str, float] = {}
    for mod in mods:
        name, _, value = mod.partition("==")
        if name not in ("maxDistance", "minDistance") or not re.fullmatch(r"\d+(\.\d+)?", value):
            raise bad_data(f"georel near takes maxDistance==N or minDistance==N, not {mod!r}")
        limits[name] = float(value)
    if len(limits) != 1 or len(mods) != 1:
        raise bad_data("georel near takes one distance: maxDistance==N or minDistance==N")
    if limits.get("maxDistance", 1.0) <= 0:
        raise bad_data("georel near's maxDistance must be above 0")
    centres = points(query)
    most, least = limits.get("maxDistance", math.inf), limits.get("minDistance", 0.0)

    def near(geo: dict[str, Any]) -> bool:
        d = min(distance_m(c, p) for c in centres for p in points(geo))
        return least <= d <= most

    if most == math.inf:
        return GeoFilter(near, None)
    boxes = [_circle_box(c, most) for c in centres]
    return GeoFilter(near, (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                            max(b[3] for b in boxes)))


def parse_geoquery(georel: str, geometry: str | None, coordinates: Any) -> GeoFilter:
    """The filter for `georel=near;maxDistance==N` (or minDistance), `within`, `intersects`,
    `disjoint`, `equals`, with `geometry` and `coordinates` (a JSON array, or its text)."""
    query = _query_geometry(geometry, coordinates)
    rel, *mods = georel.split(";")
    if rel == "near":
        return _near(query, mods)
    if mods:
        raise bad_data(f"georel {rel} takes no modifiers")
    box = bbox(query)
    if rel == "within":
        if not _rings(query):
            raise bad_data("georel within needs a Polygon")
        return GeoFilter(lambda geo: all(_inside(p, query) for p in points(geo)), box, within=True)
    def contains(geo: dict[str, Any], inner: dict[str, Any]) -> bool:  # every vertex of inner in geo
        if not _rings(geo):
            return set(points(inner)) <= set(points(geo))
        return all(_inside(p, geo) or p in set(points(geo)) for p in points(inner))

    if rel in ("intersects", "disjoint", "overlaps"):
        def intersects(geo: dict[str, Any]) -> bool:
            return (any(_inside(p, query) for p in points(geo)) or any(_inside(p, geo) for p in points(query))
                    or bool(set(points(geo)) & set(points(query))))
        if rel == "intersects":
            return GeoFilter(intersects, box)
        if rel == "overlaps":  # they share some of their area, neither holding the other
            return GeoFilter(lambda geo: intersects(geo) and not contains(geo, query) and not contains(query, geo),
                             box)
        return GeoFilter(lambda geo: not intersects(geo), None)
    if rel == "contains":
        return GeoFilter(lambda geo: contains(geo, query), box)
    if rel == "equals":
        return GeoFilter(lambda geo: points(geo) == points(query), box)
    raise bad_data(f"unknown georel {rel!r}")
