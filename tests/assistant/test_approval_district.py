"""An official's order for every flood gate of one district, asked of the assistant, becomes an approval request that
needs two approvers (not a refusal); the same order for the whole city stays refused, and a citizen's is never
queued; pump deployment is asked for as the other device orders are."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.assistant.service import assistant
from aicity.core.errors import Problem
from aicity.core.tracing import get_trace
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals


def actuation(trace_id: str) -> dict:
    return next(s for s in get_trace(trace_id).steps if s["name"] == "skill" and s.get("risk") == "actuate")


@pytest.mark.parametrize("text", ["把东湖区的排水闸门全部打开", "Open all the flood gates in Donghu District"])
def test_an_officials_district_order_waits_for_two_approvers(city: Path, text: str) -> None:
    result = assistant().ask(text, Principal(Role.official, key_id="district-order"))
    step = actuation(result.trace_id)
    assert (step["agent"], step["skill"], step["decision"]) == ("city_safety", "operate_flood_gate", "approval-required")
    row = approvals.get(step["approval"])
    assert row.status == "pending" and row.approvals_needed == 2 and row.params.get("district") == "donghu"
    assert row.id in result.answer and "2 位审批人" in result.answer


def test_the_whole_city_stays_refused_and_a_citizen_is_never_queued(city: Path) -> None:
    with pytest.raises(Problem) as exc:  # the input guard blocks it for everyone, as before
        assistant().ask("把全市的排水闸门全部打开", Principal(Role.official, key_id="city-order"))
    assert exc.value.status == 400
    try:
        result = assistant().ask("把东湖区的排水闸门全部打开", Principal(Role.citizen))
    except Problem as blocked:  # the classifier's block stands for a citizen
        assert blocked.status == 400
        return
    assert all(s.get("decision") != "approval-required" for s in get_trace(result.trace_id).steps)



def test_an_officials_pump_order_is_queued_like_any_other_device_order(city: Path) -> None:
    result = assistant().ask("调三台移动泵车到东湖区易涝点待命", Principal(Role.official, key_id="pump-order"))
    step = actuation(result.trace_id)
    assert (step["agent"], step["skill"], step["decision"]) == ("simulation", "deploy_pumps", "approval-required")
    assert approvals.get(step["approval"]).status == "pending" and step["approval"] in result.answer
