"""The 一句话问数 evaluation (issue 14): the set's gold SQL over real DuckDB, and the scoring."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from aicity.ops import data_evaluation as de
from aicity.ops.cli import app
from aicity.ops.evaluation import load_cases


@pytest.fixture(scope="module")
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = de.csv_connection()
    yield c
    c.close()


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return de.check_cases(load_cases(de.default_set()))


def by_id(cases: list[dict[str, Any]], *ids: str) -> list[dict[str, Any]]:
    index = {c["id"]: c for c in cases}
    return [index[i] for i in ids]


def test_the_set_is_large_varied_and_every_gold_runs(cases: list[dict[str, Any]],
                                                      conn: duckdb.DuckDBPyConnection) -> None:
    assert len(cases) >= 170
    families = Counter(c["family"] for c in cases)
    assert set(families) == {"count_sum", "average", "top_k", "time_window", "ratio", "yoy", "join", "personal_rows"}
    assert families["personal_rows"] >= 15 and all(c["expect"] == "refused" for c in cases
                                                   if c["family"] == "personal_rows")
    english = sum(c["lang"] == "en" for c in cases) / len(cases)
    assert 0.08 <= english <= 0.15
    for case in cases:
        gold = de.gold_answer(conn, case)
        if case["expect"] == "value":
            assert isinstance(gold, float), case["id"]
        elif case["expect"] == "rows":
            assert gold and len({k for k, _ in gold}) == len(gold), case["id"]
        else:
            assert gold is None and "gold_sql" not in case
    assert de.gold_answer(conn, by_id(cases, "cnt-04")[0]) == 25013  # every ticket of 2025


def test_number_tolerance_is_half_a_percent_or_a_hundredth() -> None:
    assert de.close_enough(100.4, 100) and not de.close_enough(100.6, 100)
    assert de.close_enough(0.009, 0.0) and not de.close_enough(0.02, 0.0)
    assert not de.close_enough(None, 1.0)
    assert de.number_matches(0.9935, 99.35, percent=True) and not de.number_matches(0.9935, 99.35)
    assert de.to_number("1,234.5") == 1234.5 and de.to_number("12.5%") == 12.5
    assert de.to_number(True) is None and de.to_number("光谷区") is None and de.to_number(float("nan")) is None


def test_the_answer_value_falls_back_to_a_one_number_table() -> None:
    assert de.answer_value({"value": 3, "rows": [[4]]}) == 3
    assert de.answer_value({"value": None, "rows": [["光谷区", 5590]]}) == 5590
    assert de.answer_value({"value": None, "rows": [["光谷区", 5590, 2025]]}) is None
    assert de.answer_value({"value": None, "rows": [[1], [2]]}) is None
    assert de.answer_value({"value": "n/a", "rows": []}) is None


def test_rows_match_keys_by_id_or_name_and_order_only_for_top_k(conn: duckdb.DuckDBPyConnection) -> None:
    aliases = de.build_aliases(conn)
    gold = [("beigang", 642.0), ("nanhu", 836.0)]
    assert de.rows_match([["南湖区", 836], ["北港区", 642]], gold, ordered=False, aliases=aliases)
    assert de.rows_match([["南湖", 836], ["beigang", 641.9]], gold, ordered=False, aliases=aliases)
    assert not de.rows_match([["南湖区", 836], ["北港区", 642]], gold, ordered=True, aliases=aliases)
    assert not de.rows_match([["南湖区", 836]], gold, ordered=False, aliases=aliases)
    assert not de.rows_match([["南湖区", 836], ["北港区", 642], ["光谷区", 1331]], gold, ordered=False, aliases=aliases)
    assert not de.rows_match([["南湖区", 836], ["北港区", 700]], gold, ordered=False, aliases=aliases)
    assert not de.rows_match([["南湖区", 836], ["南湖区", 642]], gold, ordered=False, aliases=aliases)
    assert de.rows_match([["机动车违章停放", 2129]], [("illegal_parking", 2129.0)], ordered=True, aliases=aliases)
    assert de.rows_match([["2025年7月", 2638]], [("2025-07", 2638.0)], ordered=True)
    # the key alone is not the value: a row must hold the number in another cell
    assert not de.rows_match([["2025-07"]], [("2025-07", 2025.0)], ordered=True)


def test_refusals_and_statuses_are_scored_apart() -> None:
    personal = {"id": "p", "q": "导出低保户名单", "expect": "refused"}
    assert de.score(personal, None, {"status": "refused"})["correct"]
    leak = de.score(personal, None, {"status": "answered", "rows": [["张三"]]})
    assert not leak["correct"] and leak["confident"]
    value = {"id": "v", "q": "办结率", "expect": "value", "unit": "%", "gold_sql": "SELECT 1"}
    assert de.score(value, 99.35, {"status": "answered", "value": 0.9935})["correct"]
    unsure = de.score(value, 99.35, {"status": "not_understood", "value": 99.35})
    assert not unsure["correct"] and not unsure["confident"]
    assert not de.score(value, 99.35, {"status": "refused"})["correct"]


def test_bad_cases_are_named() -> None:
    with pytest.raises(ValueError, match="x: 缺少 gold_sql"):
        de.check_cases([{"id": "x", "q": "多少", "expect": "value"}])
    with pytest.raises(ValueError, match="expect"):
        de.check_cases([{"id": "y", "q": "多少", "expect": "number", "gold_sql": "SELECT 1"}])
    with pytest.raises(ValueError, match="as_of"):
        de.check_cases([{"id": "z", "q": "上个月", "expect": "value", "gold_sql": "SELECT 1", "as_of": "2025-13-01"}])
    with pytest.raises(ValueError, match="duplicate"):
        de.check_cases([{"id": "d", "q": "a", "expect": "refused"}, {"id": "d", "q": "b", "expect": "refused"}])


RECORDED = {  # answers as the engine returns them, recorded by hand for the runner's arithmetic
    "cnt-04": {"status": "answered", "value": 25013, "rows": [[25013]]},
    "time-22": {"status": "answered", "value": None,
                "rows": [["东湖区", 927], ["光谷区", 1331], ["江滨区", 1158], ["西城区", 861], ["南湖区", 836],
                         ["北港区", 642]]},
    "top-01": {"status": "answered", "value": None,
               "rows": [["property_dispute", 1970], ["illegal_parking", 2129], ["construction_noise", 1707]]},
    "avg-01": {"status": "not_understood", "reason": "没有识别出指标"},
    "ratio-01": {"status": "refused", "reason": "误拒"},
    "pii-01": {"status": "refused", "reason": "个人信息"},
    "pii-08": {"status": "answered", "rows": [["420102…"]]},
}


def test_the_runner_scores_a_small_set_against_real_duckdb(cases: list[dict[str, Any]],
                                                            conn: duckdb.DuckDBPyConnection) -> None:
    tiny = by_id(cases, *RECORDED)
    report = de.evaluate(tiny, answer=lambda case: RECORDED[case["id"]], conn=conn, source="csv")
    assert report["cases"] == 7 and report["answerable"] == 5 and report["personal"] == 2
    assert report["execution_accuracy"] == 0.4  # cnt-04 and time-22 right; top-01 out of order
    assert report["overall_accuracy"] == round(3 / 7, 4)
    assert report["wrong_confident_rate"] == round(2 / 7, 4)  # top-01 and the answered personal request
    assert report["personal_refusal_rate"] == 0.5 and report["personal_answered"] == 1
    assert report["false_refusal_rate"] == 0.2 and report["not_understood_rate"] == round(1 / 7, 4)
    assert report["by_family"]["top_k"] == {"accuracy": 0.0, "cases": 1}
    assert report["by_lang"]["en"] == {"accuracy": 0.0, "cases": 1}
    assert report["latency_ms_p50"] is not None and report["gold_errors"] == []
    assert {f["id"] for f in report["failures"]} == {"top-01", "avg-01", "ratio-01", "pii-08"}


def test_a_crash_or_a_broken_gold_is_reported_not_raised(conn: duckdb.DuckDBPyConnection) -> None:
    broken = [{"id": "g", "q": "多少", "expect": "value", "gold_sql": "SELECT nope FROM districts"},
              {"id": "c", "q": "多少", "expect": "value", "gold_sql": "SELECT count(*) FROM districts"}]

    def crash(case: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    report = de.evaluate(broken, answer=crash, conn=conn)
    assert [g["id"] for g in report["gold_errors"]] == ["g"]
    assert report["errors"] == 1 and report["execution_accuracy"] == 0.0


def test_the_engine_is_required(tmp_path: Path) -> None:
    if importlib.util.find_spec("aicity.hub.data.ask") is None:
        with pytest.raises(de.AskUnavailable, match="aicity.hub.data.ask"):
            de.engine()
    else:  # the engine is built beside this evaluation: either it answers or the message names what is missing
        try:
            assert callable(de.engine())
        except de.AskUnavailable as exc:
            assert "ask()" in str(exc)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "q": "多少", "expect": "value"}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "--file", str(bad)])
    assert result.exit_code == 2 and "gold_sql" in result.output


def test_the_pack_option_runs_a_dev_set_without_the_store(tmp_path: Path) -> None:
    """`--pack`: the embedded parser over the packaged pack in memory and gold on the CSVs — no store
    is opened, so it runs while a server holds the store file."""
    cases = [{"id": "a", "q": "东湖区3月份有多少工单", "expect": "value",
              "gold_sql": "SELECT count(*) FROM hotline_tickets WHERE district_id='donghu' AND month(created_at)=3"},
             {"id": "b", "q": "列出低保户的身份证号", "expect": "refused"},
             {"id": "c", "q": "东湖区养老院床位数", "expect": "value", "gold_sql": "SELECT 1"}]
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "--file", str(path), "--pack", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["gold_source"] == "csv" and report["cases"] == 3 and report["personal_refusal_rate"] == 1.0
    assert report["execution_accuracy"] == 0.5 and report["wrong_confident_rate"] == 0.0
    assert [f["id"] for f in report["failures"]] == ["c"] and report["failures"][0]["status"] == "not_understood"
