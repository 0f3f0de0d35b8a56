"""NGSI-LD subscriptions: CRUD, matching entity changes, and HTTP notifications delivered from a
background worker (with a timeout; successes and failures counted on the subscription)."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from aicity.core import egress, jobs, scale
from aicity.core.db import Database, PerDatabase, database
from aicity.core.ids import utcnow
from aicity.hub.twin.attrs import (
    NULL,
    VALUE_MEMBER,
    check_name,
    check_uri,
    compact_entity,
    dataset_id,
    only_datasets,
    render,
)
from aicity.hub.twin.context import CORE_IRI, Context, link_header
from aicity.hub.twin.errors import NgsiError, bad_data, not_found
from aicity.hub.twin.models import TwinSubscription
from aicity.hub.twin.query import instances, parse_q
from aicity.hub.twin.scope import matches as scope_matches
from aicity.hub.twin.scope import parse_scope_q

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0
Entity = dict[str, Any]


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return at.isoformat().replace("+00:00", "Z")


def _http_url(uri: Any) -> bool:
    """Notifications are POSTed by the server to http(s) URLs, or published to an MQTT broker
    (`mqtt(s)://[user[:password]@]host[:port]/topic`); never to file:, ftp: or any other scheme a
    client might use to reach what it cannot itself. The URL must name a host (and a topic for MQTT)."""
    if not isinstance(uri, str):
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return False
    if parts.scheme in MQTT_SCHEMES:
        return bool(parts.hostname) and parts.path.strip("/") != ""
    return parts.scheme in ("http", "https") and bool(parts.hostname)


MQTT_SCHEMES = {"mqtt": 1883, "mqtts": 8883}
#: notifierInfo keys of MQTT endpoints (GS CIM 009 clause 5.2.22)
_MQTT_VERSIONS = {"mqtt3.1.1": paho.MQTTv311, "mqtt5.0": paho.MQTTv5}


def _check_endpoint(uri: str) -> None:
    """The egress policy for a notification endpoint: a host that resolves to an address the server
    may not call is BadRequestData; one that does not resolve now is accepted (each delivery checks again)."""
    parts = urlsplit(uri)
    try:
        if parts.scheme in MQTT_SCHEMES:
            egress.checked_address(parts.hostname or "", parts.port or MQTT_SCHEMES[parts.scheme])
        else:
            egress.check_url(uri)
    except egress.Unresolved:
        pass
    except egress.EgressDenied as exc:
        raise bad_data(f"notification.endpoint.uri is not allowed: {exc}") from None


#: a Subscription's members (GS CIM 009 clause 5.2.12); others are not kept
_MEMBERS = {"id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "notificationTrigger",
            "timeInterval", "q", "geoQ", "csf", "isActive", "notification", "expiresAt", "throttling", "temporalQ",
            "scopeQ", "lang", "jsonldContext", "datasetId", "expandValues", "join", "joinLevel"}
_TRIGGERS = {"entityCreated", "entityUpdated", "entityDeleted", "attributeCreated", "attributeUpdated",
             "attributeDeleted"}
#: a subscription without notificationTrigger (GS CIM 009 clause 5.2.12)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
#: the member that carries an attribute's value before a change (showChanges), by attribute type
_PREVIOUS = {"Property": "previousValue", "GeoProperty": "previousValue", "Relationship": "previousObject",
             "LanguageProperty": "previousLanguageMap", "VocabProperty": "previousVocab",
             "ListProperty": "previousValueList", "ListRelationship": "previousObjectList",
             "JsonProperty": "previousJson"}


def _normalize(body: Any, ctx: Context, sub_id: str | None = None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_data("a subscription must be a JSON object")
    if body.get("type", "Subscription") != "Subscription":
        raise bad_data("a subscription's type must be Subscription")
    out = {k: v for k, v in body.items() if k in _MEMBERS}
    triggers = body.get("notificationTrigger", [])
    if not isinstance(triggers, list) or not set(triggers) <= _TRIGGERS:
        raise bad_data(f"notificationTrigger must be an array of {', '.join(sorted(_TRIGGERS))}")
    out["id"] = check_uri(body["id"] if "id" in body else sub_id or f"urn:ngsi-ld:Subscription:{uuid.uuid4()}")
    if "jsonldContext" in body:  # the context notifications are compacted with: it must resolve
        Context(check_uri(body["jsonldContext"], "jsonldContext"))
    if "expiresAt" in body:
        try:
            expires = datetime.fromisoformat(str(body["expiresAt"]))
        except ValueError:
            raise bad_data("expiresAt must be an ISO 8601 date-time") from None
        if expires.tzinfo is None or expires <= datetime.now(UTC):
            raise bad_data("expiresAt must be a date-time (with its zone) in the future")
    out["type"] = "Subscription"
    entities = body.get("entities", [])
    watched = body.get("watchedAttributes", [])
    if not isinstance(entities, list) or not isinstance(watched, list) or not (entities or watched):
        raise bad_data("a subscription needs entities or watchedAttributes (arrays)")
    norm_entities = []
    for sel in entities:
        if not isinstance(sel, dict) or not isinstance(sel.get("type"), str):
            raise bad_data("every entities[] selector needs a type")
        item = {**sel, "type": _type_names(sel["type"], ctx.compact)}
        if "id" in item:
            check_uri(item["id"])
        if "idPattern" in item:
            try:
                re.compile(item["idPattern"])
            except re.error as exc:
                raise bad_data("entities[].idPattern is not a regular expression") from exc
        norm_entities.append(item)
    out["entities"] = norm_entities
    if "watchedAttributes" in body:
        out["watchedAttributes"] = [check_name(ctx.compact(a)) for a in watched]
    for key, parse in (("q", parse_q), ("scopeQ", parse_scope_q), ("csf", parse_q)):
        if key in out:
            if not isinstance(out[key], str):
                raise bad_data(f"{key} must be a string")
            parse(unquote(out[key]))
    notification = body.get("notification")
    endpoint = notification.get("endpoint") if isinstance(notification, dict) else None
    if not isinstance(endpoint, dict) or not _http_url(endpoint.get("uri")):
        raise bad_data("notification.endpoint.uri must be an http(s) URL with a host, or mqtt(s) with a topic")
    _check_endpoint(endpoint["uri"])
    info = {i.get("key"): i.get("value") for i in endpoint.get("notifierInfo", []) or [] if isinstance(i, dict)}
    if info.get("MQTT-QoS", "0") not in ("0", "1", "2") or info.get("MQTT-Version", "mqtt3.1.1") not in _MQTT_VERSIONS:
        raise bad_data("notifierInfo MQTT-QoS must be 0, 1 or 2 and MQTT-Version mqtt3.1.1 or mqtt5.0")
    attrs = notification.get("attributes", [])
    if not isinstance(attrs, list):
        raise bad_data("notification.attributes must be an array")
    _check_notification(notification, endpoint)
    out["notification"] = {**notification, "format": notification.get("format", "normalized")}
    if "attributes" in notification:
        out["notification"]["attributes"] = [ctx.compact(a) for a in attrs]
    for key in ("pick", "omit"):  # entity members: id, type, scope and attribute names
        if key in notification:
            out["notification"][key] = [m if m in ("id", "type", "scope") else ctx.compact(m)
                                        for m in notification[key]]
    if out["notification"]["format"] not in ("normalized", "keyValues", "simplified", "concise"):
        raise bad_data("notification.format must be normalized or keyValues")
    if "isActive" in body:
        out["isActive"] = bool(body["isActive"])
    url = _context_url(ctx.raw)
    if url is not None and "jsonldContext" not in out:
        out["jsonldContext"] = url
    return out


def _context_url(raw: Any) -> str | None:
    """The @context a subscription was made with, when it is one URL (notifications are compacted with it)."""
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    return raw if isinstance(raw, str) else None


def compact_subscription(sub: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A subscription with its entity types and attribute names in the requester's terms."""
    if ctx.default:
        return sub
    out = dict(sub)
    out["entities"] = [{**sel, "type": _type_names(sel["type"], ctx.term)} if "type" in sel else sel
                       for sel in sub.get("entities", [])]
    if "watchedAttributes" in sub:
        out["watchedAttributes"] = [ctx.term(a) for a in sub["watchedAttributes"]]
    for key in ("attributes", "pick", "omit"):
        if key in sub.get("notification", {}):
            out["notification"] = {**out["notification"], key: [
                m if m in ("id", "type", "scope") else ctx.term(m) for m in sub["notification"][key]]}
    return out


_TYPE_NAME = re.compile(r"[^()|,;\s]+")


def _type_names(expression: str, convert: Any) -> str:
    """A type or a type expression (`(Building|Tower)`, `A;B`) with each type name converted."""
    return _TYPE_NAME.sub(lambda found: convert(found.group()), expression)


def _type_matches(expression: str, kind: str) -> bool:
    """Whether an entity of type `kind` is selected by a type or type expression (`|` or `,`: any of
    them; `;`: all of them, which one type meets only when they are all that type)."""
    if not any(c in expression for c in "()|,;"):
        return expression == kind
    alternatives = re.split(r"[|,]", expression.replace("(", "").replace(")", ""))
    return any(all(t.strip() == kind for t in alt.split(";")) for alt in alternatives)


def _check_notification(notification: dict[str, Any], endpoint: dict[str, Any]) -> None:
    """NotificationParams' rules: non-empty attributes/pick/omit, no member both picked and omitted,
    no pick or omit with attributes, showChanges only with the normalized format, key-value pairs of strings."""
    for key in ("attributes", "pick", "omit"):
        if key in notification and (not isinstance(notification[key], list) or not notification[key]):
            raise bad_data(f"notification.{key} must be a non-empty array")
    if "attributes" in notification and ("pick" in notification or "omit" in notification):
        raise bad_data("notification.pick and omit cannot be used with attributes")
    if set(notification.get("pick", [])) & set(notification.get("omit", [])):
        raise bad_data("a member cannot be both picked and omitted")
    if notification.get("showChanges") and notification.get("format") in ("keyValues", "simplified"):
        raise bad_data("showChanges needs the normalized format")
    for key in ("receiverInfo", "notifierInfo"):
        pairs = endpoint.get(key, [])
        if not isinstance(pairs, list) or not all(
                isinstance(p, dict) and isinstance(p.get("key"), str) and isinstance(p.get("value"), str)
                for p in pairs):
            raise bad_data(f"notification.endpoint.{key} must be an array of {{key, value}} strings")


def _view(row: TwinSubscription) -> dict[str, Any]:
    body = dict(row.body)
    if "isActive" in body:
        body["isActive"] = row.active
    body["status"] = "active" if row.active else "paused"
    body.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    body["notification"] = dict(body["notification"])
    for key, count in (("timesSent", row.times_sent), ("timesFailed", row.times_failed)):
        if count:  # members present once there is something to count
            body["notification"][key] = count
    if row.last_notification is not None:
        body["notification"]["status"] = "failed" if row.last_failure and (
            not row.last_success or row.last_failure > row.last_success) else "ok"
    for key, value in (("lastNotification", row.last_notification), ("lastSuccess", row.last_success),
                       ("lastFailure", row.last_failure)):
        if value is not None:
            body["notification"][key] = _iso(value)
    return body


def _load() -> list[dict[str, Any]]:
    with database().session() as s:
        return [dict(row.body) for row in s.scalars(select(TwinSubscription).where(TwinSubscription.active))]


_active: PerDatabase[list[dict[str, Any]]] = PerDatabase(_load)


def create_subscription(body: Any, ctx: Context | None = None) -> str:
    sub = _normalize(body, ctx or Context())
    now = utcnow()
    with database().session() as s:
        if s.get(TwinSubscription, sub["id"]) is not None:
            raise NgsiError("AlreadyExists", f"subscription {sub['id']} already exists")
        s.add(TwinSubscription(id=sub["id"], body=sub, active=sub.get("isActive", True), times_sent=0, times_failed=0,
                               created_at=now, modified_at=now))
    _active.invalidate()
    return sub["id"]


def get_subscription(sub_id: str) -> dict[str, Any]:
    with database().session() as s:
        row = s.get(TwinSubscription, sub_id)
        if row is None:
            raise not_found(f"subscription {sub_id} not found")
        return _view(row)


def list_subscriptions() -> list[dict[str, Any]]:
    with database().session() as s:
        return [_view(row) for row in s.scalars(select(TwinSubscription).order_by(TwinSubscription.created_at))]


def update_subscription(sub_id: str, fragment: Any, ctx: Context | None = None) -> None:
    if not isinstance(fragment, dict):
        raise bad_data("a subscription fragment must be a JSON object")
    with database().session() as s:
        row = s.get(TwinSubscription, sub_id)
        if row is None:
            raise not_found(f"subscription {sub_id} not found")
        merged = {**row.body, **{k: v for k, v in fragment.items() if k != "@context"}, "id": sub_id}
        row.body = _normalize(merged, ctx or Context(), sub_id)
        row.active = row.body.get("isActive", True)
        row.modified_at = utcnow()
    _active.invalidate()


def delete_subscription(sub_id: str) -> None:
    with database().session() as s:
        row = s.get(TwinSubscription, sub_id)
        if row is None:
            raise not_found(f"subscription {sub_id} not found")
        s.delete(row)
    _active.invalidate()


def _selects(sub: dict[str, Any], entity: Entity) -> bool:
    selectors = sub["entities"]
    if not selectors:
        return True
    for sel in selectors:
        if not _type_matches(sel["type"], entity["type"]) or ("id" in sel and sel["id"] != entity["id"]):
            continue
        if "idPattern" in sel and not re.fullmatch(sel["idPattern"], entity["id"]):
            continue
        return True
    return False


def attribute_events(before: Entity | None, after: Entity | None, names: list[str]) -> dict[str, str]:
    """What a write did to each attribute it touched: attributeCreated (it had no instance),
    attributeDeleted (an instance, or the whole attribute, is gone) or attributeUpdated."""
    events = {}
    for name in names:
        old = {dataset_id(i) for i in instances((before or {}).get(name))}
        new = {dataset_id(i) for i in instances((after or {}).get(name))}
        events[name] = ("attributeCreated" if not old else "attributeDeleted" if old - new
                        else "attributeUpdated")
    return events


def triggered(sub: dict[str, Any], events: dict[str, str], entity_event: str) -> bool:
    """Whether the subscription's notificationTrigger (default: attributeCreated, attributeUpdated)
    and watchedAttributes take this change."""
    triggers = set(sub.get("notificationTrigger") or DEFAULT_TRIGGERS)
    watched = sub.get("watchedAttributes")
    relevant = {n: e for n, e in events.items() if not watched or n in watched}
    if watched and not relevant:
        return False
    return entity_event in triggers or any(e in triggers for e in relevant.values())


def matches(sub: dict[str, Any], entity: Entity, changed: list[str]) -> bool:
    """Does this change of `entity` (attributes `changed`) trigger the subscription?"""
    watched = sub.get("watchedAttributes")
    if watched and not set(watched) & set(changed):
        return False
    return _selects(sub, entity) and _filters(sub, entity)


def _context_of(sub: dict[str, Any]) -> Context | None:
    """The context a subscription was made with (None: the core one, or one no longer available:
    a change already stored must not fail because of it)."""
    try:
        return Context(sub["jsonldContext"]) if sub.get("jsonldContext") else None
    except NgsiError as exc:
        log.warning("subscription %s: its @context is not available: %s", sub.get("id"), exc.detail)
        return None


def _names(sub: dict[str, Any]) -> Any:
    found = _context_of(sub)
    return found.compact if found is not None else None


def _deleted(inst: dict[str, Any], at: str, show: bool) -> dict[str, Any]:
    """A deleted attribute instance as notifications carry it: its value member `urn:ngsi-ld:null`
    (a LanguageProperty's map `{"@none": null}`), `deletedAt`, and with showChanges its last value."""
    kind = inst.get("type", "Property")
    member = VALUE_MEMBER.get(kind, "value")
    out: dict[str, Any] = {"type": kind, member: {"@none": NULL} if kind == "LanguageProperty" else NULL}
    for key in ("datasetId", "createdAt", "modifiedAt"):
        if key in inst:
            out[key] = inst[key]
    out["deletedAt"] = at
    if show and member in inst:
        out[_PREVIOUS.get(kind, "previousValue")] = inst[member]
    return out


def _with_previous(inst: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    member = VALUE_MEMBER.get(inst.get("type", "Property"), "value")
    if old is None or member not in old or old.get(member) == inst.get(member):
        return inst
    return {**inst, _PREVIOUS.get(inst.get("type", "Property"), "previousValue"): old[member]}


def _gone(found: list[dict[str, Any]], at: str, show: bool) -> dict[str, Any]:
    """A whole attribute deleted: one instance (its datasetId only when it had one instance)."""
    first = found[0] if len(found) == 1 else {k: v for k, v in found[0].items() if k != "datasetId"}
    return _deleted(first, at, show)


def _packed(found: list[dict[str, Any]]) -> Any:
    return found[0] if len(found) == 1 else found


def change_view(sub: dict[str, Any], entity: Entity, before: Entity | None, events: dict[str, str],
                deleted: bool = False) -> Entity:
    """The entity a subscription is notified of: as it is now, with the instances the change deleted
    (value `urn:ngsi-ld:null`, `deletedAt`) and, with showChanges, each changed value's previous one.
    A deleted entity carries `deletedAt` and its (watched) attributes, all deleted."""
    show = bool(sub["notification"].get("showChanges"))
    now = _iso(utcnow()) or ""
    triggers = set(sub.get("notificationTrigger") or DEFAULT_TRIGGERS)
    if deleted:  # its attributes when the subscription asked for deletions or changes
        old = before or entity
        watched = sub.get("watchedAttributes")
        view: Entity = {k: old[k] for k in ("id", "type", "createdAt", "modifiedAt") if k in old}
        view["deletedAt"] = now
        for name in events if show or "attributeDeleted" in triggers else ():
            if not watched or name in watched:
                view[name] = _gone(instances(old.get(name)), now, show)
        return view
    view = dict(entity)
    for name, event in events.items():
        new = instances(entity.get(name))
        old_by_key = {dataset_id(i): i for i in instances((before or {}).get(name))}
        if event == "attributeDeleted" and event in triggers and not new:  # the whole attribute
            view[name] = _gone(list(old_by_key.values()), now, show)
            continue
        if event == "attributeDeleted" and event in triggers:  # some of its instances
            kept = {dataset_id(i) for i in new}
            new = [*new, *(_deleted(i, now, show) for key, i in old_by_key.items() if key not in kept)]
        elif show:
            new = [_with_previous(i, old_by_key.get(dataset_id(i))) for i in new]
        if new:
            view[name] = _packed(new)
    return view


def entity_changed(entity: Entity, changed: list[str], before: Entity | None = None, created: bool = False,
                   deleted: bool = False) -> None:
    """Queue a notification for every active subscription this change triggers. `before`: the
    entity before the write (None: not known, every change counts as an update); `deleted`: the
    entity is gone (`entity` is its last state)."""
    if not changed and not deleted:
        return
    if before is None and not created and not deleted:
        events = {name: "attributeUpdated" for name in changed}
    else:
        events = attribute_events(before, None if deleted else entity, changed)
    entity_event = "entityDeleted" if deleted else "entityCreated" if created else "entityUpdated"
    for sub in _active.get():
        if not (triggered(sub, events, entity_event) and _selects(sub, entity) and _filters(sub, entity)):
            continue
        if _throttled(sub):
            continue
        view = change_view(sub, entity, before, events, deleted)
        if scale.distributed():  # a background worker delivers it (rq queue `notify`)
            jobs.submit("notify", "aicity.hub.twin.notify:deliver_job", sub["id"], view)
        else:
            _worker().put((database(), sub, view))


#: when each throttled subscription was last notified (monotonic seconds), in this process
_last_notified: dict[str, float] = {}


def _throttled(sub: dict[str, Any]) -> bool:
    """A subscription with `throttling` (seconds) is notified at most once per that many seconds."""
    every = sub.get("throttling")
    if not isinstance(every, int | float) or every <= 0:
        return False
    now = time.monotonic()
    with _lock:
        if now - _last_notified.get(sub["id"], float("-inf")) < every:
            return True
        _last_notified[sub["id"]] = now
    return False


def _filters(sub: dict[str, Any], entity: Entity) -> bool:
    if "scopeQ" in sub and not scope_matches(parse_scope_q(sub["scopeQ"]), entity.get("scope") or []):
        return False
    return "q" not in sub or parse_q(unquote(sub["q"]), _names(sub))(entity)


def deliver_job(sub_id: str, entity: Entity) -> bool:
    """A notification as a background job (the distributed mode): the subscription as it is now."""
    with database().session() as s:
        row = s.get(TwinSubscription, sub_id)
        sub = dict(row.body) if row is not None and row.active else None
    if sub is None:  # deleted or paused meanwhile
        return False
    with egress.client(timeout=TIMEOUT_S) as client:
        return deliver(database(), sub, entity, client)


# --- delivery -----------------------------------------------------------------------------

_queue: queue.Queue[tuple[Database, dict[str, Any], Entity]] | None = None
_lock = threading.Lock()


def _worker() -> queue.Queue[tuple[Database, dict[str, Any], Entity]]:
    global _queue
    with _lock:
        if _queue is None:
            _queue = queue.Queue()
            threading.Thread(target=_deliver_forever, args=(_queue,), name="ngsi-ld-notify", daemon=True).start()
        return _queue


def notification_body(sub: dict[str, Any], entity: Entity) -> dict[str, Any]:
    spec = sub["notification"]
    attrs = spec.get("attributes") or None
    key_values = spec["format"] in ("keyValues", "simplified")
    if isinstance(sub.get("datasetId"), list):  # only the instances of those datasetIds
        entity = only_datasets(entity, sub["datasetId"])
    data = render(entity, attrs, key_values=key_values, sys_attrs=bool(spec.get("sysAttrs")))
    if "deletedAt" in entity:
        data["deletedAt"] = entity["deletedAt"]
    if "pick" in spec:
        data = {k: v for k, v in data.items() if k in spec["pick"]}
    if "omit" in spec:
        data = {k: v for k, v in data.items() if k not in spec["omit"]}
    found = _context_of(sub)
    if found is not None:
        data = compact_entity(data, found, key_values)
    return {"id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}", "type": "Notification",
            "subscriptionId": sub["id"], "notifiedAt": _iso(utcnow()), "data": [data]}


def deliver(db: Database, sub: dict[str, Any], entity: Entity, client: httpx.Client) -> bool:
    """POST one notification; count it on the subscription. True when the receiver took it (2xx)."""
    endpoint = sub["notification"]["endpoint"]
    headers = {"Content-Type": "application/json"}
    context = sub.get("jsonldContext") or CORE_IRI
    body = notification_body(sub, entity)
    if endpoint.get("accept") == "application/ld+json":  # each entity carries the @context
        headers["Content-Type"] = "application/ld+json"
        body["data"] = [{**d, "@context": context} for d in body["data"]]
    else:
        headers["Link"] = link_header(context)
    for info in endpoint.get("receiverInfo", []) or []:
        if isinstance(info, dict) and "key" in info:
            headers[str(info["key"])] = str(info.get("value", ""))
    try:
        if urlsplit(endpoint["uri"]).scheme in MQTT_SCHEMES:
            ok = publish_mqtt(endpoint, body, headers)
        else:
            ok = client.post(endpoint["uri"], json=body, headers=headers).is_success
    except (httpx.HTTPError, OSError, egress.EgressDenied, ValueError, RuntimeError) as exc:
        log.warning("notification for %s to %s failed: %s", sub["id"], endpoint["uri"], exc)
        ok = False
    now = utcnow()
    with db.session() as s:
        row = s.get(TwinSubscription, sub["id"])
        if row is not None:
            row.times_sent += 1
            row.last_notification = now
            if ok:
                row.last_success = now
            else:
                row.times_failed += 1
                row.last_failure = now
    return ok


def publish_mqtt(endpoint: dict[str, Any], body: dict[str, Any], headers: dict[str, str]) -> bool:
    """Publish one notification to the MQTT broker and topic of an `mqtt(s)://` endpoint (GS CIM 009
    clause 7.2: a JSON message with `metadata`, the headers an HTTP notification would carry, and
    `body`), with the credentials the URL gives and notifierInfo's MQTT-QoS and MQTT-Version. The
    broker's host is checked against the egress policy and connected to at the checked address
    (mqtts: by name, so that its certificate can be verified, then the connected peer is compared with the
    checked address). True once the broker took it."""
    parts = urlsplit(endpoint["uri"])
    info = {i.get("key"): i.get("value") for i in endpoint.get("notifierInfo", []) or [] if isinstance(i, dict)}
    port = parts.port or MQTT_SCHEMES[parts.scheme]
    address = egress.checked_address(parts.hostname or "", port)
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=_MQTT_VERSIONS[info.get("MQTT-Version", "mqtt3.1.1")])
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password) if parts.password else None)
    checked = address
    if parts.scheme == "mqtts":
        client.tls_set()
        address = parts.hostname or address
    client.connect(address, port, keepalive=int(TIMEOUT_S) + 5)
    if client.socket().getpeername()[0] != checked:  # the name resolved again elsewhere (DNS rebinding)
        client.disconnect()
        raise egress.EgressDenied(f"{parts.hostname} resolved to another address than the one checked")
    client.loop_start()
    try:
        message = json.dumps({"metadata": headers, "body": body}, ensure_ascii=False)
        sent = client.publish(parts.path.lstrip("/"), message, qos=int(info.get("MQTT-QoS", "0")))
        sent.wait_for_publish(timeout=TIMEOUT_S)
        return sent.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def _deliver_forever(jobs: queue.Queue[tuple[Database, dict[str, Any], Entity]]) -> None:
    with egress.client(timeout=TIMEOUT_S) as client:
        while True:
            db, sub, entity = jobs.get()
            try:
                deliver(db, sub, entity, client)
            except Exception:  # the worker must outlive any one bad notification
                log.exception("notification for %s failed", sub.get("id"))
            finally:
                jobs.task_done()
