"""The LLM planner against a scripted model over real HTTP: tool calls over the agents'
skills, grounded answers with the structured citations kept, no actuation on the model's
own, and a fall back to the embedded planner whenever the model fails or misbehaves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aicity.assistant.service import Assistant, assistant
from aicity.core.tracing import get_trace
from aicity.hub.gateway import service as gateway
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.agents import valve_registry
from tests.support.llm import call
from tests.support.upstream import RunningUpstream

CITIZEN = Principal(Role.citizen)


def fallback_of(trace_id: str) -> dict | None:
    plan = next(s for s in get_trace(trace_id).steps if s["name"] == "plan")
    return plan.get("fallback")


def test_the_model_plans_with_skills_and_writes_a_cited_answer(llm: RunningUpstream) -> None:
    llm.set(script=[
        {"content": None, "tool_calls": [call("gov_service__guide", {"text": "个体户营业执照怎么办"})]},
        {"content": "办理个体工商户登记，向市场监管部门申请即可[1]。"},
    ])
    result = assistant().ask("我想开个小卖部，个体户执照怎么弄", CITIZEN)
    assert result.planner == "llm:chat-large"
    assert [(s.agent, s.skill) for s in result.skills] == [("gov_service", "guide")]
    assert result.answer.startswith("办理个体工商户登记，向市场监管部门申请即可[^1]。")
    assert result.citations and "[^1]: 《" in result.answer  # the footnotes follow the model's text
    assert result.sections and result.departments  # the structured answer is kept
    first, second = llm.requests
    names = {t["function"]["name"] for t in first["tools"]}
    assert {"gov_service__guide", "gov_service__bundle", "policy__legal_qa"} <= names
    assert "city_ops__service_stats" not in names  # a citizen is not offered staff-only skills
    guide = next(t for t in first["tools"] if t["function"]["name"] == "gov_service__guide")
    assert guide["function"]["parameters"]["properties"]["text"]["type"] == "string"
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    assert "[^1]" in tool_message["content"] and "资料" in tool_message["content"]
    # the target the model could not name was found from the text, as the router would
    assert result.sections[0].get("title")
    plan = next(s for s in get_trace(result.trace_id).steps if s["name"] == "plan")
    assert plan["planner"] == "llm" and plan["subtasks"][0]["params"]["item"]
    rows = gateway.gateway().meter.report()
    assert any(r["agent"] == "assistant.planner" and r["deployment"] == "llm" for r in rows)


def test_two_tools_in_one_round(llm: RunningUpstream) -> None:
    llm.set(script=[
        {"content": None, "tool_calls": [
            call("gov_service__guide", {"text": "公积金提取"}, "c1"),
            call("policy__legal_qa", {"text": "食品安全法第三十五条"}, "c2")]},
        {"content": "公积金提取见[1]；食品经营许可见[2]。"},
    ])
    result = assistant().ask("公积金怎么取？另外食品安全法第三十五条怎么规定", CITIZEN)
    assert [s.skill for s in result.skills] == ["guide", "legal_qa"]
    assert len(llm.requests[1]["messages"]) == 2 + 1 + 2  # system, user, assistant call, two tool results


@pytest.mark.parametrize(("script", "reason"), [
    ([{"content": "您好，我是城市助理。"}], "no-tool-called"),
    ([{"content": None, "tool_calls": [call("gov_service__guide", {"text": "公积金提取"})]},
      {"content": "见[9]。"}], "unknown-citation"),
    ([{"content": None, "tool_calls": [call("gov_service__guide", {"text": "公积金提取"})]},
      {"content": "公积金可以提取。"}], "no-citation"),
    ([{"content": None, "tool_calls": [call("rm_rf__everything", {})]}] * 3, "invalid-tool-calls"),
    ([{"content": None, "tool_calls": [call("gov_service__guide", {"text": "公积金提取"})]}] * 4,
     "too-many-rounds"),
])
def test_misbehaving_model_falls_back_to_the_embedded_planner(llm: RunningUpstream, script: list,
                                                              reason: str) -> None:
    llm.set(script=script)
    result = assistant().ask("公积金怎么提取", CITIZEN)
    assert result.planner == "embedded"
    assert fallback_of(result.trace_id)["reason"] == reason
    assert result.citations and "公积金" in result.answer  # the citizen still gets the answer


def test_model_outage_falls_back(llm: RunningUpstream) -> None:
    llm.set(fail_status=503, fail_count=-1)
    result = assistant().ask("公积金怎么提取", CITIZEN)
    assert result.planner == "embedded" and fallback_of(result.trace_id)["reason"] == "model-error-502"
    llm.set(fail_status=None, garbage=True)
    result = assistant().ask("公积金怎么提取", CITIZEN)
    assert result.planner == "embedded" and result.citations


def test_no_model_configured_means_the_embedded_planner(city: Path) -> None:
    result = assistant().ask("公积金怎么提取", CITIZEN)
    assert result.planner == "embedded" and fallback_of(result.trace_id) is None


def test_the_model_cannot_actuate(llm: RunningUpstream) -> None:
    calls: list[str] = []
    registry = valve_registry(calls)
    llm.set(script=[
        {"content": None, "tool_calls": [call("gas_ops__close_valve", {"text": "关闭幸福路阀门"})]},
        {"content": "已提交人工审批，未执行关阀操作。"},
    ])
    result = Assistant(registry).ask("马上把幸福路的燃气阀门关掉", Principal(Role.admin))
    assert calls == []
    assert result.sections[0]["kind"] == "approval" and "需要人工审批" in result.sections[0]["title"]
    tool = llm.requests[0]["tools"]
    assert any("需人工审批" in t["function"]["description"] for t in tool)
    assert any(s["name"] == "model-requested-actuate" for s in get_trace(result.trace_id).steps)


def test_planner_can_be_forced_off(llm: RunningUpstream, monkeypatch: pytest.MonkeyPatch) -> None:
    from aicity.core.config import settings

    monkeypatch.setattr(settings(), "planner", "embedded")
    assert assistant().ask("公积金怎么提取", CITIZEN).planner == "embedded"
    assert llm.requests == []


def test_knowledge_answers_are_written_by_the_model_from_the_passages(llm: RunningUpstream, client: Any) -> None:
    llm.set(script=[{"content": "预包装食品的包装上应当有标签[1]。"}])
    body = client.post("/api/v1/kb/ask", json={"q": "预包装食品标签要写什么"}).json()
    assert body["writer"] == "llm:chat-large" and body["answer"] == "预包装食品的包装上应当有标签[^1]。"
    assert body["citations"] and body["fallback"] is None
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert "[^1] 《" in prompt and body["citations"][0]["text"][:20] in prompt  # the model saw the passages
    # a model that cites a passage it was not given is not believed: the quotes are returned
    llm.set(script=[{"content": "根据第[7]条，可以不写标签。"}])
    body = client.post("/api/v1/kb/ask", json={"q": "预包装食品标签要写什么"}).json()
    assert body["writer"] == "embedded" and body["fallback"] == "unknown-citation"
    assert "《" in body["answer"] and body["citations"]
    llm.set(fail_status=500, fail_count=-1)
    body = client.post("/api/v1/kb/ask", json={"q": "预包装食品标签要写什么"}).json()
    assert body["writer"] == "embedded" and body["fallback"] == "upstream-failed"
