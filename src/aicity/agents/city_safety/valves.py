"""Which device a safety request means: one named by its id, the nearest of a type to a place
(a gas sensor's valve, the gate or signal at a waterlogging watch point), or every one of a type
in the district named."""

from __future__ import annotations

import re

from aicity.core.db import database
from aicity.core.errors import Problem, not_found
from aicity.hub.geo.drainage import WatchPoint, drainage
from aicity.hub.geo.gazetteer import district_in, districts
from aicity.hub.iot import service
from aicity.hub.iot.models import Alarm, Device
from aicity.hub.iot.types import DEVICE_TYPES
from aicity.hub.twin.query import distance_m

#: device ids as they appear in a request (字母开头，含 _.:- )
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{1,79}")


def _no_device(type_: str, detail: str) -> Problem:
    label = DEVICE_TYPES[type_].label
    return Problem(422, f"无可操作的{label} No {type_}", detail.format(label=label, type=type_), "no-device")


def _position(device: Device) -> tuple[float, float] | None:
    return (device.lon, device.lat) if device.lon is not None and device.lat is not None else None


def nearest_device(type_: str, district: str | None, at: tuple[float, float] | None) -> Device:
    """The `type_` device in `district` nearest `at` (lon, lat); the first one when either side
    has no position."""
    devices = service.list_devices(type_, district) if district else []
    if not devices:
        raise _no_device(type_, f"{district or '未知区域'}没有登记的{{label}} / no {{type}} in the district")
    located = [(d, p) for d in devices if (p := _position(d)) is not None]
    if at is None or not located:
        return devices[0]
    return min(located, key=lambda pair: distance_m(at, pair[1]))[0]


def nearest_valve(sensor: Device) -> Device:
    return nearest_device("Valve", sensor.district, _position(sensor))


def _devices(ids: list[str]) -> list[Device]:
    found = []
    for device_id in ids:
        try:
            found.append(service.get_device(device_id))
        except Problem:
            continue
    return found


def resolve_valve(valve: str | None, sensor: str | None, alarm: str | None, text: str) -> Device:
    """The valve a request means: named directly, or the nearest to a gas sensor or its alarm;
    else the first device id in the text that is a Valve or a GasSensor."""
    if alarm and not sensor:
        with database().session() as s:
            row = s.get(Alarm, alarm)
        if row is None:
            raise not_found(f"告警不存在 no alarm '{alarm}'", "unknown-alarm")
        sensor = row.device_id
    for device in _devices([valve] if valve else [sensor] if sensor else _ID.findall(text)):
        if device.type == "Valve":
            return device
        if device.type == "GasSensor":
            return nearest_valve(device)
    raise Problem(422, "未指明阀门 No valve named",
                  "请给出阀门设备编号，或需要隔离的燃气传感器/告警编号 / name the valve, gas sensor or alarm", "no-device")


def watch_point_in(text: str) -> WatchPoint | None:
    """The first waterlogging watch point (易涝点) a text names, by its id, name or road."""
    return next((p for p in drainage().points if p.id in text or p.name in text or p.road in text), None)


def _district_name(district_id: str) -> str | None:
    return next((d.name for d in districts() if d.id == district_id), None)


def resolve_devices(type_: str, device_id: str | None, place: str | None, text: str) -> list[Device]:
    """The `type_` devices a request means: the one named by id (the field, else ids in the
    text); else the nearest to the watch point named (`place`, else the text); else every one in
    the district named."""
    named = [d for d in _devices([device_id] if device_id else _ID.findall(text)) if d.type == type_]
    if named:
        return named
    if device_id:
        raise _no_device(type_, f"'{device_id}' 不是{{label}} / is not a {{type}}")
    where = place or text
    if point := watch_point_in(where):
        return [nearest_device(type_, _district_name(point.district), (point.lon, point.lat))]
    if district := district_in(where):
        if devices := service.list_devices(type_, district.name):
            return devices
        raise _no_device(type_, f"{district.name}没有登记的{{label}} / no {{type}} in the district")
    raise _no_device(type_, "请给出{label}编号、易涝点或区域 / name the {type}, a waterlogging watch point or a district")
