"""一句话问数, round 6 classes: cumulative and listed time windows (截至9月底, 年初至今, 7、8月份, 3月和5月, 12月第一周),
two years set side by side read in time order, shares said as 所占比重 / 几成, everyday and English words for the
event categories (下水道堵了, 危化品, fire hazard) and the most specific of several words for one dimension, firms
founded in a period counted whatever their status now, conditions said as 24小时内 / 超过一周 / 为零 / 过亿, the
groups a condition keeps counted (…的类别有几个), figures over the land area (地均GDP), growth since a year, 增长最多
as an amount, a named person's welfare record refused however the question starts — each against hand-written gold
SQL over the pack, and the shapes that must stay unanswered."""

from __future__ import annotations

import duckdb
import pytest

from tests.hub.data.test_ask import answer, gold, pack  # noqa: F401 — fixtures

ACTIVE = "status IN ('存续', '在业')"
T = "hotline_tickets"


def _close(got: object, expected: object) -> bool:
    return abs(float(got) - float(expected)) <= max(0.011, abs(float(expected)) * 0.001)  # type: ignore[arg-type]


@pytest.mark.parametrize(("question", "sql"), [
    ("截至9月底全市工单总数", f"SELECT COUNT(*) FROM {T} WHERE created_at < '2025-10-01'"),
    ("年初至今受理了多少工单", f"SELECT COUNT(*) FROM {T}"),
    ("tickets in the first nine months of 2025", f"SELECT COUNT(*) FROM {T} WHERE created_at < '2025-10-01'"),
    ("7、8月份的积水工单一共多少", f"SELECT COUNT(*) FROM {T} WHERE category = 'waterlogging' AND month(created_at) IN (7, 8)"),
    ("How many tickets were filed between March and May?", f"SELECT COUNT(*) FROM {T} WHERE month(created_at) BETWEEN 3 AND 5"),
    ("3月和5月的工单合计", f"SELECT COUNT(*) FROM {T} WHERE month(created_at) IN (3, 5)"),
    ("12月第一周工单数", f"SELECT COUNT(*) FROM {T} WHERE created_at >= '2025-12-01' AND created_at < '2025-12-08'"),
    ("9月3日至9月底的工单量", f"SELECT COUNT(*) FROM {T} WHERE created_at >= '2025-09-03' AND created_at < '2025-10-01'"),
    ("2022年和2024年的GDP合计", "SELECT SUM(gdp_100m_yuan) FROM districts WHERE year IN (2022, 2024)"),
    ("2024年和2025年的GDP对比", "SELECT (SUM(gdp_100m_yuan) FILTER (WHERE year = 2025) - SUM(gdp_100m_yuan) FILTER "
     "(WHERE year = 2024)) * 100 / SUM(gdp_100m_yuan) FILTER (WHERE year = 2024) FROM districts"),
    ("未办结工单所占比重", f"SELECT COUNT(*) FILTER (WHERE status = 'open') * 100.0 / COUNT(*) FROM {T}"),
    ("集成电路链招商线索中已上市的占几成", "SELECT COUNT(*) FILTER (WHERE last_financing_round = '已上市') * 100.0 / COUNT(*) "
     "FROM investment_leads WHERE chain = '集成电路'"),
    ("下水道堵了的工单数", f"SELECT COUNT(*) FROM {T} WHERE category = 'sewer_blockage'"),
    ("电梯坏了困人的工单平均多久办结（小时）", f"SELECT AVG(handling_hours) FROM {T} WHERE category = 'elevator_fault'"),
    ("有多少工单是反映老板拖欠工资的？", f"SELECT COUNT(*) FROM {T} WHERE category = 'wage_arrears'"),
    ("how many fire hazard tickets", f"SELECT COUNT(*) FROM {T} WHERE category = 'fire_hazard'"),
    ("Number of broken-streetlight tickets in Guanggu District", f"SELECT COUNT(*) FROM {T} WHERE category = 'streetlight' "
     "AND district_id = 'guanggu'"),
    ("噪音扰民的投诉，工地施工和邻居吵闹加起来一共多少件", f"SELECT COUNT(*) FROM {T} WHERE category IN "
     "('construction_noise', 'neighborhood_noise')"),
    ("噪音投诉多少", f"SELECT COUNT(*) FROM {T} WHERE category IN ('construction_noise', 'neighborhood_noise', "
     "'industrial_pollution')"),
    ("how many tickets did the Sanitation Department handle", f"SELECT COUNT(*) FROM {T} WHERE department = 'sanitation'"),
    ("2024年第三季度新成立的企业有多少家？", "SELECT COUNT(*) FROM enterprises WHERE founded_date BETWEEN '2024-07-01' AND "
     "'2024-09-30'"),
    ("全市现在还在营业的企业有多少家", f"SELECT COUNT(*) FROM enterprises WHERE {ACTIVE}"),
    ("What share of closed tickets were resolved within 24 hours?", f"SELECT COUNT(*) FILTER (WHERE handling_hours <= 24) "
     f"* 100.0 / COUNT(*) FROM {T} WHERE status = 'closed'"),
    ("办理时长超过一周的工单有多少", f"SELECT COUNT(*) FROM {T} WHERE handling_hours > 168"),
    ("专利数为零的高新技术企业有几家", f"SELECT COUNT(*) FROM enterprises WHERE patents = 0 AND is_high_tech = 1 AND {ACTIVE}"),
    ("营收过亿的在营企业有多少家", f"SELECT COUNT(*) FROM enterprises WHERE revenue_2024_10k_yuan > 10000 AND {ACTIVE}"),
    ("没有回访的工单数", f"SELECT COUNT(*) FROM {T} WHERE satisfied IS NULL"),
    ("2023年以来拿到过融资的招商线索有几家？", "SELECT COUNT(*) FROM investment_leads WHERE last_financing_date >= '2023-01-01'"),
    ("工单量超过2000件的类别有几个", f"SELECT COUNT(*) FROM (SELECT category FROM {T} GROUP BY 1 HAVING COUNT(*) > 2000)"),
    ("江滨区地均GDP", "SELECT gdp_100m_yuan / area_km2 FROM districts WHERE year = 2025 AND district_id = 'jiangbin'"),
    ("2021年以来光谷区GDP累计增长了多少", "SELECT (SUM(gdp_100m_yuan) FILTER (WHERE year = 2025) - SUM(gdp_100m_yuan) "
     "FILTER (WHERE year = 2021)) * 100 / SUM(gdp_100m_yuan) FILTER (WHERE year = 2021) FROM districts "
     "WHERE district_id = 'guanggu'"),
    ("光谷区常住人口比2021年增加了多少人", "SELECT SUM(resident_population) FILTER (WHERE year = 2025) - "
     "SUM(resident_population) FILTER (WHERE year = 2021) FROM districts WHERE district_id = 'guanggu'"),
    ("东湖区一共有几个空气监测站", "SELECT COUNT(DISTINCT station_id) FROM air_quality_daily WHERE district_id = 'donghu'"),
    ("北港工业园站今年PM10日均值超过150的有几天", "SELECT COUNT(*) FROM air_quality_daily WHERE station_name = '北港工业园' "
     "AND pm10 > 150"),
    ("How many minimum-living-allowance households are there in Nanhu District?", "SELECT COUNT(*) FROM "
     "low_income_households WHERE district_id = 'nanhu'"),
    ("how many people in low-income households in Donghu", "SELECT SUM(household_size) FROM low_income_households "
     "WHERE district_id = 'donghu'"),
    ("燃气泄漏平均要多少个小时才处理完", f"SELECT AVG(handling_hours) FROM {T} WHERE category = 'gas_leak'"),
    ("注册资本在500万到1000万之间的在营企业", f"SELECT COUNT(*) FROM enterprises WHERE registered_capital_10k_yuan "
     f"BETWEEN 500 AND 1000 AND {ACTIVE}"),
    ("从业人员50到100人的企业数", f"SELECT COUNT(*) FROM enterprises WHERE employees BETWEEN 50 AND 100 AND {ACTIVE}"),
    ("高新技术企业或专精特新企业共有多少家", f"SELECT COUNT(*) FROM enterprises WHERE (is_high_tech = 1 OR "
     f"is_specialized_sme = 1) AND {ACTIVE}"),
    ("非电话渠道的工单数", f"SELECT COUNT(*) FROM {T} WHERE channel <> '电话'"),
    ("除了光谷区以外其他区的工单总数", f"SELECT COUNT(*) FROM {T} WHERE district_id <> 'guanggu'"),
    ("线上渠道（网站、APP、小程序）受理量", f"SELECT COUNT(*) FROM {T} WHERE channel IN ('网站', 'APP', '小程序')"),
    ("夜间（22点到6点）平均车速", "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly WHERE hour >= 22 OR hour < 6"),
    ("What is the average speed at 8 am on Jianshe Avenue?", "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly "
     "WHERE road_name = '建设大道' AND hour = 8"),
    ("AQI在50以下的天数", "SELECT COUNT(*) FROM air_quality_daily WHERE aqi <= 50"),
    ("整体满意度咋样", f"SELECT AVG(satisfied) * 100 FROM {T}"),
])
def test_one_figure(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str) -> None:  # noqa: F811
    a = answer(pack, question)
    expected = gold.execute(sql).fetchone()[0]
    assert a.status == "answered", (a.reason, a.sql)
    assert _close(a.value, expected), (a.value, expected, a.sql)


@pytest.mark.parametrize(("question", "sql"), [
    ("3月和5月的工单数分别是多少", f"SELECT strftime(created_at, '%Y-%m'), COUNT(*) FROM {T} WHERE month(created_at) IN (3, 5) "
     "GROUP BY 1 ORDER BY 1"),
    ("第三、四季度各多少工单", f"SELECT quarter(created_at), COUNT(*) FROM {T} WHERE quarter(created_at) IN (3, 4) GROUP BY 1 "
     "ORDER BY 1"),
    ("江滨区和西城区2025年人均GDP谁高？（元/人）", "SELECT district_id, gdp_100m_yuan * 100000000 / resident_population FROM "
     "districts WHERE year = 2025 AND district_id IN ('jiangbin', 'xicheng') ORDER BY 2 DESC"),
    ("工单量倒数三名的类别", f"SELECT category, COUNT(*) FROM {T} GROUP BY 1 ORDER BY 2 LIMIT 3"),
    ("哪个区2025年人口增长最多", "SELECT a.district_id, a.resident_population - b.resident_population FROM districts a JOIN "
     "districts b ON a.district_id = b.district_id AND b.year = 2024 WHERE a.year = 2025 ORDER BY 2 DESC LIMIT 1"),
    ("东湖区历年常住人口", "SELECT year, resident_population FROM districts WHERE district_id = 'donghu' ORDER BY 1"),
    ("各区工单数从少到多排列", f"SELECT district_id, COUNT(*) FROM {T} GROUP BY 1 ORDER BY 2"),
    ("Rank districts by number of low-income households", "SELECT district_id, COUNT(*) FROM low_income_households "
     "GROUP BY 1 ORDER BY 2 DESC"),
])
def test_rows_in_order(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str) -> None:  # noqa: F811
    a = answer(pack, question)
    expected = gold.execute(sql).fetchall()
    assert a.status == "answered" and len(a.rows) == len(expected), (a.rows, expected, a.sql)
    for row, (_, value) in zip(a.rows, expected, strict=True):
        assert any(_close(c, value) for c in row if isinstance(c, int | float)), (a.rows, expected, a.sql)


def test_each_chain_share_of_operating_firms_is_not_a_share_of_the_default_rows(pack: tuple) -> None:  # noqa: F811
    a = answer(pack, "各产业链在营企业数量占比")
    assert a.status == "answered" and "share_pct" in (a.sql or "") and "status IN ('存续', '在业')" in (a.sql or ""), a.sql
    assert abs(sum(r[-1] for r in a.rows) - 100) < 0.1, a.rows  # the chains' shares add up to the whole


@pytest.mark.parametrize("question", [
    "王秀英家是不是低保户？每个月领多少钱",
    "何菊香家低保金多少",
])
def test_a_named_persons_welfare_record_is_refused_however_the_question_starts(pack: tuple, question: str) -> None:  # noqa: F811
    a = answer(pack, question)
    assert a.status == "refused" and not a.rows, (a.answer, a.sql)


@pytest.mark.parametrize("question", [
    "工单比11月多多少",  # the current period is not named
    "超过3天的工单有多少",  # three days of what?
])
def test_shapes_it_cannot_place_stay_unanswered(pack: tuple, question: str) -> None:  # noqa: F811
    assert answer(pack, question).status == "not_understood"
