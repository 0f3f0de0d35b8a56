"""A report filed in chat (`agents/governance` report_event): an event the classifier was unsure of waits for a
human dispatcher and names no handling department."""

from __future__ import annotations

from pathlib import Path

from aicity.agents.base import SkillContext, SkillInput
from aicity.agents.governance.agent import report_event
from aicity.core.tracing import Tracer
from aicity.identity.models import Role
from aicity.identity.service import Principal


def test_an_event_no_one_has_dispatched_names_no_department(city: Path) -> None:
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}))
    result = report_event(SkillInput(text="文馨街88号门口这一片有点乱，不知道该找谁"), ctx)
    assert result.event and result.event["status"] == "reported"
    assert result.departments == []
    body = result.sections[0].body
    assert "尚未分派" in body and "负责，已进入" not in body


def test_a_dispatched_event_names_its_department(city: Path) -> None:
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}))
    result = report_event(SkillInput(text="文馨街88号的路灯不亮了，晚上黑漆漆的"), ctx)
    assert result.event and result.event["status"] == "dispatched"
    assert result.departments == [result.event["department"]]
