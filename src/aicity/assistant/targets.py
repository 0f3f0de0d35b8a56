"""Targets a request names outright: a district of the city, or a device by its id or its name.

Catalog items, bundles and departments are ranked by BM25 against their routes (`router`); a district or
a device is not ranked but read from the request's words ("江滨区", "东湖区燃气阀门2号",
"sim-guanggu-valve-03"). A skill says which of these it works on by its `target_params`: `district`
(a district id), or a device param (`DEVICE_PARAMS`: which device types the param takes). Within a
decided mode a device named outright also picks the skill: the one whose param takes that device's type.

The devices known are the city's registered ones and the demo city's simulated fleet (`hub/iot/simulator`:
the same ids and names on every machine, registered when the simulator runs)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from aicity.hub.geo.gazetteer import district_in
from aicity.hub.iot import service as iot
from aicity.hub.iot.simulator import fleet

log = logging.getLogger(__name__)

DISTRICT = "district"
#: device params of the skills → the device types each takes (empty: any type)
DEVICE_PARAMS: dict[str, tuple[str, ...]] = {
    "valve": ("Valve",), "gate": ("SluiceGate",), "signal": ("TrafficSignal",), "device": (),
}
#: a device id as written in a request (as `agents/city_safety/valves`)
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{1,79}")
#: what people call a kind of device when they name none of its devices ("把解放大道的路灯关掉"); "Device": a
#: device of a kind no skill but the generic device command takes (泵, 情报板 …)
DEVICE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TrafficSignal", ("信号机", "信号灯", "红绿灯", "traffic signal", "signal controller")),
    ("SluiceGate", ("排水闸门", "闸门", "sluice", "floodgate")),
    ("Valve", ("燃气阀门", "阀门", "燃气阀", "gas valve")),
    ("Streetlight", ("路灯", "街灯", "景观灯", "照明灯", "streetlight", "street light", "light")),
    ("Camera", ("摄像头", "摄像机", "球机", "camera")),
    ("Device", ("水泵", "泵站", "情报板", "诱导屏", "电子屏", "大屏", "栏杆", "喇叭", "广播", "监测设备", "水位计",
                "pump")),
)


@dataclass(frozen=True)
class Device:
    id: str
    type: str
    name: str


class Devices:
    """The devices a request may name, by id and by name (the longest name found wins)."""

    def __init__(self) -> None:
        known: dict[str, Device] = {d.id: Device(d.id, d.kind.type, d.name) for d in fleet()}
        try:
            known.update({d.id: Device(d.id, d.type, d.name or "") for d in iot.list_devices(limit=100_000)})
        except SQLAlchemyError as exc:  # a database without the IoT tables: the demo fleet only
            log.warning("registered devices could not be read: %s", exc)
        self.by_id = {d.id.lower(): d for d in known.values()}
        self.by_name = sorted((d for d in known.values() if len(d.name) >= 3), key=lambda d: -len(d.name))

    def named(self, text: str) -> Device | None:
        for token in _ID.findall(text):
            if (found := self.by_id.get(token.lower().rstrip(".:-"))) is not None:
                return found
        return next((d for d in self.by_name if d.name in text), None)


def type_named(text: str) -> Device | None:
    """A kind of device the request names without naming one of them ("路灯"): a Device with no id, else None."""
    lowered = text.lower()
    return next((Device("", type_, "") for type_, words in DEVICE_WORDS if any(w in lowered for w in words)), None)


def is_named(kind: str) -> bool:
    """Whether a target kind is read from the request's words (a district, a device) rather than ranked."""
    return kind == DISTRICT or kind in DEVICE_PARAMS


def fits(param: str, device: Device) -> int:
    """How well a device param takes `device`: 2 its own type, 1 any type, 0 not at all."""
    if param not in DEVICE_PARAMS:
        return 0
    types = DEVICE_PARAMS[param]
    return 2 if device.type in types else 1 if not types else 0


def named_targets(text: str, kinds: tuple[str, ...], devices: Devices) -> dict[str, str]:
    """The params of `kinds` that `text` names outright (a district, a device of the param's types)."""
    out: dict[str, str] = {}
    device = devices.named(text) if any(k in DEVICE_PARAMS for k in kinds) else None
    for kind in kinds:
        if kind == DISTRICT and (district := district_in(text)) is not None:
            out[kind] = district.id
        elif device is not None and fits(kind, device):
            out[kind] = device.id
    return out
