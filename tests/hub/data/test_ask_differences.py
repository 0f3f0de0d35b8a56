"""一句话问数: two figures set against each other — two values of one dimension (A比B多多少: A − B;
listed without 一共: one row each), two periods (增加了多少: the difference; 增长了百分之几: the
rate; a rate's change in percentage points), compound annual growth between two years, one summed
column as a share of another (65岁以上人口占常住人口的比例) and totals per hour (平均每小时车流量（两方向合计）)."""

from __future__ import annotations

import duckdb
import pytest

from tests.hub.data.test_ask import answer, gold, pack  # noqa: F401 — fixtures

TICKETS_2025_09 = "created_at >= '2025-09-01' AND created_at < '2025-10-01'"
TICKETS_2025_08 = "created_at >= '2025-08-01' AND created_at < '2025-09-01'"


@pytest.mark.parametrize(("question", "sql"), [
    ("光谷区比东湖区多多少工单",
     "SELECT COUNT(*) FILTER (WHERE district_id = 'guanggu') - COUNT(*) FILTER (WHERE district_id = 'donghu') "
     "FROM hotline_tickets"),
    ("东湖区的满意率比光谷区高多少个百分点",
     "SELECT (AVG(satisfied) FILTER (WHERE district_id = 'donghu') - AVG(satisfied) FILTER (WHERE district_id = "
     "'guanggu')) * 100 FROM hotline_tickets"),
    ("东湖区和光谷区的GDP相差多少",
     "SELECT ABS(SUM(gdp_100m_yuan) FILTER (WHERE district_id = 'donghu') - SUM(gdp_100m_yuan) FILTER (WHERE "
     "district_id = 'guanggu')) FROM districts WHERE year = 2025"),
    ("9月份工单比8月份多了多少",
     f"SELECT COUNT(*) FILTER (WHERE {TICKETS_2025_09}) - COUNT(*) FILTER (WHERE {TICKETS_2025_08}) "
     "FROM hotline_tickets"),
    ("2025年光谷区GDP比2024年增加了多少亿元",
     "SELECT SUM(gdp_100m_yuan) FILTER (WHERE year = 2025) - SUM(gdp_100m_yuan) FILTER (WHERE year = 2024) "
     "FROM districts WHERE district_id = 'guanggu'"),
    ("光谷区2021年到2025年GDP增长了百分之几",
     "SELECT (SUM(gdp_100m_yuan) FILTER (WHERE year = 2025) - SUM(gdp_100m_yuan) FILTER (WHERE year = 2021)) * 100.0"
     " / SUM(gdp_100m_yuan) FILTER (WHERE year = 2021) FROM districts WHERE district_id = 'guanggu'"),
    ("2025年12月满意率环比提高了几个百分点",
     "SELECT (AVG(satisfied) FILTER (WHERE created_at >= '2025-12-01') - AVG(satisfied) FILTER (WHERE created_at >= "
     "'2025-11-01' AND created_at < '2025-12-01')) * 100 FROM hotline_tickets"),
    ("2021到2025年全市GDP年均增长率",
     "SELECT (POWER(SUM(gdp_100m_yuan) FILTER (WHERE year = 2025) / SUM(gdp_100m_yuan) FILTER (WHERE year = 2021), "
     "0.25) - 1) * 100 FROM districts"),
    ("北港区65岁以上人口占常住人口的比例",
     "SELECT SUM(elderly_65_plus) * 100.0 / SUM(resident_population) FROM districts WHERE year = 2025 AND "
     "district_id = 'beigang'"),
    ("建设大道平均每小时车流量（两个方向合计）",
     "SELECT SUM(vehicles) * 1.0 / COUNT(DISTINCT (date, hour)) FROM traffic_flow_hourly WHERE road_name = '建设大道'"),
    ("建设大道平均每小时车流量",  # the records are per hour, road and direction: their average
     "SELECT AVG(vehicles) FROM traffic_flow_hourly WHERE road_name = '建设大道'"),
])
def test_differences_and_ratios(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "answered", (question, a.answer, a.reason)
    expected = float(gold.execute(sql).fetchone()[0])
    assert a.value is not None and abs(float(a.value) - expected) <= max(0.011, abs(expected) * 0.001), (
        question, a.value, expected, a.sql)


def test_listed_values_are_answered_each(pack: tuple, gold: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    a = answer(pack, "东湖区和光谷区的工单数")
    assert a.status == "answered" and len(a.rows) == 2, (a.answer, a.sql)
    want = dict(gold.execute("SELECT district_id, COUNT(*) FROM hotline_tickets WHERE district_id IN ('donghu', "
                             "'guanggu') GROUP BY 1").fetchall())
    assert sorted(r[1] for r in a.rows) == sorted(want.values())
    together = answer(pack, "东湖区和光谷区的工单一共多少件")
    assert together.status == "answered" and together.value == sum(want.values())


@pytest.mark.parametrize("question", [
    "全市GDP年均增长率",  # between which years?
    "光谷区工单比全市多多少",  # a count against the city's total: not a comparison anyone means
    "东湖区比光谷区的工单多多少件某某",  # a word it cannot place
])
def test_differences_it_cannot_place_are_not_answered(pack: tuple, question: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "not_understood", (question, a.answer, a.sql)
    assert a.value is None and not a.rows


@pytest.mark.parametrize(("question", "sql"), [
    ("各区每万名常住人口的热线工单数（用2024年人口）",  # the divisor's year is not a time filter
     "SELECT MAX(c * 10000.0 / p) FROM (SELECT district_id, COUNT(*) AS c FROM hotline_tickets GROUP BY 1) "
     "JOIN (SELECT district_id, resident_population AS p FROM districts WHERE year = 2024) USING (district_id)"),
    ("全年AQI优良（≤100）站日占比",  # the same condition said twice; the share of days, not of average AQI
     "SELECT AVG(CASE WHEN aqi <= 100 THEN 100.0 ELSE 0 END) FROM air_quality_daily"),
    ("六个区2024年GDP加起来是多少亿元", "SELECT SUM(gdp_100m_yuan) FROM districts WHERE year = 2024"),
    ("新能源汽车产业链企业2024年纳税总额（万元，含所有状态）",
     "SELECT SUM(tax_2024_10k_yuan) FROM enterprises WHERE chain = '新能源汽车'"),
    ("光谷大道18点的平均车速", "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly WHERE road_name = '光谷大道' AND hour = 18"),
])
def test_clarifications_in_brackets_and_hours(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str,  # noqa: F811
                                              sql: str) -> None:
    a = answer(pack, question)
    assert a.status == "answered", (question, a.answer, a.reason)
    expected = float(gold.execute(sql).fetchone()[0])
    got = a.value if isinstance(a.value, int | float) else max(r[1] for r in a.rows)
    assert abs(float(got) - expected) <= max(0.011, abs(expected) * 0.001), (question, got, expected, a.sql)


def test_grouping_by_the_default_filters_dimension_shows_every_value(
        pack: tuple, gold: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    a = answer(pack, "企业库里各登记状态分别有多少家")
    want = dict(gold.execute("SELECT status, COUNT(*) FROM enterprises GROUP BY 1").fetchall())
    assert a.status == "answered" and {r[0]: r[1] for r in a.rows} == want, (a.rows, a.sql)


def test_top_n_firms_and_year_keys(pack: tuple) -> None:  # noqa: F811
    firms = answer(pack, "2024年营业收入最高的3家在营企业")
    assert firms.status == "answered" and len(firms.rows) == 3, (firms.answer, firms.sql)
    years = answer(pack, "东湖区2021到2025年每年的一般公共预算收入")
    assert years.status == "answered" and all(isinstance(r[0], int) for r in years.rows), years.rows
    assert "年" in years.answer


def test_all_of_them_together_is_one_figure(pack: tuple, gold: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    together = answer(pack, "2025年全市各站点AQI超过100的站日数一共多少")
    expected = gold.execute("SELECT COUNT(*) FROM air_quality_daily WHERE aqi > 100").fetchone()[0]
    assert together.status == "answered" and together.value == expected, (together.answer, together.sql)
    each = answer(pack, "各区工单一共多少件")  # no 全市: one figure per district
    assert each.status == "answered" and len(each.rows) == 6
