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


AQI_JULY = "date >= '2025-07-01' AND date < '2025-08-01'"


@pytest.mark.parametrize(("question", "sql"), [
    # 全市 + 平均 without 分别/哪/每: one figure over every station-day; with 分别: one row per station
    ("全市各站7月份平均AQI", f"SELECT AVG(aqi) FROM air_quality_daily WHERE {AQI_JULY}"),
    ("全市各站7月份平均AQI分别是多少",
     f"SELECT AVG(aqi) FROM air_quality_daily WHERE {AQI_JULY} GROUP BY station_name ORDER BY 1 DESC LIMIT 1"),
    ("各站7月份平均AQI",
     f"SELECT AVG(aqi) FROM air_quality_daily WHERE {AQI_JULY} GROUP BY station_name ORDER BY 1 DESC LIMIT 1"),
    ("12月14号到17号寒潮期间，供水管道破裂工单多少件",  # the event names the days: a label, not a condition
     "SELECT COUNT(*) FROM hotline_tickets WHERE category = 'water_pipe_burst' AND created_at >= '2025-12-14' "
     "AND created_at < '2025-12-18'"),
    ("9月的周六周日工单多少件",
     "SELECT COUNT(*) FROM hotline_tickets WHERE dayofweek(created_at) IN (0, 6) AND created_at >= '2025-09-01' "
     "AND created_at < '2025-10-01'"),
])
def test_whole_city_and_context(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str,  # noqa: F811
                                sql: str) -> None:
    a = answer(pack, question)
    assert a.status == "answered", (question, a.answer)
    got = a.value if a.value is not None else a.rows[0][1]
    assert got == pytest.approx(gold.execute(sql).fetchone()[0], abs=1e-3), (question, a.answer, a.sql)


def test_a_metric_that_is_a_change_is_not_computed_again(pack: tuple) -> None:  # noqa: F811
    a = answer(pack, "招商线索按扩张信号分组，平均专利申请同比增速")
    assert a.status == "answered" and "patents_growth_pct" in (a.sql or "") and "prev" not in (a.sql or "")


def test_an_event_without_its_days_is_not_guessed_away(pack: tuple) -> None:  # noqa: F811
    assert answer(pack, "6月份暴雨期间积水工单数").status == "not_understood"


@pytest.mark.parametrize(("question", "sql"), [
    # one named chain filters, the listed positions group (the top row is compared)
    ("集成电路产业链上游、中游、下游各有多少家在营企业（存续/在业）",
     "SELECT COUNT(*) FROM enterprises AS e JOIN chain_nodes AS n ON e.chain = n.chain AND e.chain_node = n.node "
     "WHERE e.chain = '集成电路' AND e.status IN ('存续', '在业') GROUP BY n.position ORDER BY 1 DESC LIMIT 1"),
    # a monthly figure: 月均 restates the month, 总额 asks the sum
    ("各区低保金月均发放总额（元）",
     "SELECT SUM(monthly_allowance_yuan) FROM low_income_households GROUP BY district_id ORDER BY 1 DESC LIMIT 1"),
])
def test_listed_values_and_monthly_totals(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str,  # noqa: F811
                                          sql: str) -> None:
    a = answer(pack, question)
    assert a.status == "answered" and a.rows, (question, a.answer)
    assert a.rows[0][1] == pytest.approx(gold.execute(sql).fetchone()[0], abs=1e-3), (question, a.answer, a.sql)
