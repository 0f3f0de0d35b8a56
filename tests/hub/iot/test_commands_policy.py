"""The command policy over HTTP: an admin sends directly; an operator directly only where the
policy says `direct`, else the request is queued for a second person's approval (202) and runs
when a different admin approves it; officials 403; bad commands and plans 422; the policy
overridden from aicity.toml; the flood-gate and signal-plan skills through the assistant land in
the approval queue and send once approved; every step audited."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aicity.agents.base import devices_reached
from aicity.agents.registry import default_registry
from aicity.assistant import mcp_tools
from aicity.assistant.service import assistant, run_approved
from aicity.core import audit
from aicity.core.config import configure, settings
from aicity.hub.iot import commands, service
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals
from aicity.server import create_app

_ids = itertools.count()
#: near 江滨路下穿通道 (jb-jiangbin-underpass, 30.6200, 114.3720), the demo city's watch point
UNDERPASS = {"lat": 30.62001, "lon": 114.37201}


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


def staff(role: str) -> tuple[Principal, dict[str, str]]:
    key, plaintext = identity.create_api_key(f"policy-{role}-{next(_ids)}", role)
    return Principal(Role(role), key_id=key.id), {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture(scope="module")
def admin(city: Path) -> dict[str, str]:
    return staff("admin")[1]


@pytest.fixture(scope="module")
def operator(city: Path) -> dict[str, str]:
    return staff("operator")[1]


def device(app: TestClient, headers: dict[str, str], type_: str, district: str = "策略测试区",
           **extra: Any) -> tuple[str, dict[str, str]]:
    device_id = f"p{next(_ids)}-{type_}"
    resp = app.post("/api/v1/iot/devices", json={"id": device_id, "type": type_, "district": district, **extra},
                    headers=headers)
    assert resp.status_code == 201, resp.text
    return device_id, {"X-Device-Key": resp.json()["credential"]}


def send(app: TestClient, headers: dict[str, str], device_id: str, command: str, **params: str) -> Any:
    return app.post(f"/api/v1/iot/devices/{device_id}/commands", headers=headers,
                    json={"command": command, "params": params})


def actions(target: str) -> list[str]:
    return [e.action for e in audit.recent_entries(1000) if e.target == target]


def test_operator_request_waits_for_a_second_person(app: TestClient, admin: dict[str, str],
                                                    operator: dict[str, str]) -> None:
    gate, gate_key = device(app, admin, "SluiceGate")
    resp = send(app, operator, gate, "open")
    assert resp.status_code == 202, resp.text
    approval = resp.json()["approval"]
    assert resp.headers["location"] == f"/api/v1/approvals/{approval['id']}"
    assert (approval["skill"], approval["status"], approval["params"]["device"]) == ("device_command", "pending", gate)
    assert commands.list_commands(gate) == []  # nothing sent until someone else approves
    assert app.post(f"/api/v1/approvals/{approval['id']}/approve", headers=operator, json={}).status_code == 403

    done = app.post(f"/api/v1/approvals/{approval['id']}/approve", headers=admin, json={"note": "排涝需要"})
    assert done.status_code == 200 and done.json()["status"] == "approved", done.text
    [command] = commands.list_commands(gate)
    assert (command.command, command.status, command.actor.split(":")[0]) == ("open", "pending", "operator")
    [fetched] = app.get(f"/api/v1/iot/devices/{gate}/commands/pending", headers=gate_key).json()
    assert fetched["id"] == command.id
    ack = app.post(f"/api/v1/iot/commands/{command.id}/ack", headers=gate_key, json={"result": {"opened": True}})
    assert ack.json()["status"] == "acknowledged"
    assert any(e.action == "approval.requested" and e.detail.get("approval") == approval["id"]
               and e.actor.startswith("operator:") for e in audit.recent_entries(1000))
    assert {"approval.approved", "approval.executed"} <= set(actions(approval["id"]))
    assert {"iot.command.send", "iot.command.acknowledged"} <= set(actions(command.id))


def test_direct_sends(app: TestClient, admin: dict[str, str], operator: dict[str, str]) -> None:
    light, _ = device(app, admin, "Streetlight")
    signal, _ = device(app, admin, "TrafficSignal")
    by_operator = send(app, operator, light, "on")
    assert by_operator.status_code == 201 and by_operator.json()["status"] == "pending"
    by_admin = send(app, admin, signal, "set_plan", plan="flood_diversion")
    assert by_admin.status_code == 201 and by_admin.json()["params"] == {"plan": "flood_diversion"}
    for body in (by_operator.json(), by_admin.json()):
        assert "iot.command.send" in actions(body["id"])


def test_who_may_send_and_what(app: TestClient, admin: dict[str, str], operator: dict[str, str]) -> None:
    signal, _ = device(app, admin, "TrafficSignal")
    assert send(app, staff("official")[1], signal, "set_plan", plan="peak").status_code == 403
    assert send(app, {}, signal, "set_plan", plan="peak").status_code == 401
    for headers in (admin, operator):
        for params in ({"plan": "rush"}, {}):
            bad = send(app, headers, signal, "set_plan", **params)
            assert bad.status_code == 422 and bad.json()["type"].endswith("invalid-command-params"), bad.text
        unknown = send(app, headers, signal, "open")
        assert unknown.status_code == 422 and unknown.json()["type"].endswith("invalid-command")
    assert commands.list_commands(signal) == []


@pytest.fixture
def policy() -> Iterator[None]:
    previous = settings()
    configure(**{**previous.model_dump(), "iot": {**previous.iot.model_dump(), "command_policy": {
        "Streetlight.*": "approval", "Valve.open": "direct", "SluiceGate.*": "sometimes"}}})
    yield
    configure(**previous.model_dump())


@pytest.mark.usefixtures("policy")
def test_policy_from_config(app: TestClient, admin: dict[str, str], operator: dict[str, str]) -> None:
    assert (commands.mode("Streetlight", "on"), commands.mode("Valve", "open"), commands.mode("Valve", "close"),
            commands.mode("SluiceGate", "open"), commands.mode("Unknown", "x")) == \
        ("approval", "direct", "approval", "approval", "approval")
    light, _ = device(app, admin, "Streetlight")
    valve, _ = device(app, admin, "Valve")
    assert send(app, operator, light, "off").status_code == 202
    assert send(app, operator, valve, "open").status_code == 201
    assert send(app, operator, valve, "close").status_code == 202
    assert send(app, admin, light, "off").status_code == 201


def ask_and_approve(text: str, admin: dict[str, str], app: TestClient) -> dict[str, Any]:
    """An official asks the assistant for one site's device; the request is queued, then a (different) admin
    approves: one approval runs it, since the skill resolves the call to one device (`Skill.acts_on`) although the
    router puts the site's district in its arguments."""
    result = assistant().ask(text, Principal(Role.official))
    assert "需要人工审批" in result.answer, result.answer
    [row] = [a for a in approvals.list_approvals("pending") if a.text == text]
    assert row.approvals_needed == 1, row.params
    done = app.post(f"/api/v1/approvals/{row.id}/approve", headers=admin, json={})
    assert done.json()["status"] == "approved", done.text
    assert "approval.requested" in [e.action for e in audit.recent_entries(1000)
                                    if e.detail.get("approval") == row.id]
    return done.json()


def test_device_command_is_never_routed_from_a_conversation(city: Path) -> None:
    # close to the skill's own example; the example itself ("通过接口申请向设备下发指令") and a bare "申请向设备发送
    # 指令" are blocked by the input guard's classifier as tool abuse in plain words, so they never reach routing
    result = assistant().ask("怎么申请向设备发送指令", Principal(Role.operator))
    assert "device_command" not in [s.skill for s in result.skills]


def test_flood_gate_skill_goes_through_approval(app: TestClient, admin: dict[str, str]) -> None:
    # approved calls run with the assistant's agents (through the MCP bridge's executor when that slice is
    # installed: it hands every call that is not an outside MCP tool's to the assistant's)
    assert approvals._executor and approvals._executor[0] in (run_approved, mcp_tools.run_approved)
    near, _ = device(app, admin, "SluiceGate", district="江滨区", **UNDERPASS)
    far, _ = device(app, admin, "SluiceGate", district="江滨区", lat=30.58, lon=114.37)
    text = "请打开江滨路下穿通道附近的排水闸门"
    decided = ask_and_approve(text, admin, app)
    assert decided["skill"] == "operate_flood_gate" and decided["requester_role"] == "official"
    [command] = commands.list_commands(near)
    assert command.command == "open" and command.actor.startswith("official")
    assert commands.list_commands(far) == []


def test_the_devices_a_call_reaches_decide_its_approvers(app: TestClient, admin: dict[str, str]) -> None:
    """Every gate of a district is several devices: two approvers; a site's gate is one (above); a call whose devices
    cannot be resolved yet is counted from its words (`intent.approvals_needed`)."""
    for lon in (114.30, 114.31):
        device(app, admin, "SluiceGate", district="江滨区", lat=30.60, lon=lon)
    text = "把江滨区的排水闸门全部打开"
    result = assistant().ask(text, Principal(Role.official))
    assert "需要人工审批" in result.answer, result.answer
    [row] = [a for a in approvals.list_approvals("pending") if a.text == text]
    assert row.approvals_needed == 2 and row.skill == "operate_flood_gate"
    skill = default_registry().get("city_safety").skill("operate_flood_gate")
    assert devices_reached(skill, {}, "打开闸门") is None


def test_a_device_registered_before_the_approval_raises_the_approvers(app: TestClient, admin: dict[str, str]) -> None:
    """The run resolves its devices again: a district with one gate when asked (one approver) that has two by the
    approval needs a second approver before anything runs (and both gates then get the order)."""
    first, _ = device(app, admin, "SluiceGate", district="北港区", lat=30.70, lon=114.30)
    text = "把北港区的排水闸门全部打开"
    assistant().ask(text, Principal(Role.official))
    [row] = [a for a in approvals.list_approvals("pending") if a.text == text]
    assert row.approvals_needed == 1
    second, _ = device(app, admin, "SluiceGate", district="北港区", lat=30.71, lon=114.31)
    done = app.post(f"/api/v1/approvals/{row.id}/approve", headers=admin, json={})
    assert done.json()["status"] == "pending" and done.json()["approvals_needed"] == 2, done.text
    assert commands.list_commands(first) == [] and commands.list_commands(second) == []
    done = app.post(f"/api/v1/approvals/{row.id}/approve", headers=staff("admin")[1], json={})
    assert done.json()["status"] == "approved", done.text
    assert [c.command for c in commands.list_commands(first) + commands.list_commands(second)] == ["open", "open"]


def test_a_device_command_over_the_api_reaches_one_device(app: TestClient, admin: dict[str, str]) -> None:
    """A device command over the API is one device (`devices=1`), whatever district its reason names."""
    light, _ = device(app, admin, "Streetlight", district="东湖区")
    outcome = commands.request_command(service.get_device(light), "off", {}, "东湖区路灯检修，关掉这一盏",
                                       staff("official")[0])
    assert approvals.get(outcome.approval_id).approvals_needed == 1


def test_signal_plan_skill_goes_through_approval(app: TestClient, admin: dict[str, str]) -> None:
    signal, _ = device(app, admin, "TrafficSignal", district="江滨区", **UNDERPASS)
    decided = ask_and_approve("把江滨路下穿通道的信号机切换到内涝绕行配时", admin, app)
    assert decided["skill"] == "set_signal_plan"
    [command] = commands.list_commands(signal)
    assert (command.command, command.params) == ("set_plan", {"plan": "flood_diversion"})
