"""A one-thing bundle that still asks which case applies (`agents/gov_service` bundle) names only the departments of
the steps that apply whatever the answer."""

from __future__ import annotations

from pathlib import Path

from aicity.agents.base import SkillContext
from aicity.agents.gov_service.agent import TargetInput, bundle
from aicity.core.tracing import Tracer
from aicity.hub.catalog import service as catalog
from aicity.identity.models import Role
from aicity.identity.service import Principal


def test_a_bundle_clarification_names_only_the_departments_that_surely_apply(city: Path) -> None:
    ctx = SkillContext(principal=Principal(Role.citizen), tracer=Tracer("test", "citizen", {}))
    result = bundle(TargetInput(text="我要退休了，要办哪些手续", bundle="retirement"), ctx)
    assert result.clarification is not None
    always = {i.department for i, _ in catalog.bundle_items(catalog.get_bundle("retirement"), {})}
    assert always and set(result.departments) == always
    assert "hpf" not in result.departments  # the housing fund's step applies only to someone who paid into it
