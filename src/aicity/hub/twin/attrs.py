"""NGSI-LD entity and attribute shapes: validation and normalization (concise → normalized),
and rendering (normalized, keyValues/simplified, sysAttrs)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aicity.hub.twin.context import Context
from aicity.hub.twin.errors import bad_data
from aicity.hub.twin.query import validate_geometry

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
    for sub in [k for k in attr if k not in ATTR_META]:
        short = ctx.compact(sub)
        attr[check_name(short)] = normalize_attr(short, attr.pop(sub), ctx)
    if name in GEO_NAMES and kind != "GeoProperty":
        raise bad_data(f"{name} must be a GeoProperty (GeoJSON geometry)")
    return attr


def normalize_attrs(fragment: dict[str, Any], ctx: Context) -> dict[str, dict[str, Any]]:
    """Attribute name (short term) → normalized attribute, for the non-reserved members of a fragment."""
    out: dict[str, dict[str, Any]] = {}
    for name, raw in fragment.items():
        if name in RESERVED:
            continue
        short = check_name(ctx.compact(name))
        out[short] = raw if raw == NULL or (isinstance(raw, dict) and raw.get("value") == NULL) \
            else normalize_attr(short, raw, ctx)
    return out


def normalize_entity(body: Any, ctx: Context) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """(id, type, attributes) of an entity body; raises BadRequestData when it breaks the spec."""
    if not isinstance(body, dict):
        raise bad_data("an entity must be a JSON object")
    entity_id = check_uri(body.get("id"))
    kind = body.get("type")
    if isinstance(kind, list) and len(kind) == 1:
        kind = kind[0]
    if not isinstance(kind, str) or not kind:
        raise bad_data("an entity needs a type (a string)")
    return entity_id, check_name(ctx.compact(kind), "type"), normalize_attrs(body, ctx)


def simplified(attr: Any) -> Any:
    """An attribute's keyValues (simplified) form."""
    if not isinstance(attr, dict):
        return attr
    if "object" in attr:
        return attr["object"]
    if "languageMap" in attr:
        return attr["languageMap"]
    return attr.get("value")


def render(entity: Entity, attrs: list[str] | None = None, key_values: bool = False,
           sys_attrs: bool = False) -> Entity:
    """An entity for the wire: projected on `attrs`, normalized or keyValues, with or without system times."""
    out: Entity = {"id": entity["id"], "type": entity["type"]}
    for name, attr in entity.items():
        if name in RESERVED or (attrs is not None and name not in attrs):
            continue
        if key_values:
            out[name] = simplified(attr)
        else:
            out[name] = attr if sys_attrs else {k: v for k, v in attr.items() if k not in ("createdAt", "modifiedAt")}
    if sys_attrs and not key_values:
        out["createdAt"], out["modifiedAt"] = entity.get("createdAt"), entity.get("modifiedAt")
    return out
