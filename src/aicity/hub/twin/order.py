"""Ordering of query results (`orderBy`, GS CIM 009 v1.9 clause 4.24): a comma-separated list of
`path[;asc|;desc]`, a path being `id`, `type`, `createdAt`, `modifiedAt`, an attribute (its value), a
sub-attribute or member (`name.observedAt`, `name.createdAt`), or a key inside a compound value
(`address[city]`); `geoproperty;dist-asc|dist-desc` orders by the distance from a point (`orderFrom`).
Numbers come before strings, and entities without the value come last whatever the direction.
`collation` (a BCP 47 tag) compares strings by their base letters first (accents and case only
break ties), the root collation's primary rule; no tailoring per language.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aicity.hub.twin.errors import bad_data
from aicity.hub.twin.query import attribute_value, distance_m, instances, points

Entity = dict[str, Any]
_ABSENT = object()
_TOP = ("id", "type", "createdAt", "modifiedAt")
_PATH = re.compile(r"^([A-Za-z_@][\w@:/#\-]*)((?:\.[A-Za-z_@][\w@:/#\-]*)?)((?:\[[^\]]+\])*)$")
#: BCP 47 language tags (RFC 5646, the common forms: language, script, region, variants, extensions)
_BCP47 = re.compile(r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8}|und|root)(?:-[A-Za-z]{4})?"
                    r"(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-(?:[A-Za-z\d]{5,8}|\d[A-Za-z\d]{3}))*"
                    r"(?:-[A-WY-Za-wy-z\d](?:-[A-Za-z\d]{2,8})+)*(?:-x(?:-[A-Za-z\d]{1,8})+)?$")


@dataclass(frozen=True)
class OrderKey:
    path: str
    descending: bool = False
    distance: bool = False


def parse_order(raw: str | list[str], compact: Callable[[str], str]) -> list[OrderKey]:
    """orderBy (a string or, in a Query body, an array of strings) → its keys; BadRequestData when malformed."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise bad_data("orderBy must name at least one member")
    keys = []
    for item in items:
        if not isinstance(item, str):
            raise bad_data("orderBy entries are strings")
        path, _, direction = item.strip().partition(";")
        found = _PATH.match(path)
        if found is None or direction not in ("", "asc", "desc", "dist-asc", "dist-desc"):
            raise bad_data(f"orderBy entry {item!r} is not path[;asc|desc|dist-asc|dist-desc]")
        name = found.group(1)
        stored = name if name in _TOP else compact(name)
        keys.append(OrderKey(stored + found.group(2) + found.group(3), direction.endswith("desc"),
                             direction.startswith("dist")))
    return keys


def check_collation(collation: Any) -> str | None:
    if collation is None:
        return None
    if not isinstance(collation, str) or not _BCP47.match(collation):
        raise bad_data(f"collation must be a BCP 47 language tag, got {collation!r}")
    return collation


def _value(entity: Entity, key: OrderKey, origin: list[tuple[float, float]] | None) -> Any:
    found = _PATH.match(key.path)
    if found is None:
        return _ABSENT
    name, member, subkeys = found.group(1), found.group(2)[1:], re.findall(r"\[([^\]]+)\]", found.group(3))
    if name in _TOP and not member:
        return entity.get(name, _ABSENT)
    chosen = instances(entity.get(name))
    default = [i for i in chosen if "datasetId" not in i] or chosen
    if not default:
        return _ABSENT
    attr: Any = default[0]
    if key.distance:
        if origin is None or not isinstance(attr.get("value"), dict):
            return _ABSENT
        return min(distance_m(o, p) for o in origin for p in points(attr["value"]))
    if member:
        attr = attr.get(member, _ABSENT)
        if attr is _ABSENT:
            return _ABSENT
    value = attribute_value(attr)
    for sub in subkeys:
        value = value.get(sub, _ABSENT) if isinstance(value, dict) else _ABSENT
    return _ABSENT if value is None else value


def _rank(value: Any) -> int:
    if isinstance(value, bool):
        return 2
    if isinstance(value, int | float):
        return 0
    return 1 if isinstance(value, str) else 3


def _collated(text: str) -> tuple[str, str]:
    base = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return base.casefold(), text


def sort_entities(entities: list[Entity], keys: list[OrderKey], origin: dict[str, Any] | None = None,
                  collation: str | None = None) -> list[Entity]:
    """The entities in the order `keys` give (a stable sort: ties keep the given order)."""
    if any(k.distance for k in keys) and origin is None:
        raise bad_data("ordering by distance (dist-asc, dist-desc) needs the point to measure from (orderFrom)")
    centres = points(origin) if origin is not None else None

    def compare(a: Entity, b: Entity) -> int:
        for key in keys:
            va, vb = _value(a, key, centres), _value(b, key, centres)
            if va is _ABSENT or vb is _ABSENT:
                if va is vb:
                    continue
                return 1 if va is _ABSENT else -1
            ra, rb = _rank(va), _rank(vb)
            if ra != rb:
                return -1 if ra < rb else 1
            if collation is not None and isinstance(va, str) and isinstance(vb, str):
                va, vb = _collated(va), _collated(vb)
            try:
                result = (va > vb) - (va < vb)
            except TypeError:
                result = (str(va) > str(vb)) - (str(va) < str(vb))
            if result:
                return -result if key.descending else result
        return 0

    return sorted(entities, key=functools.cmp_to_key(compare))
