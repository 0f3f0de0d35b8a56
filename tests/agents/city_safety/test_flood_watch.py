"""The waterlogging watch (内涝预警): rain over the drains' capacity, a river over the outfall, and
water seen rising on the road each make a road's outlook worse; a road about to flood files one
event for the water department; the API, CLI and the assistant answer with the same outlook.

Readings are stored days in the past and the watch is asked "as of" then, so that the other
tests' live readings (the simulator's rainstorm) cannot reach these outlooks."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.agents.city_safety import flood
from aicity.cli import app as cli
from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.ids import utcnow
from aicity.hub.events.models import Event
from aicity.hub.geo.drainage import drainage
from aicity.hub.iot import service as iot
from aicity.identity import service as identity
from aicity.server import create_app

POINT = "jb-jiangbin-underpass"  # 江滨路下穿通道: P = 2 years, t = 10 min, outfall submerged at 3.2 m
_scenes = itertools.count(1)


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="module")
def sensors(city: Path) -> dict[str, str]:
    """A ponding sensor at the underpass, a rain gauge 1 km off and a river gauge 2 km off."""
    point = next(p for p in drainage().points if p.id == POINT)
    made = {}
    for key, type_, dlat in (("ponding", "FloodMonitoring", 0.0001), ("rain", "WeatherObserved", 0.009),
                             ("river", "WaterLevelObserved", -0.018)):
        device, _ = iot.create_device(iot.DeviceSpec(type=type_, id=f"flood-test-{key}", district="江滨区",
                                                     lat=point.lat + dlat, lon=point.lon), "test")
        made[key] = device.id
    return made


def scene(sensors: dict[str, str], rain: float | None = None, river: float | None = None,
          ponding: list[float] | None = None) -> datetime:
    """Store one scene's readings (the ponding series one a minute, ending at the returned time)
    in its own hour, days ago."""
    at = utcnow().replace(minute=30, second=0, microsecond=0) - timedelta(days=3, hours=next(_scenes) * 2)
    batch = []
    if rain is not None:
        batch.append(iot.ReadingIn(sensors["rain"], "precipitation", rain, "mm/h", at - timedelta(minutes=2)))
    if river is not None:
        batch.append(iot.ReadingIn(sensors["river"], "waterLevel", river, "m", at - timedelta(minutes=3)))
    for i, depth in enumerate(reversed(ponding or [])):
        batch.append(iot.ReadingIn(sensors["ponding"], "waterLevel", depth, "m", at - timedelta(minutes=i)))
    if batch:
        iot.ingest(batch)
    return at


def at_point(at: datetime, horizon_min: int = 60) -> flood.Outlook:
    return next(o for o in flood.outlook(horizon_min, "江滨区", now=at) if o.point.id == POINT)


def test_capacity_follows_the_storm_formula() -> None:
    plan = drainage()
    point = next(p for p in plan.points if p.id == POINT)
    # q = 983·(1 + 0.65·lg2) / (10 + 4)^0.56 L/(s·ha) ≈ 268.3 → × 0.36 ≈ 96.6 mm/h
    assert plan.capacity_mm_h(point) == pytest.approx(96.6, abs=0.2)
    one_year = next(p for p in plan.points if p.design_period_years == 1 and p.concentration_min == 15)
    assert plan.capacity_mm_h(one_year) < plan.capacity_mm_h(point)  # a lower standard drains less


def test_rain_over_capacity_warns_before_the_road_floods(sensors: dict[str, str]) -> None:
    at = scene(sensors, rain=130, river=2.0, ponding=[0.05])
    o = at_point(at)
    # ψ·(i − i_cap)·F/S = 0.9 × (130 − 96.6) mm/h × 20,000 m² / 1,500 m² ≈ 0.40 m/h
    assert o.level is flood.Level.warning and not o.backwater
    assert o.rate_m_per_h == pytest.approx(0.40, abs=0.01)
    assert o.minutes_to_flood == pytest.approx(15, abs=1)
    assert o.predicted_depth_m == pytest.approx(0.45, abs=0.01) and o.closure
    assert o.depth and o.depth.device_id == sensors["ponding"] and o.rain and o.rain.device_id == sensors["rain"]
    assert any("超过排水能力" in r for r in o.reasons)
    # the same rain, one hour's horizon cut to ten minutes: not yet
    assert at_point(at, horizon_min=10).level is flood.Level.watch


def test_a_submerged_outfall_halves_the_drains(sensors: dict[str, str]) -> None:
    calm = at_point(scene(sensors, rain=70, river=2.0, ponding=[0.0]))
    assert calm.level is flood.Level.normal and calm.rate_m_per_h is not None and calm.rate_m_per_h < 0
    high_river = at_point(scene(sensors, rain=70, river=3.5, ponding=[0.0]))
    assert high_river.backwater and high_river.level is flood.Level.warning
    assert any("顶托" in r or "高于排口" in r for r in high_river.reasons)


def test_water_seen_rising_warns_without_a_rain_gauge(sensors: dict[str, str]) -> None:
    o = at_point(scene(sensors, ponding=[0.02, 0.03, 0.05, 0.06, 0.08, 0.09, 0.10]))
    assert o.rain is None and o.depth is not None and o.depth.rate_per_h == pytest.approx(0.84, abs=0.03)  # 8 cm in 6 min
    assert o.level is flood.Level.warning and o.minutes_to_flood is not None and o.minutes_to_flood < 10


def test_flooded_now_and_no_data(sensors: dict[str, str]) -> None:
    o = at_point(scene(sensors, rain=10, ponding=[0.22]))
    assert o.level is flood.Level.flooded and o.minutes_to_flood == 0
    empty = at_point(scene(sensors))  # nothing fresh anywhere near
    assert empty.level is flood.Level.no_data and empty.predicted_depth_m is None


def test_bad_horizon_and_district() -> None:
    with pytest.raises(Exception, match="horizon"):
        flood.outlook(5)
    with pytest.raises(Exception, match="unknown district"):
        flood.outlook(60, "火星区")


def test_warn_files_one_event_for_the_water_department(sensors: dict[str, str]) -> None:
    at = scene(sensors, rain=130, river=2.0, ponding=[0.05])
    published: list[dict] = []
    unsubscribe = bus.subscribe("city_safety.flood.warning", lambda _t, p: published.append(p))
    try:
        filed = [w for w in flood.warn(now=at) if w["id"] == POINT]
        again = [w for w in flood.warn(now=at) if w["id"] == POINT]
    finally:
        unsubscribe()
    assert len(filed) == 1 and again == []  # one warning a point a day
    assert [p["id"] for p in published].count(POINT) == 1
    from aicity.core.db import database

    with database().session() as s:
        event = s.get(Event, filed[0]["event_id"])
        report = s.get(Event, filed[0]["report_id"])  # the warning's own row (merged into an open event nearby)
    assert event is not None and event.category == "waterlogging" and event.department == "water"
    assert report is not None and report.title == "预警：江滨路下穿通道"
    assert "内涝预警：江滨路下穿通道（下穿通道）预计约 15 分钟后积水超过 15 cm" in report.description
    assert any(e.action == "city_safety.flood_warning" and e.target == POINT for e in audit.recent_entries(200))


def test_api_outlook_and_permissions(app: TestClient, sensors: dict[str, str]) -> None:
    at = scene(sensors, rain=130, river=2.0, ponding=[0.05])
    _, official = identity.create_api_key("flood-official", "official")
    _, citizen = identity.create_api_key("flood-citizen", "citizen")
    resp = app.get("/api/v1/safety/waterlogging", params={"district": "jiangbin", "at": at.isoformat()},
                   headers={"X-API-Key": official})
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert {r["district"] for r in rows} == {"江滨区"} and rows[0]["id"] == POINT  # the most urgent first
    assert rows[0]["level"] == "warning" and rows[0]["minutes_to_flood"] == 15
    assert app.get("/api/v1/safety/waterlogging").status_code == 401
    assert app.get("/api/v1/safety/waterlogging", headers={"X-API-Key": citizen}).status_code == 403
    bad = app.get("/api/v1/safety/waterlogging", params={"horizon_min": 5}, headers={"X-API-Key": official})
    assert bad.status_code == 422
    nowhere = app.get("/api/v1/safety/waterlogging", params={"district": "火星区"}, headers={"X-API-Key": official})
    assert nowhere.status_code == 400 and nowhere.json()["type"].endswith("unknown-district")
    # running the watch files events: operators and admins only
    assert app.post("/api/v1/safety/waterlogging/warnings", headers={"X-API-Key": official}).status_code == 403


def test_cli_table_and_json(sensors: dict[str, str], city: Path) -> None:
    at = scene(sensors, rain=130, river=2.0, ponding=[0.05])
    runner = CliRunner()
    out = runner.invoke(cli, ["safety", "waterlogging", "--district", "江滨区", "--at", at.isoformat(), "--json",
                              "--data-dir", str(city)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert rows[0]["id"] == POINT and rows[0]["level"] == "warning"
    table = runner.invoke(cli, ["safety", "waterlogging", "--district", "jiangbin", "--at", at.isoformat(),
                                "--data-dir", str(city)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "江滨路下穿通道" in table.stdout and "预警" in table.stdout
    bad = runner.invoke(cli, ["safety", "waterlogging", "--horizon", "500", "--data-dir", str(city)])
    assert bad.exit_code == 2 and "10–180" in bad.output


def test_the_assistant_answers_officials_only(app: TestClient) -> None:
    _, official = identity.create_api_key("flood-ask-official", "official")
    body = app.post("/api/v1/assistant/ask", json={"text": "江滨区未来一小时哪些道路会内涝？"},
                    headers={"X-API-Key": official}).json()
    assert [(s["agent"], s["skill"]) for s in body["skills"]] == [("city_safety", "waterlogging_watch")], body
    assert "内涝预警" in body["answer"] and "江滨区共 4 个易涝点" in body["answer"]
    citizen = app.post("/api/v1/assistant/ask", json={"text": "江滨区未来一小时哪些道路会内涝？"}).json()
    assert ("city_safety", "waterlogging_watch") not in [(s["agent"], s["skill"]) for s in citizen["skills"]]
