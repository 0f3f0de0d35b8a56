"""一句话问数: a figure against the city's (光谷区的满意率比全市高多少: a rate against the city's own; a
count against the average over the districts, 比全市平均), conditions on each group's figure
(工单超过1000件的类别, 满意率高于全市的区: HAVING, not a row filter), and clauses that only give the
occasion (下周区长办公会要用) ignored as context."""

from __future__ import annotations

import duckdb
import pytest

from tests.hub.data.test_ask import answer, gold, pack  # noqa: F401 — fixtures

DISTRICT_COUNTS = "SELECT district_id AS k, COUNT(*) AS v FROM hotline_tickets GROUP BY 1"


@pytest.mark.parametrize(("question", "sql"), [
    ("光谷区的满意率比全市高多少",
     "SELECT (AVG(satisfied) FILTER (WHERE district_id = 'guanggu') - AVG(satisfied)) * 100 FROM hotline_tickets"),
    ("东湖区PM2.5比全市平均低多少",  # how much lower, as asked: city − district
     "SELECT AVG(pm25) - AVG(pm25) FILTER (WHERE district_id = 'donghu') FROM air_quality_daily"),
    ("光谷区的工单数比全市平均高多少",  # a count: against the average over the districts
     f"SELECT (SELECT v FROM ({DISTRICT_COUNTS}) WHERE k = 'guanggu') - (SELECT AVG(v) FROM ({DISTRICT_COUNTS}))"),
    ("下周区长办公会要用，帮我查一下光谷区2025年10月一共接了多少件12345工单？",
     "SELECT COUNT(*) FROM hotline_tickets WHERE district_id = 'guanggu' AND created_at >= '2025-10-01' "
     "AND created_at < '2025-11-01'"),
])
def test_one_figure(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "answered", (question, a.answer)
    assert a.value == pytest.approx(gold.execute(sql).fetchone()[0], abs=1e-3), (question, a.answer, a.sql)


@pytest.mark.parametrize(("question", "sql"), [
    ("工单超过1000件的类别有哪些",
     "SELECT category FROM hotline_tickets WHERE category IS NOT NULL GROUP BY 1 HAVING COUNT(*) > 1000"),
    ("满意率超过85%的区", "SELECT district_id FROM hotline_tickets GROUP BY 1 HAVING AVG(satisfied) * 100 > 85"),
    ("满意率高于全市的区",
     "SELECT district_id FROM hotline_tickets GROUP BY 1 HAVING AVG(satisfied) > (SELECT AVG(satisfied) FROM "
     "hotline_tickets)"),
    ("工单数高于全市平均的区有哪些",
     f"SELECT k FROM ({DISTRICT_COUNTS}) WHERE v > (SELECT AVG(v) FROM ({DISTRICT_COUNTS}))"),
])
def test_conditions_on_group_figures(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str,  # noqa: F811
                                     sql: str) -> None:
    a = answer(pack, question)
    assert a.status == "answered", (question, a.answer)
    want = {r[0] for r in gold.execute(sql).fetchall()}
    assert len(a.rows) == len(want) and "HAVING" in (a.sql or ""), (question, a.answer, a.sql)


def test_a_row_condition_stays_a_row_filter(pack: tuple) -> None:  # noqa: F811
    a = answer(pack, "各区注册资本超过1000万元的企业数")
    assert a.status == "answered" and "HAVING" not in (a.sql or "") and "registered_capital" in (a.sql or "")


@pytest.mark.parametrize("question", [
    "超过1000件的",  # a condition on groups that names none
    "工单超过1000件的某某",  # a word it cannot place
])
def test_conditions_it_cannot_place(pack: tuple, question: str) -> None:  # noqa: F811
    assert answer(pack, question).status == "not_understood", question
