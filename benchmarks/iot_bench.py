"""IoT ingestion and the gas-alarm loop.

    .venv/bin/python benchmarks/iot_bench.py

Prints readings stored per second over HTTP batch (a real uvicorn server on loopback, a gateway
posting batches of 5,000 readings of 100 devices with a staff key; target ≥ 20,000/s) and over
MQTT (QoS 1, a private Mosquitto on loopback, one reading per message), and the gas loop's
latency on a fresh demo city: from a gas reading over the threshold to the city event dispatched
and to the valve-close approval request raised (p50/p99 of the warm loops; the first, cold loop
on its own), and the telemetry request's own response time.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import mkdtemp

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aicity.core.bus import bus
from aicity.demo.loader import open_demo_city
from aicity.hub.geo.gazetteer import District, districts
from aicity.hub.iot import api as iot_api
from aicity.hub.iot import rules, service
from aicity.hub.iot.mqtt import MqttIngest
from aicity.hub.twin.query import distance_m
from aicity.identity import service as identity
from aicity.server import create_app
from tests.support.iot import private_broker, publisher
from tests.support.net import free_port


def serve() -> str:
    app = create_app(load_city=False)
    app.include_router(iot_api.router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def http_batch(base: str, headers: dict[str, str], devices: list[str], batches: int = 40, size: int = 5000) -> float:
    bodies = [json.dumps({"readings": [{"device_id": devices[i % len(devices)], "attribute": "waterLevel",
                                        "value": 1.0 + (i % 100) / 100, "unit": "m"} for i in range(size)]})
              for _ in range(batches)]
    with httpx.Client(base_url=base, headers={**headers, "content-type": "application/json"}, timeout=60) as c:
        c.post("/api/v1/iot/telemetry", content=bodies[0]).raise_for_status()  # warm-up
        start = time.perf_counter()
        for body in bodies:
            c.post("/api/v1/iot/telemetry", content=body).raise_for_status()
        return batches * size / (time.perf_counter() - start)


def mqtt_rate(devices: list[str], n: int = 20_000) -> float:
    broker = private_broker(Path(mkdtemp(prefix="aicity-mqtt-")))
    ingest = MqttIngest(broker.url, client_id="aicity-bench").start()
    pub = publisher(broker)
    try:
        while not ingest.connected.is_set():
            time.sleep(0.05)
        target = service.counters["mqtt.stored"] + n
        payloads = [json.dumps({"attribute": "waterLevel", "value": 1.0 + (i % 100) / 100}) for i in range(n)]
        start = time.perf_counter()
        last = None
        for i, payload in enumerate(payloads):
            last = pub.publish(f"aicity/{devices[i % len(devices)]}/telemetry", payload, qos=1)
        assert last is not None
        last.wait_for_publish(120)
        while service.counters["mqtt.stored"] < target:
            time.sleep(0.005)
        return n / (time.perf_counter() - start)
    finally:
        pub.loop_stop()
        ingest.stop()
        broker.stop()


@dataclass(frozen=True)
class Loop:
    """One gas loop, in seconds from the reading's request: its HTTP response, the event
    dispatched, the valve-close approval request raised."""

    response: float
    dispatched: float
    approval: float


def loop_sites(n: int, spacing_m: float = 300.0) -> list[tuple[District, float, float]]:
    """`n` points inside the districts, in turn, each `spacing_m` or more from the others, so that
    their events do not merge as duplicates (200 m)."""
    rng = random.Random(0)
    sites: list[tuple[District, float, float]] = []
    city = districts()
    while len(sites) < n:
        district = city[len(sites) % len(city)]
        xs, ys = [p[0] for p in district.ring], [p[1] for p in district.ring]
        lat, lon = rng.uniform(min(ys), max(ys)), rng.uniform(min(xs), max(xs))
        if district.contains(lat, lon) and all(distance_m((lon, lat), (x, y)) >= spacing_m for _, y, x in sites):
            sites.append((district, lat, lon))
    return sites


def gas_loop(base: str, pkey: str, n: int = 50) -> list[Loop]:
    """A gas sensor per loop (a valve in each district) reads over the limit: the alarm files an
    event (dispatched to the gas department) and the city-safety loop queues closing the valve."""
    rules.create_rule(rules.RuleSpec(name="燃气浓度超限", kind="threshold", device_type="GasSensor",
                                     attribute="gasConcentration", limit=1000, severity="critical"), "bench")
    for d in districts():
        lat, lon = d.centre()
        service.create_device(service.DeviceSpec(type="Valve", id=f"bench-valve-{d.id}", district=d.name, lat=lat,
                                                 lon=lon), "bench")
    dispatched: dict[str, float] = {}
    requested: dict[str, float] = {}
    subscriptions = [
        bus.subscribe("events.dispatched", lambda _t, p: dispatched.setdefault(str(p.get("id")), time.perf_counter())),
        bus.subscribe("approvals.submitted",
                      lambda _t, p: requested.setdefault(str(p["params"].get("alarm")), time.perf_counter())),
    ]
    out = []
    with httpx.Client(base_url=base, timeout=60) as c:
        for district, lat, lon in loop_sites(n):
            body = {"type": "GasSensor", "district": district.name, "lat": lat, "lon": lon}
            credential = c.post("/api/v1/iot/provision", json=body,
                                headers={"X-Provisioning-Key": pkey}).json()["credential"]
            start = time.perf_counter()
            resp = c.post("/api/v1/iot/telemetry", json={"attribute": "gasConcentration", "value": 5000},
                          headers={"X-Device-Key": credential})
            answered = time.perf_counter()
            [alarm] = resp.json()["alarms"]
            if alarm["event_id"] not in dispatched or alarm["id"] not in requested:
                raise RuntimeError(f"alarm {alarm['id']}: no dispatched event or no approval request")
            out.append(Loop(answered - start, dispatched[alarm["event_id"]] - start, requested[alarm["id"]] - start))
    for unsubscribe in subscriptions:
        unsubscribe()
    return out


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms"


def main() -> None:
    open_demo_city(Path(mkdtemp(prefix="aicity-iot-bench-")))
    base = serve()
    _, key = identity.create_api_key("bench-gateway", "operator", "water")
    headers = {"Authorization": f"Bearer {key}"}
    pkey = service.new_provisioning_key("bench")
    devices = [service.create_device(service.DeviceSpec(type="WaterLevelObserved", id=f"bench-wl-{i}"),
                                     "bench")[0].id for i in range(100)]
    print(f"HTTP batch: {http_batch(base, headers, devices):,.0f} readings/s stored (target ≥ 20,000)")
    print(f"MQTT QoS 1: {mqtt_rate(devices):,.0f} readings/s stored (one reading per message)")
    cold, *warm = gas_loop(base, pkey)
    print(f"gas reading → event dispatched: {percentiles([x.dispatched for x in warm])}; "
          f"→ approval request raised: {percentiles([x.approval for x in warm])} ({len(warm)} loops, target ≤ 1 s)")
    print(f"  telemetry response (the bus runs the loop before it answers): {percentiles([x.response for x in warm])}")
    print(f"  first (cold) loop: event dispatched {cold.dispatched * 1000:.1f} ms, "
          f"approval request raised {cold.approval * 1000:.1f} ms")


if __name__ == "__main__":
    main()
