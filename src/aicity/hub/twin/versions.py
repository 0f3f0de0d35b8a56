"""The NGSI-LD version preference (GS CIM 009 clause 6.3.6, `Prefer: ngsi-ld=1.5`, RFC 7240 syntax): the
answer says which version it applied (`Preference-Applied`) and, for a version older than an attribute
type, answers that attribute in the older form (203: the payload was altered)."""

from __future__ import annotations

import re
from typing import Any

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")
#: attribute types newer than 1.8, and how an older consumer gets them: (older type, its value member)
_NEWER = {"VocabProperty": ("Property", "value", "vocab"), "JsonProperty": ("Property", "value", "json"),
          "ListProperty": ("Property", "value", "valueList"),
          "ListRelationship": ("Relationship", "object", "objectList")}


def preferred(header: str | None) -> str | None:
    """The `ngsi-ld` preference of a Prefer header (names case-insensitive, the value a token or a
    quoted string, parameters after `;`, among other preferences), as `1.5`; None when absent."""
    for preference in (header or "").split(","):
        name, _, value = preference.split(";")[0].strip().partition("=")
        value = value.strip().strip('"')
        if name.strip().lower() == "ngsi-ld" and _VERSION.match(value):
            return value
    return None


def _older(attr: Any) -> tuple[Any, bool]:
    if isinstance(attr, list):
        pairs = [_older(a) for a in attr]
        return [a for a, _ in pairs], any(changed for _, changed in pairs)
    if not isinstance(attr, dict) or attr.get("type") not in _NEWER:
        return attr, False
    kind, member, newer = _NEWER[attr["type"]]
    value = attr.get(newer)
    if newer == "objectList" and isinstance(value, list):
        value = [o.get("object") if isinstance(o, dict) else o for o in value]
    return {**{k: v for k, v in attr.items() if k != newer}, "type": kind, member: value}, True


def downgrade(data: Any, version: str) -> tuple[Any, bool]:
    """Entities (one or a list) in the form a consumer of `version` understands; whether anything changed."""
    found = _VERSION.match(version)
    if found is None or (int(found.group(1)), int(found.group(2))) >= (1, 8):
        return data, False
    if isinstance(data, list):
        pairs = [downgrade(d, version) for d in data]
        return [d for d, _ in pairs], any(changed for _, changed in pairs)
    if not isinstance(data, dict):
        return data, False
    out, changed = {}, False
    for name, attr in data.items():
        out[name], altered = _older(attr)
        changed = changed or altered
    return out, changed
