"""Which valve isolates a gas sensor: the nearest Valve in the sensor's district."""

from __future__ import annotations

import re

from aicity.core.db import database
from aicity.core.errors import Problem, not_found
from aicity.hub.iot import service
from aicity.hub.iot.models import Alarm, Device
from aicity.hub.twin.query import distance_m

#: device ids as they appear in a request (字母开头，含 _.:- )
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{1,79}")


def nearest_valve(sensor: Device) -> Device:
    valves = service.list_devices("Valve", sensor.district) if sensor.district else []
    if not valves:
        raise Problem(422, "无可关闭的阀门 No valve", f"{sensor.district or '未知区域'}没有登记的阀门 / no Valve in the district",
                      "no-valve")
    if sensor.lat is None or sensor.lon is None:
        return valves[0]
    here = (sensor.lon, sensor.lat)
    located = [v for v in valves if v.lat is not None and v.lon is not None]
    return min(located, key=lambda v: distance_m(here, (v.lon or 0.0, v.lat or 0.0))) if located else valves[0]


def resolve_valve(valve: str | None, sensor: str | None, alarm: str | None, text: str) -> Device:
    """The valve a request means: named directly, or the nearest to a gas sensor or its alarm;
    else the first device id in the text that is a Valve or a GasSensor."""
    if alarm and not sensor:
        with database().session() as s:
            row = s.get(Alarm, alarm)
        if row is None:
            raise not_found(f"告警不存在 no alarm '{alarm}'", "unknown-alarm")
        sensor = row.device_id
    candidates = [valve] if valve else [sensor] if sensor else _ID.findall(text)
    for device_id in candidates:
        try:
            device = service.get_device(device_id or "")
        except Problem:
            continue
        if device.type == "Valve":
            return device
        if device.type == "GasSensor":
            return nearest_valve(device)
    raise Problem(422, "未指明阀门 No valve named",
                  "请给出阀门设备编号，或需要隔离的燃气传感器/告警编号 / name the valve, gas sensor or alarm", "no-valve")
