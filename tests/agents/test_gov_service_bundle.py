"""A one-thing bundle that still asks which case applies (`agents/gov_service` bundle) names the departments of the
steps that apply whatever the answer, and those of the steps that depend on it, marked as such in the answer."""

from __future__ import annotations

from pathlib import Path

from aicity.agents.base import SkillContext
from aicity.agents.gov_service.agent import TargetInput, bundle
from aicity.core.tracing import Tracer
from aicity.hub.catalog import service as catalog
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal


def test_a_bundle_clarification_names_the_departments_that_apply_and_those_that_may(city: Path) -> None:
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}))
    result = bundle(TargetInput(text="我要退休了，要办哪些手续", bundle="retirement"), ctx)
    assert result.clarification is not None
    retirement = catalog.get_bundle("retirement")
    always = {i.department for i, _ in catalog.bundle_items(retirement, {})}
    branch = {catalog.get_item(s.item).department for s in retirement.items if s.when}
    assert always and set(result.departments) == always | branch
    assert "hpf" in result.departments  # the housing fund's step applies only to someone who paid into it: said so
    overview = result.sections[0].body
    assert "视您的情况可能还要办" in overview and identity.department_name("hpf") in overview


def test_a_bundle_asked_once_covers_every_branch_and_names_its_departments(city: Path) -> None:
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}), may_ask=False)
    result = bundle(TargetInput(text="我要退休了，要办哪些手续", bundle="retirement"), ctx)
    assert result.clarification is None
    assert any(s.kind == "branches" for s in result.sections)
    assert "hpf" in result.departments
