"""Linked entities (GS CIM 009 clause 4.5.23) and projections (clause 4.21): `join=inline` puts the
entity a Relationship points at inside the Relationship (`entity`, or in place of the object in the
simplified format), `join=flat` answers it beside the entity; `joinLevel` says how many hops are
followed. `pick`/`omit` name entity members, and a member may carry a projection of the entity it links
to: `id,locatedAt{id,name,isInCountry{description}}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aicity.hub.twin.errors import bad_data
from aicity.hub.twin.query import instances

Entity = dict[str, Any]
#: member → the projection of the entity it links to (None: no nested projection)
Projection = dict[str, "Projection | None"]
_NAME = re.compile(r"[A-Za-z_@][A-Za-z0-9_:/#.\-]*")
CORE_MEMBERS = ("id", "type", "scope")


def parse_projection(raw: str, what: str, compact: Callable[[str], str]) -> Projection:
    """`a,b{c,d{e}}` (`|` also separates) → {"a": None, "b": {"c": None, "d": {"e": None}}}; names are
    expanded with `compact` (id, type and scope stay as they are)."""
    found, end = _members(raw, 0, what, compact)
    if end != len(raw):
        raise bad_data(f"{what} is not a list of members (with {{…}} for linked entities): {raw!r}")
    return found


def _members(raw: str, at: int, what: str, compact: Callable[[str], str]) -> tuple[Projection, int]:
    out: Projection = {}
    while True:
        name = _NAME.match(raw, at)
        if name is None:
            raise bad_data(f"{what} is not a list of members (with {{…}} for linked entities): {raw!r}")
        member = name.group()
        member = member if member in CORE_MEMBERS else compact(member)
        at = name.end()
        nested = None
        if raw.startswith("{", at):
            nested, at = _members(raw, at + 1, what, compact)
            if not raw.startswith("}", at):
                raise bad_data(f"{what} has an unclosed {{ in {raw!r}")
            at += 1
        out[member] = nested
        if at < len(raw) and raw[at] in ",|":
            at += 1
            continue
        return out, at


def nested(projection: Projection | None) -> bool:
    return projection is not None and any(v is not None for v in projection.values())


def depth(projection: Projection | None) -> int:
    """How many levels of linked entities a projection reaches (0: the entity's own members only)."""
    if not projection:
        return 0
    return max((1 + depth(v) for v in projection.values() if v is not None), default=0)


@dataclass(frozen=True)
class Join:
    """How linked entities are answered: `inline` or `flat`, to `level` hops."""

    mode: str
    level: int = 1


def parse_join(join: str | None, level: str | None) -> Join | None:
    if join is None:
        if level is not None:
            raise bad_data("joinLevel needs join (flat or inline)")
        return None
    if join not in ("flat", "inline", "@none"):
        raise bad_data("join must be flat, inline or @none")
    if level is not None and (not level.isdigit() or int(level) < 1):
        raise bad_data("joinLevel must be a positive integer")
    return None if join == "@none" else Join(join, int(level) if level else 1)


def project(shaped: Entity, pick: Projection | None, omit: Projection | None) -> Entity:
    """One level of pick/omit: a member omitted with a nested projection stays (its linked entity is
    projected instead)."""
    if pick is not None:
        shaped = {k: v for k, v in shaped.items() if k in pick or k in ("createdAt", "modifiedAt")}
    if omit is not None:
        shaped = {k: v for k, v in shaped.items() if k not in omit or omit[k] is not None}
    return shaped


def _relationships(entity: Entity, names: set[str]) -> list[tuple[str, str]]:
    """(attribute, target id) of each single-object Relationship instance among `names`."""
    out = []
    for name in names:
        for inst in instances(entity.get(name)):
            if inst.get("type") == "Relationship" and isinstance(inst.get("object"), str):
                out.append((name, inst["object"]))
    return out


def link(entity: Entity, shaped: Entity, join: Join, level: int, pick: Projection | None, omit: Projection | None,
         fetch: Callable[[str], Entity | None], shape: Callable[[Entity, Projection | None, Projection | None], Entity],
         key_values: bool, flat: list[Entity], seen: set[str]) -> Entity:
    """Follow the Relationships still in `shaped` (an answered entity) one hop (and on, to the join
    level): inline into `shaped`, or flat into `flat` (each linked entity once)."""
    if level > join.level:
        return shaped
    for name, target_id in _relationships(entity, {k for k in shaped if k in entity}):
        target = fetch(target_id)
        if target is None:
            continue
        sub_pick = pick.get(name) if pick else None
        sub_omit = omit.get(name) if omit else None
        linked = shape(target, sub_pick, sub_omit)
        if join.mode == "flat":  # each linked entity once, nearer ones first
            if target_id not in seen:
                seen.add(target_id)
                flat.append(linked)
                link(target, linked, join, level + 1, sub_pick, sub_omit, fetch, shape, key_values, flat, seen)
            continue
        linked = link(target, linked, join, level + 1, sub_pick, sub_omit, fetch, shape, key_values, flat, seen)
        value = shaped[name]
        if key_values and not isinstance(value, dict):  # marked for compact_tree, which drops the mark
            shaped[name] = {**linked, "_linked": True}
        elif isinstance(value, dict) and value.get("object") == target_id:
            shaped[name] = {**value, "entity": linked}
        elif isinstance(value, list):
            shaped[name] = [{**i, "entity": linked} if isinstance(i, dict) and i.get("object") == target_id else i
                            for i in value]
    return shaped


def compact_tree(shaped: Entity, compact: Callable[[Entity], Entity]) -> Entity:
    """Compact an answered entity and every entity linked inside it (`entity` members, or in the
    simplified format the linked entity in place of the object)."""
    inner: dict[str, Any] = {}
    bare: Entity = {}
    for name, value in shaped.items():
        if isinstance(value, dict) and isinstance(value.get("entity"), dict):
            inner[name] = value["entity"]
            value = {k: v for k, v in value.items() if k != "entity"}
        elif isinstance(value, dict) and "id" in value and value.get("_linked"):
            inner[name] = value
        bare[name] = value
    out = compact(bare)
    # the compacted names keep the order of `bare`
    for (name, linked_entity), term in zip(
            ((n, inner.get(n)) for n in bare), list(out), strict=False):
        if linked_entity is None:
            continue
        if "_linked" in linked_entity:
            out[term] = compact_tree({k: v for k, v in linked_entity.items() if k != "_linked"}, compact)
        else:
            out[term] = {**out[term], "entity": compact_tree(linked_entity, compact)}
    return out
