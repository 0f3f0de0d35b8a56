"""The demo city simulator (城市模拟器): a few hundred virtual devices in the demo city's
districts, the default rules, and realistic readings sent in-process, over HTTP or over MQTT.

Devices are placed deterministically (by their id) inside the districts' polygons, gas sensors
and cameras at the gazetteer's landmarks, so running the simulator again creates nothing new.
Readings follow the time of day (sun, rush hours, tide) with noise, always inside each
attribute's physical range; `--seed` makes a run repeatable. A simulated clock starts at
`hour` and runs `speed` times faster than the wall clock.

Scenarios: `normal`; `rainstorm` (rain rises city-wide, water levels in the low-lying
districts climb past the warning line → waterlogging alarms → events for the water
department; the ponding sensors stand at the watch points, and at the end of every run the
city-safety agent's waterlogging watch files its warnings); `gas-leak` (one gas sensor at a landmark climbs past the limit → a critical alarm
→ a gas_leak event dispatched to the gas department).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.core.ids import utcnow
from aicity.hub.events.lifecycle import as_utc
from aicity.hub.events.models import Event
from aicity.hub.geo.drainage import drainage
from aicity.hub.geo.gazetteer import District, districts, gazetteer
from aicity.hub.iot import rules, service
from aicity.hub.iot.rules import EVENT_SEVERITY, SEVERITIES, RuleSpec
from aicity.hub.iot.service import DeviceSpec, ReadingIn
from aicity.hub.iot.types import RANGES

Scenario = Literal["normal", "rainstorm", "gas-leak"]
SCENARIOS: tuple[str, ...] = ("normal", "rainstorm", "gas-leak")
#: riverside and lakeside districts, where a rainstorm floods first
LOW_LYING = ("jiangbin", "nanhu")
WATER_WARNING_M = 3.0
PONDING_LIMIT_M = 0.3
GAS_LIMIT_PPM = 1000.0
NO_DATA_S = 600
#: the prefix of every simulated device's id
PREFIX = "sim-"

DEFAULT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec("水位超警戒线 water level above warning", "threshold", "high", device_type="WaterLevelObserved",
             attribute="waterLevel", limit=WATER_WARNING_M),
    RuleSpec("路面积水 road ponding", "threshold", "high", device_type="FloodMonitoring", attribute="waterLevel",
             limit=PONDING_LIMIT_M),
    RuleSpec("燃气浓度超限 gas above limit", "threshold", "critical", device_type="GasSensor",
             attribute="gasConcentration", limit=GAS_LIMIT_PPM),
    *(RuleSpec(f"传感器无数据 {t} silent", "no_data", "medium", device_type=t, seconds=NO_DATA_S)
      for t in ("WaterLevelObserved", "FloodMonitoring", "GasSensor", "WeatherObserved", "AirQualityObserved",
                "TrafficFlowObserved")),
)


# --- the fleet ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    key: str
    type: str
    label: str
    per_district: int
    #: placed at the district's landmarks (then at random points) rather than at random points
    at_landmarks: bool = False
    #: placed at the district's waterlogging watch points (易涝点), then at random points
    at_watch_points: bool = False


KINDS: tuple[Kind, ...] = (
    Kind("water", "WaterLevelObserved", "水位计", 6),
    Kind("ponding", "FloodMonitoring", "积水监测点", 4, at_watch_points=True),
    Kind("rain", "WeatherObserved", "雨量站", 3),
    Kind("gas", "GasSensor", "燃气传感器", 8, at_landmarks=True),
    Kind("air", "AirQualityObserved", "空气质量站", 3),
    Kind("traffic", "TrafficFlowObserved", "车流检测器", 8),
    Kind("light", "Streetlight", "路灯", 12),
    Kind("valve", "Valve", "燃气阀门", 4),
    Kind("gate", "SluiceGate", "排水闸门", 2),
    Kind("signal", "TrafficSignal", "信号机", 2),
    Kind("camera", "Camera", "摄像头", 6, at_landmarks=True),
)


@dataclass(frozen=True)
class SimDevice:
    id: str
    kind: Kind
    district: District
    lat: float
    lon: float
    name: str
    #: the landmark it stands at, if any
    landmark: str | None = None

    @property
    def low_lying(self) -> bool:
        return self.district.id in LOW_LYING

    def spec(self) -> DeviceSpec:
        return DeviceSpec(type=self.kind.type, id=self.id, name=self.name, district=self.district.name,
                          lat=self.lat, lon=self.lon)


def _unit(key: str) -> float:
    """A stable number in [0, 1) for a device (its baseline offsets)."""
    return random.Random(key).random()


def _inside(district: District, rng: random.Random) -> tuple[float, float]:
    xs, ys = [p[0] for p in district.ring], [p[1] for p in district.ring]
    while True:
        lat, lon = rng.uniform(min(ys), max(ys)), rng.uniform(min(xs), max(xs))
        if district.contains(lat, lon):
            return round(lat, 6), round(lon, 6)


def _watch_points() -> dict[str, list[tuple[str, float, float]]]:
    """The waterlogging watch points by district: ponding sensors stand where the city-safety
    agent watches for floods."""
    out: dict[str, list[tuple[str, float, float]]] = {}
    for p in drainage().points:
        out.setdefault(p.district, []).append((p.label, p.lat, p.lon))
    return out


def fleet() -> list[SimDevice]:
    """Every simulated device: the same ids and places on every call."""
    landmarks: dict[str, list[tuple[str, float, float]]] = {}
    for place in {p.name: p for p in gazetteer().places.values()}.values():
        landmarks.setdefault(place.district, []).append((place.name, place.lat, place.lon))
    watch_points = _watch_points()
    out: list[SimDevice] = []
    for d in districts():
        for kind in KINDS:
            for n in range(1, kind.per_district + 1):
                device_id = f"{PREFIX}{d.id}-{kind.key}-{n:02d}"
                rng = random.Random(device_id)
                here = (landmarks if kind.at_landmarks else watch_points if kind.at_watch_points else {}).get(d.id, [])
                place: str | None = None
                if n <= len(here):
                    place, lat, lon = here[n - 1]
                    # a few tens of metres from the landmark's point
                    lat, lon = round(lat + rng.uniform(-3e-4, 3e-4), 6), round(lon + rng.uniform(-3e-4, 3e-4), 6)
                    name = f"{place}{kind.label}"
                else:
                    (lat, lon), name = _inside(d, rng), f"{d.name}{kind.label}{n}号"
                out.append(SimDevice(device_id, kind, d, lat, lon, name, place))
    return out


# --- readings ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moment:
    """Where a run is: its progress (0–1), the simulated hour of day, the scenario."""

    progress: float
    hour: float
    scenario: Scenario
    leak_device: str | None


def _ramp(x: float) -> float:
    """0 → 1 smoothly over x in [0, 1]."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def storm(m: Moment) -> float:
    """The rainstorm's strength: builds over the first half of the run, then holds."""
    return _ramp((m.progress - 0.05) / 0.45) if m.scenario == "rainstorm" else 0.0


def daylight(hour: float) -> float:
    return max(0.0, math.sin(math.pi * (hour % 24 - 6) / 12))


def rush(hour: float) -> float:
    h = hour % 24
    return math.exp(-((h - 8) ** 2) / 2) + math.exp(-((h - 18) ** 2) / 2)


Reader = Callable[[SimDevice, Moment, random.Random], dict[str, float]]


def _water(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    tide = 0.1 * math.sin(2 * math.pi * m.hour / 12.4)
    rise = 2.4 if d.low_lying else 0.6
    return {"waterLevel": 1.0 + 0.5 * _unit(d.id) + tide + rise * storm(m) + rng.gauss(0, 0.02)}


def _ponding(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    rise = 0.55 if d.low_lying else 0.1
    return {"waterLevel": max(0.0, rise * storm(m) + rng.gauss(0, 0.005))}


def _rain(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    s = storm(m)
    return {"precipitation": max(0.0, s * (70 + 20 * _unit(d.id)) * (1 + rng.gauss(0, 0.08))),
            "temperature": 22 + 5 * math.sin(math.pi * (m.hour - 9) / 12) - 4 * s + rng.gauss(0, 0.3),
            "relativeHumidity": 60 - 15 * daylight(m.hour) + 35 * s + rng.gauss(0, 2)}


def _gas(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    leak = _ramp((m.progress - 0.3) / 0.4) * 8000 if d.id == m.leak_device else 0.0
    return {"gasConcentration": max(0.0, 3 + 2 * _unit(d.id) + leak + rng.gauss(0, 1.5))}


def _air(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    pm25 = (30 + 10 * _unit(d.id) + 25 * rush(m.hour)) * (1 - 0.5 * storm(m)) + rng.gauss(0, 4)
    return {"pm25": max(0.0, pm25), "pm10": max(0.0, 1.6 * pm25 + rng.gauss(0, 6))}


def _traffic(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    flow = (250 + 300 * _unit(d.id) + 1500 * rush(m.hour)) * (1 - 0.4 * storm(m))
    return {"intensity": max(0.0, round(flow * (1 + rng.gauss(0, 0.05))))}


def _light(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    ambient = 60_000 * daylight(m.hour) * (1 - 0.9 * storm(m)) + abs(rng.gauss(0, 20))
    return {"powerState": 1.0 if ambient < 1_000 else 0.0, "illuminance": ambient}


def _valve(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    return {"openingLevel": 100.0}


def _gate(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    # drainage gates open as the storm builds
    return {"openingLevel": round(100 * _ramp((storm(m) - 0.3) / 0.5))}


def _powered(d: SimDevice, m: Moment, rng: random.Random) -> dict[str, float]:
    return {"powerState": 1.0}


READERS: dict[str, Reader] = {"water": _water, "ponding": _ponding, "rain": _rain, "gas": _gas, "air": _air,
                              "traffic": _traffic, "light": _light, "valve": _valve, "gate": _gate,
                              "camera": _powered, "signal": _powered}
UNITS = {"waterLevel": "m", "precipitation": "mm/h", "temperature": "°C", "relativeHumidity": "%",
         "gasConcentration": "ppm", "pm25": "µg/m³", "pm10": "µg/m³", "intensity": "veh/h", "illuminance": "lx",
         "openingLevel": "%"}


def _clamp(attribute: str, value: float) -> float:
    low, high = RANGES.get(attribute, (-math.inf, math.inf))
    return round(min(max(value, low), high), 3)


def read(device: SimDevice, m: Moment, rng: random.Random) -> list[ReadingIn]:
    return [ReadingIn(device.id, attribute, _clamp(attribute, value), UNITS.get(attribute, ""))
            for attribute, value in READERS[device.kind.key](device, m, rng).items()]


@dataclass(frozen=True)
class Plan:
    scenario: Scenario = "normal"
    duration: float = 60.0
    rate: float = 200.0
    seed: int = 0
    hour: float = 8.0
    #: simulated seconds per wall-clock second
    speed: float = 60.0
    #: batches per second
    ticks: float = 5.0

    @property
    def total(self) -> int:
        return max(1, int(self.duration * self.rate))


def leak_device(devices: list[SimDevice], seed: int) -> str:
    """The gas sensor that leaks: one at a landmark, chosen by the seed."""
    candidates = [d for d in devices if d.kind.key == "gas" and d.landmark]
    return random.Random(seed).choice(candidates).id


def batches(devices: list[SimDevice], plan: Plan) -> Iterator[list[ReadingIn]]:
    """The run's readings, batch by batch (devices in turn; `plan.total` readings in all)."""
    rng = random.Random(plan.seed)
    leak = leak_device(devices, plan.seed) if plan.scenario == "gas-leak" else None
    per_batch = max(1, round(plan.rate / plan.ticks))
    sent, i = 0, 0
    while sent < plan.total:
        batch: list[ReadingIn] = []
        while len(batch) < per_batch and sent + len(batch) < plan.total:
            progress = (sent + len(batch)) / plan.total
            moment = Moment(progress, plan.hour + progress * plan.duration * plan.speed / 3600, plan.scenario, leak)
            batch += read(devices[i % len(devices)], moment, rng)
            i += 1
        sent += len(batch)
        yield batch


# --- where devices, rules and readings go --------------------------------------------------------

class City(Protocol):
    """The city the simulator talks to: this process's database, or a server's API."""

    def device_ids(self) -> set[str]: ...
    def create_device(self, spec: DeviceSpec) -> None: ...
    def rules(self) -> list[dict[str, Any]]: ...
    def create_rule(self, spec: RuleSpec) -> None: ...
    def send(self, batch: list[ReadingIn]) -> None: ...
    def latest(self, device_id: str, attribute: str) -> datetime | None: ...
    def alarms(self) -> list[dict[str, Any]]: ...
    def event(self, event_id: str) -> dict[str, Any] | None: ...
    def flood_warnings(self) -> list[dict[str, Any]] | None: ...


ACTOR = "simulator"
#: the waterlogging watch a local run triggers after its readings; the city-safety agent registers
#: its own (`watch_floods`), so that the hub does not import an agent
_flood_watch: list[Callable[[], list[dict[str, Any]]]] = []


def watch_floods(run: Callable[[], list[dict[str, Any]]]) -> Callable[[], None]:
    """Register what `LocalCity.flood_warnings` runs (the city-safety agent's `flood.warn`);
    returns the function that puts the previous one back."""
    previous = list(_flood_watch)
    _flood_watch[:] = [run]

    def restore() -> None:
        _flood_watch[:] = previous

    return restore


class LocalCity:
    """This process's database (the data dir); readings go through `service.ingest`."""

    def device_ids(self) -> set[str]:
        return {d.id for d in service.list_devices(limit=100_000) if d.id.startswith(PREFIX)}

    def create_device(self, spec: DeviceSpec) -> None:
        service.create_device(spec, ACTOR)

    def rules(self) -> list[dict[str, Any]]:
        return [rules.rule_json(r) for r in rules.list_rules()]

    def create_rule(self, spec: RuleSpec) -> None:
        rules.create_rule(spec, ACTOR)

    def send(self, batch: list[ReadingIn]) -> None:
        service.ingest(batch)

    def latest(self, device_id: str, attribute: str) -> datetime | None:
        """When the device's newest stored reading of `attribute` was observed."""
        rows = service.readings(device_id, attribute, limit=1)
        return as_utc(rows[0].observed_at) if rows else None

    def alarms(self) -> list[dict[str, Any]]:
        return [rules.alarm_json(a) for a in rules.list_alarms(limit=1000)]

    def event(self, event_id: str) -> dict[str, Any] | None:
        with database().session() as s:
            e = s.get(Event, event_id)
            return None if e is None else {"id": e.id, "category": e.category, "department": e.department,
                                           "status": e.status}

    def flood_warnings(self) -> list[dict[str, Any]] | None:
        """Run the waterlogging watch registered with `watch_floods` (None when none is)."""
        return _flood_watch[0]() if _flood_watch else None


class RemoteCity:
    """A running server, with a staff API key. An error answer is raised as the server's
    `Problem`; an unreachable server as `httpx.TransportError`."""

    def __init__(self, url: str, key: str) -> None:
        import httpx

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--url 须形如 http://127.0.0.1:8000 / --url must look like http://host:8000, not {url!r}")
        self.http = httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def _ok(self, resp: Any) -> Any:
        if resp.is_error:
            raise _problem(resp)
        return resp.json() if resp.content else None

    def device_ids(self) -> set[str]:
        rows = self._ok(self.http.get("/api/v1/iot/devices", params={"limit": 5000}))
        return {d["id"] for d in rows if d["id"].startswith(PREFIX)}

    def create_device(self, spec: DeviceSpec) -> None:
        resp = self.http.post("/api/v1/iot/devices", json=spec.__dict__)
        if resp.status_code != 409:  # created meanwhile: fine
            self._ok(resp)

    def rules(self) -> list[dict[str, Any]]:
        return list(self._ok(self.http.get("/api/v1/iot/rules")))

    def create_rule(self, spec: RuleSpec) -> None:
        self._ok(self.http.post("/api/v1/iot/rules", json=spec.__dict__))

    def send(self, batch: list[ReadingIn]) -> None:
        self._ok(self.http.post("/api/v1/iot/telemetry", json={"readings": [
            {"device_id": r.device_id, "attribute": r.attribute, "value": r.value, "unit": r.unit} for r in batch]}))

    def latest(self, device_id: str, attribute: str) -> datetime | None:
        rows = self._ok(self.http.get(f"/api/v1/iot/devices/{device_id}/readings",
                                      params={"attribute": attribute, "limit": 1}))
        return as_utc(datetime.fromisoformat(rows[0]["observed_at"])) if rows else None

    def alarms(self) -> list[dict[str, Any]]:
        return list(self._ok(self.http.get("/api/v1/iot/alarms", params={"limit": 1000})))

    def event(self, event_id: str) -> dict[str, Any] | None:
        resp = self.http.get(f"/api/v1/events/{event_id}")
        if resp.status_code == 404:
            return None
        e = self._ok(resp)
        return {k: e.get(k) for k in ("id", "category", "department", "status")}

    def flood_warnings(self) -> list[dict[str, Any]] | None:
        """Run the server's waterlogging watch now; None when the key may not (operators and admins may)."""
        resp = self.http.post("/api/v1/safety/waterlogging/warnings")
        return None if resp.status_code == 403 else list(self._ok(resp))


def _problem(resp: Any) -> Problem:
    """The server's problem details (RFC 9457) as a `Problem`, or the bare status when the body is not one."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Problem(resp.status_code, f"HTTP {resp.status_code}", resp.text[:200])
    return Problem(resp.status_code, str(body.get("title") or f"HTTP {resp.status_code}"), str(body.get("detail") or ""),
                   str(body.get("type") or "about:blank"))


#: how long to wait for the broker to accept the connection, and to acknowledge a batch
MQTT_TIMEOUT_S = 10.0


class MqttSender:
    """Publishes each device's readings to `aicity/{device_id}/telemetry` (QoS 1). A bad URL is a
    `ValueError`; a broker that cannot be reached, refuses the connection or does not acknowledge
    in time an `OSError` (ConnectionError, TimeoutError)."""

    def __init__(self, url: str) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:  # a port that is not a number
            port = -1
        if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname or port == -1:
            raise ValueError(f"--mqtt 须形如 mqtt://127.0.0.1:1883 / --mqtt must look like mqtt://host:1883, not {url!r}")
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"aicity-simulator-{random.getrandbits(32):x}")
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            self.client.tls_set()
        self.client.max_inflight_messages_set(1000)
        self._connected = threading.Event()
        self._refused: str | None = None
        self.client.on_connect = self._on_connect
        self.client.connect(parts.hostname, port or (8883 if parts.scheme == "mqtts" else 1883))
        self.client.loop_start()
        self._wait_connected()

    def _on_connect(self, _client: Any, _userdata: object, _flags: object, reason: Any, _props: object) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        self._connected.set()

    def _wait_connected(self) -> None:
        """Readings published before the broker's CONNACK would be lost if it refuses us."""
        arrived = self._connected.wait(MQTT_TIMEOUT_S)
        if arrived and self._refused is None:
            return
        self.close()
        if not arrived:
            raise TimeoutError(f"MQTT 代理 {MQTT_TIMEOUT_S:g} 秒内未应答 / the broker did not answer in {MQTT_TIMEOUT_S:g} s")
        raise ConnectionError(f"MQTT 代理拒绝连接 / the broker refused the connection: {self._refused}")

    def send(self, batch: list[ReadingIn]) -> None:
        by_device: dict[str, list[dict[str, Any]]] = {}
        for r in batch:
            by_device.setdefault(r.device_id, []).append(_payload(r))
        # the batch's last reading goes out last: `settle` knows the run is stored when it is
        by_device[batch[-1].device_id] = by_device.pop(batch[-1].device_id)
        infos = [self.client.publish(f"aicity/{device_id}/telemetry", json.dumps({"readings": rows}), qos=1)
                 for device_id, rows in by_device.items()]
        for info in infos:
            info.wait_for_publish(MQTT_TIMEOUT_S)
            if not info.is_published():
                raise TimeoutError(f"MQTT 代理 {MQTT_TIMEOUT_S:g} 秒内未确认读数 / the broker did not acknowledge "
                                   f"readings in {MQTT_TIMEOUT_S:g} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _payload(r: ReadingIn) -> dict[str, Any]:
    row: dict[str, Any] = {"attribute": r.attribute, "value": r.value, "unit": r.unit}
    if r.observed_at is not None:
        row["observed_at"] = r.observed_at.isoformat()
    return row


# --- a run -------------------------------------------------------------------------------------

@dataclass
class Summary:
    scenario: str
    seed: int
    devices: int
    devices_created: int
    rules_created: int
    readings_sent: int = 0
    rejected: int = 0
    #: False when readings sent over MQTT were not all stored (or their alarms filed) in time
    all_stored: bool = True
    alarms: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    #: waterlogging warnings the city-safety watch filed at the end of the run (None: not allowed)
    flood_warnings: list[dict[str, Any]] | None = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "devices": self.devices,
                "devices_created": self.devices_created, "rules_created": self.rules_created,
                "readings_sent": self.readings_sent, "rejected": self.rejected, "all_stored": self.all_stored,
                "alarms_raised": len(self.alarms), "alarms": self.alarms, "events_filed": len(self.events),
                "events": self.events, "flood_warnings": self.flood_warnings}


def _same_rule(a: dict[str, Any], b: RuleSpec) -> bool:
    return (a["kind"], a["device_type"], a["device_id"], a["attribute"]) == (b.kind, b.device_type, b.device_id,
                                                                            b.attribute)


def install(city: City, devices: list[SimDevice]) -> tuple[int, int]:
    """Create the devices and default rules that are missing (an equivalent rule counts);
    returns how many of each were created."""
    known = city.device_ids()
    missing = [d for d in devices if d.id not in known]
    for d in missing:
        city.create_device(d.spec())
    existing = city.rules()
    new_rules = [spec for spec in DEFAULT_RULES if not any(_same_rule(r, spec) for r in existing)]
    for spec in new_rules:
        city.create_rule(spec)
    return len(missing), len(new_rules)


class Sender(Protocol):
    def send(self, batch: list[ReadingIn]) -> None: ...


#: what a city answers for readings it refuses (invalid, unknown device): counted, and the run goes on
REFUSED = (404, 422)
#: how long to wait for a broker's subscriber (the server) to store the readings sent over MQTT
SETTLE_TIMEOUT_S = 30.0
_POLL_S = 0.1


def _run_alarms(city: City, started: datetime) -> list[dict[str, Any]]:
    """The simulated devices' alarms first seen since `started`, oldest first."""
    alarms = [a for a in city.alarms()
              if a["device_id"].startswith(PREFIX) and as_utc(datetime.fromisoformat(a["first_seen"])) >= started]
    return sorted(alarms, key=lambda a: a["first_seen"])


def _filed(alarms: list[dict[str, Any]]) -> bool:
    """Whether every alarm severe enough to become an event has its event."""
    severe = SEVERITIES[SEVERITIES.index(EVENT_SEVERITY):]
    return all(a["event_id"] for a in alarms if a["severity"] in severe)


def _stored(city: City, last: ReadingIn) -> bool:
    seen = city.latest(last.device_id, last.attribute)
    return seen is not None and last.observed_at is not None and seen >= last.observed_at


def settle(city: City, last: ReadingIn, started: datetime, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
    """Wait until the city stored `last` (the run's last reading, stamped when it was sent) and
    filed the run's severe alarms as events: the broker acknowledges readings before its
    subscriber (the server) stores them, in the order they were published. False when the city
    did not in `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (_stored(city, last) and _filed(_run_alarms(city, started))):
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL_S)
    return True


def simulate(city: City, plan: Plan, sender: Sender | None = None, pace: bool = True,
             settle_timeout_s: float = SETTLE_TIMEOUT_S, progress: Callable[[int, int], None] | None = None) -> Summary:
    """Install the fleet and run `plan`; readings go to `sender` (default: the city itself).
    With `pace`, readings are spread over `plan.duration` seconds; otherwise sent at once.
    Readings through a `sender` (MQTT) are stored asynchronously: they carry the time they were
    sent, and the summary waits (up to `settle_timeout_s`) until the city has stored the last one."""
    devices = fleet()
    created, rules_created = install(city, devices)
    summary = Summary(plan.scenario, plan.seed, len(devices), created, rules_created)
    started: datetime = utcnow()
    t0 = time.monotonic()
    last: ReadingIn | None = None
    for batch in batches(devices, plan):
        if sender is not None:
            sent_at = utcnow()
            batch = [replace(r, observed_at=sent_at) for r in batch]
        try:
            (sender or city).send(batch)
            summary.readings_sent += len(batch)
            last = batch[-1]
        except Problem as exc:
            if exc.status not in REFUSED:
                raise
            summary.rejected += len(batch)
        if progress:
            progress(summary.readings_sent + summary.rejected, plan.total)
        if pace and (ahead := (summary.readings_sent + summary.rejected) / plan.rate - (time.monotonic() - t0)) > 0:
            time.sleep(ahead)
    if sender is not None and last is not None:
        summary.all_stored = settle(city, last, started, settle_timeout_s)
    summary.alarms = _run_alarms(city, started)
    event_ids = dict.fromkeys(a["event_id"] for a in summary.alarms if a["event_id"])
    summary.events = [e for e in map(city.event, event_ids) if e is not None]
    summary.flood_warnings = city.flood_warnings()
    return summary
