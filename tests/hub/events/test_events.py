"""Unified event management: an event's whole life through REST, Open311 (over real HTTP, JSON
and XML) and the CLI; bad input; permissions; SLA escalation; duplicates and idempotency;
reporters' personal information kept out of history, audit and answers."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.db import database, use_database
from aicity.demo.loader import ensure_city
from aicity.hub.events import lifecycle, service
from aicity.hub.events.classify import Classification, categories
from aicity.hub.events.manage_cli import app as events_cli
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import corpus
from tests.support.http import problem

PHONE = "13912345678"
EMAIL = "zhang.wei@example.com"
_points = itertools.count()


def point() -> dict[str, float]:
    """A fresh point in 南湖区, about 400 m from every other one, so that tests never merge."""
    n = next(_points)
    return {"lat": round(30.41 + (n // 20) * 0.004, 6), "lon": round(114.21 + (n % 20) * 0.004, 6)}


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, dict[str, str]]:
    made = {"admin": ("admin", None), "dispatcher": ("official", None), "urban": ("operator", "urban"),
            "water": ("operator", "water")}
    out = {}
    for name, (role, department) in made.items():
        _, key = identity.create_api_key(f"events-{name}", role, department)
        out[name] = {"Authorization": f"Bearer {key}"}
    return out


def citizen_report(client: TestClient, text: str, token: str | None = None, **body: Any) -> dict[str, Any]:
    headers = {"X-Reporter-Token": token} if token else {}
    resp = client.post("/api/v1/events", json={"text": text, **body}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def web(live_server: str) -> Iterator[httpx.Client]:
    """Real HTTP to the live server (patient: a first classification may train the classifier)."""
    with httpx.Client(base_url=live_server, timeout=60) as http:
        yield http


def act(client: TestClient, event_id: str, action: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/events/{event_id}/transitions", json={"action": action, **body}, headers=headers)


def steps(client: TestClient, event_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/events/{event_id}/history", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["history"]


# --- the lifecycle ---------------------------------------------------------------------------

def test_whole_lifecycle_through_rest(client: TestClient, keys: dict) -> None:
    event = citizen_report(client, "这条路的路灯一到晚上就不亮，走夜路很危险", category="streetlight", **point())
    token, eid = event["reporter_token"], event["id"]
    assert event["status"] == "dispatched" and event["department"] == "urban" and event["district"] == "nanhu"
    assert event["allowed_actions"] == ["accept", "reject"] and event["sla_due_at"]
    mine = {"X-Reporter-Token": token}
    for action in ("accept", "start", "resolve"):
        resp = act(client, eid, action, keys["urban"], note=f"{action} 说明")
        assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "resolved" and resp.json()["sla_due_at"] is None
    closed = act(client, eid, "close", mine, note="已经亮了，谢谢")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    reopened = act(client, eid, "reopen", mine, note="又不亮了")
    assert reopened.json()["status"] == "dispatched" and reopened.json()["sla_due_at"]
    history = steps(client, eid, mine)
    assert [(h["action"], h["to_status"]) for h in history] == [
        ("report", "reported"), ("dispatch", "dispatched"), ("accept", "accepted"), ("start", "in_progress"),
        ("resolve", "resolved"), ("close", "closed"), ("reopen", "dispatched")]
    assert history[2]["actor"].startswith("operator:urban:key_") and history[-1]["note"] == "又不亮了"
    assert history[0]["actor"].startswith("citizen:r_")


def test_illegal_transition_is_409_with_the_allowed_actions(client: TestClient, keys: dict) -> None:
    eid = citizen_report(client, "路灯坏了", category="streetlight", **point())["id"]
    body = problem(act(client, eid, "resolve", keys["urban"]), 409)
    assert body["type"].endswith("illegal-transition")
    assert body["current_status"] == "dispatched" and body["allowed_actions"] == ["accept", "reject"]
    assert problem(act(client, eid, "fly", keys["admin"]), 400)["type"].endswith("unknown-action")


def test_reject_with_reason_goes_back_to_the_dispatch_queue(client: TestClient, keys: dict) -> None:
    eid = citizen_report(client, "人行道上的井盖松动了", category="streetlight", **point())["id"]
    assert problem(act(client, eid, "reject", keys["urban"]), 400)["type"].endswith("note-required")
    back = act(client, eid, "reject", keys["urban"], note="不是路灯，是井盖：应由水务局处理")
    assert back.status_code == 200 and back.json()["status"] == "reported"
    queue = client.get("/api/v1/events", params={"status": "reported"}, headers=keys["dispatcher"]).json()
    assert eid in [e["id"] for e in queue["events"]]
    redispatched = act(client, eid, "dispatch", keys["dispatcher"], department="water")
    assert redispatched.json()["status"] == "dispatched" and redispatched.json()["department"] == "water"
    assert act(client, eid, "accept", keys["water"]).status_code == 200
    reject = next(h for h in steps(client, eid, keys["admin"]) if h["action"] == "reject")
    assert reject["from_status"] == "dispatched" and "水务局" in reject["note"]
    assert problem(act(client, eid, "accept", keys["admin"], department="water"), 400)


def test_low_confidence_waits_for_a_human_dispatcher(client: TestClient, keys: dict,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    unsure = Classification(category="road_dirty", department="sanitation", priority="normal", confidence=0.31,
                            urgent_reasons=[], alternatives=[], needs_human=True)
    monkeypatch.setattr(service, "classify", lambda _text: unsure)
    event = citizen_report(client, "门口这一片有点乱，不知道该找谁", **point())
    assert event["status"] == "reported" and event["confidence"] == pytest.approx(0.31)
    assert [h["action"] for h in steps(client, event["id"], keys["admin"])] == ["report"]


def test_a_clear_report_is_classified_and_dispatched_at_once(client: TestClient) -> None:
    event = citizen_report(client, "幸福路12号楼道里闻到很重的煤气味，怀疑燃气泄漏了")
    assert (event["category"], event["department"], event["priority"]) == ("gas_leak", "gas", "urgent")
    assert event["status"] == "dispatched" and event["district"] == "donghu" and event["address"] == "幸福路12号"
    chosen = citizen_report(client, "楼下有股怪味", category="gas_leak", **point())  # the reporter's category
    assert (chosen["category"], chosen["priority"], chosen["confidence"]) == ("gas_leak", "urgent", 1.0)


# --- SLA ---------------------------------------------------------------------------------------

def test_sla_breach_escalates_once_per_stage(client: TestClient, keys: dict) -> None:
    event = citizen_report(client, "小区门口垃圾桶满了好几天没人清运", category="garbage_overflow", **point())
    heard: list[dict] = []
    stop = bus.subscribe("events.sla.breached", lambda _t, payload: heard.append(payload))
    try:
        created = lifecycle.as_utc(service.get(event["id"], Principal(role=Role.admin)).created_at)
        assert event["id"] not in [b["id"] for b in lifecycle.check_sla(created + timedelta(minutes=1))]
        late = created + timedelta(days=8)
        breached = {b["id"]: b for b in lifecycle.check_sla(late)}
        assert event["id"] in breached and breached[event["id"]]["overdue_minutes"] > 0
        assert event["id"] not in [b["id"] for b in lifecycle.check_sla(late + timedelta(hours=1))]
    finally:
        stop()
    assert event["id"] in [p["id"] for p in heard]
    now = client.get(f"/api/v1/events/{event['id']}", headers=keys["admin"]).json()
    raised = lifecycle.PRIORITIES[max(lifecycle.PRIORITIES.index(event["priority"]) - 1, 0)]
    assert now["sla_breached"] and now["priority"] == raised
    escalation = steps(client, event["id"], keys["admin"])[-1]
    assert escalation["action"] == "escalate" and escalation["actor"] == lifecycle.SLA_ACTOR
    # accepting starts the resolve stage: a new deadline that may be breached once more
    accepted = act(client, event["id"], "accept", keys["admin"]).json()
    assert not accepted["sla_breached"]
    assert event["id"] in [b["id"] for b in lifecycle.check_sla(late + timedelta(days=30))]


def test_sla_table_has_every_priority() -> None:
    assert lifecycle.sla_for("fire", "urgent").accept == timedelta(minutes=5)
    assert lifecycle.sla_for("streetlight", "urgent") == lifecycle.Sla(timedelta(minutes=30), timedelta(hours=4))
    for category in categories():
        for priority in lifecycle.PRIORITIES:
            sla = lifecycle.sla_for(category, priority)
            assert timedelta(0) < sla.accept < sla.resolve


# --- duplicates and idempotency --------------------------------------------------------------

def test_duplicates_merge_and_keep_every_reporter(client: TestClient, keys: dict) -> None:
    where = point()
    first = citizen_report(client, "下大雨后这里积水很深，车都过不去", category="waterlogging", **where)
    near = {"lat": where["lat"] + 0.0005, "lon": where["lon"]}  # about 55 m north
    second = citizen_report(client, "这个路口积水到膝盖了", category="waterlogging", **near)
    assert second["merged"] and second["id"] == first["id"] and second["report_id"] != first["id"]
    assert second["reporters"] == 2
    for token in (first["reporter_token"], second["reporter_token"]):  # both can follow the open event
        seen = client.get(f"/api/v1/events/{first['id']}", headers={"X-Reporter-Token": token})
        assert seen.status_code == 200
    duplicate = client.get(f"/api/v1/events/{second['report_id']}", headers=keys["admin"]).json()
    assert duplicate["status"] == "merged" and duplicate["merged_into"] == first["id"]
    merged = client.get("/api/v1/events", params={"status": "merged"}, headers=keys["admin"]).json()["events"]
    assert second["report_id"] in [e["id"] for e in merged]
    assert second["report_id"] not in [e["id"] for e in client.get(
        "/api/v1/events", params={"category": "waterlogging"}, headers=keys["admin"]).json()["events"]]
    # another category at the same place, or the same category far away, is another event
    other = citizen_report(client, "积水旁边的路灯也坏了", category="streetlight", **near)
    assert not other["merged"]


def test_same_address_merges_and_closed_events_do_not(client: TestClient, keys: dict) -> None:
    first = citizen_report(client, "光谷三路88号门口道路破损有个大坑", category="road_damage")
    assert first["address"] == "光谷三路88号"
    again = citizen_report(client, "光谷三路88号那个坑还在", category="road_damage")
    assert again["merged"] and again["id"] == first["id"]
    for action in ("accept", "resolve", "close"):
        act(client, first["id"], action, keys["admin"])
    third = citizen_report(client, "光谷三路88号又出现一个坑", category="road_damage")
    assert not third["merged"] and third["id"] != first["id"]


def test_idempotency_key_returns_the_original(client: TestClient, keys: dict) -> None:
    body = {"text": "地铁口的共享单车堆成山了", "category": "bike_parking", **point()}
    headers = {"Idempotency-Key": "app-42-report-1"}
    first = client.post("/api/v1/events", json=body, headers=headers)
    again = client.post("/api/v1/events", json={**body, "text": "重复提交"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"]
    assert again.json()["description"] == body["text"] and "reporter_token" not in again.json()
    listed = client.get("/api/v1/events", params={"category": "bike_parking"}, headers=keys["admin"]).json()
    assert [e["id"] for e in listed["events"]].count(first.json()["id"]) == 1 and listed["count"] == 1


# --- bad input -------------------------------------------------------------------------------

def test_unknown_category_is_400(client: TestClient) -> None:
    body = problem(client.post("/api/v1/events", json={"text": "有问题", "category": "ufo_sighting"}), 400)
    assert body["type"].endswith("unknown-category") and body["category"] == "ufo_sighting"


def test_a_point_outside_the_city_is_400(client: TestClient) -> None:
    outside = problem(client.post("/api/v1/events", json={"text": "路灯不亮", "lat": 39.9, "lon": 116.4}), 400)
    assert outside["type"].endswith("outside-city")
    assert problem(client.post("/api/v1/events", json={"text": "路灯不亮", "lat": 30.45}), 400)
    assert problem(client.post("/api/v1/events", json={"text": "路灯不亮", "lat": 95, "lon": 114.3}), 422)


def test_empty_description_is_400(client: TestClient) -> None:
    assert problem(client.post("/api/v1/events", json={"text": "  \u200b "}), 400)["type"].endswith("empty-text")
    assert problem(client.post("/api/v1/events", json={}), 422)


def test_unknown_event_status_and_filters(client: TestClient, keys: dict) -> None:
    assert problem(client.get("/api/v1/events/evt_nope", headers=keys["admin"]), 404)
    assert problem(client.get("/api/v1/events", params={"status": "lost"}, headers=keys["admin"]), 400)
    future = client.get("/api/v1/events", params={"since": "2999-01-01T00:00:00+08:00"}, headers=keys["admin"])
    assert future.json() == {"events": [], "count": 0}


# --- permissions -----------------------------------------------------------------------------

def test_operators_act_only_on_their_department(client: TestClient, keys: dict) -> None:
    eid = citizen_report(client, "路灯一闪一闪的", category="streetlight", **point())["id"]
    assert problem(act(client, eid, "accept", keys["water"]), 403)
    assert problem(act(client, eid, "accept", keys["dispatcher"]), 403)  # the dispatch centre dispatches only
    assert problem(client.post(f"/api/v1/events/{eid}/correction", json={"category": "fire"}), 403)
    assert act(client, eid, "accept", keys["urban"]).status_code == 200


def test_citizens_see_only_their_own(client: TestClient, keys: dict) -> None:
    mine = citizen_report(client, "楼下烧烤摊油烟太大", category="open_bbq", **point())
    theirs = citizen_report(client, "饭店桌子摆到了人行道上", category="outside_store", **point())
    me = {"X-Reporter-Token": mine["reporter_token"]}
    assert problem(client.get(f"/api/v1/events/{theirs['id']}", headers=me), 403)
    assert problem(client.get(f"/api/v1/events/{theirs['id']}/history", headers=me), 403)
    assert problem(client.get(f"/api/v1/events/{mine['id']}"), 403)  # no token: nobody in particular
    assert problem(client.get("/api/v1/events"), 403)
    again = citizen_report(client, "烧烤摊又出来了，另一个路口", mine["reporter_token"], category="open_bbq", **point())
    assert "reporter_token" not in again
    listed = client.get("/api/v1/events", headers=me).json()
    assert {e["id"] for e in listed["events"]} == {mine["id"], again["id"]}
    assert problem(act(client, mine["id"], "close", me), 409)  # dispatched, not yet resolved
    assert problem(act(client, theirs["id"], "reopen", me), 403)
    assert problem(client.post("/api/v1/events", json={"text": "x", "source": "sensor"}), 403)


def test_corrections_are_proposed_to_the_corpus_centre(client: TestClient, keys: dict, city: Path) -> None:
    """A correction moves the event and becomes a pending corpus example (reviewed and gated before any
    model learns it); nothing is written to a file the classifier reads."""
    eid = citizen_report(client, f"工地半夜还在打桩，电话 {PHONE}", category="neighborhood_noise", **point())["id"]
    fixed = client.post(f"/api/v1/events/{eid}/correction", json={"category": "construction_noise"},
                        headers=keys["dispatcher"])
    assert fixed.status_code == 200 and fixed.json()["department"] == "housing"
    assert not (city / "training" / "events_corrections.jsonl").exists()
    proposed = [i for i in corpus.items("pending", kind="events") if i["event_id"] == eid]
    assert len(proposed) == 1 and proposed[0]["text"].startswith("工地半夜还在打桩")
    assert (proposed[0]["category"], proposed[0]["predicted_category"]) == ("construction_noise", "neighborhood_noise")
    assert PHONE not in proposed[0]["text"]
    assert problem(client.post(f"/api/v1/events/{eid}/correction", json={"category": "ufo"},
                               headers=keys["admin"]), 400)


# --- reporters' personal information ---------------------------------------------------------

def test_reporter_pii_stays_out_of_history_audit_and_answers(client: TestClient, keys: dict, web: httpx.Client) -> None:
    event = citizen_report(client, "垃圾清运车把垃圾撒了一路", category="road_dirty",
                           contact={"name": "张伟", "phone": PHONE, "email": EMAIL}, **point())
    form = {"service_code": "road_dirty", "description": f"路面很脏，联系我 {PHONE}", "email": EMAIL,
            "first_name": "伟", "last_name": "张", "phone": PHONE, "lat": "30.5", "long": "114.25"}
    posted = web.post("/open311/v2/requests.json", data=form)
    assert posted.status_code == 201, posted.text
    opened = posted.json()[0]["service_request_id"]
    public = web.get(f"/open311/v2/requests/{opened}.json").text
    answers = [json.dumps(event, ensure_ascii=False), posted.text, public,
               json.dumps(steps(client, event["id"], keys["admin"]), ensure_ascii=False),
               json.dumps(steps(client, opened, keys["admin"]), ensure_ascii=False)]
    ledger = [json.dumps(audit.entry_json(e), ensure_ascii=False) for e in audit.recent_entries(200)]
    for shown in answers + ledger:
        assert PHONE not in shown and EMAIL not in shown and "张伟" not in shown


# --- Open311 over real HTTP ------------------------------------------------------------------

def test_open311_json_over_http(web: httpx.Client, client: TestClient, keys: dict) -> None:
    discovery = web.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["url"] == str(web.base_url.join("/open311/v2/"))
    services = web.get("/open311/v2/services.json").json()
    assert {"service_code": "streetlight", "service_name": "路灯故障", "metadata": False, "type": "realtime"}.items() \
        <= next(s for s in services if s["service_code"] == "streetlight").items()
    assert web.get("/open311/v2/services/streetlight.json").json() == {"service_code": "streetlight", "attributes": []}
    posted = web.post("/open311/v2/requests.json", data={"service_code": "streetlight", "description": "路灯坏了三天",
                                                       "address_string": "文馨街33号", "device_id": "phone-app-1"})
    assert posted.status_code == 201, posted.text
    rid = posted.json()[0]["service_request_id"]
    got = web.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert got["status"] == "open" and got["agency_responsible"] == "城市管理和综合执法局"
    assert got["service_code"] == "streetlight" and got["address"] == "文馨街33号" and got["lat"] and got["long"]
    assert got["expected_datetime"] and "已派发" in got["status_notes"]
    for action in ("accept", "resolve"):
        assert act(client, rid, action, keys["urban"], note="已更换灯泡").status_code == 200
    done = web.get("/open311/v2/requests.json", params={"service_request_id": rid}).json()[0]
    assert done["status"] == "closed" and "已更换灯泡" in done["status_notes"]
    filtered = web.get("/open311/v2/requests.json", params={"service_code": "streetlight,fire", "status": "closed",
                                                          "start_date": "2020-01-01T00:00:00Z"}).json()
    assert rid in [r["service_request_id"] for r in filtered] and {r["status"] for r in filtered} == {"closed"}
    assert rid not in [r["service_request_id"] for r in web.get(
        "/open311/v2/requests.json", params={"status": "open", "service_code": "streetlight"}).json()]
    assert web.get("/open311/v2/requests.json", params={"end_date": "2000-01-01T00:00:00+08:00"}).json() == []


def test_open311_xml_over_http(web: httpx.Client) -> None:
    services = ET.fromstring(web.get("/open311/v2/services.xml").content)
    assert services.tag == "services" and services.find("service/service_code") is not None
    assert len(services.findall("service")) == len(categories())
    discovery = ET.fromstring(web.get("/open311/v2/discovery.xml").content)
    assert discovery.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    where = point()
    posted = web.post("/open311/v2/requests.xml", data={"service_code": "illegal_ads", "description": "楼道里贴满小广告",
                                                      "lat": str(where["lat"]), "long": str(where["lon"])},
                        headers={"Idempotency-Key": "open311-xml-1"})
    assert posted.status_code == 201 and posted.headers["content-type"].startswith("text/xml")
    rid = ET.fromstring(posted.content).findtext("request/service_request_id")
    replay = web.post("/open311/v2/requests.xml", data={"service_code": "illegal_ads", "lat": "30.5", "long": "114.25"},
                        headers={"Idempotency-Key": "open311-xml-1"})
    assert replay.status_code == 200 and ET.fromstring(replay.content).findtext("request/service_request_id") == rid
    request = ET.fromstring(web.get(f"/open311/v2/requests/{rid}.xml").content).find("request")
    assert request is not None and request.findtext("status") == "open"
    assert request.findtext("agency_responsible") == "城市管理和综合执法局"
    assert request.findtext("lat") == str(where["lat"]) and request.findtext("service_name") == "违规张贴小广告"


@pytest.mark.parametrize(("fmt", "data", "status", "says"), [
    ("json", {"description": "没有类别", "lat": "30.5", "long": "114.25"}, 400, "service_code"),
    ("json", {"service_code": "streetlight", "description": "没有位置"}, 400, "lat"),
    ("xml", {"service_code": "streetlight", "lat": "30.5"}, 400, "lat"),
    ("json", {"service_code": "ufo", "lat": "30.5", "long": "114.25"}, 404, "ufo"),
    ("json", {"service_code": "streetlight", "lat": "north", "long": "114.25"}, 400, "lat"),
    ("xml", {"service_code": "streetlight", "lat": "39.9", "long": "116.4"}, 400, "outside"),
])
def test_open311_errors_in_its_own_format(web: httpx.Client, fmt: str, data: dict, status: int, says: str) -> None:
    resp = web.post(f"/open311/v2/requests.{fmt}", data=data)
    assert resp.status_code == status, resp.text
    if fmt == "json":
        [error] = resp.json()
        assert error["code"] == status and says in error["description"]
    else:
        error = ET.fromstring(resp.content).find("error")
        assert error is not None and error.findtext("code") == str(status) and says in error.findtext("description")


def test_open311_lookup_errors(web: httpx.Client) -> None:
    assert web.get("/open311/v2/requests/evt_nope.json").json()[0]["code"] == 404
    assert web.get("/open311/v2/services/ufo.xml").status_code == 404
    assert web.get("/open311/v2/requests.json", params={"status": "pending"}).status_code == 400
    assert web.get("/open311/v2/requests.json", params={"start_date": "yesterday"}).json()[0]["code"] == 400
    assert web.get("/open311/v2/requests.json", params={"limit": "0"}).json()[0]["code"] == 400
    assert web.get("/open311/v2/services.yaml").status_code == 404


# --- the CLI ---------------------------------------------------------------------------------

def test_cli_report_list_show_transition_sla(city: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> dict[str, Any]:
        out = runner.invoke(events_cli, [*args, "--json", "--data-dir", str(city)])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    where = point()
    made = run("report", "卖水果的摊子占满了人行道", "--category", "street_vending", "--lat", str(where["lat"]),
               "--lon", str(where["lon"]), "--idempotency-key", "cli-1")
    assert made["status"] == "dispatched" and made["source"] == "operator"
    assert run("report", "再报一次", "--idempotency-key", "cli-1")["id"] == made["id"]
    assert made["id"] in [e["id"] for e in run("list", "--category", "street_vending")["events"]]
    assert run("transition", made["id"], "accept", "--note", "已安排队员")["status"] == "accepted"
    shown = run("show", made["id"])
    assert [h["action"] for h in shown["history"]] == ["report", "dispatch", "accept"]
    assert "breached" in run("sla")
    bad = runner.invoke(events_cli, ["transition", made["id"], "close", "--data-dir", str(city)])
    assert bad.exit_code == 2 and "Conflict" in bad.output


# --- PostgreSQL ------------------------------------------------------------------------------

@pytest.mark.postgres
def test_events_on_postgresql(city: Path, pg_url: str) -> None:
    previous = database().url
    with use_database(pg_url).engine.begin() as conn:  # a clean schema
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    try:
        ensure_city()
        admin = Principal(role=Role.admin)
        where = point()
        first = service.report("路灯坏了", "citizen", service.Reporter("r_a", {"phone": PHONE}), category="streetlight",
                               idempotency_key="pg-1", **where)
        again = service.report("路灯坏了", "citizen", service.Reporter("r_a"), idempotency_key="pg-1")
        merged = service.report("这里的路灯也不亮", "citizen", service.Reporter("r_b"), category="streetlight", **where)
        assert again.event.id == first.event.id and not again.created
        assert merged.merged and merged.event.id == first.event.id and service.reporter_count(first.event.id) == 2
        service.transition(first.event.id, "accept", admin)
        late = lifecycle.as_utc(first.event.created_at) + timedelta(days=30)
        assert [b["id"] for b in lifecycle.check_sla(late)] == [first.event.id]
        citizen = Principal(role=Role.citizen)
        assert [e.id for e in service.list_events(citizen, reporter="r_b")] == [first.event.id]
        assert [h.action for h in service.history(first.event.id, admin)] == [
            "report", "dispatch", "merge", "accept", "escalate"]
    finally:
        use_database(previous)
