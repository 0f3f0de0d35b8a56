"""`aicity simulate` through its two transports, as a user runs it: `--url --key` against a real
server on loopback (devices, rules and readings through the HTTP API; the gas leak's alarm,
dispatched event and valve-close approval request on the server) and `--mqtt` through a private
Mosquitto that the server ingests from (the rainstorm's readings stored, its alarms and events;
readings nobody stores are reported, not waited for); a wrong key, a missing key, a bad address or
an unreachable broker end with a clear message and create nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.iot import commands, rules, service, simulator
from aicity.hub.iot.models import Reading
from aicity.hub.iot.mqtt import MqttIngest
from aicity.identity import service as identity
from aicity.security import approvals
from tests.support.iot import Broker, wait_for
from tests.support.net import free_port

#: short runs, sent as fast as they go: 1,200 and 2,400 readings
pytestmark = pytest.mark.usefixtures("default_rules_removed")
GAS = ["simulate", "--scenario", "gas-leak", "--duration", "2", "--rate", "600", "--seed", "2", "--fast", "--json"]
RAIN = ["simulate", "--scenario", "rainstorm", "--duration", "4", "--rate", "600", "--seed", "3", "--fast", "--json"]


def simulate(*args: str) -> Result:
    from aicity.cli import app

    # AICITY_API_KEY from the developer's shell must not stand in for a missing --key
    return CliRunner().invoke(app, list(args), env={"AICITY_API_KEY": None})


@pytest.fixture(scope="module")
def staff_key(live_server: str) -> str:
    return identity.create_api_key("simulator-operator", "operator", "gas")[1]


def server_get(base: str, key: str, path: str, **params: Any) -> Any:
    resp = httpx.get(f"{base}{path}", params=params, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    resp.raise_for_status()
    return resp.json()


def inventory() -> tuple[int, int]:
    """How many devices and rules the city has."""
    return len(service.list_devices(limit=100_000)), len(rules.list_rules())


def test_url_runs_the_gas_leak_on_the_server(live_server: str, staff_key: str) -> None:
    leak = simulator.leak_device(simulator.fleet(), 2)
    result = simulate(*GAS, "--url", live_server, "--key", staff_key)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["readings_sent"] >= 1200 and out["rejected"] == 0 and out["all_stored"]

    on_server = {d["id"] for d in server_get(live_server, staff_key, "/api/v1/iot/devices", limit=5000)}
    assert {d.id for d in simulator.fleet()} <= on_server
    readings = server_get(live_server, staff_key, f"/api/v1/iot/devices/{leak}/readings", attribute="gasConcentration")
    assert max(r["value"] for r in readings) > simulator.GAS_LIMIT_PPM

    [alarm] = out["alarms"]
    assert (alarm["device_id"], alarm["severity"]) == (leak, "critical")
    [event] = out["events"]
    assert (event["id"], event["category"], event["department"], event["status"]) == (
        alarm["event_id"], "gas_leak", "gas", "dispatched")
    # the city-safety loop on the server proposed closing a valve in the leak's district
    [request] = [a for a in approvals.list_approvals("pending") if a.params.get("alarm") == alarm["id"]]
    district = leak.split("-")[1]
    assert request.params["valve"].startswith(f"{simulator.PREFIX}{district}-valve-")
    # an admin approves over HTTP: the valve gets its close command, and its acknowledgement closes the loop
    approver = identity.create_api_key("simulator-approver", "admin")[1]
    approved = httpx.post(f"{live_server}/api/v1/approvals/{request.id}/approve", json={"note": "同意关阀"},
                          headers={"Authorization": f"Bearer {approver}"}, timeout=30)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    [command] = commands.list_commands(request.params["valve"])
    assert (command.command, command.status) == ("close", "pending")
    assert commands.acknowledge(command.id, request.params["valve"]).status == "acknowledged"


def test_url_with_a_wrong_key_creates_nothing(live_server: str) -> None:
    before = inventory()
    result = simulate(*GAS, "--url", live_server, "--key", "ak_not_a_key")
    assert result.exit_code == 2 and "401" in result.output and "Traceback" not in result.output, result.output
    assert inventory() == before


@pytest.mark.parametrize(("args", "says"), [
    (["--url", "LIVE"], "--key"),
    (["--url", "localhost:8000", "--key", "ak_x"], "--url 须形如"),
    (["--mqtt", "localhost:1883"], "--mqtt 须形如"),
    (["--mqtt", "mqtt://127.0.0.1:port"], "--mqtt 须形如"),
    (["--mqtt", "mqtt://127.0.0.1:FREE"], "无法连接 MQTT 代理"),
])
def test_bad_transport_options_fail_clearly(live_server: str, args: list[str], says: str) -> None:
    args = [live_server if a == "LIVE" else a.replace("FREE", str(free_port())) for a in args]
    before = inventory()
    result = simulate(*GAS, *args)
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output, result.output
    assert inventory() == before


def test_readings_nobody_stores_are_reported_not_waited_for(city: Path, broker: Broker) -> None:
    # runs before the ingest below first subscribes: the broker queues these readings for no one
    sender = simulator.MqttSender(broker.url)
    try:
        summary = simulator.simulate(simulator.LocalCity(), simulator.Plan(duration=0.5, rate=200), sender,
                                     pace=False, settle_timeout_s=0.5)
    finally:
        sender.close()
    assert summary.readings_sent >= 100 and not summary.all_stored


@pytest.fixture
def ingest(city: Path, broker: Broker) -> Iterator[MqttIngest]:
    """The server's side: storing what devices publish to the broker, in this process's city."""
    client = MqttIngest(broker.url, client_id="aicity-simulator-test").start()
    wait_for(client.connected.is_set)
    yield client
    client.stop()


def stored_since(since: datetime) -> int:
    with database().session() as s:
        return s.scalar(select(func.count()).select_from(Reading).where(
            Reading.device_id.startswith(simulator.PREFIX), Reading.observed_at >= since)) or 0


@pytest.mark.parametrize("city_at", ["data-dir", "server"])
def test_mqtt_rainstorm_is_stored_and_floods_the_low_lying_districts(city: Path, broker: Broker,
                                                                      ingest: MqttIngest, live_server: str,
                                                                      staff_key: str, city_at: str) -> None:
    # devices, rules and alarms through this process's data dir, or through the server's API
    where = ["--data-dir", str(city)] if city_at == "data-dir" else ["--url", live_server, "--key", staff_key]
    started = utcnow()
    result = simulate(*RAIN, *where, "--mqtt", broker.url)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["all_stored"] and out["rejected"] == 0 and out["readings_sent"] >= 2400
    # the summary waited for the server: every reading is stored already, stamped when it was sent
    assert stored_since(started) == out["readings_sent"]
    assert out["alarms"] and all(a["severity"] == "high" for a in out["alarms"])
    assert {a["device_id"].split("-")[1] for a in out["alarms"]} == set(simulator.LOW_LYING)
    assert {(e["category"], e["department"]) for e in out["events"]} == {("waterlogging", "water")}
