"""The twin's service functions: NGSI-LD entities, attributes, scopes, types; the API and other
slices (hub/iot) call these. Every change publishes `twin.entity.changed` on the bus and is
matched against subscriptions.

For other slices:
- `upsert_entity(entity)` creates an entity or merges its attributes into the stored one → True if created
- `update_attrs(id, attrs, observed_at=None, create_missing=False)` writes attribute values (concise
  values such as `{"waterLevel": 1.2}` are fine) → names updated; raises ResourceNotFound
- `get_entity(id)` → the normalized entity dict, or None
- `query(type=…, q=…, georel=…, scope_q=…, …)` → (entities, total count)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from aicity.core import handled
from aicity.core.bus import DeliveryKey, bus
from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.twin import notify
from aicity.hub.twin.attrs import (
    NULL,
    RESERVED,
    aliased,
    check_name,
    check_uri,
    dataset_id,
    entity_type,
    expiry,
    geometry_of,
    holds_null,
    is_null,
    live,
    normalize_attr,
    normalize_attrs,
    normalize_entity,
    normalize_instances,
    packed,
    render,
)
from aicity.hub.twin.context import Context
from aicity.hub.twin.errors import NgsiError, bad_data, not_found
from aicity.hub.twin.filters import (
    EntityQuery,
    Plan,
    Selector,
    compile_query,
    geo_query,
)
from aicity.hub.twin.models import TwinAttributeInstance, TwinEntity, TwinEntityScope
from aicity.hub.twin.query import bbox, instances
from aicity.hub.twin.scope import parse_scope

Entity = dict[str, Any]
Mode = Literal["update", "append", "append-keep", "merge", "replace"]
TOPIC = "twin.entity.changed"
MAX_LIMIT = 1000
#: rows fetched at a time while Python filters a query's candidates
SCAN_BATCH = 500
_SYSTEM = ("createdAt", "modifiedAt")


def iso(at: datetime) -> str:
    """ISO 8601 in UTC with Z (SQLite gives naive datetimes back: they are UTC)."""
    return utc(at).isoformat().replace("+00:00", "Z")


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _as_entity(row: TwinEntity) -> Entity:
    entity: Entity = {"id": row.id, "type": row.type}
    if row.scope:
        entity["scope"] = list(row.scope)
    return {**entity, **row.attrs, "createdAt": iso(row.created_at), "modifiedAt": iso(row.modified_at)}


def _locate(row: TwinEntity) -> None:
    row.geometry = geometry_of(row.attrs.get("location"))
    box = bbox(row.geometry) if row.geometry else (None, None, None, None)
    row.min_lon, row.min_lat, row.max_lon, row.max_lat = box


def _observed(attr: dict[str, Any], fallback: datetime) -> datetime:
    if "observedAt" in attr:
        return utc(datetime.fromisoformat(str(attr["observedAt"])))
    return fallback


def _stamp(new: dict[str, Any], old: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    stamped = {**new, "modifiedAt": iso(now)}
    stamped["createdAt"] = old.get("createdAt", iso(now)) if old else iso(now)
    return stamped


def _refusal(mode: Mode, old: dict[str, Any] | None, key: str | None) -> str | None:
    """Why this mode leaves an instance alone (None: it writes it)."""
    if mode == "update" and old is None:
        return "attribute does not exist" if key is None else f"attribute has no instance with datasetId {key}"
    if mode == "append-keep" and old is not None:
        return "attribute exists and noOverwrite was asked"
    return None


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A merge-patch of one instance: members given replace the old ones; null sub-attributes go."""
    merged = {k: v for k, v in {**old, **new}.items() if k not in _SYSTEM}
    return {k: v for k, v in merged.items() if not (isinstance(v, dict) and is_null(v))}


def _write_attr(s: Session, row: TwinEntity, name: str, given: list[dict[str, Any]], mode: Mode,
                now: datetime) -> tuple[list[dict[str, Any]], bool, list[dict[str, str]]]:
    """Apply one attribute's instances; returns (its instances now, whether any changed, refusals)."""
    before = {dataset_id(i): i for i in instances(row.attrs.get(name))}
    kept = {} if mode == "replace" else dict(before)
    changed, skipped = False, []
    for inst in given:
        key = dataset_id(inst)
        if is_null(inst):
            changed = kept.pop(key, None) is not None or changed
            continue
        reason = _refusal(mode, kept.get(key), key)
        if reason:
            skipped.append({"attributeName": name, "reason": reason})
            continue
        body = _merged(kept[key], inst) if mode == "merge" and key in kept else {
            k: v for k, v in inst.items() if k not in _SYSTEM}
        kept[key] = _stamp(body, before.get(key), now)
        s.add(TwinAttributeInstance(entity_id=row.id, attr=name, dataset_id=key, body=body,
                                    observed_at=_observed(body, now), recorded_at=now))
        changed = True
    return list(kept.values()), changed, skipped


def _write(s: Session, row: TwinEntity, attrs: dict[str, Any], mode: Mode,
           now: datetime) -> tuple[list[str], list[dict[str, str]]]:
    """Apply attributes to a row; returns (names written or deleted, not updated with reasons)."""
    current = {} if mode == "replace" else dict(row.attrs)
    written: list[str] = []
    skipped: list[dict[str, str]] = []
    for name, given in attrs.items():
        if given == NULL:
            if current.pop(name, None) is not None:
                written.append(name)
            continue
        found, changed, refused = _write_attr(s, row, name, given, mode, now)
        skipped += refused
        stored = packed(found)
        if stored is None:
            current.pop(name, None)
        else:
            current[name] = stored
        if changed:
            written.append(name)
    if mode == "replace":  # what the replacement dropped changed too
        written += [name for name in row.attrs if name not in current and name not in written and name not in RESERVED]
    row.attrs = current
    if written or mode == "replace":
        row.modified_at = now
        _locate(row)
    return written, skipped


def _set_expiry(row: TwinEntity, given: str | None) -> None:
    """A transient entity's expiresAt, kept with its attributes (`urn:ngsi-ld:null`: it no longer expires)."""
    if given is None:
        return
    kept = {k: v for k, v in row.attrs.items() if k != "expiresAt"}
    row.attrs = kept if given == NULL else {**kept, "expiresAt": given}


def _given_scope(fragment: dict[str, Any]) -> list[str] | None:
    """The scopes a fragment gives (None: it says nothing about scope; []: it removes them)."""
    return parse_scope(fragment["scope"]) if "scope" in fragment else None


def _new_scope(mode: Mode, stored: list[str] | None, given: list[str] | None) -> list[str] | None:
    """An entity's scopes after a write: replaced, added to (append), or kept."""
    if given is None:
        return None if mode == "replace" else stored
    if mode in ("append", "append-keep") and given:
        return list(dict.fromkeys([*(stored or []), *given]))
    return given or None


def _set_scope(s: Session, row: TwinEntity, scopes: list[str] | None, now: datetime) -> None:
    if (scopes or None) == (row.scope or None):
        return
    row.scope = scopes or None
    row.modified_at = now
    s.execute(delete(TwinEntityScope).where(TwinEntityScope.entity_id == row.id))
    s.add_all([TwinEntityScope(entity_id=row.id, scope=scope) for scope in scopes or []])


def _changed(row: TwinEntity, names: list[str], action: str, before: Entity | None) -> None:
    """Publish a write and notify the subscriptions it triggers (`before`: the entity before it)."""
    entity = _as_entity(row)
    bus.publish(TOPIC, {"id": row.id, "type": row.type, "action": action, "attrs": names, "entity": entity})
    notify.entity_changed(entity, names, before or {}, created=action == "created")


def _existing(s: Session, entity_id: str) -> TwinEntity:
    row = s.get(TwinEntity, entity_id)
    if row is None:
        raise not_found(f"entity {entity_id} not found")
    return row


def create_entity(body: Any, ctx: Context | None = None) -> str:
    """Create an entity (AlreadyExists if its id is taken); returns the id."""
    entity_id, kind, attrs = normalize_entity(body, ctx or Context())
    if body.get("scope") == NULL:
        raise bad_data("a new entity cannot have the null scope")
    _refuse_null(attrs)
    scopes = _given_scope(body)
    now = utcnow()
    with database().session() as s:
        if s.get(TwinEntity, entity_id) is not None:
            raise NgsiError("AlreadyExists", f"entity {entity_id} already exists")
        row = TwinEntity(id=entity_id, type=kind, attrs={}, created_at=now, modified_at=now)
        s.add(row)
        names, _ = _write(s, row, attrs, "append", now)
        _set_scope(s, row, scopes, now)
        _set_expiry(row, expiry(body))
    _changed(row, names, "created", None)
    return entity_id


def _refuse_null(attrs: dict[str, Any]) -> None:
    """An entity is not created (or replaced) with the NGSI-LD null anywhere in it: that deletes."""
    for name, found in attrs.items():
        if holds_null(found):
            raise bad_data(f"attribute {name!r} holds urn:ngsi-ld:null, which only deletes (merge, update)")


def upsert_entity(entity: dict[str, Any], replace: bool = False, ctx: Context | None = None) -> bool:
    """Create the entity, or merge its attributes into the stored one (`replace`: drop the others).
    Returns True when it was created."""
    entity_id, kind, attrs = normalize_entity(entity, ctx or Context())
    _refuse_null(attrs)
    given = _given_scope(entity)
    now = utcnow()
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        created = row is None
        before = None if row is None else _as_entity(row)
        if row is None:
            row = TwinEntity(id=entity_id, type=kind, attrs={}, created_at=now, modified_at=now)
            s.add(row)
        elif row.type != kind:
            raise bad_data(f"entity {entity_id} is a {row.type}, not a {kind}")
        mode: Mode = "replace" if replace and not created else "append"
        names, _ = _write(s, row, attrs, mode, now)
        _set_scope(s, row, _new_scope(mode, row.scope, given), now)
        _set_expiry(row, expiry(entity))
    _changed(row, names, "created" if created else "updated", before)
    return created


def _temporal_instances(body: dict[str, Any], ctx: Context) -> dict[str, list[dict[str, Any]]]:
    """A temporal entity's attributes: name → every instance given (several may share a datasetId:
    they are the attribute's values over time)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, raw in body.items():
        if name in RESERVED:
            continue
        short = check_name(ctx.compact(name))
        items = raw if isinstance(raw, list) and raw and all(isinstance(i, dict) for i in raw) else [raw]
        out[short] = [normalize_attr(short, item, ctx) for item in items]
    return out


def _add_history(s: Session, row: TwinEntity, given: dict[str, list[dict[str, Any]]], now: datetime) -> None:
    """Every instance given goes into the history; the entity's current state takes, per attribute and
    datasetId, the latest instance observed."""
    current = dict(row.attrs)
    for name, found in given.items():
        latest = {dataset_id(i): i for i in instances(current.get(name))}
        for inst in sorted(found, key=lambda i: _observed(i, now)):
            key = dataset_id(inst)
            s.add(TwinAttributeInstance(entity_id=row.id, attr=name, dataset_id=key, body=inst,
                                        observed_at=_observed(inst, now), recorded_at=now))
            old = latest.get(key)
            if old is None or _observed(inst, now) >= _observed(old, now):
                latest[key] = _stamp({k: v for k, v in inst.items() if k not in _SYSTEM}, old, now)
        current[name] = packed(list(latest.values()))
    row.attrs = current
    row.modified_at = now
    _locate(row)


def _latest_scope(raw: Any) -> Any:
    """A temporal entity's scope: given plainly, or as Property instances over time (`{"value": "/A/B",
    "observedAt": …}`), of which the latest observed is the entity's scope (its past is not kept)."""
    found = raw if isinstance(raw, list) else [raw]
    timed = [i for i in found if isinstance(i, dict)]
    if not timed:
        return raw
    if len(timed) != len(found) or any("value" not in i for i in timed):
        raise bad_data("a temporal scope is a scope, or an array of Property instances with a value")
    latest = max(timed, key=lambda i: str(i.get("observedAt", "")))
    return latest["value"]


def create_temporal(body: Any, ctx: Context | None = None) -> bool:
    """Create or add to an entity's temporal representation: every instance goes into the history;
    the entity's current state takes, per attribute and datasetId, the latest instance observed.
    Returns True when the entity was created."""
    ctx = ctx or Context()
    entity_id, kind, _ = normalize_entity({k: v for k, v in body.items() if k in RESERVED}
                                          if isinstance(body, dict) else body, ctx)
    if any(v == NULL for v in body.values()):  # instances may record a deletion; a member may not be null
        raise bad_data("a temporal entity's members cannot be urn:ngsi-ld:null")
    body = {**body, "scope": _latest_scope(body["scope"])} if "scope" in body else body
    given = _temporal_instances(aliased(body), ctx)
    now = utcnow()
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        created = row is None
        before = None if row is None else _as_entity(row)
        if row is None:
            row = TwinEntity(id=entity_id, type=kind, attrs={}, created_at=now, modified_at=now)
            s.add(row)
        elif row.type != kind:
            raise bad_data(f"entity {entity_id} is a {row.type}, not a {kind}")
        _add_history(s, row, given, now)
        _set_scope(s, row, _given_scope(body) or row.scope, now)
    _changed(row, list(given), "created" if created else "updated", before)
    return created


def delete_temporal(entity_id: str) -> None:
    """Delete an entity's temporal representation (and the entity); ResourceNotFound when neither exists."""
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        history = s.execute(delete(TwinAttributeInstance).where(TwinAttributeInstance.entity_id == entity_id))
        if row is None and not history.rowcount:
            raise not_found(f"entity {entity_id} has no temporal representation")
    if row is not None:
        delete_entity(entity_id)


INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"


def instance_id(row_id: int) -> str:
    """The instanceId of a history row."""
    return f"{INSTANCE_PREFIX}{row_id}"


def append_temporal(entity_id: str, fragment: Any, ctx: Context | None = None) -> None:
    """Add attribute instances to an entity's temporal representation (POST …/temporal/entities/{id}/attrs)."""
    ctx = ctx or Context()
    if not isinstance(fragment, dict) or not {k for k in fragment if k not in RESERVED}:
        raise bad_data("the attributes must be a non-empty JSON object")
    if fragment.get("id", entity_id) != entity_id:
        raise bad_data("the body's id differs from the entity's id")
    given = _temporal_instances(aliased(fragment), ctx)
    now = utcnow()
    with database().session() as s:
        row = _existing(s, entity_id)
        before = _as_entity(row)
        _add_history(s, row, given, now)
    _changed(row, list(given), "updated", before)


def _history_row(s: Session, entity_id: str, name: str, instance: str) -> TwinAttributeInstance:
    check_uri(instance, "instanceId")
    number = instance[len(INSTANCE_PREFIX):] if instance.startswith(INSTANCE_PREFIX) else ""
    found = s.get(TwinAttributeInstance, int(number)) if number.isascii() and number.isdigit() and len(number) <= 18 else None
    if found is None or found.entity_id != entity_id or found.attr != name:
        raise not_found(f"attribute {name} of {entity_id} has no instance {instance}")
    return found


def delete_temporal_attr(entity_id: str, name: str, ctx: Context | None = None, dataset: str | None = None,
                         delete_all: bool = False) -> None:
    """Delete an attribute's history (its default instance's, the `dataset` instance's, or with
    `delete_all` every instance's) and those instances from the entity's current state."""
    name = check_name((ctx or Context()).compact(name))
    history = TwinAttributeInstance
    where = [history.entity_id == entity_id, history.attr == name]
    if not delete_all:
        where.append(history.dataset_id == dataset if dataset else history.dataset_id.is_(None))
    with database().session() as s:
        row = _existing(s, entity_id)
        gone = s.execute(delete(history).where(*where)).rowcount
        current = instances(row.attrs.get(name))
        if not gone and not current:
            raise not_found(f"entity {entity_id} has no attribute {name}")
    if any(delete_all or dataset_id(i) == dataset for i in current):
        delete_attr(entity_id, name, dataset=dataset, delete_all=delete_all)


def update_instance(entity_id: str, name: str, instance: str, fragment: Any, ctx: Context | None = None) -> None:
    """Modify one attribute instance of the history in place (its instanceId is kept)."""
    ctx = ctx or Context()
    name = check_name(ctx.compact(name))
    if not isinstance(fragment, dict) or not fragment:
        raise bad_data("an attribute instance must be a non-empty JSON object")
    with database().session() as s:
        _existing(s, entity_id)
        found = _history_row(s, entity_id, name, instance)
        body = {**found.body, **normalize_attr(name, {**found.body, **fragment}, ctx)}
        if dataset_id(body) != found.dataset_id:
            raise bad_data("an instance's datasetId cannot be changed")
        found.body = body
        found.observed_at = _observed(body, found.observed_at)


def delete_instance(entity_id: str, name: str, instance: str, ctx: Context | None = None) -> None:
    """Delete one attribute instance from the history."""
    name = check_name((ctx or Context()).compact(name))
    with database().session() as s:
        _existing(s, entity_id)
        s.delete(_history_row(s, entity_id, name, instance))


def replace_entity(entity_id: str, body: Any, ctx: Context | None = None) -> None:
    """Replace every attribute (and the scopes) of an entity; its type may be given but not changed."""
    if not isinstance(body, dict):
        raise bad_data("an entity must be a JSON object")
    if body.get("id", entity_id) != entity_id:
        raise bad_data("the body's id differs from the entity's id")
    ctx = ctx or Context()
    kind = entity_type(body, ctx) if "type" in body else None
    attrs = normalize_attrs(body, ctx)
    _refuse_null(attrs)
    given = _given_scope(body)
    now = utcnow()
    with database().session() as s:
        row = _existing(s, entity_id)
        if kind is not None and kind != row.type:
            raise bad_data(f"entity {entity_id} is a {row.type}; a replacement cannot make it a {kind}")
        before = _as_entity(row)
        names, _ = _write(s, row, attrs, "replace", now)
        _set_scope(s, row, _new_scope("replace", row.scope, given), now)
        _set_expiry(row, expiry(body))
    _changed(row, names, "updated", before)


def write_attrs(entity_id: str, fragment: dict[str, Any], mode: Mode, ctx: Context | None = None,
                observed_at: datetime | None = None,
                once: DeliveryKey | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """Update (existing only), append (add or replace), append-keep (noOverwrite) or merge attributes.
    Returns (names written, not updated with reasons); ResourceNotFound for an unknown entity.
    `once` (a durable bus delivery) is recorded in the write's transaction: the same delivery
    again writes nothing (core/handled.py)."""
    if not isinstance(fragment, dict):
        raise bad_data("the attributes must be a JSON object")
    ctx = ctx or Context()
    if "id" in fragment and fragment["id"] != entity_id:
        raise bad_data("the body's id differs from the entity's id")
    attrs = normalize_attrs(fragment, ctx)
    given = _given_scope(fragment)
    if observed_at is not None:
        for found in attrs.values():
            for inst in found if isinstance(found, list) else []:
                if not is_null(inst):
                    inst.setdefault("observedAt", iso(observed_at))
    now = utcnow()
    with database().session() as s:
        row = _existing(s, entity_id)
        if handled.seen(s, once) is not None:
            return [], []
        before = _as_entity(row)
        names, skipped = _write(s, row, attrs, mode, now)
        if mode == "update" and given and not row.scope:  # an update replaces scopes there are, adds none
            skipped.append({"attributeName": "scope", "reason": "the entity has no scope to update"})
            given = None
        _set_scope(s, row, _new_scope(mode, row.scope, given), now)
        _set_expiry(row, expiry(fragment))
        handled.mark(s, once)
    if names:
        _changed(row, names, "updated", before)
    return names, skipped


def write_attr(entity_id: str, name: str, body: Any, mode: Literal["update", "merge"],
               ctx: Context | None = None) -> None:
    """Replace (`update`) or merge-patch one attribute; the attribute and every instance the body
    names by datasetId must exist (ResourceNotFound)."""
    ctx = ctx or Context()
    name = check_name(ctx.compact(name))
    given = normalize_instances(name, body, ctx)
    now = utcnow()
    with database().session() as s:
        row = _existing(s, entity_id)
        have = {dataset_id(i) for i in instances(row.attrs.get(name))}
        if not have:
            raise not_found(f"entity {entity_id} has no attribute {name}")
        for key in (dataset_id(i) for i in given):
            if key not in have:
                raise not_found(f"attribute {name} has no instance with datasetId {key}" if key
                                else f"attribute {name} has no default instance (without datasetId)")
        before = _as_entity(row)
        names, _ = _write(s, row, {name: given}, mode, now)
    _changed(row, names, "updated", before)


def update_attrs(entity_id: str, attrs: dict[str, Any], observed_at: datetime | None = None,
                 create_missing: bool = False, once: DeliveryKey | None = None) -> list[str]:
    """Write attribute values of an entity (for readings); unknown attributes are skipped unless
    `create_missing`. Returns the names written."""
    return write_attrs(entity_id, attrs, "append" if create_missing else "update", observed_at=observed_at,
                       once=once)[0]


def get_entity(entity_id: str) -> Entity | None:
    """The entity in normalized form (with createdAt/modifiedAt, and scope when it has one), or None."""
    with database().session() as s:
        row = s.get(TwinEntity, entity_id)
        return live(_as_entity(row), utcnow()) if row else None


def delete_entity(entity_id: str) -> None:
    with database().session() as s:
        row = _existing(s, entity_id)
        last = _as_entity(row)
        s.delete(row)
        s.execute(delete(TwinAttributeInstance).where(TwinAttributeInstance.entity_id == entity_id))
        s.execute(delete(TwinEntityScope).where(TwinEntityScope.entity_id == entity_id))
    bus.publish(TOPIC, {"id": entity_id, "type": row.type, "action": "deleted", "attrs": [], "entity": None})
    notify.entity_changed(last, [n for n in last if n not in RESERVED], last, deleted=True)


def delete_scope(entity_id: str) -> None:
    """Remove an entity's scopes (ResourceNotFound when it has none)."""
    with database().session() as s:
        row = _existing(s, entity_id)
        if not row.scope:
            raise not_found(f"entity {entity_id} has no scope")
        _set_scope(s, row, None, utcnow())


def delete_attr(entity_id: str, name: str, ctx: Context | None = None, dataset: str | None = None,
                delete_all: bool = False) -> None:
    """Delete an attribute's default instance (or the one with datasetId `dataset`, or every
    instance with `delete_all`); ResourceNotFound when there is no such instance."""
    name = (ctx or Context()).compact(name)
    with database().session() as s:
        row = _existing(s, entity_id)
        found = instances(row.attrs.get(name))
        if not found:
            raise not_found(f"entity {entity_id} has no attribute {name}")
        if not delete_all and all(dataset_id(i) != dataset for i in found):
            raise not_found(f"attribute {name} has no instance with datasetId {dataset}" if dataset
                            else f"attribute {name} has no default instance (without datasetId)")
        marker = NULL if delete_all else [{"value": NULL, **({"datasetId": dataset} if dataset else {})}]
        before = _as_entity(row)
        _write(s, row, {name: marker}, "update", utcnow())
    _changed(row, [name], "updated", before)


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0 or limit > MAX_LIMIT:
        raise bad_data(f"limit must be 0..{MAX_LIMIT} and offset ≥ 0")


def _scan(s: Session, stmt: Any, plan: Plan, limit: int, offset: int, count: bool) -> tuple[list[Entity], int]:
    """Python's share of a query: candidates streamed in order, checked, the page kept; stops at
    the end of the page unless the total is wanted."""
    page: list[Entity] = []
    seen = 0
    for row in s.scalars(stmt.execution_options(yield_per=SCAN_BATCH)):
        if not all(check(row) for check in plan.row_checks):
            continue
        entity = live(_as_entity(row), utcnow())
        if entity is None or not all(check(entity) for check in plan.entity_checks):
            continue
        if offset <= seen < offset + limit:
            page.append(entity)
        seen += 1
        if not count and seen >= offset + limit:
            break
    return page, seen


def find(query: EntityQuery, limit: int = 20, offset: int = 0, count: bool = True,
         extra: tuple[ColumnElement[bool], ...] = (), by_id: bool | None = None) -> tuple[list[Entity], int | None]:
    """Entities matching the query (and the `extra` SQL conditions), oldest first (`by_id`: by id,
    descending when False): one page, and how many match in all (None unless `count`)."""
    _check_page(limit, offset)
    plan = compile_query(query)
    stmt = select(TwinEntity).where(*plan.where, *extra)
    ordered = stmt.order_by(TwinEntity.created_at, TwinEntity.id) if by_id is None else \
        stmt.order_by(TwinEntity.id if by_id else TwinEntity.id.desc())
    with database().session() as s:
        if not plan.exact:
            page, seen = _scan(s, ordered, plan, limit, offset, count)
            return page, seen if count else None
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) if count else None
        rows = s.scalars(ordered.offset(offset).limit(limit)) if limit else []
        now = utcnow()
        return [e for e in (live(_as_entity(row), now) for row in rows) if e is not None], total


def query(type: str | list[str] | None = None, ids: list[str] | None = None, id_pattern: str | None = None,
          attrs: list[str] | None = None, q: str | None = None, georel: str | None = None,
          geometry: str | None = None, coordinates: str | None = None, limit: int = 20,
          offset: int = 0, scope_q: str | None = None, geoproperty: str | None = None) -> tuple[list[Entity], int]:
    """Entities matching every filter given, oldest first, and how many match in all.
    Entities are returned normalized and unprojected; `attrs` keeps those that have one of them."""
    types = (type,) if isinstance(type, str) else tuple(type or ())
    selectors = (Selector(types, tuple(ids or ()), id_pattern),) if types or ids or id_pattern is not None else ()
    found = EntityQuery(selectors, tuple(attrs) if attrs is not None else None, q,
                        geo_query(georel, geometry, coordinates, geoproperty), scope_q)
    entities, total = find(found, limit, offset)
    return entities, total or 0


def entity_types() -> dict[str, list[str]]:
    """Entity type → its attribute names (over all entities of the type)."""
    found: dict[str, set[str]] = {}
    with database().session() as s:
        for kind, attrs in s.execute(select(TwinEntity.type, TwinEntity.attrs)):
            found.setdefault(kind, set()).update(n for n in attrs if n not in RESERVED)
    return {kind: sorted(names) for kind, names in sorted(found.items())}


def attribute_names() -> dict[str, dict[str, Any]]:
    """Attribute name → {types it occurs in, attribute types, count of entities}."""
    found: dict[str, dict[str, Any]] = {}
    with database().session() as s:
        for kind, attrs in s.execute(select(TwinEntity.type, TwinEntity.attrs)):
            for name, attr in attrs.items():
                if name in RESERVED:
                    continue
                info = found.setdefault(name, {"typeNames": set(), "attributeTypes": set(), "attributeCount": 0})
                info["typeNames"].add(kind)
                info["attributeTypes"].update(i.get("type", "Property") for i in instances(attr))
                info["attributeCount"] += 1
    return {name: {k: sorted(v) if isinstance(v, set) else v for k, v in info.items()}
            for name, info in sorted(found.items())}


def entity_count() -> int:
    with database().session() as s:
        return s.scalar(select(func.count()).select_from(TwinEntity)) or 0


__all__ = ["check_name", "create_entity", "delete_attr", "delete_entity", "find", "get_entity", "query",
           "render", "replace_entity", "update_attrs", "upsert_entity", "write_attr", "write_attrs"]
