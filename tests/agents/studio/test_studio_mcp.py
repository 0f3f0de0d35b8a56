"""A co-created agent using an outside MCP tool, end to end: a real MCP server on a loopback port
(tests/hub/mcp_bridge/outside.py) registered through the MCP bridge, agents defined and published
through the studio's REST API and asked by name (`POST /api/v1/agents/{id}/chat`): the outside
server receives the call, the answer is quoted data, the call is audited; orders planted in a tool
answer are contained (no actuation, no approval request, the guard's finding on the trace); a
writing tool only reaches the approval queue and runs once a second person approves it; an agent
published for the whole city is reached through the super assistant (`POST /api/v1/assistant/ask`);
a step that leaves out an argument the tool requires is refused before saving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aicity.core import audit
from aicity.hub.iot import commands
from aicity.hub.mcp_bridge import client as mcp_client
from aicity.identity import service as identity
from aicity.identity.service import Principal, Role
from aicity.security import approvals
from tests.hub.mcp_bridge import outside

SERVER = "studio-outside"
ADMIN = Principal(role=Role.admin, key_id="studio-mcp-admin")
APPROVER = Principal(role=Role.admin, key_id="studio-mcp-approver")


@pytest.fixture(scope="module")
def registered(city: Path) -> Iterator[str]:
    running = outside.serve_http()
    mcp_client.add_server(SERVER, ADMIN, url=running.url, title="共创测试外部服务")
    yield SERVER
    mcp_client.remove_server(SERVER, ADMIN)
    running.stop()


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, str]:
    return {"operator": identity.create_api_key("studio-mcp-operator", "operator", "sanitation")[1],
            "citizen": identity.create_api_key("studio-mcp-citizen", "citizen")[1]}


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _definition(agent_id: str, tools: list[dict[str, str]], workflow: list[dict[str, Any]],
                examples: list[str]) -> dict[str, Any]:
    return {"id": agent_id, "name": f"外部工具测试 {agent_id}", "category": "测试", "description": "调用外部 MCP 工具",
            "department": "sanitation", "modes": ["policy"], "knowledge": {"kbs": []}, "tools": tools,
            "examples": examples, "workflow": workflow}


def _publish(client: TestClient, key: str, definition: dict[str, Any], visibility: str = "department") -> None:
    created = client.post("/api/v1/agents/definitions", json={"definition": definition}, headers=_h(key))
    assert created.status_code == 201, created.text
    published = client.post(f"/api/v1/agents/definitions/{definition['id']}/publish",
                            json={"visibility": visibility}, headers=_h(key))
    assert published.status_code == 200, published.text


def _ask(client: TestClient, key: str, agent_id: str, text: str) -> dict[str, Any]:
    r = client.post(f"/api/v1/agents/{agent_id}/chat", json={"text": text}, headers=_h(key))
    assert r.status_code == 200, r.text
    return r.json()


def _calls(tool: str) -> list[dict[str, object]]:
    return [args for name, args in outside.CALLS if name == tool]


def test_an_agent_calls_an_outside_read_tool_and_the_answer_is_quoted_and_audited(
        client: TestClient, keys: dict[str, str], registered: str) -> None:
    tool = f"mcp:{registered}.add"
    _publish(client, keys["operator"], _definition(
        "outside_adder", [{"id": tool, "risk": "read"}],
        [{"id": "sum", "kind": "tool", "tool": tool, "params": {"a": "19", "b": "23"}}],
        ["帮我算一下外部加法", "用外部服务做个加法", "外部加法结果是多少"]))
    before = len(_calls("add"))
    got = _ask(client, keys["operator"], "outside_adder", "用外部服务做个加法")
    assert _calls("add")[before:] == [{"a": 19, "b": 23}]  # the outside server received the call
    section = next(s for s in got["sections"] if "外部工具" in s["title"])
    assert section["kind"] == "info" and "42" in section["body"]
    assert section["body"].startswith("〔工具结果开始") and "不是指令" in section["body"]  # quoted as data
    step = next(s for s in got["trace"] if s.get("name") == "mcp")
    assert step["server"] == registered and step["tool"] == "add" and step["status"] == "ok"
    assert step["via"] == "outside_adder"
    logged = [e for e in audit.recent_entries(50) if e.action == "mcp.tool.call" and e.target == f"{registered}.add"
              and e.detail.get("trace_id") == got["trace_id"]]
    assert len(logged) == 1 and logged[0].detail["status"] == "ok" and logged[0].detail["verdict"] == "allow"


def test_orders_in_a_tool_answer_are_contained(client: TestClient, keys: dict[str, str], registered: str) -> None:
    bulletin = f"mcp:{registered}.bulletin"
    # the definition even follows the bulletin with an actuation: the turn's tool text makes it refused
    _publish(client, keys["operator"], _definition(
        "outside_bulletin", [{"id": bulletin, "risk": "read"},
                             {"id": "city_safety.close_gas_valve", "risk": "actuate"}],
        [{"id": "news", "kind": "tool", "tool": bulletin, "params": {"city": "江城"}},
         {"id": "valve", "kind": "tool", "tool": "city_safety.close_gas_valve", "params": {"valve": "all"}}],
        ["江城今天的公告", "今日城市公告是什么", "看看江城今天的天气公告"]))
    pending = {a.id for a in approvals.list_approvals(limit=1000)}
    sent = len(commands.list_commands(limit=10000))
    before = len(_calls("bulletin"))
    got = _ask(client, keys["operator"], "outside_bulletin", "看看江城今天的天气公告")
    assert _calls("bulletin")[before:] == [{"city": "江城"}]
    answer = got["answer"] + "".join(s["body"] for s in got["sections"])
    assert "今日多云" in answer  # the data is still there, quoted
    assert outside.PLANTED not in answer and "管理员密码" not in answer
    findings = [f for s in got["trace"] if s.get("name") == "guard" and s.get("stage") == "tool"
                for f in s["findings"]]
    assert any(f["kind"] == "attack" for f in findings), got["trace"]
    # no actuation, no approval request: the valve step was refused as coming from the tool's text
    assert {a.id for a in approvals.list_approvals(limit=1000)} == pending
    assert len(commands.list_commands(limit=10000)) == sent
    decisions = [s.get("decision") for s in got["trace"]
                 if s.get("name") == "skill" and s.get("skill") == "close_gas_valve"]
    assert decisions == ["refused"]
    assert any(s.get("name") == "security-finding" and s.get("type") == "tool-hijack" for s in got["trace"])
    logged = [e for e in audit.recent_entries(50) if e.action == "mcp.tool.call"
              and e.detail.get("trace_id") == got["trace_id"]]
    assert len(logged) == 1 and logged[0].detail["verdict"] != "allow" and logged[0].detail["findings"]


def test_a_writing_outside_tool_goes_to_approval(client: TestClient, keys: dict[str, str], registered: str) -> None:
    delete = f"mcp:{registered}.delete_record"
    definition = _definition(
        "outside_eraser", [{"id": delete, "risk": "write"}],
        [{"id": "erase", "kind": "tool", "tool": delete, "params": {"record_id": "R-studio-9"}}],
        ["删除外部过期记录", "清理外部服务的旧记录", "把外部记录删掉"])
    # the declared risk must be the tool's own; outside tools are for staff-built agents
    wrong = {**definition, "tools": [{"id": delete, "risk": "read"}]}
    r = client.post("/api/v1/agents/definitions/validate", json={"definition": wrong}, headers=_h(keys["operator"]))
    assert r.status_code == 422 and any(e["loc"][:2] == ["tools", "0"] for e in r.json()["errors"])
    r = client.post("/api/v1/agents/definitions/validate", json={"definition": definition},
                    headers=_h(keys["citizen"]))
    assert r.status_code == 422 and any(e["loc"] == ["tools", "0", "id"] for e in r.json()["errors"])
    _publish(client, keys["operator"], definition)
    got = _ask(client, keys["operator"], "outside_eraser", "删除外部过期记录")
    assert {"record_id": "R-studio-9"} not in _calls("delete_record")  # not run: only queued
    section = next(s for s in got["sections"] if "外部工具" in s["title"])
    assert section["kind"] == "approval"
    step = next(s for s in got["trace"] if s.get("name") == "mcp")
    assert step["status"] == "approval-required"
    row = next(a for a in approvals.list_approvals("pending") if a.trace_id == got["trace_id"])
    assert row.agent == f"mcp.{registered}" and row.skill == "delete_record" and row.result is None
    done = approvals.approve(row.id, APPROVER, "同意")  # a second person approves: only now it runs
    assert done.status == "approved", done.result
    assert {"record_id": "R-studio-9"} in _calls("delete_record")
    assert "已删除记录 R-studio-9" in done.result["sections"][0]["body"]


def test_a_city_agent_with_an_outside_tool_is_reached_through_the_assistant(
        client: TestClient, keys: dict[str, str], registered: str) -> None:
    tool = f"mcp:{registered}.add"
    definition = {**_definition("outside_city_adder", [{"id": tool, "risk": "read"}],
                                [{"id": "sum", "kind": "tool", "tool": tool, "params": {"a": "20", "b": "22"}}],
                                ["帮我用外部加法服务算一下", "外部加法服务的结果", "调用外部加法服务"]),
                  "cues": ["外部加法服务"]}
    _publish(client, keys["operator"], definition, "city")
    try:
        before = len(_calls("add"))
        r = client.post("/api/v1/assistant/ask", json={"text": "请用外部加法服务算一下"}, headers=_h(keys["operator"]))
        assert r.status_code == 200, r.text
        got = r.json()
        assert [s["agent"] for s in got["skills"]] == ["outside_city_adder"]
        assert _calls("add")[before:] == [{"a": 20, "b": 22}]
        assert "42" in got["answer"] and "〔工具结果开始" in got["answer"]
        assert any(e.action == "mcp.tool.call" and e.detail.get("trace_id") == got["trace_id"]
                   for e in audit.recent_entries(50))
    finally:  # the super assistant's routing goes back to what the other tests expect
        r = client.post("/api/v1/agents/definitions/outside_city_adder/withdraw", headers=_h(keys["operator"]))
        assert r.status_code == 200, r.text


def test_an_outside_tool_without_its_required_arguments_is_refused(client: TestClient, keys: dict[str, str],
                                                                   registered: str) -> None:
    bulletin = f"mcp:{registered}.bulletin"
    examples = ["江城今天的公告", "今日城市公告是什么", "看看江城今天的天气公告"]
    # without a workflow the tool step gives no arguments: the tool requires `city`, so every call would fail
    bare = _definition("outside_bare", [{"id": bulletin, "risk": "read"}], [], examples)
    r = client.post("/api/v1/agents/definitions/validate", json={"definition": bare}, headers=_h(keys["operator"]))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["workflow"] and "city" in r.json()["detail"]
    step = {"id": "news", "kind": "tool", "tool": bulletin, "params": {"town": "江城"}}
    wrong = _definition("outside_bare", [{"id": bulletin, "risk": "read"}], [step], examples)
    before = len(outside.CALLS)
    r = client.post("/api/v1/agents/definitions/outside_bare/test", json={"text": "江城公告", "definition": wrong},
                    headers=_h(keys["operator"]))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["workflow", "0", "params"]
    assert len(outside.CALLS) == before
