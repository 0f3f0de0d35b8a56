"""NGSI-LD entity and attribute shapes: validation and normalization (concise → normalized),
and rendering (normalized, keyValues/simplified, sysAttrs).

An attribute is stored as one object, or as an array of instances told apart by `datasetId`
(a multi-attribute: at most one instance without datasetId, the default one)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import Any

from aicity.hub.twin.context import Context
from aicity.hub.twin.errors import bad_data, invalid
from aicity.hub.twin.query import instances, validate_geometry

Entity = dict[str, Any]
ATTRIBUTE_TYPES = ("Property", "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty",
                   "ListProperty", "ListRelationship", "JsonProperty")
GEO_NAMES = ("location", "observationSpace", "operationSpace")
#: members of an entity that are not attributes
RESERVED = ("id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt", "@id", "@type", "expiresAt")
#: members of an attribute that are not sub-attributes
ATTR_META = ("type", "value", "object", "languageMap", "vocab", "valueList", "objectList", "json", "observedAt",
             "unitCode", "datasetId", "createdAt", "modifiedAt", "deletedAt", "expiresAt", "instanceId", "lang",
             "@context",
             "previousValue", "previousObject", "previousLanguageMap", "previousVocab", "previousValueList",
             "previousObjectList", "previousJson", "entityIdSealed", "entityTypeSealed")
NULL = "urn:ngsi-ld:null"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_NAME = re.compile(r"^[^\s<>\"'=;()\[\]\\]+$")


#: characters that make an id look like another one (bidi overrides, zero-width and format characters,
#: variation selectors, noncharacters, blank fillers)
_INVISIBLE = re.compile("[\u115f\u1160\u2800\u3164\uffa0\ufe00-\ufe0f\ufdd0-\ufdef\ufffe\uffff"
                        "\U000e0100-\U000e01ef]")


def check_uri(value: Any, what: str = "id") -> str:
    if not isinstance(value, str) or not _URI.match(value) or _INVISIBLE.search(value) or any(
            unicodedata.category(c) in ("Cf", "Cc", "Cs", "Co") or (ord(c) & 0xFFFE) == 0xFFFE for c in value):
        raise bad_data(f"{what} must be a URI, got {value!r}")
    return value


def check_name(name: str, what: str = "attribute name") -> str:
    """A valid attribute (or type) name: no characters a term cannot hold, no `@` keyword, not a dot
    segment (`.`, `..`) and, for a term (not an IRI), no percent-encoding."""
    if (not name or not _NAME.match(name) or name.startswith("@") or not name.strip(".")
            or ("%" in name and ":" not in name)):
        raise bad_data(f"invalid {what} {name!r}")
    return name


def _is_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in (
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon") and "coordinates" in value


def _check_time(value: Any, what: str) -> None:
    """A date-time in UTC (…Z, or …+00:00); another offset is refused, as the spec's form is UTC."""
    try:
        at = datetime.fromisoformat(str(value))
        if not isinstance(value, str) or (at.utcoffset() is not None and at.utcoffset().total_seconds() != 0):
            raise ValueError(value)
    except ValueError as exc:
        raise bad_data(f"{what} must be an ISO 8601 date-time in UTC (…Z), got {value!r}") from exc


def _has_null(value: Any) -> bool:
    """Whether a value holds a JSON null anywhere (a value that cannot be stored)."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


#: each attribute type's value member, and the members that belong to other types
VALUE_MEMBER = {"Property": "value", "GeoProperty": "value", "Relationship": "object",
                "LanguageProperty": "languageMap", "VocabProperty": "vocab", "ListProperty": "valueList",
                "ListRelationship": "objectList", "JsonProperty": "json"}
_CONCISE = {"object": "Relationship", "languageMap": "LanguageProperty", "vocab": "VocabProperty",
            "valueList": "ListProperty", "objectList": "ListRelationship", "json": "JsonProperty"}
#: members only the broker writes (notifications' previous values, proofs' sealed members)
_OUTPUT_ONLY = ("previousValue", "previousObject", "previousLanguageMap", "previousVocab", "previousValueList",
                "previousObjectList", "previousJson", "entityIdSealed", "entityTypeSealed")
#: core terms that are an attribute's own members, never attribute names (`value` and `object` stay
#: usable as names: devices of the city have attributes called `value`)
_NOT_NAMES = ("observedAt", "unitCode", "datasetId", "instanceId", "createdAt", "modifiedAt", "deletedAt")


def _kind(name: str, raw: Any) -> dict[str, Any]:
    """The attribute in normalized form, its type given or inferred from its members."""
    if isinstance(raw, dict) and raw.get("type") in ATTRIBUTE_TYPES:
        return dict(raw)
    if isinstance(raw, dict) and "type" not in raw:
        for member, kind in _CONCISE.items():
            if member in raw:
                return {"type": kind, **raw}
        if "value" in raw:
            return {"type": "GeoProperty" if _is_geometry(raw["value"]) else "Property", **raw}
    if _is_geometry(raw):
        return {"type": "GeoProperty", "value": raw}
    if isinstance(raw, dict) and "type" in raw:
        raise bad_data(f"attribute {name!r} has an unknown type {raw['type']!r}")
    return {"type": "Property", "value": raw}


def _check_language_map(name: str, found: Any) -> None:
    if not isinstance(found, dict) or not found:
        raise bad_data(f"LanguageProperty {name!r} needs a languageMap (an object of language tag → string)")
    for tag, text in found.items():
        texts = text if isinstance(text, list) else [text]
        if not tag or not isinstance(tag, str) or not texts or not all(isinstance(t, str) for t in texts) \
                or NULL in texts:
            raise bad_data(f"{name}.languageMap must map non-empty language tags to strings")


def _check_members(name: str, attr: dict[str, Any]) -> None:
    kind = attr["type"]
    member = VALUE_MEMBER[kind]
    for other in set(VALUE_MEMBER.values()) - {member}:
        if other in attr:
            raise bad_data(f"a {kind} ({name!r}) cannot have {other}")
    for other in _OUTPUT_ONLY:
        if other in attr:
            raise bad_data(f"{name}.{other} is written by the broker only")
    if "@context" in attr:
        raise bad_data(f"attribute {name!r} cannot carry its own @context")
    if member not in attr or (kind != "JsonProperty" and _has_null(attr[member])):  # raw JSON may hold nulls
        raise bad_data(f"{kind} {name!r} needs a {member} (without nulls)")
    if kind == "JsonProperty" and "unitCode" in attr:
        raise bad_data(f"a JsonProperty ({name!r}) is raw JSON: it has no unitCode")
    if kind == "Relationship":
        if "unitCode" in attr:
            raise bad_data(f"a Relationship ({name!r}) cannot have unitCode")
        objects = attr["object"]
        for obj in objects if isinstance(objects, list) else [objects]:
            check_uri(obj, f"the object of relationship {name!r}")
    elif kind == "ListRelationship":
        if not isinstance(attr["objectList"], list):
            raise bad_data(f"{name}.objectList must be an array")
        attr["objectList"] = [{"object": check_uri(o.get("object") if isinstance(o, dict) else o,
                                                   f"an object of {name!r}")} for o in attr["objectList"]]
    elif kind == "GeoProperty":
        value = attr["value"]
        if isinstance(value, str):  # a geometry given as a JSON string
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_data(f"GeoProperty {name!r} needs a GeoJSON geometry") from None
        attr["value"] = validate_geometry(value)
    elif kind == "LanguageProperty":
        _check_language_map(name, attr["languageMap"])
    elif kind == "ListProperty" and not isinstance(attr["valueList"], list):
        raise bad_data(f"{name}.valueList must be an array")
    elif kind == "JsonProperty" and not (isinstance(attr["json"], dict) or (
            isinstance(attr["json"], list) and all(isinstance(j, dict) for j in attr["json"]))):
        raise bad_data(f"{name}.json must be a JSON object or an array of them")


def normalize_attr(name: str, raw: Any, ctx: Context) -> dict[str, Any]:
    """One attribute in normalized form; concise forms (a bare value, `{"value": …}`,
    `{"object": …}`, `{"languageMap": …}`, `{"json": …}`, a GeoJSON geometry …) are accepted."""
    if raw is None:
        raise bad_data(f"attribute {name!r} is null")
    attr = _kind(name, raw)
    _check_members(name, attr)
    if attr.get("datasetId") == "@none":
        del attr["datasetId"]
    if "observedAt" in attr:
        _check_time(attr["observedAt"], f"{name}.observedAt")
    if "expiresAt" in attr:
        _check_time(attr["expiresAt"], f"{name}.expiresAt")
    if "unitCode" in attr and not isinstance(attr["unitCode"], str):
        raise bad_data(f"{name}.unitCode must be a string")
    if "datasetId" in attr:
        check_uri(attr["datasetId"], f"{name}.datasetId")
    if "lang" in attr and attr["type"] != "LanguageProperty":
        del attr["lang"]
    for sub in [k for k in attr if k not in ATTR_META]:
        short = check_name(ctx.compact(sub))
        if short in _NOT_NAMES:
            raise bad_data(f"{short!r} is a core term, not a sub-attribute name")
        attr[short] = normalize_attr(short, attr.pop(sub), ctx)
    if name in GEO_NAMES and attr["type"] != "GeoProperty":
        raise bad_data(f"{name} must be a GeoProperty (GeoJSON geometry)")
    return attr


def is_null(raw: Any) -> bool:
    """Whether an attribute (instance) in a fragment asks for its deletion (`urn:ngsi-ld:null` as
    its value, object, vocab, list or json; `{"@none": "urn:ngsi-ld:null"}` as its languageMap)."""
    if raw == NULL:
        return True
    if not isinstance(raw, dict):
        return False
    if any(raw.get(member) in (NULL, [NULL]) for member in VALUE_MEMBER.values()):
        return True
    found = raw.get("languageMap")
    return isinstance(found, dict) and found.get("@none") == NULL


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
        if short in _NOT_NAMES:
            raise bad_data(f"{short!r} is a core term, not an attribute name")
        out[short] = NULL if raw == NULL else normalize_instances(short, raw, ctx)
    return out


def entity_type(body: dict[str, Any], ctx: Context) -> str:
    kind = body.get("type")
    if isinstance(kind, list) and len(kind) == 1:
        kind = kind[0]
    if not isinstance(kind, str) or not kind:
        raise bad_data("an entity needs a type (a string)")
    if kind[0].isdigit():
        raise bad_data(f"an entity type cannot start with a digit: {kind!r}")
    if ctx.expand(kind).startswith("@"):  # `type`, `id` …: JSON-LD keywords, not types
        raise bad_data(f"{kind!r} is a keyword, not an entity type")
    return check_name(ctx.compact(kind), "type")


def expiry(body: dict[str, Any]) -> str | None:
    """A transient entity's `expiresAt` (a UTC date-time), `urn:ngsi-ld:null` (no longer transient), or
    None when the body says nothing about it; BadRequestData when it is not a date-time."""
    if "expiresAt" not in body or body["expiresAt"] == NULL:
        return body.get("expiresAt")
    _check_time(body["expiresAt"], "expiresAt")
    return str(body["expiresAt"])


def _expired(at: Any, now: datetime) -> bool:
    try:
        return isinstance(at, str) and datetime.fromisoformat(at) <= now
    except ValueError:
        return False


def live(entity: Entity, now: datetime) -> Entity | None:
    """A transient entity as it is at `now`: None once its expiresAt has passed, and without the
    attribute instances whose expiresAt has passed (an attribute left with none is gone)."""
    if _expired(entity.get("expiresAt"), now):
        return None
    out: Entity = {}
    for name, attr in entity.items():
        if name in RESERVED or not isinstance(attr, dict | list):
            out[name] = attr
            continue
        kept = [i for i in instances(attr) if not _expired(i.get("expiresAt"), now)]
        if kept:
            out[name] = kept[0] if isinstance(attr, dict) else kept
    return out


def holds_null(value: Any) -> bool:
    """Whether the NGSI-LD null (`urn:ngsi-ld:null`) is anywhere in a value: it deletes in a merge or
    an update, and cannot be what an entity is created (or replaced) with."""
    if isinstance(value, dict):
        return any(holds_null(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_null(v) for v in value)
    return value == NULL


def aliased(body: dict[str, Any]) -> dict[str, Any]:
    """An entity body with the JSON-LD keywords `@id` and `@type` read as `id` and `type`."""
    if "@id" not in body and "@type" not in body:
        return body
    out = {k: v for k, v in body.items() if k not in ("@id", "@type")}
    for keyword, name in (("@id", "id"), ("@type", "type")):
        if keyword in body:
            out.setdefault(name, body[keyword])
    return out


def normalize_entity(body: Any, ctx: Context) -> tuple[str, str, dict[str, Any]]:
    """(id, type, attributes) of an entity body; raises BadRequestData when it breaks the spec."""
    if not isinstance(body, dict):
        raise bad_data("an entity must be a JSON object")
    if not body:
        raise invalid("an entity cannot be an empty object")
    body = aliased(body)
    entity_id = check_uri(body.get("id"))
    if entity_id == NULL:
        raise bad_data("urn:ngsi-ld:null is not an entity id")
    return entity_id, entity_type(body, ctx), normalize_attrs(body, ctx)


def simplified(attr: Any) -> Any:
    """An attribute's keyValues (simplified) form."""
    if not isinstance(attr, dict):
        return attr
    if "objectList" in attr:
        return [o.get("object") if isinstance(o, dict) else o for o in attr["objectList"]]
    for member in ("object", "languageMap", "vocab", "valueList", "json"):
        if member in attr:
            return attr[member]
    return attr.get("value")


def _key_values(attr: Any) -> Any:
    """A stored attribute, simplified; a multi-attribute as {"dataset": {datasetId or "@none": value}}."""
    found = instances(attr)
    if not any("datasetId" in i for i in found):
        return simplified(attr)
    return {"dataset": {i.get("datasetId", "@none"): simplified(i) for i in found}}


def _without_times(attr: Any) -> Any:
    strip = ("createdAt", "modifiedAt", "deletedAt", "expiresAt")
    if isinstance(attr, list):
        return [{k: v for k, v in i.items() if k not in strip} for i in attr]
    return {k: v for k, v in attr.items() if k not in strip}


def _compact_attr(attr: Any, ctx: Context) -> Any:
    """An attribute (instance, or array of them) with its sub-attribute names in the requester's terms."""
    if isinstance(attr, list):
        return [_compact_attr(i, ctx) for i in attr]
    if not isinstance(attr, dict):
        return attr
    return {(k if k in ATTR_META else ctx.term(k)): (v if k in ATTR_META else _compact_attr(v, ctx))
            for k, v in attr.items()}


def compact_entity(entity: Entity, ctx: Context, key_values: bool = False) -> Entity:
    """A rendered entity with its type and attribute names in the requester's terms."""
    if ctx.default:
        return entity
    out: Entity = {}
    for name, value in entity.items():
        if name == "type":
            out[name] = [ctx.term(t) for t in value] if isinstance(value, list) else ctx.term(value)
        elif name in RESERVED:
            out[name] = value
        else:
            out[ctx.term(name)] = value if key_values else _compact_attr(value, ctx)
    return out


def _language_ranges(lang: str) -> list[str]:
    """`lang`'s language ranges, best first: by quality value (`fr;q=0.2,nl;q=0.9`: nl first), then as listed."""
    ranked = []
    for position, item in enumerate(lang.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip():
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _pick_language(found: dict[str, Any], lang: str) -> str | None:
    """The languageMap key for `lang` (RFC 4647 lookup, case-insensitive: a range matches its tag, a
    longer range falls back to its prefixes, a shorter one matches a longer tag; `*` any), else the
    entry without a language, else the first."""
    keys = {k.lower(): k for k in found}
    for wanted in _language_ranges(lang):
        if wanted == "*":
            return next((k for k in found if k != "@none"), next(iter(found), None))
        parts = wanted.lower().split("-")
        for n in range(len(parts), 0, -1):
            if "-".join(parts[:n]) in keys:
                return keys["-".join(parts[:n])]
        longer = next((k for low, k in keys.items() if low.startswith(wanted.lower() + "-")), None)
        if longer is not None:
            return longer
    return "@none" if "@none" in found else next(iter(found), None)


def _in_language(attr: Any, lang: str) -> Any:
    """A LanguageProperty (instance) as a Property holding the string in the language asked for
    (`_pick_language`), with `lang` naming it (`lang` query option)."""
    if isinstance(attr, list):
        return [_in_language(i, lang) for i in attr]
    if not isinstance(attr, dict) or attr.get("type") != "LanguageProperty":
        return attr
    found = attr.get("languageMap") or {}
    tag = _pick_language(found, lang)
    out = {k: v for k, v in attr.items() if k != "languageMap"}
    out.update({"type": "Property", "value": found.get(tag)})
    if tag != "@none":
        out["lang"] = tag
    return out


def only_datasets(entity: Entity, dataset_ids: list[str]) -> Entity:
    """The entity with only the attribute instances of those datasetIds (`@none`: the default
    instance); an attribute left with none is dropped. Works on temporal representations too."""
    wanted = {None if d == "@none" else d for d in dataset_ids}
    out: Entity = {}
    for name, attr in entity.items():
        if name in RESERVED:
            out[name] = attr
            continue
        kept = [i for i in (attr if isinstance(attr, list) else [attr])
                if isinstance(i, dict) and i.get("datasetId") in wanted]
        if kept:
            out[name] = kept if isinstance(attr, list) and (len(kept) > 1 or "instanceId" in kept[0]) else kept[0]
    return out


def render(entity: Entity, attrs: list[str] | None = None, key_values: bool = False,
           sys_attrs: bool = False, lang: str | None = None) -> Entity:
    """An entity for the wire: projected on `attrs`, normalized or keyValues, with or without system
    times, LanguageProperties in one language when `lang` is given."""
    out: Entity = {"id": entity["id"], "type": entity["type"]}
    if entity.get("scope"):
        scopes = entity["scope"]
        out["scope"] = scopes[0] if len(scopes) == 1 else scopes
    for name, attr in entity.items():
        if name in RESERVED or (attrs is not None and name not in attrs):
            continue
        if lang is not None:
            attr = _in_language(attr, lang)
        if key_values:
            out[name] = _key_values(attr)
        else:
            out[name] = attr if sys_attrs else _without_times(attr)
    if sys_attrs:  # the entity's own times (the simplified format has no attribute-level ones)
        out["createdAt"], out["modifiedAt"] = entity.get("createdAt"), entity.get("modifiedAt")
        if entity.get("expiresAt"):
            out["expiresAt"] = entity["expiresAt"]
    return out
