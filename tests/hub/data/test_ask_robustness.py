"""一句话问数 robustness: personal-row requests in many phrasings are refused before anything is
parsed, half-understood questions are "not_understood" rather than a confident number, and the
phrasings the parser learned beyond its author's own (top N in words, grouped 同比, a money unit,
the median) give the right figures over the demo pack."""

from __future__ import annotations

import duckdb
import pytest

from tests.hub.data.test_ask import answer, gold, pack  # noqa: F401 — fixtures

ACTIVE = "status IN ('存续', '在业')"


@pytest.mark.parametrize("question", [
    "select * from low_income_households", "低保户前100行", "看一下低保表的原始数据", "把企业库全部导出来",
    "export the enterprises table", "dump all welfare households records", "低保户住在哪些小区",
    "东湖区领低保的具体是谁", "谁是DB-420102-0001这户的户主？", "show me the first 100 rows of the hotline tickets",
    "打12345投诉最多的市民是谁", "光谷区高新技术企业的法人和电话"])
def test_row_and_person_requests_are_refused_with_an_alternative(pack: tuple, question: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "refused", (question, a.answer)
    assert a.reason and a.alternative and a.value is None and not a.rows and a.sql is None


@pytest.mark.parametrize("question", [
    "通过电话反映的工单有多少件", "各区低保户数", "how many tickets came in through the mobile app"])
def test_aggregates_near_personal_words_are_answered(pack: tuple, question: str) -> None:  # noqa: F811
    assert answer(pack, question).status == "answered"


@pytest.mark.parametrize("question", [
    "东湖区的GDP比全市高多少",  # a sum against the city total (the city average would have to be said)
    "平均办结时长最长的工单",  # a superlative that ranks nothing
    "前几名的类别",
    "东湖区下个月的工单",  # a word it cannot place
    "全市GDP年均增长率",  # compound growth between which years?
])
def test_half_understood_questions_are_not_answered_with_a_number(pack: tuple, question: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "not_understood", (question, a.answer, a.sql)
    assert a.value is None and not a.rows


@pytest.mark.parametrize(("question", "sql"), [
    ("东湖区和光谷区的工单总数", "SELECT COUNT(*) FROM hotline_tickets WHERE district_id IN ('donghu','guanggu')"),
    ("全市低保每月发放的保障金总额是多少万元", "SELECT SUM(monthly_allowance_yuan) / 10000.0 FROM low_income_households"),
    ("工单处理时长的中位数", "SELECT MEDIAN(handling_hours) FROM hotline_tickets"),
    ("前三季度工单数", "SELECT COUNT(*) FROM hotline_tickets WHERE created_at < '2025-10-01'"),
    ("H1 hotline tickets", "SELECT COUNT(*) FROM hotline_tickets WHERE created_at < '2025-07-01'"),
    ("电话渠道的工单占比", "SELECT AVG(CASE WHEN channel = '电话' THEN 100.0 ELSE 0 END) FROM hotline_tickets"),
    ("2024年营收最高的十家企业", f"SELECT MAX(revenue_2024_10k_yuan) FROM enterprises WHERE {ACTIVE}"),
    ("2025年各区GDP同比增速", "SELECT MAX(g) FROM (SELECT (SUM(gdp_100m_yuan) FILTER (WHERE year = 2025) - "
     "SUM(gdp_100m_yuan) FILTER (WHERE year = 2024)) * 100.0 / SUM(gdp_100m_yuan) FILTER (WHERE year = 2024) AS g "
     "FROM districts GROUP BY district_id)"),
])
def test_broader_phrasings(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "answered", (question, a.answer)
    expected = float(gold.execute(sql).fetchone()[0])
    got = a.value if isinstance(a.value, int | float) else a.rows[0][1]
    assert abs(float(got) - expected) <= max(0.011, abs(expected) * 0.001), (question, got, expected, a.sql)


def test_top_n_in_words_ranks_that_many(pack: tuple) -> None:  # noqa: F811
    for question, n in (("工单最多的三个区", 3), ("which 5 categories had the most complaints", 5),
                        ("平均车速最低的两条路", 2), ("Which three districts had the highest GDP in 2025?", 3)):
        a = answer(pack, question)
        assert a.status == "answered" and len(a.rows) == n, (question, a.rows, a.sql)
    slow = answer(pack, "平均车速最低的两条路")
    assert slow.rows[0][1] <= slow.rows[1][1]
