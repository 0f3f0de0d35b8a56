"""The twin's service functions: NGSI-LD entities, attributes, history, types; the API and other
slices (hub/iot) call these. Every change publishes `twin.entity.changed` on the bus and is
matched against subscriptions.

For other slices:
- `upsert_entity(entity)` creates an entity or merges its attributes into the stored one → True if created
- `update_attrs(id, attrs, observed_at=None, create_missing=False)` writes attribute values (concise
  values such as `{"waterLevel": 1.2}` are fine) → names updated; raises ResourceNotFound
- `get_entity(id)` → the normalized entity dict, or None
- `query(type=…, q=…, georel=…, …)` → (entities, total count)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aicity.core.bus import bus
from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.twin import notify
from aicity.hub.twin.attrs import (
    NULL,
    check_name,
    normalize_attrs,
    normalize_entity,
    render,
)
from aicity.hub.twin.context import Context
from aicity.hub.twin.errors import NgsiError, bad_data, not_found
from aicity.hub.twin.models import TwinAttributeInstance, TwinEntity
from aicity.hub.twin.query import parse_geoquery, parse_q, points

Entity = dict[str, Any]
Mode = Literal["update", "append", "append-keep", "merge", "replace"]
TOPIC = "twin.entity.changed"
MAX_LIMIT = 1000


def _iso(at: datetime) -> str:
    """ISO 8601 in UTC with Z (SQLite gives naive datetimes back: they are UTC)."""
    return _utc(at).isoformat().replace("+00:00", "Z")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _as_entity(row: TwinEntity) -> Entity:
    return {"id": row.id, "type": row.type, **row.attrs, "createdAt": _iso(row.created_at),
            "modifiedAt": _iso(row.modified_at)}


def _locate(row: TwinEntity) -> None:
    geo = row.attrs.get("location")
    row.geometry = geo["value"] if isinstance(geo, dict) and geo.get("type") == "GeoProperty" else None
    first = points(row.geometry)[0] if row.geometry else None
    row.lon, row.lat = first if first else (None, None)


def _observed(attr: dict[str, Any], fallback: datetime) -> datetime:
    if "observedAt" in attr:
        return _utc(datetime.fromisoformat(str(attr["observedAt"])))
    return fallback


def _stamp(new: dict[str, Any], old: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    stamped = {**new, "modifiedAt": _iso(now)}
    stamped["createdAt"] = old.get("createdAt", _iso(now)) if old else _iso(now)
    return stamped


def _write(s: Session, row: TwinEntity, attrs: dict[str, Any], mode: Mode, now: datetime) -> tuple[list[str], list[dict[str, str]]]:
    """Apply attributes to a row; returns (names written or deleted, not updated with reasons)."""
    current = dict(row.attrs) if mode != "replace" else {}
    written: list[str] = []
    skipped: list[dict[str, str]] = []
    for name, attr in attrs.items():
        old = row.attrs.get(name)
        if attr == NULL or (isinstance(attr, dict) and attr.get("value") == NULL):
            if current.pop(name, None) is not None:
                written.append(name)
            continue
        if mode == "update" and old is None:
            skipped.append({"attributeName": name, "reason": "attribute does not exist"})
            continue
        if mode == "append-keep" and old is not None:
            skipped.append({"attributeName": name, "reason": "attribute exists and noOverwrite was asked"})
            continue
        if mode == "merge" and old is not None:
            attr = {**{k: v for k, v in old.items() if k not in ("observedAt",) or "observedAt" not in attr}, **attr}
            attr = {k: v for k, v in attr.items() if not (isinstance(v, dict) and v.get("value") == NULL)}
        current[name] = _stamp(attr, old, now)
        written.append(name)
        s.add(TwinAttributeInstance(entity_id=row.id, attr=name, body=attr, observed_at=_observed(attr, now),
                                    recorded_at=now))
    row.attrs = current
    if written or mode == "replace":
        row.modified_at = now
        _locate(row)
    return written, skipped


def _changed(row: TwinEntity, names: list[str], action: str) -> None:
    entity = _as_entity(row)
    bus.publish(TOPIC, {"id": row.id, "type": row.type, "action": action, "attrs": names, "entity": entity})
    notify.entity_changed(entity, names)


def create_entity(body: Any, ctx: Context | None = None) -> str:
    """Create an entity (AlreadyExists if its id is taken); returns the id."""
    entity_id, kind, attrs = normalize_entity(body, ctx or Context())
    now = utcnow()
    with database().session() as s:
        if s.get(TwinEntity, entity_id) is not None:
            raise NgsiError("AlreadyExists", f"entity {entity_id} already exists")
        row = TwinEntity(id=entity_id, type=kind, attrs={}, created_at=now, modified_at=now)
        s.add(row)
        names, _ = _write(s, row, attrs, "append", now)
    _changed(row, names, "created")
    return entity_id


def upsert_entity(entity: dict[str, Any], replace: bool = False, ctx: Context | None = None) -> bool:
    """Create the entity, or merge its attributes into the stored one (`replace`: drop the others).
    Returns True when it was created."""
    entity_id, kind, attrs = normalize_entity(entity, ctx or Context())
    now = utcnow()
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        created = row is None
        if row is None:
            row = TwinEntity(id=entity_id, type=kind, attrs={}, created_at=now, modified_at=now)
            s.add(row)
        elif row.type != kind:
            raise bad_data(f"entity {entity_id} is a {row.type}, not a {kind}")
        names, _ = _write(s, row, attrs, "replace" if replace and not created else "append", now)
    _changed(row, names, "created" if created else "updated")
    return created


def write_attrs(entity_id: str, fragment: dict[str, Any], mode: Mode, ctx: Context | None = None,
                observed_at: datetime | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """Update (existing only), append (add or replace), append-keep (noOverwrite) or merge attributes.
    Returns (names written, not updated with reasons); ResourceNotFound for an unknown entity."""
    if not isinstance(fragment, dict):
        raise bad_data("the attributes must be a JSON object")
    ctx = ctx or Context()
    if "id" in fragment and fragment["id"] != entity_id:
        raise bad_data("the body's id differs from the entity's id")
    attrs = normalize_attrs(fragment, ctx)
    if observed_at is not None:
        for attr in attrs.values():
            if isinstance(attr, dict):
                attr.setdefault("observedAt", _iso(observed_at))
    now = utcnow()
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        if row is None:
            raise not_found(f"entity {entity_id} not found")
        names, skipped = _write(s, row, attrs, mode, now)
    if names:
        _changed(row, names, "updated")
    return names, skipped


def update_attrs(entity_id: str, attrs: dict[str, Any], observed_at: datetime | None = None,
                 create_missing: bool = False) -> list[str]:
    """Write attribute values of an entity (for readings); unknown attributes are skipped unless
    `create_missing`. Returns the names written."""
    return write_attrs(entity_id, attrs, "append" if create_missing else "update", observed_at=observed_at)[0]


def get_entity(entity_id: str) -> Entity | None:
    """The entity in normalized form (with createdAt/modifiedAt), or None."""
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        return _as_entity(row) if row else None


def delete_entity(entity_id: str) -> None:
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        if row is None:
            raise not_found(f"entity {entity_id} not found")
        s.delete(row)
        s.execute(delete(TwinAttributeInstance).where(TwinAttributeInstance.entity_id == entity_id))
    bus.publish(TOPIC, {"id": entity_id, "type": row.type, "action": "deleted", "attrs": [], "entity": None})


def delete_attr(entity_id: str, name: str, ctx: Context | None = None) -> None:
    name = (ctx or Context()).compact(name)
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        if row is None:
            raise not_found(f"entity {entity_id} not found")
        if name not in row.attrs:
            raise not_found(f"entity {entity_id} has no attribute {name}")
        _write(s, row, {name: NULL}, "update", utcnow())
    _changed(row, [name], "updated")


def _id_pattern(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise bad_data(f"idPattern is not a regular expression: {exc}") from exc


def query(type: str | list[str] | None = None, ids: list[str] | None = None, id_pattern: str | None = None,
          attrs: list[str] | None = None, q: str | None = None, georel: str | None = None,
          geometry: str | None = None, coordinates: str | None = None, limit: int = 20,
          offset: int = 0) -> tuple[list[Entity], int]:
    """Entities matching every filter given, oldest first, and how many match in all.
    Entities are returned normalized and unprojected; `attrs` keeps those that have one of them."""
    if limit < 0 or offset < 0 or limit > MAX_LIMIT:
        raise bad_data(f"limit must be 0..{MAX_LIMIT} and offset ≥ 0")
    types = [type] if isinstance(type, str) else type
    pattern = _id_pattern(id_pattern)
    predicate = parse_q(q) if q is not None else None
    geo = parse_geoquery(georel, geometry, coordinates) if georel else None
    if (geometry or coordinates) and not georel:
        raise bad_data("geometry and coordinates need georel")
    stmt = select(TwinEntity).order_by(TwinEntity.created_at, TwinEntity.id)
    if types:
        stmt = stmt.where(TwinEntity.type.in_(types))
    if ids:
        stmt = stmt.where(TwinEntity.id.in_(ids))
    if geo is not None:
        stmt = stmt.where(TwinEntity.geometry.is_not(None))
    matched: list[Entity] = []
    with database().session() as s:
        for row in s.scalars(stmt):
            if pattern and not pattern.fullmatch(row.id):
                continue
            if geo is not None and not geo(row.geometry or {}):
                continue
            entity = _as_entity(row)
            if predicate is not None and not predicate(entity):
                continue
            if attrs is not None and not any(a in entity for a in attrs):
                continue
            matched.append(entity)
    return matched[offset:offset + limit], len(matched)


def entity_types() -> dict[str, list[str]]:
    """Entity type → its attribute names (over all entities of the type)."""
    found: dict[str, set[str]] = {}
    with database().session() as s:
        for kind, attrs in s.execute(select(TwinEntity.type, TwinEntity.attrs)):
            found.setdefault(kind, set()).update(attrs)
    return {kind: sorted(names) for kind, names in sorted(found.items())}


def attribute_names() -> dict[str, dict[str, Any]]:
    """Attribute name → {types it occurs in, attribute types, count of entities}."""
    found: dict[str, dict[str, Any]] = {}
    with database().session() as s:
        for kind, attrs in s.execute(select(TwinEntity.type, TwinEntity.attrs)):
            for name, attr in attrs.items():
                info = found.setdefault(name, {"typeNames": set(), "attributeTypes": set(), "attributeCount": 0})
                info["typeNames"].add(kind)
                info["attributeTypes"].add(attr.get("type", "Property"))
                info["attributeCount"] += 1
    return {name: {k: sorted(v) if isinstance(v, set) else v for k, v in info.items()}
            for name, info in sorted(found.items())}


def entity_count() -> int:
    with database().session() as s:
        return s.scalar(select(func.count()).select_from(TwinEntity)) or 0


def history(entity_id: str, attrs: list[str] | None = None, timerel: str | None = None,
            time_at: datetime | None = None, end_time_at: datetime | None = None,
            last_n: int | None = None) -> Entity:
    """The entity's attribute instances over time: {id, type, attr: [instance, …]} (oldest first)."""
    if timerel is not None:
        if timerel not in ("before", "after", "between") or time_at is None:
            raise bad_data("timerel must be before, after or between, with timeAt")
        if timerel == "between" and end_time_at is None:
            raise bad_data("timerel=between needs endTimeAt")
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        if row is None:
            raise not_found(f"entity {entity_id} not found")
        stmt = select(TwinAttributeInstance).where(TwinAttributeInstance.entity_id == entity_id)
        if attrs:
            stmt = stmt.where(TwinAttributeInstance.attr.in_(attrs))
        column = TwinAttributeInstance.observed_at
        if timerel == "before":
            stmt = stmt.where(column < time_at)
        elif timerel == "after":
            stmt = stmt.where(column >= time_at)
        elif timerel == "between":
            stmt = stmt.where(column >= time_at, column < end_time_at)
        out: Entity = {"id": row.id, "type": row.type}
        for inst in s.scalars(stmt.order_by(column, TwinAttributeInstance.id)):
            body = {**inst.body, "instanceId": f"urn:ngsi-ld:attribute:instance:{inst.id}"}
            body.setdefault("observedAt", _iso(inst.observed_at))
            out.setdefault(inst.attr, []).append(body)
    if last_n is not None:
        for name in [k for k in out if k not in ("id", "type")]:
            out[name] = out[name][-last_n:]
    return out


def parse_time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise bad_data(f"{what} must be an ISO 8601 date-time") from exc
    if at.tzinfo is None:
        raise bad_data(f"{what} needs a time zone (e.g. Z)")
    return _utc(at)


__all__ = ["check_name", "create_entity", "delete_attr", "delete_entity", "get_entity", "history", "query",
           "render", "update_attrs", "upsert_entity", "write_attrs"]
