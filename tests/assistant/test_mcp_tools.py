"""A skill's result over MCP (`assistant/mcp_tools`): the departments of steps that may not apply (a one-thing bundle
still asking which case applies) are told apart from those that surely handle the request, in the text and in the
structured content."""

from __future__ import annotations

from pathlib import Path

from aicity.agents.base import SkillContext, SkillResult
from aicity.agents.gov_service.agent import TargetInput, bundle
from aicity.assistant.mcp_tools import _data, render
from aicity.core.tracing import Tracer
from aicity.identity.models import Role
from aicity.identity.service import Principal


def test_possible_departments_are_not_called_handling_ones(city: Path) -> None:
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}))
    result = bundle(TargetInput(text="快到退休年龄了，手续都有哪些", bundle="retirement"), ctx)
    data = _data(result)
    assert "hpf" in data["possible_departments"] and "hpf" not in data["departments"]
    assert data["departments"] and set(data["departments"]) | set(data["possible_departments"]) == \
        set(result.departments)
    text = render(result)
    sure_line = next(line for line in text.splitlines() if line.startswith("承办部门"))
    possible_line = next(line for line in text.splitlines() if line.startswith("视情况可能涉及的部门"))
    assert "hpf" not in sure_line and "hpf" in possible_line


def test_a_result_without_possible_departments_keeps_them_all(city: Path) -> None:
    result = SkillResult(departments=["water", "urban"], data={"possible_departments": ["power"]})
    assert _data(result)["departments"] == ["water", "urban"] and _data(result)["possible_departments"] == []
    assert "承办部门 departments：water、urban" in render(result) and "可能涉及" not in render(result)
