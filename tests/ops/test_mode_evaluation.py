"""The assistant evaluation's summary (`ops/mode_evaluation`): departments named beyond the gold ones lower the
department precision, though end to end only asks that the gold ones are among them."""

from __future__ import annotations

from typing import Any

import pytest

from aicity.ops.mode_evaluation import summarise


def _row(expected: str, got: str, gold: list[str], named: list[str]) -> dict[str, Any]:
    mode_ok = expected == got
    return {"q": "x", "role": "citizen", "expected": expected, "got": got, "confidence": 0.9, "abstained": False,
            "mode_ok": mode_ok, "ok": mode_ok and set(gold) <= set(named), "agents": [], "expected_skills": [],
            "got_skills": [], "expected_target": None, "got_targets": [], "expected_departments": gold,
            "got_departments": named}


def test_naming_more_departments_lowers_precision_not_end_to_end() -> None:
    rows = [_row("service", "service", ["market"], ["market"]),  # exact: 1.0
            _row("service", "service", ["market"], ["market", "tax", "hrss", "fire"]),  # 1 of 4 named is gold
            _row("report", "report", ["urban"], []),  # names none: no precision, not extra
            _row("service", "report", ["tax"], ["urban"]),  # wrong mode: not scored
            _row("knowledge", "knowledge", [], ["justice"])]  # no gold departments: not scored
    summary = summarise(rows)
    assert summary["end_to_end_accuracy"] == pytest.approx(0.6)  # the padded answer still passes end to end
    assert summary["department_precision"] == pytest.approx((1.0 + 0.25) / 2)
    assert summary["extra_department_rate"] == pytest.approx(round(1 / 3, 4))


def test_no_scored_answer_gives_no_figure() -> None:
    summary = summarise([_row("service", "report", ["tax"], ["urban"])])
    assert summary["department_precision"] is None and summary["extra_department_rate"] is None
