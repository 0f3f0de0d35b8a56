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
#: a device's number as people write it: "No. 3", "#3", "number 3", "3号"
_NUMBER = re.compile(r"\s*(?:(?:no\.?|#|number)\s*(\d{1,3})\b|0*(\d{1,3})\s*号|(\d{1,3})\b)")
_AFTER_WORDS = re.compile(r"(?:\s+[a-z]+){1,2}\s*(?:(?:no\.?|#|number)\s*(\d{1,3})\b|(\d{1,3})\b)")
_DEVICE_NUMBER = re.compile(r"(\d+)号$")
#: what people call a kind of device when they name none of its devices ("把解放大道的路灯关掉"); "Device": a
#: device of a kind no skill but the generic device command takes (泵, 情报板 …; not a bare 设备, which names no device
#: and would let a conversation reach the generic command: tests/hub/iot/test_commands_policy.py)
DEVICE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TrafficSignal", ("信号机", "信号灯", "红绿灯", "traffic signal", "signal")),
    ("SluiceGate", ("排水闸门", "闸门", "sluice", "floodgate", "gate")),
    ("Valve", ("燃气阀门", "阀门", "燃气阀", "gas valve")),
    ("Streetlight", ("路灯", "街灯", "景观灯", "照明灯", "景观照明", "夜景照明", "道路照明", "streetlight", "street light", "light")),
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
        return next((d for d in self.by_name if d.name in text), None) or self._by_parts(text)

    def _by_parts(self, text: str) -> Device | None:
        """A device named by its parts in other words: its district (English too), its number and its kind
        ("Close gas valve No. 3 in Donghu District"), or its kind misspelt by a character ("光谷区路登2号")."""
        district = district_in(text)
        if district is None:
            return None
        lowered = text.lower()
        kind = type_named(lowered)
        if kind is not None:  # the number right after the kind's word: 闸门2号, valve No. 3 (幸福路2号 is an address)
            word = next(w for t, words in DEVICE_WORDS if t == kind.type for w in words if w in lowered)
            number = _NUMBER.match(lowered, lowered.index(word) + len(word))  # (English may put a word between:
            number = number or _AFTER_WORDS.match(lowered, lowered.index(word) + len(word))  # signal controller 2)
            n = next((g for g in number.groups() if g), None) if number else None
            return next((d for d in self.by_name if d.type == kind.type and n is not None
                         and d.name.startswith(district.name) and _number_of(d.name) == int(n)), None)
        said = re.search(rf"{re.escape(district.name)}(.{{1,8}}?)0*(\d{{1,3}})号", text)
        if said is None:
            return None
        n = int(said.group(2))
        close = [d for d in self.by_name if d.name.startswith(district.name) and _number_of(d.name) == n
                 and _one_apart(d.name[len(district.name):_DEVICE_NUMBER.search(d.name).start()], said.group(1))]
        return close[0] if len(close) == 1 else None


def _number_of(name: str) -> int | None:
    """The number a device's name ends with (东湖区路灯12号 → 12; 2号 is not 12号), else None."""
    found = _DEVICE_NUMBER.search(name)
    return int(found.group(1)) if found else None


def _one_apart(a: str, b: str) -> bool:
    """Whether two words differ in exactly one character at the same place (a typo: 路登 for 路灯)."""
    return len(a) == len(b) >= 2 and sum(x != y for x, y in zip(a, b, strict=True)) == 1


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
