"""IoT: provisioning, HTTP telemetry (single, batch, bad input), rules and alarms (threshold,
rate, no-data, de-duplication, lifecycle), a gas alarm becoming a dispatched event, and MQTT
end to end through a real Mosquitto on loopback, including a broker restart."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.events.models import Event
from aicity.hub.iot import rules, service
from aicity.hub.iot.models import Reading
from aicity.hub.iot.mqtt import MqttIngest
from aicity.identity import service as identity
from aicity.server import create_app
from tests.support.http import METRICS
from tests.support.iot import Broker, provision, publisher, wait_for

_ids = itertools.count()


@pytest.fixture(scope="module")
def iot(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="module")
def staff(city: Path) -> dict[str, str]:
    _, key = identity.create_api_key("iot-operator", "operator", "gas")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def pkey(city: Path) -> str:
    return service.new_provisioning_key("test")


def stored(device_id: str) -> int:
    with database().session() as s:
        return s.scalar(select(func.count()).select_from(Reading).where(Reading.device_id == device_id)) or 0


def test_provisioning_registers_once_with_a_valid_key(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    resp = iot.post("/api/v1/iot/provision", json={"id": "wl-001", "type": "WaterLevelObserved", "district": "东湖区"},
                    headers={"X-Provisioning-Key": pkey})
    assert resp.status_code == 201
    credential = resp.json()["credential"]
    assert credential.startswith("dk_") and resp.json()["device"]["online"] is False
    # shown once: never in a listing, stored only as its hash
    listed = iot.get("/api/v1/iot/devices/wl-001", headers=staff).json()
    assert credential not in json.dumps(listed) and "credential" not in listed
    assert service.device_by_credential(credential).credential_hash != credential
    again = iot.post("/api/v1/iot/provision", json={"id": "wl-001", "type": "WaterLevelObserved"},
                     headers={"X-Provisioning-Key": pkey})
    assert again.status_code == 409
    bad = iot.post("/api/v1/iot/provision", json={"type": "GasSensor"}, headers={"X-Provisioning-Key": "pk_wrong"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("application/problem+json")
    assert iot.post("/api/v1/iot/provision", json={"type": "GasSensor"}).status_code == 401
    unknown_type = iot.post("/api/v1/iot/provision", json={"type": "Toaster"}, headers={"X-Provisioning-Key": pkey})
    assert unknown_type.status_code == 422


def test_http_single_and_gateway_batch(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    a, key_a = provision(iot, pkey, "WaterLevelObserved")
    b, _ = provision(iot, pkey, "WeatherObserved")
    one = iot.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": 1.25, "unit": "m"}, headers=key_a)
    assert one.status_code == 202 and one.json()["stored"] == 1
    assert iot.get(f"/api/v1/iot/devices/{a}", headers=staff).json()["online"] is True
    batch = {"readings": [{"device_id": a, "attribute": "waterLevel", "value": 1.3 + i / 100} for i in range(50)]
             + [{"device_id": b, "attribute": "temperature", "value": 21.5, "unit": "°C"}]}
    resp = iot.post("/api/v1/iot/telemetry", json=batch, headers=staff)
    assert resp.json() == {"stored": 51, "devices": 2, "alarms": []}
    assert stored(a) == 51 and stored(b) == 1
    history = iot.get(f"/api/v1/iot/devices/{b}/readings", headers=staff).json()
    assert history[0]["attribute"] == "temperature" and history[0]["value"] == 21.5


def test_bad_telemetry_is_rejected_and_nothing_is_stored(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    a, key_a = provision(iot, pkey, "WaterLevelObserved")
    other, _ = provision(iot, pkey, "GasSensor")
    before = service.counters["http.rejected"]
    exported = rejected_in_metrics(iot)
    for body in ({"attribute": "waterLevel", "value": "high"}, {"value": 1.0}, {"readings": []},
                 {"attribute": "water level!", "value": 1.0}):
        resp = iot.post("/api/v1/iot/telemetry", json=body, headers=key_a)
        assert resp.status_code == 422, body
    out = iot.post("/api/v1/iot/telemetry", headers=key_a, json={"readings": [
        {"attribute": "waterLevel", "value": 1.0}, {"attribute": "waterLevel", "value": 35.0},
        {"attribute": "temperature", "value": -80}]})
    assert out.status_code == 422
    assert [(r["index"], r["attribute"]) for r in out.json()["invalid"]] == [(1, "waterLevel"), (2, "temperature")]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert iot.post("/api/v1/iot/telemetry", headers=key_a,
                    json={"attribute": "waterLevel", "value": 1.0, "observed_at": future}).status_code == 422
    assert stored(a) == 0
    assert service.counters["http.rejected"] > before
    assert rejected_in_metrics(iot) == exported + service.counters["http.rejected"] - before  # Prometheus agrees
    # a device reports its own readings only; credentials and devices must be known
    foreign = iot.post("/api/v1/iot/telemetry", headers=key_a, json={"device_id": other, "attribute": "x", "value": 1})
    assert foreign.status_code == 403
    assert iot.post("/api/v1/iot/telemetry", headers={"X-Device-Key": "dk_nope"},
                    json={"attribute": "waterLevel", "value": 1}).status_code == 401
    assert iot.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": 1}).status_code == 401
    unknown = iot.post("/api/v1/iot/telemetry", headers=staff, json={"readings": [
        {"device_id": a, "attribute": "waterLevel", "value": 1}, {"device_id": "ghost", "attribute": "x", "value": 1}]})
    assert unknown.status_code == 404 and stored(a) == 0


def rejected_in_metrics(iot: TestClient) -> float:
    """aicity_iot_readings_total{channel="http", outcome="rejected"} as /metrics exports it."""
    for family in text_string_to_metric_families(iot.get("/metrics", headers=METRICS).text):
        for sample in family.samples:
            if sample.name == "aicity_iot_readings_total" and sample.labels == {"channel": "http", "outcome": "rejected"}:
                return sample.value
    return 0.0


def make_rule(iot: TestClient, staff: dict[str, str], **body: Any) -> str:
    resp = iot.post("/api/v1/iot/rules", json=body, headers=staff)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def open_alarms(device_id: str) -> list[dict[str, Any]]:
    return [rules.alarm_json(a) for a in rules.list_alarms(device_id=device_id) if a.status != "cleared"]


def test_threshold_alarm_is_deduplicated_and_clears(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    device, key = provision(iot, pkey, "WaterLevelObserved")
    make_rule(iot, staff, name="水位偏高", kind="threshold", device_id=device, attribute="waterLevel", limit=3.0,
              severity="medium")
    for value in (3.5, 3.8, 4.0):
        iot.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": value}, headers=key)
    [alarm] = open_alarms(device)
    assert alarm["count"] == 3 and alarm["value"] == 4.0 and alarm["event_id"] is None  # medium: no event
    ack = iot.post(f"/api/v1/iot/alarms/{alarm['id']}/acknowledge", headers=staff)
    assert ack.json()["status"] == "acknowledged"
    assert iot.post(f"/api/v1/iot/alarms/{alarm['id']}/acknowledge", headers=staff).status_code == 409
    iot.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": 4.2}, headers=key)
    assert open_alarms(device)[0]["count"] == 4  # still the same alarm while acknowledged
    cleared = iot.post(f"/api/v1/iot/alarms/{alarm['id']}/clear", headers=staff).json()
    assert cleared["status"] == "cleared" and cleared["cleared_at"]
    # the condition again: a new alarm; back under the limit: it clears itself
    iot.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": 3.9}, headers=key)
    [second] = open_alarms(device)
    assert second["id"] != alarm["id"] and second["count"] == 1
    iot.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": 1.0}, headers=key)
    assert open_alarms(device) == []
    assert iot.get("/api/v1/iot/alarms", params={"status": "cleared", "device_id": device},
                   headers=staff).json()[0]["status"] == "cleared"


def test_gas_alarm_becomes_a_dispatched_event(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    device, key = provision(iot, pkey, "GasSensor", lat=30.5931, lon=114.3054, name="幸福小区3栋燃气表")
    make_rule(iot, staff, name="燃气浓度超限", kind="threshold", device_type="GasSensor", attribute="gasConcentration",
              limit=1000, severity="critical")
    raised: list[dict[str, Any]] = []
    from aicity.core.bus import bus

    unsubscribe = bus.subscribe("iot.alarm.raised", lambda _t, p: raised.append(p))
    try:
        first = iot.post("/api/v1/iot/telemetry", json={"attribute": "gasConcentration", "value": 5200, "unit": "ppm"},
                         headers=key).json()
        iot.post("/api/v1/iot/telemetry", json={"attribute": "gasConcentration", "value": 6100}, headers=key)
    finally:
        unsubscribe()
    [alarm] = open_alarms(device)
    assert alarm["count"] == 2 and len(raised) == 1 and first["alarms"][0]["id"] == alarm["id"]
    assert alarm["event_id"]
    with database().session() as s:
        event = s.get(Event, alarm["event_id"])
        assert event is not None
        assert (event.category, event.department, event.status, event.source) == ("gas_leak", "gas", "dispatched",
                                                                                   "sensor")
        assert event.reporter_ref == f"device:{device}" and event.priority == "urgent"


def test_rate_of_change_rule(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    device, key = provision(iot, pkey, "WaterLevelObserved")
    make_rule(iot, staff, name="水位上涨过快", kind="rate", device_id=device, attribute="waterLevel", limit=0.5,
              severity="low")
    t0 = utcnow() - timedelta(minutes=10)

    def send(minutes: int, value: float) -> None:
        body = {"attribute": "waterLevel", "value": value, "observed_at": (t0 + timedelta(minutes=minutes)).isoformat()}
        assert iot.post("/api/v1/iot/telemetry", json=body, headers=key).status_code == 202

    send(0, 1.0)
    send(1, 1.2)  # +0.2 m/min
    assert open_alarms(device) == []
    send(2, 2.0)  # +0.8 m/min
    [alarm] = open_alarms(device)
    assert "每分钟变化" in alarm["message"]
    send(3, 2.1)
    assert open_alarms(device) == []


def test_no_data_rule(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    device, key = provision(iot, pkey, "Streetlight")
    make_rule(iot, staff, name="路灯失联", kind="no_data", device_id=device, seconds=60, severity="low")
    iot.post("/api/v1/iot/telemetry", json={"attribute": "powerState", "value": 1}, headers=key)
    assert rules.check_no_data() == []
    [alarm] = rules.check_no_data(utcnow() + timedelta(seconds=120))
    assert alarm.device_id == device
    assert len(rules.check_no_data(utcnow() + timedelta(seconds=180))) == 0  # de-duplicated
    assert open_alarms(device)[0]["count"] == 2
    iot.post("/api/v1/iot/telemetry", json={"attribute": "powerState", "value": 1}, headers=key)
    assert open_alarms(device) == []


def test_rule_validation(iot: TestClient, staff: dict[str, str]) -> None:
    assert iot.post("/api/v1/iot/rules", json={"name": "x", "kind": "threshold", "device_type": "GasSensor"},
                    headers=staff).status_code == 422
    assert iot.post("/api/v1/iot/rules", json={"name": "x", "kind": "no_data", "device_type": "Nope", "seconds": 5},
                    headers=staff).status_code == 422
    assert iot.get("/api/v1/iot/rules").status_code == 401


# --- MQTT with a real broker --------------------------------------------------------------------

def publish(client: paho.Client, device_id: str, body: Any, topic: str = "telemetry") -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body)
    client.publish(f"aicity/{device_id}/{topic}", payload, qos=1).wait_for_publish(5)


def test_mqtt_end_to_end_and_broker_restart(iot: TestClient, pkey: str, broker: Broker) -> None:
    device, _ = provision(iot, pkey, "WaterLevelObserved")
    ingest = MqttIngest(broker.url, client_id=f"aicity-test-{next(_ids)}").start()
    pub = publisher(broker)
    try:
        wait_for(ingest.connected.is_set)
        rejected = service.counters["mqtt.rejected"]
        publish(pub, device, {"attribute": "waterLevel", "value": 2.5, "unit": "m"})
        publish(pub, device, {"readings": [{"attribute": "waterLevel", "value": 2.6}, {"attribute": "waterLevel",
                                                                                       "value": 2.7}]})
        publish(pub, device, b"{not json")
        publish(pub, device, {"attribute": "waterLevel", "value": 99})  # out of range
        publish(pub, "ghost-device", {"attribute": "waterLevel", "value": 1})
        wait_for(lambda: stored(device) == 3 and service.counters["mqtt.rejected"] == rejected + 3)

        broker.stop()
        wait_for(lambda: not ingest.connected.is_set())
        broker.start()
        wait_for(ingest.connected.is_set, 20)
        pub.loop_stop()
        pub = publisher(broker)
        publish(pub, device, {"attribute": "waterLevel", "value": 2.8})
        wait_for(lambda: stored(device) == 4)
    finally:
        pub.loop_stop()
        pub.disconnect()
        ingest.stop()


def test_readings_reach_the_twin(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    """The NGSI-LD twin mirrors what devices report: the entity appears with its location and
    the reading as a Property with its time, and the temporal API has its history."""
    device_id, key = provision(iot, pkey, "WaterLevelObserved", lat=30.52, lon=114.36)
    for level in (1.2, 1.6):
        resp = iot.post("/api/v1/iot/telemetry", headers=key, json={"attribute": "waterLevel", "value": level})
        assert resp.status_code == 202, resp.text
    entity = iot.get(f"/ngsi-ld/v1/entities/urn:ngsi-ld:WaterLevelObserved:{device_id}", headers=staff).json()
    assert entity["type"] == "WaterLevelObserved" and entity["waterLevel"]["value"] == 1.6
    assert entity["location"]["value"]["coordinates"] == [114.36, 30.52]
    history = iot.get(f"/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:WaterLevelObserved:{device_id}",
                      headers=staff).json()
    assert [v["value"] for v in history["waterLevel"]][-2:] == [1.2, 1.6]


def test_commands_reach_an_actuator_over_mqtt_and_its_ack_comes_back(iot: TestClient, pkey: str,
                                                                     broker: Broker) -> None:
    from aicity.hub.iot import commands

    valve, _ = provision(iot, pkey, "Valve")
    ingest = MqttIngest(broker.url, client_id=f"aicity-test-{next(_ids)}").start()
    device = publisher(broker)
    received: list[dict[str, Any]] = []
    device.on_message = lambda _c, _u, msg: received.append(json.loads(msg.payload))
    device.subscribe(f"aicity/{valve}/commands", qos=1)
    try:
        wait_for(ingest.connected.is_set)
        time.sleep(0.2)  # the device's subscription reaches the broker
        command = commands.send(valve, "close", {}, "test")
        message = wait_for(lambda: received and received[0])
        assert message["id"] == command.id and message["command"] == "close"
        publish(device, valve, {"id": command.id, "result": {"position": "closed"}}, topic="ack")
        wait_for(lambda: commands.get(command.id).status == "acknowledged")
    finally:
        device.loop_stop()
        device.disconnect()
        ingest.stop()
