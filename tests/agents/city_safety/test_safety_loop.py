"""The gas-leak loop end to end: a reading over the threshold → a critical alarm → a dispatched
event → a valve-close proposal in the approval queue (nothing actuated) → an admin approves →
a command pending for the nearest valve → the valve fetches it over HTTP and acknowledges.
Also: an unacknowledged command is retried then failed; a citizen cannot reach the skill; an
operator's valve command over the API waits for approval; every step in the audit ledger.
(The command policy itself: tests/test_commands_policy.py.)"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aicity.agents.city_safety import agent as city_safety
from aicity.core import audit
from aicity.core.ids import utcnow
from aicity.hub.iot import commands, service
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals
from aicity.server import create_app

_ids = itertools.count()
DISTRICT = "安全测试区"


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="module")
def admin(city: Path) -> tuple[Principal, dict[str, str]]:
    key, plaintext = identity.create_api_key("safety-admin", "admin")
    return Principal(Role.admin, key_id=key.id), {"Authorization": f"Bearer {plaintext}"}


def device(app: TestClient, headers: dict[str, str], type_: str, **extra: Any) -> tuple[str, dict[str, str]]:
    device_id = f"s{next(_ids)}-{type_}"
    resp = app.post("/api/v1/iot/devices", json={"id": device_id, "type": type_, "district": DISTRICT, **extra},
                    headers=headers)
    assert resp.status_code == 201, resp.text
    return device_id, {"X-Device-Key": resp.json()["credential"]}


def actions(target: str) -> list[str]:
    return [e.action for e in audit.recent_entries(500) if e.target == target]


def test_gas_reading_to_acknowledged_valve_command(app: TestClient, admin: tuple[Principal, dict[str, str]]) -> None:
    approver, headers = admin
    sensor, sensor_key = device(app, headers, "GasSensor", lat=30.5000, lon=114.3000, name="安全测试燃气表")
    near, near_key = device(app, headers, "Valve", lat=30.5005, lon=114.3005, name="近处阀门")
    far, _ = device(app, headers, "Valve", lat=30.5400, lon=114.3400, name="远处阀门")
    resp = app.post("/api/v1/iot/rules", headers=headers, json={
        "name": "燃气浓度超限", "kind": "threshold", "device_id": sensor, "attribute": "gasConcentration",
        "limit": 1000, "severity": "critical"})
    assert resp.status_code == 201, resp.text

    started = time.perf_counter()
    body = app.post("/api/v1/iot/telemetry", json={"attribute": "gasConcentration", "value": 5200, "unit": "ppm"},
                    headers=sensor_key).json()
    mine = [a for a in approvals.list_approvals("pending") if a.params.get("sensor") == sensor]
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"\nreading → alarm → event → approval request: {elapsed_ms:.1f} ms")

    alarm = body["alarms"][0]
    assert alarm["severity"] == "critical"
    [row] = [a for a in mine if a.params["alarm"] == alarm["id"]]
    event_id = row.params["event"]
    assert row.params["valve"] == near and row.agent == "city_safety" and row.skill == "close_gas_valve"
    assert row.requester == "operator:system:city_safety"
    assert alarm["id"] in row.reason and event_id in row.reason
    assert [a for a in service.list_devices() if a.id == sensor]  # still there
    assert commands.list_commands(near) == [] and commands.list_commands(far) == []  # nothing actuated yet
    assert app.get(f"/api/v1/events/{event_id}", headers=headers).json()["status"] == "dispatched"

    decided = approvals.approve(row.id, approver, "现场确认泄漏")
    assert decided.status == "approved", decided.result
    [command] = commands.list_commands(near)
    assert (command.command, command.status, command.params["alarm"]) == ("close", "pending", alarm["id"])

    # the valve has no MQTT here: it fetches over HTTP with its own credential, then acknowledges
    assert app.get(f"/api/v1/iot/devices/{near}/commands/pending").status_code == 401
    assert app.get(f"/api/v1/iot/devices/{near}/commands/pending", headers=sensor_key).status_code == 403
    fetched = app.get(f"/api/v1/iot/devices/{near}/commands/pending", headers=near_key).json()
    assert [c["id"] for c in fetched] == [command.id] and fetched[0]["command"] == "close"
    ack = app.post(f"/api/v1/iot/commands/{command.id}/ack", headers=near_key, json={"result": {"closed": True}})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = app.post(f"/api/v1/iot/commands/{command.id}/ack", headers=near_key)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert app.get(f"/api/v1/iot/devices/{near}/commands/pending", headers=near_key).json() == []

    assert "city_safety.valve_proposed" in actions(alarm["id"])
    assert any(e.action == "approval.requested" and e.detail.get("approval") == row.id and
               e.actor == "operator:system:city_safety" for e in audit.recent_entries(500))
    assert {"approval.approved", "approval.executed"} <= set(actions(row.id))
    assert {"iot.command.send", "iot.command.delivered", "iot.command.acknowledged"} <= set(actions(command.id))


def test_unacknowledged_command_is_retried_then_failed(app: TestClient, admin: tuple[Principal, dict[str, str]]) -> None:
    _, headers = admin
    gate, gate_key = device(app, headers, "SluiceGate")
    resp = app.post(f"/api/v1/iot/devices/{gate}/commands", headers=headers, json={"command": "open"})
    assert resp.status_code == 201 and resp.json()["status"] == "pending"
    command_id = resp.json()["id"]
    # not timed out yet (other tests' older commands may be)
    assert command_id not in [c.id for c in commands.expire_commands()]
    now = utcnow()
    for attempt in range(2, commands.MAX_ATTEMPTS + 1):
        now += commands.ACK_TIMEOUT + timedelta(seconds=1)
        [retried] = [c for c in commands.expire_commands(now) if c.id == command_id]
        assert retried.status == "pending" and retried.attempts == attempt
        assert app.get(f"/api/v1/iot/devices/{gate}/commands/pending", headers=gate_key).json()[0]["attempt"] == attempt
    [failed] = [c for c in commands.expire_commands(now + commands.ACK_TIMEOUT) if c.id == command_id]
    assert failed.status == "failed" and commands.get(command_id).status == "failed"
    assert app.post(f"/api/v1/iot/commands/{command_id}/ack", headers=gate_key).status_code == 409
    assert actions(command_id).count("iot.command.retry") == commands.MAX_ATTEMPTS - 1
    assert "iot.command.failed" in actions(command_id)


def test_valve_commands_are_for_admins_and_approved_requests_only(app: TestClient,
                                                                  admin: tuple[Principal, dict[str, str]]) -> None:
    _, headers = admin
    valve, _ = device(app, headers, "Valve")
    _, op_key = identity.create_api_key("safety-operator", "operator", "gas")
    operator = {"Authorization": f"Bearer {op_key}"}
    queued = app.post(f"/api/v1/iot/devices/{valve}/commands", headers=operator, json={"command": "close"})
    assert queued.status_code == 202 and queued.json()["approval"]["status"] == "pending"
    assert app.post(f"/api/v1/iot/devices/{valve}/commands", json={"command": "close"}).status_code == 401
    wrong = app.post(f"/api/v1/iot/devices/{valve}/commands", headers=headers, json={"command": "on"})
    assert wrong.status_code == 422 and wrong.json()["type"].endswith("invalid-command")
    skill = city_safety.build().skill("close_gas_valve")
    assert not skill.allowed(Principal(Role.citizen)) and skill.allowed(Principal(Role.official))
    assert not city_safety.build().skill("safety_situation").allowed(Principal(Role.citizen))
    assert commands.list_commands(valve) == []


def test_safety_situation_report(city: Path) -> None:
    from aicity.agents.base import SkillContext
    from aicity.core.tracing import Tracer

    ctx = SkillContext(principal=Principal(Role.official), tracer=Tracer("test", "official", {}))
    result = city_safety.safety_situation(city_safety.SituationInput(text="城市安全态势"), ctx)
    assert result.sections[0].title == "城市安全态势" and "在办告警" in result.sections[0].body
    one = city_safety.safety_situation(city_safety.SituationInput(text="江滨区安全态势", district="jiangbin"), ctx)
    assert one.sections[0].title == "城市安全态势（江滨区）"
    assert set(result.data["events"]) == {"gas_leak", "waterlogging"}
