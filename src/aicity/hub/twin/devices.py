"""Devices over NGSI-LD: a device that updates its own entity's attributes sends readings.

Each numeric Property becomes a reading through the IoT hub's `ingest` (channel "ngsi-ld"), the
same path as HTTP and MQTT telemetry: validated against the attribute's physical range, stored,
run through the rules (alarms, events). The twin then follows through the mirror
(`iot.reading.stored`), so the entity is written once, by the mirror."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aicity.core.errors import Problem
from aicity.hub.iot import service as iot
from aicity.hub.iot.models import Device
from aicity.hub.iot.service import ReadingIn
from aicity.hub.twin.attrs import RESERVED, check_name, normalize_attr
from aicity.hub.twin.context import Context
from aicity.hub.twin.errors import NgsiError, bad_data, from_problem

CHANNEL = "ngsi-ld"
#: what a reading carries; anything else (datasetId, sub-attributes …) has no place in one
_READING = {"type", "value", "observedAt", "unitCode"}


def _reading(device: Device, name: str, raw: Any, ctx: Context) -> ReadingIn:
    attr = normalize_attr(name, raw, ctx)
    value = attr.get("value")
    if attr["type"] != "Property" or isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_data(f"{name}: a device sends numeric Properties only")
    if extra := sorted(set(attr) - _READING):
        raise bad_data(f"{name}: a device's reading carries only value, observedAt and unitCode, not {extra}")
    try:
        number = float(value)
    except OverflowError:
        raise bad_data(f"{name}: {value} is not a finite number") from None
    observed = datetime.fromisoformat(str(attr["observedAt"])) if "observedAt" in attr else None
    return ReadingIn(device.id, name, number, attr.get("unitCode", ""), observed)


def readings(device: Device, fragment: Any, ctx: Context) -> list[ReadingIn]:
    """The readings in an attribute fragment; BadRequestData for anything that is not one."""
    if not isinstance(fragment, dict):
        raise bad_data("the attributes must be a JSON object")
    names = [n for n in fragment if n != "@context"]
    if not names:
        raise bad_data("no attribute to write")
    if reserved := [n for n in names if n in RESERVED]:
        raise bad_data(f"a device writes attribute values only, not {', '.join(reserved)}")
    return [_reading(device, check_name(ctx.compact(n)), fragment[n], ctx) for n in names]


def write(device: Device, fragment: Any, ctx: Context) -> None:
    """Ingest the fragment as the device's readings; all or nothing."""
    batch = readings(device, fragment, ctx)
    try:
        iot.ingest(batch, device, CHANNEL)
    except Problem as exc:
        raise _refused(exc) from exc


def _refused(problem: Problem) -> NgsiError:
    """The IoT hub's refusal as an NGSI-LD error; invalid readings are named by attribute."""
    invalid = problem.extra.get("invalid")
    if not invalid:
        return from_problem(problem)
    return bad_data("invalid readings, nothing stored: " + "; ".join(
        f"{i.get('attribute', 'batch')}: {i['reason']}" for i in invalid))
