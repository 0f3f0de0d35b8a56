"""A co-created agent with a model (a scripted one over real HTTP): the model gets the agent's
instructions and only the agent's skills as tools, and writes the cited answer from what they return."""

from __future__ import annotations

import copy

from aicity.agents.studio import runtime, service, templates
from aicity.identity.models import Role
from aicity.identity.service import Principal
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
