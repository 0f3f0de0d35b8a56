"""NGSI-LD entity and attribute shapes: validation and normalization (concise → normalized),
and rendering (normalized, keyValues/simplified, sysAttrs).

An attribute is stored as one object, or as an array of instances told apart by `datasetId`
(a multi-attribute: at most one instance without datasetId, the default one)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aicity.hub.twin.context import Context
from aicity.hub.twin.errors import bad_data
from aicity.hub.twin.query import instances, validate_geometry

Entity = dict[str, Any]
ATTRIBUTE_TYPES = ("Property", "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty",
                   "ListProperty", "ListRelationship")
GEO_NAMES = ("location", "observationSpace", "operationSpace")
#: members of an entity that are not attributes
RESERVED = ("id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt")
#: members of an attribute that are not sub-attributes
ATTR_META = ("type", "value", "object", "languageMap", "vocab", "valueList", "objectList", "observedAt",
             "unitCode", "datasetId", "createdAt", "modifiedAt", "instanceId", "lang")
NULL = "urn:ngsi-ld:null"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_NAME = re.compile(r"^[^\s<>\"'=;()\[\]\\]+$")


def check_uri(value: Any, what: str = "id") -> str:
    if not isinstance(value, str) or not _URI.match(value):
        raise bad_data(f"{what} must be a URI, got {value!r}")
    return value


def check_name(name: str, what: str = "attribute name") -> str:
    if not name or not _NAME.match(name):
        raise bad_data(f"invalid {what} {name!r}")
    return name


def _is_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in (
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon") and "coordinates" in value


def _check_time(value: Any, what: str) -> None:
    try:
        datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise bad_data(f"{what} must be an ISO 8601 date-time, got {value!r}") from exc


def normalize_attr(name: str, raw: Any, ctx: Context) -> dict[str, Any]:
    """One attribute in normalized form; concise forms (a bare value, `{"value": …}`,
    `{"object": …}`, a GeoJSON geometry) are accepted."""
    if isinstance(raw, dict) and "type" in raw and raw["type"] in ATTRIBUTE_TYPES:
        attr = dict(raw)
    elif isinstance(raw, dict) and "object" in raw:
        attr = {"type": "Relationship", **raw}
    elif isinstance(raw, dict) and "value" in raw and "type" not in raw:
        attr = {"type": "GeoProperty" if _is_geometry(raw["value"]) else "Property", **raw}
    elif _is_geometry(raw):
        attr = {"type": "GeoProperty", "value": raw}
    elif isinstance(raw, dict) and "type" in raw and not _is_geometry(raw):
        raise bad_data(f"attribute {name!r} has an unknown type {raw['type']!r}")
    else:
        attr = {"type": "Property", "value": raw}
    kind = attr["type"]
    if kind == "Relationship":
        objects = attr.get("object")
        for obj in objects if isinstance(objects, list) else [objects]:
            check_uri(obj, f"the object of relationship {name!r}")
    elif kind == "GeoProperty":
        attr["value"] = validate_geometry(attr.get("value"))
    elif kind == "Property" and ("value" not in attr or attr["value"] is None):
        raise bad_data(f"property {name!r} has no value")
    if "observedAt" in attr:
        _check_time(attr["observedAt"], f"{name}.observedAt")
    if "unitCode" in attr and not isinstance(attr["unitCode"], str):
        raise bad_data(f"{name}.unitCode must be a string")
    if "datasetId" in attr:
        check_uri(attr["datasetId"], f"{name}.datasetId")
    for sub in [k for k in attr if k not in ATTR_META]:
        short = ctx.compact(sub)
        attr[check_name(short)] = normalize_attr(short, attr.pop(sub), ctx)
    if name in GEO_NAMES and kind != "GeoProperty":
        raise bad_data(f"{name} must be a GeoProperty (GeoJSON geometry)")
    return attr


def is_null(raw: Any) -> bool:
    """Whether an attribute (instance) in a fragment asks for its deletion."""
    return raw == NULL or (isinstance(raw, dict) and NULL in (raw.get("value"), raw.get("object")))


def _is_multi(raw: Any) -> bool:
    """An array of attribute instances, as opposed to a concise Property whose value is an array."""
    return isinstance(raw, list) and bool(raw) and all(
        isinstance(item, dict) and (item.get("type") in ATTRIBUTE_TYPES or "datasetId" in item) for item in raw)


def normalize_instances(name: str, raw: Any, ctx: Context) -> list[dict[str, Any]]:
    """An attribute's instances in normalized form (deletion markers kept as given); two
    instances with the same datasetId (or two without) are refused."""
    found: list[dict[str, Any]] = []
    for item in raw if _is_multi(raw) else [raw]:
        if is_null(item):
            if isinstance(item, dict) and "datasetId" in item:
                check_uri(item["datasetId"], f"{name}.datasetId")
            found.append(item if isinstance(item, dict) else {"value": NULL})
        else:
            found.append(normalize_attr(name, item, ctx))
    keys = [dataset_id(item) for item in found]
    if len(set(keys)) != len(keys):
        raise bad_data(f"attribute {name!r} has two instances with the same datasetId (or two without one)")
    return found


def dataset_id(instance: dict[str, Any]) -> str | None:
    return instance.get("datasetId")


def geometry_of(attr: Any) -> dict[str, Any] | None:
    """The GeoJSON value of a GeoProperty: its default instance, else its first one."""
    found = instances(attr)
    chosen = next((i for i in found if "datasetId" not in i), found[0] if found else None)
    return chosen["value"] if chosen is not None and chosen.get("type") == "GeoProperty" else None


def packed(found: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]] | None:
    """How an attribute with these instances is stored and rendered: one object, or an array."""
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def normalize_attrs(fragment: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Attribute name (short term) → its instances (or NULL: delete it), for the non-reserved
    members of a fragment."""
    out: dict[str, Any] = {}
    for name, raw in fragment.items():
        if name in RESERVED:
            continue
        short = check_name(ctx.compact(name))
        out[short] = NULL if raw == NULL else normalize_instances(short, raw, ctx)
    return out


def entity_type(body: dict[str, Any], ctx: Context) -> str:
    kind = body.get("type")
    if isinstance(kind, list) and len(kind) == 1:
        kind = kind[0]
    if not isinstance(kind, str) or not kind:
        raise bad_data("an entity needs a type (a string)")
    return check_name(ctx.compact(kind), "type")


def normalize_entity(body: Any, ctx: Context) -> tuple[str, str, dict[str, Any]]:
    """(id, type, attributes) of an entity body; raises BadRequestData when it breaks the spec."""
    if not isinstance(body, dict):
        raise bad_data("an entity must be a JSON object")
    entity_id = check_uri(body.get("id"))
    return entity_id, entity_type(body, ctx), normalize_attrs(body, ctx)


def simplified(attr: Any) -> Any:
    """An attribute's keyValues (simplified) form."""
    if not isinstance(attr, dict):
        return attr
    if "object" in attr:
        return attr["object"]
    if "languageMap" in attr:
        return attr["languageMap"]
    return attr.get("value")


def _key_values(attr: Any) -> Any:
    """A stored attribute, simplified; a multi-attribute as {"dataset": {datasetId or "@none": value}}."""
    found = instances(attr)
    if not any("datasetId" in i for i in found):
        return simplified(attr)
    return {"dataset": {i.get("datasetId", "@none"): simplified(i) for i in found}}


def _without_times(attr: Any) -> Any:
    strip = ("createdAt", "modifiedAt")
    if isinstance(attr, list):
        return [{k: v for k, v in i.items() if k not in strip} for i in attr]
    return {k: v for k, v in attr.items() if k not in strip}


def render(entity: Entity, attrs: list[str] | None = None, key_values: bool = False,
           sys_attrs: bool = False) -> Entity:
    """An entity for the wire: projected on `attrs`, normalized or keyValues, with or without system times."""
    out: Entity = {"id": entity["id"], "type": entity["type"]}
    if entity.get("scope"):
        scopes = entity["scope"]
        out["scope"] = scopes[0] if len(scopes) == 1 else scopes
    for name, attr in entity.items():
        if name in RESERVED or (attrs is not None and name not in attrs):
            continue
        if key_values:
            out[name] = _key_values(attr)
        else:
            out[name] = attr if sys_attrs else _without_times(attr)
    if sys_attrs and not key_values:
        out["createdAt"], out["modifiedAt"] = entity.get("createdAt"), entity.get("modifiedAt")
    return out
