"""A co-created agent with a model (a scripted one over real HTTP): the model gets the agent's
instructions and only the agent's skills as tools, and writes the cited answer from what they return;
the outside MCP tools the agent is given (a real MCP server of the official SDK on a loopback port) are
tools of its model calls too, each call through the MCP bridge: guard both ways, approval for a writing
tool, rate limit, audit."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aicity.agents.studio import runtime, service, templates
from aicity.core import audit
from aicity.core.config import settings
from aicity.hub.mcp_bridge import client as mcp_client
from aicity.hub.mcp_bridge.settings import McpSettings
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals
from tests.hub.mcp_bridge import outside
from tests.support.llm import call
from tests.support.upstream import RunningUpstream


def test_the_model_plans_with_the_agents_instructions_and_tools(llm: RunningUpstream) -> None:
    data = copy.deepcopy(next(d for d in templates.demo_definitions() if d["id"] == "housing_fund"))
    data.update(id="fund_llm", tools=[{"id": "governance.report_event", "risk": "write"}])
    draft = service.validated(data)
    llm.set(script=[
        {"content": None, "tool_calls": [call("fund_llm__ask", {"text": "什么情况下可以提取住房公积金"})]},
        {"content": "职工购买自住住房等情形可以提取[1]。"},
    ])
    result = runtime.run("fund_llm", "公积金什么时候能取出来", Principal(Role.official, "hpf", "k-llm"), None, draft)
    assert result["planner"] == "llm:chat-large"
    assert result["answer"].startswith("职工购买自住住房等情形可以提取[^1]。")
    assert result["citations"][0]["doc_key"] == "住房公积金管理条例"
    first = llm.requests[0]
    assert first["messages"][0]["content"].startswith("你是住房公积金政策咨询员")
    assert {t["function"]["name"] for t in first["tools"]} == {"fund_llm__ask", "governance__report_event"}


# ---- outside MCP tools in the model's calls: a real MCP server (the official SDK) on a loopback port -------------

SERVER = "studio-llm-outside"
STAFF = Principal(Role.operator, "sanitation", "k-llm-mcp")
ADMIN = Principal(role=Role.admin, key_id="studio-llm-admin")


@pytest.fixture(scope="module")
def registered(city: Path) -> Iterator[str]:
    running = outside.serve_http()
    mcp_client.add_server(SERVER, ADMIN, url=running.url, title="模型调用的外部服务")
    yield SERVER
    mcp_client.remove_server(SERVER, ADMIN)
    running.stop()


def _outside_agent(agent_id: str) -> Any:
    tools = [f"mcp:{SERVER}.add", f"mcp:{SERVER}.bulletin", f"mcp:{SERVER}.delete_record"]
    draft = service.validated({
        "id": agent_id, "name": "外部工具助手", "description": "用外部 MCP 服务算数、看公告、删记录", "department": "sanitation",
        "modes": ["policy"], "knowledge": {"kbs": []},
        "tools": [{"id": tools[0], "risk": "read"}, {"id": tools[1], "risk": "read"}, {"id": tools[2], "risk": "write"}],
        "examples": ["用外部服务算个数", "看看外部公告", "删除外部记录"],
        "workflow": [{"id": "sum", "kind": "tool", "tool": tools[0], "params": {"a": "1", "b": "2"}}]})
    service.check(draft, STAFF)  # what the studio checks before saving: the tools exist, their risk is theirs
    return draft


def _tool_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_the_model_sees_the_outside_tools_and_calls_them_through_the_bridge(llm: RunningUpstream,
                                                                            registered: str) -> None:
    draft = _outside_agent("llm_outside_add")
    llm.set(script=[{"content": None, "tool_calls": [call(f"{registered}__add", {"a": 19, "b": 23})]},
                    {"content": "外部加法服务算出的结果是 42。"}])
    before = len(outside.CALLS)
    result = runtime.run("llm_outside_add", "请用外部服务算 19 加 23", STAFF, None, draft)
    assert result["planner"] == "llm:chat-large" and "42" in result["answer"]
    offered = {t["function"]["name"]: t["function"] for t in llm.requests[0]["tools"]}
    listed = {t.name: t for t in mcp_client.tools_for([registered])}
    for name in ("add", "bulletin", "delete_record"):  # names, descriptions and input schemas from the server
        function = offered[f"{registered}__{name}"]
        assert listed[name].description in function["description"]
        assert function["parameters"]["properties"] == listed[name].input_schema["properties"]
        assert function["parameters"]["required"] == listed[name].input_schema["required"]
    assert "审批" in offered[f"{registered}__delete_record"]["description"]
    assert "审批" not in offered[f"{registered}__add"]["description"]
    assert outside.CALLS[before:] == [("add", {"a": 19, "b": 23})]  # typed arguments, as the model gave them
    [answer] = _tool_messages(llm.requests[1])
    assert answer.startswith("〔工具结果开始") and "42" in answer  # handed to the model as quoted data
    assert {"agent": f"mcp.{registered}", "skill": "add"} in [{k: s[k] for k in ("agent", "skill")}
                                                               for s in result["skills"]]
    step = next(s for s in result["trace"] if s.get("name") == "mcp")
    assert step["tool"] == "add" and step["status"] == "ok" and step["via"] == "llm_outside_add"
    assert any(e.action == "mcp.tool.call" and e.target == f"{registered}.add"
               and e.detail.get("trace_id") == result["trace_id"] for e in audit.recent_entries(50))


def test_orders_in_an_outside_answer_reach_the_model_only_as_data(llm: RunningUpstream, registered: str) -> None:
    draft = _outside_agent("llm_outside_news")
    llm.set(script=[{"content": None, "tool_calls": [call(f"{registered}__bulletin", {"city": "江城"})]},
                    {"content": "江城今日多云。"}])
    result = runtime.run("llm_outside_news", "江城今天的公告说了什么", STAFF, None, draft)
    [answer] = _tool_messages(llm.requests[1])
    assert "今日多云" in answer and outside.PLANTED not in answer  # the orders neutralised, the data kept
    findings = [f for s in result["trace"] if s.get("name") == "guard" and s.get("stage") == "tool"
                for f in s["findings"]]
    assert any(f["kind"] == "attack" for f in findings)


def test_a_writing_outside_tool_the_model_calls_only_files_an_approval(llm: RunningUpstream,
                                                                       registered: str) -> None:
    draft = _outside_agent("llm_outside_erase")
    llm.set(script=[{"content": None, "tool_calls": [call(f"{registered}__delete_record", {"record_id": "R-llm-7"})]},
                    {"content": "删除请求已提交审批。"}])
    result = runtime.run("llm_outside_erase", "把外部记录 R-llm-7 删掉", STAFF, None, draft)
    assert ("delete_record", {"record_id": "R-llm-7"}) not in outside.CALLS  # not run: queued
    row = next(a for a in approvals.list_approvals("pending") if a.trace_id == result["trace_id"])
    assert row.agent == f"mcp.{registered}" and row.skill == "delete_record"
    assert json.loads(row.params["arguments"]) == {"record_id": "R-llm-7"}
    step = next(s for s in result["trace"] if s.get("name") == "mcp")
    assert step["status"] == "approval-required"


def test_the_models_outside_calls_are_rate_limited(llm: RunningUpstream, registered: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings().section(McpSettings), "call_rate", "1/minute")
    draft = _outside_agent("llm_outside_busy")
    who = Principal(Role.operator, "sanitation", "k-llm-mcp-limited")
    llm.set(script=[{"content": None, "tool_calls": [call(f"{registered}__add", {"a": 1, "b": 2}, "c1"),
                                                     call(f"{registered}__add", {"a": 3, "b": 4}, "c2")]},
                    {"content": "第一次是 3，第二次被限流。"}])
    before = len(outside.CALLS)
    result = runtime.run("llm_outside_busy", "外部服务算两次", who, None, draft)
    assert outside.CALLS[before:] == [("add", {"a": 1, "b": 2})]
    first, second = _tool_messages(llm.requests[1])
    assert "3" in first and "频繁" in second
    assert [s.get("error") for s in result["trace"] if s.get("name") == "mcp"] == [None, "rate-limited"]
