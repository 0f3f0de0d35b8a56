"""The duty agent: who is responsible for a matter put the way residents put it (road surface vs city appearance,
traffic signals vs street lights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.assistant.service import assistant
from aicity.identity.models import Role
from aicity.identity.service import Principal


@pytest.mark.parametrize(("text", "department"), [
    ("马路坏了归哪个部门管", "transport"),  # the road surface, not the city's appearance
    ("红路灯坏了归哪个部门管", "traffic_police"),  # 红路灯 (红绿灯 misspelt) is a signal, not a street light
    ("路灯坏了归哪个部门管", "urban"),
])
def test_a_duty_question_names_the_department_that_keeps_it(city: Path, text: str, department: str) -> None:
    result = assistant().ask(text, Principal(Role.citizen))
    assert [f"{s.agent}.{s.skill}" for s in result.skills] == ["city_ops.department_duty"]
    assert result.departments == [department]
