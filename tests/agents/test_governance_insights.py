"""The governance agent for officials: one-sentence questions over live events, hotspots and
rising trends, the daily briefing (JSON, Markdown, HTML with SVG) over REST and the CLI.

The events are seeded in 2024, so that what other tests report today never enters the
windows asserted here; a seeded event's times are moved back through the events' session."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from aicity.agents.governance.agent import parse_question
from aicity.assistant.service import assistant
from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.events import insights, lifecycle, service
from aicity.hub.events.models import Event, EventHistory
from aicity.hub.events.report_cli import app as report_cli
from aicity.hub.geo import gazetteer
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal

DAY = date(2024, 3, 20)  # the briefing's day
TREND_END = date(2024, 6, 30)  # the last day of the trend series
ADMIN = Principal(role=Role.admin)
OFFICIAL = Principal(role=Role.official)
_n = itertools.count()


def _point(district: str) -> dict[str, float]:
    """A fresh point in the district, about 300 m from every other seeded one."""
    lat, lon = gazetteer.gazetteer().districts[district].centre()
    n = next(_n)
    where = {"lat": round(lat - 0.03 + (n // 20) * 0.003, 6), "lon": round(lon - 0.03 + (n % 20) * 0.003, 6)}
    assert gazetteer.locate(**where).id == district
    return where


def seed(category: str, district: str, when: datetime, actions: tuple[str, ...] = ()) -> str:
    """Report an event, take `actions` as the admin, then move its life back to `when`
    (each history step a minute after the one before)."""
    result = service.report(f"测试事件 {category}", "operator", service.Reporter("r_insights"), category=category,
                            **_point(district))
    assert result.created and not result.merged
    event_id = result.event.id
    for action in actions:
        service.transition(event_id, action, ADMIN, note="测试")
    with database().session() as s:
        event = s.get(Event, event_id)
        event.created_at = event.updated_at = event.sla_started_at = when
        rows = s.scalars(select(EventHistory).where(EventHistory.event_id == event_id)
                         .order_by(EventHistory.at, EventHistory.id)).all()
        for i, row in enumerate(rows):
            row.at = when + timedelta(minutes=i)
        event.sla_due_at = lifecycle.due_at(event)
    return event_id


def at(day: date, hour: int) -> datetime:
    return insights.local_day(day)[0] + timedelta(hours=hour)


@pytest.fixture(scope="module")
def seeded(city: Path) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {
        "donghu_water_open": [seed("waterlogging", "donghu", at(DAY, 9 + i)) for i in range(3)],
        "donghu_water_done": [seed("waterlogging", "donghu", at(DAY, 8), ("accept", "start", "resolve"))],
        "guanggu_manhole": [seed("manhole_cover", "guanggu", at(DAY - timedelta(days=d), 10)) for d in (0, 3)],
        "gas": [seed("gas_leak", "jiangbin", at(DAY, 15))],
        "earlier_closed": [seed("streetlight", "xicheng", at(DAY - timedelta(days=5), 10),
                                ("accept", "resolve", "close"))],
    }
    # every open one of these is past its deadline by the end of the day: escalated once
    lifecycle.check_sla(insights.local_day(DAY)[1] - timedelta(minutes=1))
    # the trend series: illegal ads jump in the last week, dirty roads stay flat
    for week in range(4):
        week_end = TREND_END - timedelta(days=7 * (3 - week))
        for i in range(8 if week == 3 else 1):
            seed("illegal_ads", "beigang", at(week_end - timedelta(days=i % 7), 9))
        for i in range(6):
            seed("road_dirty", "xicheng", at(week_end - timedelta(days=i), 11))
    return ids


# --- understanding the question ------------------------------------------------------------------

def test_questions_are_parsed_into_filters() -> None:
    f, labels = parse_question("东湖区现在有哪些未处理的积水事件", DAY)
    assert (f.district, f.category, f.since, f.overdue) == ("donghu", "waterlogging", None, False)
    assert f.statuses == {str(s) for s in lifecycle.OPEN_STATES} and labels == ["东湖区", "道路积水/内涝", "未处理"]
    f, _ = parse_question("光谷区这个月有多少井盖事件", DAY)
    assert (f.district, f.category, f.since) == ("guanggu", "manhole_cover", at(date(2024, 3, 1), 0))
    assert parse_question("哪些事件超时了", DAY)[0].overdue
    f, _ = parse_question("最近3天江滨区下水道冒水的有几起", DAY)  # free phrasing: the classifier
    assert (f.district, f.category, f.since) == ("jiangbin", "sewer_blockage", at(DAY - timedelta(days=2), 0))
    f, labels = parse_question("昨天待派单的事件有多少", DAY)
    assert (f.since, f.until, f.statuses) == (at(DAY - timedelta(days=1), 0), at(DAY, 0), {"reported"})
    f, labels = parse_question("最近一周已办结的事件", DAY)
    assert f.statuses == {"resolved", "closed"} and labels == ["全市", "已办结", "最近7天"]
    assert parse_question("最近一周投诉最多的问题是什么", DAY)[0].category is None


# --- answers -------------------------------------------------------------------------------------

def test_query_counts_with_district_status_and_time(seeded: dict[str, list[str]]) -> None:
    day_after = DAY + timedelta(days=1)
    f, _ = parse_question("昨天东湖区的积水事件有多少", day_after)
    found = insights.query(f)
    assert found.total == 4 and {e.id for e in found.events} == {*seeded["donghu_water_open"],
                                                               *seeded["donghu_water_done"]}
    assert found.by_status == {"dispatched": 3, "resolved": 1}
    assert insights.query(parse_question("昨天东湖区已办结的积水事件", day_after)[0]).total == 1
    f, _ = parse_question("上个月光谷区有多少井盖事件", date(2024, 4, 10))
    assert {e.id for e in insights.query(f).events} == set(seeded["guanggu_manhole"])
    assert insights.query(parse_question("昨天西城区的路灯事件", day_after)[0]).total == 0


def test_an_official_asks_in_one_sentence(seeded: dict[str, list[str]]) -> None:
    result = assistant().ask("东湖区现在有哪些未处理的积水事件", OFFICIAL)
    assert [(s.agent, s.skill) for s in result.skills] == [("governance", "event_query")]
    expected = insights.query(parse_question("东湖区现在有哪些未处理的积水事件")[0], limit=500)
    assert f"共 **{expected.total}** 起" in result.answer
    assert all(i in result.answer for i in seeded["donghu_water_open"])
    assert seeded["donghu_water_done"][0] not in result.answer  # resolved: not open
    overdue = assistant().ask("哪些事件超时了", OFFICIAL)
    assert [s.skill for s in overdue.skills] == ["event_query"]
    assert all(i in overdue.answer for i in seeded["donghu_water_open"])


def test_hotspots_answer_what_is_reported_most(seeded: dict[str, list[str]]) -> None:
    start, end = insights.local_day(DAY)
    spots = insights.hotspots(start, end)
    assert spots["total"] == 6
    assert spots["category"][0] == {"key": "waterlogging", "name": "道路积水/内涝", "count": 4, "share": 0.6667}
    assert spots["district"][0]["key"] == "donghu" and spots["district"][0]["count"] == 4
    seed("open_bbq", "nanhu", utcnow() - timedelta(hours=1))  # the last week has at least one event
    result = assistant().ask("最近一周投诉最多的问题是什么", OFFICIAL)
    assert [(s.agent, s.skill) for s in result.skills] == [("governance", "hotspot_insight")]
    assert "最多的是" in result.answer and "| 类别 | 事件数 | 占比 |" in result.answer


def test_citizens_never_reach_city_wide_events(client: TestClient, seeded: dict[str, list[str]]) -> None:
    for q in ("东湖区现在有哪些未处理的积水事件", "最近一周投诉最多的问题是什么", "哪些事件超时了"):
        for role in (Role.citizen, Role.enterprise):
            result = assistant().ask(q, Principal(role=role))
            assert not {s.skill for s in result.skills} & {"event_query", "hotspot_insight"}
            assert not any(i in result.answer for i in seeded["donghu_water_open"])
    assert client.get("/api/v1/events/briefing").status_code == 403
    assert client.get("/api/v1/events/briefing", params={"format": "html"}).status_code == 403


# --- trends --------------------------------------------------------------------------------------

def test_the_rate_ratio_test() -> None:
    assert insights.rising(8, 3)[0]  # 8 against a mean of 1 a window
    assert not insights.rising(6, 18)[0]  # flat
    assert not insights.rising(4, 0)[0]  # too few to say
    assert insights.binomial_tail(0, 10, 0.3) == pytest.approx(1.0)
    assert insights.binomial_tail(3, 3, 0.5) == pytest.approx(0.125)


def test_a_rising_category_is_found_and_a_flat_one_is_not(seeded: dict[str, list[str]]) -> None:
    rising = insights.trends(7, until=insights.local_day(TREND_END)[1])
    keys = {(r["dimension"], r["key"]): r for r in rising}
    ads = keys[("category", "illegal_ads")]
    assert (ads["current"], ads["baseline_mean"], ads["ratio"]) == (8, 1.0, 8.0) and ads["p_value"] < 0.05
    assert ("category", "road_dirty") not in keys and ("district", "xicheng") not in keys


# --- the briefing --------------------------------------------------------------------------------

def test_the_briefing_numbers(seeded: dict[str, list[str]]) -> None:
    b = insights.briefing(DAY)
    assert (b["date"], b["new"], b["done"]) == ("2024-03-20", 6, 1)
    # open at the day's end: 3 waterlogging, 2 manhole covers, the gas leak
    assert b["open"] == 6 and b["overdue_open"] == 6
    assert b["sla_breaches"] == 6 and {e["id"] for e in b["breached"]} >= set(seeded["donghu_water_open"])
    # the gas leak, and the five the SLA check escalated from high to urgent
    assert {e["id"] for e in b["urgent"]} == {*seeded["gas"], *seeded["donghu_water_open"], *seeded["guanggu_manhole"]}
    assert b["top_categories"][0]["key"] == "waterlogging" and b["top_districts"][0]["key"] == "donghu"
    backlog = {r["department"]: r["open"] for r in b["backlog"]}
    assert sum(backlog.values()) == 6
    assert len(b["series"]) == 14 and b["series"][-1] == {"date": "2024-03-20", "new": 6, "done": 1}
    assert b["series"][-4]["new"] == 1  # the manhole cover three days before
    assert sum(d["done"] for d in b["series"]) == 2  # and the street light closed five days before


def test_the_briefing_over_rest(client: TestClient, seeded: dict[str, list[str]]) -> None:
    _, key = identity.create_api_key("insights-official", "official")
    headers = {"X-API-Key": key}
    body = client.get("/api/v1/events/briefing", params={"date": "2024-03-20"}, headers=headers).json()
    assert body["new"] == 6
    md = client.get("/api/v1/events/briefing", params={"date": "2024-03-20", "format": "md"}, headers=headers)
    assert md.headers["content-type"].startswith("text/markdown") and "# 城市运行日报 2024-03-20" in md.text
    page = client.get("/api/v1/events/briefing", params={"date": "2024-03-20", "format": "html"}, headers=headers)
    assert page.headers["content-type"].startswith("text/html")
    assert_self_contained(page.text)
    bad = client.get("/api/v1/events/briefing", params={"format": "pdf"}, headers=headers)
    assert bad.status_code in (400, 422)


def assert_self_contained(page: str) -> None:
    assert page.count("<svg") >= 3 and "<script" not in page
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|<link|@import|url\(", page, re.IGNORECASE)


def test_report_daily_cli(city: Path, seeded: dict[str, list[str]], tmp_path: Path) -> None:
    runner = CliRunner()
    md = runner.invoke(report_cli, ["daily", "--date", "2024-03-20", "--data-dir", str(city)])
    assert md.exit_code == 0, md.output
    assert "# 城市运行日报 2024-03-20" in md.stdout and "新增事件：**6** 起" in md.stdout
    assert all(i in md.stdout for i in seeded["gas"])
    out = tmp_path / "daily.html"
    page = runner.invoke(report_cli, ["daily", "--date", "2024-03-20", "--format", "html", "--out", str(out),
                                      "--data-dir", str(city)])
    assert page.exit_code == 0, page.output
    assert_self_contained(out.read_text(encoding="utf-8"))
    for bad in (["daily", "--date", "2024-13-40"], ["daily", "--format", "pdf"]):
        failed = runner.invoke(report_cli, [*bad, "--data-dir", str(city)])
        assert failed.exit_code == 2, failed.output
