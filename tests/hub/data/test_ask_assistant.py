"""Officials reach 一句话问数 through the super assistant: the data mode's statistics questions go to
the data hub (the number, the SQL, the dataset cited), the governance agent's counts over a past
period move onto the hotline tickets dataset, and its live-event questions stay live."""

from __future__ import annotations

import re
from pathlib import Path

from aicity.agents.governance.agent import for_data_hub
from aicity.assistant.service import assistant
from aicity.core.errors import Problem
from aicity.identity.models import Role
from aicity.identity.service import Principal

OFFICIAL = Principal(role=Role.official)


def test_a_data_question_is_answered_by_the_data_hub(city: Path) -> None:
    result = assistant().ask("2025年3月东湖区12345工单有多少件", OFFICIAL)
    assert [(s.agent, s.skill) for s in result.skills] == [("data_analyst", "data_ask")], result.answer
    assert "334" in result.answer and "SELECT COUNT(*)" in result.answer
    assert any(c["doc_key"] == "dataset:hotline_tickets" for c in result.citations)
    enterprises = assistant().ask("各区高新技术企业有多少家", OFFICIAL)
    # the industry agent's statistics skill (high-tech enterprises are its matter) asks the same data hub
    assert {"data_ask", "industry_stats"} & {s.skill for s in enterprises.skills}
    assert "光谷区" in enterprises.answer and "SELECT" in enterprises.answer


def test_personal_rows_are_refused_through_the_assistant(city: Path) -> None:
    """The guard blocks bulk personal-data requests at the door; what passes it is refused by the data hub."""
    for question in ("统计一下东湖区低保户，列出户主姓名和身份证号", "东湖区低保户户主的手机号是多少"):
        try:
            result = assistant().ask(question, OFFICIAL)
        except Problem as exc:
            assert exc.type_ == "guard-blocked"
            continue
        assert not re.search(r"\d{17}[\dX]|1\d{10}", result.answer), result.answer  # no ID or mobile number
        if "data_ask" in [s.skill for s in result.skills]:
            assert "汇总" in result.answer


def test_the_governance_agents_past_counts_move_to_the_data_hub(city: Path) -> None:
    assert for_data_hub("2025年上半年光谷区有多少积水事件")
    assert for_data_hub("去年第三季度井盖事件的数量")
    assert not for_data_hub("东湖区现在有哪些未处理的积水事件")
    assert not for_data_hub("光谷区这个月有多少井盖事件")
    assert not for_data_hub("最近三天已办结的路灯事件有哪些")
    result = assistant().ask("2025年上半年光谷区有多少积水事件", OFFICIAL)
    assert any(c["doc_key"] == "dataset:hotline_tickets" for c in result.citations), result.answer
    assert "SELECT COUNT(*)" in result.answer and "2025年上半年" in result.answer


def test_the_public_does_not_reach_the_data_skill(city: Path) -> None:
    result = assistant().ask("2025年3月东湖区12345工单有多少件", Principal(role=Role.citizen))
    assert "data_ask" not in [s.skill for s in result.skills]


def test_a_series_or_a_comparison_of_counts_is_the_data_hubs(city: Path) -> None:
    """Counts month by month or side by side are a statistic: not a list of events, nor the day's hotspots."""
    router = assistant().router
    data = frozenset(k for k, skill in router.skills.items() if "data" in skill.modes)
    for question in ("南湖区近一年井盖事件每月数量", "东湖区和光谷区今年积水事件数对比一下", "近半年噪声投诉的走势"):
        assert router.cued_skills(question, OFFICIAL, data)[:1] == [("data_analyst", "data_ask")], question
