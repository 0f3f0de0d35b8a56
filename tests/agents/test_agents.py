"""The agent framework: cards, registry sources (built-in, entry points, YAML), risk levels."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from aicity.agents.base import RiskLevel, SkillContext, SkillInput
from aicity.agents.declarative import load_yaml_agent
from aicity.agents.registry import AgentRegistry, builtin_agents, default_registry
from aicity.core.tracing import Tracer
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.agents import valve_assistant


def test_builtin_cards_are_complete(city: Path) -> None:
    for agent in builtin_agents():
        card = agent.card()
        assert card["id"] and card["name"] and card["department"] and card["skills"]
        for skill in card["skills"]:
            assert skill["examples"] and skill["risk"] in {r.value for r in RiskLevel}
            assert skill["input_schema"]["properties"]["text"]


def test_duplicate_agent_ids_are_refused(city: Path) -> None:
    registry = AgentRegistry()
    agent = builtin_agents()[0]
    registry.register(agent)
    with pytest.raises(ValueError, match="twice"):
        registry.register(agent)


def test_yaml_agent_answers_from_its_documents_only(city: Path, tmp_path: Path) -> None:
    spec = tmp_path / "noise.yaml"
    spec.write_text(
        "id: noise\nname: 噪声咨询\ndepartment: ecology\ndescription: 噪声污染\n"
        "skills:\n  - id: consult\n    name: 噪声咨询\n    description: 噪声\n"
        "    examples: [晚上施工太吵了]\n    knowledge: {docs: [噪声污染防治法], top_k: 2}\n",
        encoding="utf-8",
    )
    agent = load_yaml_agent(spec)
    assert agent.source == "yaml:noise.yaml"
    skill = agent.skill("consult")
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}))
    result = skill.handler(skill.input_model(text="夜间施工噪声扰民"), ctx)
    assert result.citations and all(c.doc_key == "噪声污染防治法" for c in result.citations)
    assert result.departments == ["ecology"]


def test_bad_yaml_agent_is_rejected(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("id: bad\nname: x\ndepartment: fire\ndescription: x\nskills: []\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        load_yaml_agent(spec)


def test_entry_point_agents_are_discovered(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real installed-distribution layout on sys.path, as pip would leave it."""
    (tmp_path / "cityplugin.py").write_text(
        "from aicity.agents.base import Agent, Skill, SkillInput, SkillResult, Section\n"
        "def build():\n"
        "    return Agent(id='parking', name='停车', department='traffic_police', description='停车服务',\n"
        "        skills=[Skill(id='find', name='找车位', description='找车位', examples=['附近哪里有停车位'],\n"
        "                      input_model=SkillInput, handler=lambda i, c: SkillResult(sections=[Section(title='停车', body='x')]))])\n"
        "def broken():\n    raise RuntimeError('boom')\n",
        encoding="utf-8",
    )
    dist = tmp_path / "cityplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cityplugin\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[aicity.agents]\nparking = cityplugin:build\nbroken = cityplugin:broken\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = default_registry()
    assert "parking" in {a.id for a in registry.agents()}  # and the broken plug-in did not stop the rest
    assert "gov_service" in {a.id for a in registry.agents()}
    sys.modules.pop("cityplugin", None)


def test_skill_inputs_are_typed(city: Path) -> None:
    skill = default_registry().skill("policy", "legal_qa")
    with pytest.raises(ValidationError):
        skill.input_model.model_validate({"text": "x", "top_k": 0})
    assert issubclass(skill.input_model, SkillInput)


def test_actuate_skills_are_never_run_from_a_plan(city: Path) -> None:
    """Even an admin's request does not close a valve from chat: the handler is not called."""

    calls: list[str] = []
    result = valve_assistant(calls).ask("马上把幸福路的燃气阀门关掉", Principal(Role.admin))
    assert calls == []
    assert "需要人工审批" in result.answer
    from aicity.core.tracing import get_trace

    step = next(s for s in get_trace(result.trace_id).steps if s["name"] == "skill")
    assert step["risk"] == "actuate" and step["decision"] == "approval-required"


def test_a_failing_skill_costs_only_its_section(city: Path) -> None:
    from aicity.agents.base import Agent, Skill, SkillResult
    from aicity.assistant.service import Assistant

    def broken(inp: SkillInput, ctx: SkillContext) -> SkillResult:
        raise ZeroDivisionError("bug")

    registry = default_registry()
    registry.register(Agent(id="buggy", name="有缺陷的", department="gov_office", description="x",
                            skills=[Skill(id="boom", name="出错技能", description="x",
                                          examples=["触发一个出错的技能吧", "触发出错技能"], input_model=SkillInput,
                                          handler=broken, cues=("触发出错",))]))
    result = Assistant(registry).ask("触发出错的技能。另外，公积金怎么提取？", Principal(Role.citizen))
    assert "出错技能暂时无法回答" in result.answer and "hpf" in result.departments
    from aicity.core.tracing import get_trace

    step = next(s for s in get_trace(result.trace_id).steps if s.get("skill") == "boom")
    assert step["error"].startswith("ZeroDivisionError")
