"""一句话问数 across datasets and over other bases (round 4): anti-joins (chain nodes with no local firm,
districts with no such day), shares within a subset and within each group, per-capita bases other than
residents (households, elderly, land area), averages over groups (平均每个区, 月均), distinct counts,
conditions on the district statistics, status codes beside their labels — each against a gold
computed by hand-written SQL over the pack loaded apart from the engine — and the wrong readings it
must not give (a named district is not a negated district, a named person is refused)."""

from __future__ import annotations

import duckdb
import pytest

from tests.hub.data.test_ask import answer, gold, pack  # noqa: F401 — fixtures

ACTIVE = "status IN ('存续', '在业')"


NO_FIRM = f"NOT EXISTS (SELECT 1 FROM enterprises e WHERE e.chain = n.chain AND e.chain_node = n.node AND e.{ACTIVE})"

VALUES = [
    ("没有在营企业的产业链环节有几个", f"SELECT COUNT(*) FROM chain_nodes n WHERE {NO_FIRM}"),
    ("how many chain nodes have no operating local firm", f"SELECT COUNT(*) FROM chain_nodes n WHERE {NO_FIRM}"),
    ("没有高新技术企业的环节有多少个", "SELECT COUNT(*) FROM chain_nodes n WHERE NOT EXISTS (SELECT 1 FROM enterprises e "
     f"WHERE e.chain = n.chain AND e.chain_node = n.node AND e.is_high_tech = 1 AND e.{ACTIVE})"),
    ("本地没有在营企业的产业链环节，对应有多少条招商线索", "SELECT COUNT(*) FROM investment_leads l WHERE NOT EXISTS "
     f"(SELECT 1 FROM enterprises e WHERE e.chain = l.chain AND e.chain_node = l.chain_node AND e.{ACTIVE})"),
    ("没有重污染天的区有几个", "SELECT COUNT(*) FROM districts d WHERE year = 2025 AND NOT EXISTS (SELECT 1 FROM "
     "air_quality_daily a WHERE a.district_id = d.district_id AND a.aqi > 200)"),
    ("光谷区专精特新企业中高新技术企业的占比", "SELECT COUNT(*) FILTER (WHERE is_high_tech = 1) * 100.0 / COUNT(*) FROM "
     f"enterprises WHERE district_id = 'guanggu' AND is_specialized_sme = 1 AND {ACTIVE}"),
    ("share of high-tech firms among specialized SMEs in Guanggu", "SELECT COUNT(*) FILTER (WHERE is_high_tech = 1) * "
     f"100.0 / COUNT(*) FROM enterprises WHERE district_id = 'guanggu' AND is_specialized_sme = 1 AND {ACTIVE}"),
    ("超过72小时才办结的工单占已办结的比例", "SELECT COUNT(*) FILTER (WHERE handling_hours > 72) * 100.0 / COUNT(*) "
     "FROM hotline_tickets WHERE status = 'closed'"),
    ("电话渠道的工单里回访满意的比例是多少", "SELECT AVG(satisfied) * 100 FROM hotline_tickets WHERE channel = '电话'"),
    ("西城区企业注销率是多少", "SELECT COUNT(*) FILTER (WHERE status = '注销') * 100.0 / COUNT(*) FROM enterprises "
     "WHERE district_id = 'xicheng'"),
    ("每千户常住户中的低保户数", "SELECT (SELECT COUNT(*) FROM low_income_households) * 1000.0 / SUM(households) "
     "FROM districts WHERE year = 2025"),
    ("东湖区每万户家庭有多少低保户", "SELECT (SELECT COUNT(*) FROM low_income_households WHERE district_id = 'donghu') "
     "* 10000.0 / households FROM districts WHERE year = 2025 AND district_id = 'donghu'"),
    ("光谷区每平方公里有多少家企业", f"SELECT (SELECT COUNT(*) FROM enterprises WHERE district_id = 'guanggu' AND {ACTIVE})"
     " * 1.0 / area_km2 FROM districts WHERE year = 2025 AND district_id = 'guanggu'"),
    ("平均每个区有多少家高新技术企业", f"SELECT COUNT(*) / 6.0 FROM enterprises WHERE is_high_tech = 1 AND {ACTIVE}"),
    ("average number of tickets per district", "SELECT COUNT(*) / 6.0 FROM hotline_tickets"),
    ("光谷区平均每个月有多少积水工单", "SELECT COUNT(*) / 12.0 FROM hotline_tickets WHERE district_id = 'guanggu' AND "
     "category = 'waterlogging'"),
    ("平均每条道路每天的车流量", "SELECT SUM(vehicles) * 1.0 / COUNT(DISTINCT (road_id, date)) FROM traffic_flow_hourly"),
    ("每个站点平均有多少个污染天", "SELECT COUNT(*) FILTER (WHERE aqi > 100) * 1.0 / COUNT(DISTINCT station_id) "
     "FROM air_quality_daily"),
    ("招商线索的企业总部来自多少个不同省份", "SELECT COUNT(DISTINCT province) FROM investment_leads"),
    ("工单一共涉及多少个不同的承办部门？", "SELECT COUNT(DISTINCT department) FROM hotline_tickets"),
    ("GDP最高的区有多少家企业", f"SELECT COUNT(*) FROM enterprises WHERE {ACTIVE} AND district_id = (SELECT district_id "
     "FROM districts WHERE year = 2025 ORDER BY gdp_100m_yuan DESC LIMIT 1)"),
    ("GDP超过1000亿元的区一共有多少家高新技术企业", f"SELECT COUNT(*) FROM enterprises WHERE {ACTIVE} AND is_high_tech = 1 "
     "AND district_id IN (SELECT district_id FROM districts WHERE year = 2025 AND gdp_100m_yuan > 1000)"),
    ("9月光谷大道的平均车速是多少公里每小时？", "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly WHERE road_name = '光谷大道' "
     "AND month(date) = 9"),
    ("光谷区GDP是东湖区的几倍", "SELECT SUM(gdp_100m_yuan) FILTER (WHERE district_id = 'guanggu') / SUM(gdp_100m_yuan) "
     "FILTER (WHERE district_id = 'donghu') FROM districts WHERE year = 2025"),
    ("人均低保金是多少", "SELECT SUM(monthly_allowance_yuan) * 1.0 / SUM(household_size) FROM low_income_households"),
    ("高新技术企业纳税额占营业收入的比例", "SELECT SUM(tax_2024_10k_yuan) * 100.0 / SUM(revenue_2024_10k_yuan) FROM "
     f"enterprises WHERE is_high_tech = 1 AND {ACTIVE}"),
    ("全市有几条主干道", "SELECT COUNT(DISTINCT road_id) FROM traffic_flow_hourly"),
    ("东湖区有多少个监测站", "SELECT COUNT(DISTINCT station_id) FROM air_quality_daily WHERE district_id = 'donghu'"),
    ("春季平均AQI", "SELECT AVG(aqi) FROM air_quality_daily WHERE month(date) BETWEEN 3 AND 5"),
    ("9月上旬解放大道车流量", "SELECT SUM(vehicles) FROM traffic_flow_hourly WHERE road_name = '解放大道' AND "
     "date BETWEEN '2025-09-01' AND '2025-09-10'"),
    ("光谷区常住人口多少万", "SELECT resident_population / 10000.0 FROM districts WHERE year = 2025 AND district_id = 'guanggu'"),
    ("截至2025年底全市低保户数", "SELECT COUNT(*) FROM low_income_households"),
    ("今年上半年空气优良率", "SELECT COUNT(*) FILTER (WHERE aqi <= 100) * 100.0 / COUNT(*) FROM air_quality_daily WHERE "
     "date < '2025-07-01'"),
]


@pytest.mark.parametrize(("question", "sql"), VALUES, ids=[q for q, _ in VALUES])
def test_one_figure_matches_the_gold(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str) -> None:  # noqa: F811
    a = answer(pack, question)
    expected = gold.execute(sql).fetchone()[0]
    assert a.status == "answered", (a.reason, a.sql)
    assert abs(float(a.value) - float(expected)) <= max(0.011, abs(float(expected)) * 0.001), (a.value, expected, a.sql)


def test_chain_nodes_with_no_local_firm_are_listed_one_by_one(pack: tuple, gold: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    expected = {r[0] for r in gold.execute(f"SELECT node FROM chain_nodes n WHERE NOT EXISTS (SELECT 1 FROM enterprises e "
                                            f"WHERE e.chain = n.chain AND e.chain_node = n.node AND e.is_high_tech = 1 "
                                            f"AND e.{ACTIVE})").fetchall()}
    a = answer(pack, "哪些产业链环节没有一家在营的高新技术企业")
    assert a.status == "answered" and {r[0] for r in a.rows} == expected and len(expected) > 3  # all, not a top 3


def test_share_within_each_group(pack: tuple, gold: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    expected = dict(gold.execute("SELECT district_id, COUNT(*) FILTER (WHERE is_high_tech = 1) * 100.0 / COUNT(*) FROM "
                                 f"enterprises WHERE is_specialized_sme = 1 AND {ACTIVE} GROUP BY 1").fetchall())
    a = answer(pack, "各区专精特新企业中高新技术企业的占比")
    names = {"光谷区": "guanggu", "东湖区": "donghu", "江滨区": "jiangbin", "西城区": "xicheng", "南湖区": "nanhu",
             "北港区": "beigang"}
    assert a.status == "answered" and len(a.rows) == 6
    for label, value in ((r[0], r[1]) for r in a.rows):
        assert abs(value - expected[names[label]]) < 0.01
    city = answer(pack, "各区积水工单占全市的比例")  # 占全市: each district's share of the city, as before
    assert city.rows[0][2] > city.rows[-1][2] and abs(sum(r[2] for r in city.rows) - 100) < 0.01


def test_grouped_per_base_and_codes(pack: tuple, gold: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    expected = dict(gold.execute("SELECT d.name, COUNT(*) * 100.0 / d.households FROM low_income_households l JOIN "
                                 "districts d ON d.district_id = l.district_id AND d.year = 2025 GROUP BY d.name, "
                                 "d.households").fetchall())
    a = answer(pack, "各区低保户占常住户数的比例（2025年）")
    assert a.status == "answered" and {r[0]: round(r[1], 3) for r in a.rows} == {
        k: round(v, 3) for k, v in expected.items()}
    status = answer(pack, "按状态统计工单数")
    assert status.columns[-1] == "状态代码" and {r[0]: r[-1] for r in status.rows} == {"已办结": "closed", "未办结": "open"}
    months = answer(pack, "2025年每个月的工单量变化情况")
    assert [r[-1] for r in months.rows] == list(range(1, 13))


def test_readings_it_must_not_give(pack: tuple) -> None:  # noqa: F811
    named = answer(pack, "东湖区没有办结的工单有多少")  # a named district's open tickets, not districts without any
    assert named.status == "answered" and "hotline_tickets" in (named.sql or "") and "NOT EXISTS" not in named.sql
    for question in ("查一下何菊香家每个月领多少低保金", "帮我查查张伟是不是在领低保，他住南湖区"):
        assert answer(pack, question).status == "refused"
    assert answer(pack, "查一下东湖区低保家庭数").status == "answered"  # a district is not a person
    for question in ("各区工单数与常住人口之比", "已办结工单与未办结工单的比例", "周末和工作日的平均车流量对比",
                     "截至2024年底全市低保户数"):
        assert answer(pack, question).status == "not_understood", question  # no guess
    negated_personal = answer(pack, "没有身份证号的低保户的区有几个")
    assert negated_personal.status == "refused"


def test_anti_join_over_aggregate_only_data_is_not_answered_row_by_row(pack: tuple) -> None:  # noqa: F811
    a = answer(pack, "哪些区没有低保户")  # NOT EXISTS over an aggregate-only table would read rows: refused by the check
    assert a.status in ("refused", "not_understood") or a.rows == [] and "low_income" not in (a.sql or "")


def test_aggregate_only_data_gets_no_filtered_counts(pack: tuple) -> None:  # noqa: F811
    """A FILTERed count inside a large group could release a count under the group size: over aggregate-only
    data the share within each group is two grouped queries, each suppressed under the group size."""
    a = answer(pack, "有残疾成员的低保户占比（按区）")
    assert a.status == "answered" and "FILTER" not in (a.sql or "") and a.sql.count("HAVING COUNT(*) >= 5") == 2
    spread = answer(pack, "平均每个区有多少有残疾成员的低保户")
    assert spread.status == "answered" and "FILTER" not in (spread.sql or "") and "HAVING COUNT(*) >= 5" in spread.sql
