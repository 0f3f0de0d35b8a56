"""IoT ingestion and the gas-alarm loop.

    .venv/bin/python benchmarks/iot_bench.py

Prints readings stored per second over HTTP batch (a real uvicorn server on loopback, a gateway
posting batches of 5,000 readings of 100 devices with a staff key; target ≥ 20,000/s) and over
MQTT (QoS 1, a private Mosquitto on loopback, one reading per message), and the loop latency
from a gas reading over threshold to the city event dispatched (p50/p99), on a fresh demo city.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path
from tempfile import mkdtemp

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aicity.cli_support import open_city
from aicity.core.bus import bus
from aicity.hub.iot import api as iot_api
from aicity.hub.iot import rules, service
from aicity.hub.iot.mqtt import MqttIngest
from aicity.identity import service as identity
from aicity.server import create_app
from tests.conftest import free_port
from tests.test_iot import private_broker, publisher


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


def gas_loop(base: str, headers: dict[str, str], pkey: str, n: int = 50) -> list[float]:
    rules.create_rule(rules.RuleSpec(name="燃气浓度超限", kind="threshold", device_type="GasSensor",
                                     attribute="gasConcentration", limit=1000, severity="critical"), "bench")
    dispatched: dict[str, float] = {}
    unsubscribe = bus.subscribe("events.dispatched", lambda _t, p: dispatched.setdefault(str(p.get("id")),
                                                                                      time.perf_counter()))
    out = []
    with httpx.Client(base_url=base, timeout=60) as c:
        for i in range(n):
            # devices ~1 km apart, so that their events do not merge as duplicates
            body = {"type": "GasSensor", "lat": 30.50 + (i // 10) * 0.01, "lon": 114.20 + (i % 10) * 0.01}
            credential = c.post("/api/v1/iot/provision", json=body,
                                headers={"X-Provisioning-Key": pkey}).json()["credential"]
            start = time.perf_counter()
            resp = c.post("/api/v1/iot/telemetry", json={"attribute": "gasConcentration", "value": 5000},
                          headers={"X-Device-Key": credential}).json()
            event_id = resp["alarms"][0]["event_id"]
            if event_id in dispatched:
                out.append(dispatched[event_id] - start)
    unsubscribe()
    return out


def main() -> None:
    open_city(Path(mkdtemp(prefix="aicity-iot-bench-")))
    base = serve()
    _, key = identity.create_api_key("bench-gateway", "operator", "water")
    headers = {"Authorization": f"Bearer {key}"}
    pkey = service.new_provisioning_key("bench")
    devices = [service.create_device(service.DeviceSpec(type="WaterLevelObserved", id=f"bench-wl-{i}"),
                                     "bench")[0].id for i in range(100)]
    print(f"HTTP batch: {http_batch(base, headers, devices):,.0f} readings/s stored (target ≥ 20,000)")
    print(f"MQTT QoS 1: {mqtt_rate(devices):,.0f} readings/s stored (one reading per message)")
    latencies = gas_loop(base, headers, pkey)
    q = statistics.quantiles(latencies, n=100)
    print(f"gas reading → event dispatched: p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms "
          f"({len(latencies)} loops, target ≤ 1 s)")


if __name__ == "__main__":
    main()
