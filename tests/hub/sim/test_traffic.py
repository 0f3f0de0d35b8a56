"""The corridor signal-timing simulation (Eclipse SUMO): the corridor from the gazetteer, the demand
from the data hub's counts, Webster's cycle and split and the green wave; a short peak run through the
job machinery and the CLI with the plan running now and the optimised plan; the REST result and the
new timing as an approval request that a second person approves; an unknown corridor, bad parameters
and a run past its time limit (no SUMO left behind) end cleanly."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.iot import commands
from aicity.hub.iot import service as iot
from aicity.hub.sim import actions, jobs, traffic, traffic_corridor, traffic_plan
from aicity.hub.sim.models import SimJob
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals
from aicity.server import create_app

SHORT = ["--corridor", "解放大道", "--optimize", "--json", "--measured-s", "300", "--warmup-s", "60"]
CONF = traffic_corridor.assumptions()


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="module")
def short_run(city: Path) -> dict:
    """A five-minute peak on 解放大道 under both plans, through `aicity sim traffic`; two signal
    devices stand in 江滨区 (the plan of the crossing nearest each is what it would be sent)."""
    for i, (lat, lon) in enumerate(((30.5801, 114.3899), (30.581, 114.345)), 1):
        iot.create_device(iot.DeviceSpec(type="TrafficSignal", id=f"traffic-test-signal-{i}", district="江滨区",
                                         lat=lat, lon=lon), "test")
    out = CliRunner().invoke(cli, ["sim", "traffic", *SHORT, "--data-dir", str(city)])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_corridor_comes_from_the_gazetteer() -> None:
    c = traffic_corridor.build("解放大道")
    assert c["forward"] == "西向东" and c["backward"] == "东向西"
    assert 9500 < c["length_m"] < 9700
    named = [x for x in c["crossings"] if x["kind"] == "named"]
    # 胜利街 crosses it at 60 % of its length; 沿江大道 meets it at its start (a T: the boundary)
    assert [x["cross"] for x in named] == ["胜利街"] and named[0]["pos_m"] == pytest.approx(0.6 * c["length_m"], rel=1e-3)
    positions = [0.0, *(x["pos_m"] for x in c["crossings"]), c["length_m"]]
    gaps = [b - a for a, b in zip(positions, positions[1:], strict=False)]
    assert max(gaps) < 1.2 * CONF["corridor"]["minor_spacing_m"] and min(gaps) > 0.8 * CONF["corridor"]["minor_spacing_m"]


def test_webster_cycle_and_split() -> None:
    y = {"through": 0.5, "left": 0.05, "cross": 0.15}
    lost = traffic_plan.lost_time(CONF)
    assert lost == 12
    assert traffic_plan.webster_cycle(y, CONF) == pytest.approx((1.5 * lost + 5) / (1 - 0.7))
    greens = traffic_plan.split(y, 80, CONF)
    assert sum(greens.values()) == 80 - lost
    assert greens["left"] == CONF["signals"]["min_green_s"]["left"]  # its share (5 s) is below the minimum
    assert greens["through"] / greens["cross"] == pytest.approx(0.5 / 0.15, rel=0.08)
    # an oversaturated crossing: the formula does not hold, the longest cycle is used
    assert traffic_plan.webster_cycle({"through": 0.7, "left": 0.1, "cross": 0.15}, CONF) == CONF["signals"]["cycle_s"]["max"]


def test_the_green_wave_follows_the_peak_direction() -> None:
    c = traffic_corridor.build("解放大道")
    moves = traffic_plan.movements(c, {"forward": 2300, "backward": 3500}, CONF)
    plan = traffic_plan.plan(c, moves, CONF, True, "backward")
    cycle, speed = plan["cycle_s"], CONF["signals"]["progression_kmh"] / 3.6
    assert {r["cycle_s"] for r in plan["crossings"]} == {cycle}
    assert cycle >= max(r["c0_s"] for r in plan["crossings"])
    assert plan["crossings"][-1]["offset_s"] == 0  # the wave starts where the peak direction enters
    for (a, ra), (b, rb) in zip(zip(c["crossings"], plan["crossings"], strict=True),
                                list(zip(c["crossings"], plan["crossings"], strict=True))[1:], strict=False):
        travel = (b["pos_m"] - a["pos_m"]) / speed
        assert (ra["offset_s"] - rb["offset_s"] - travel) % cycle == pytest.approx(0, abs=1.01) or \
            (ra["offset_s"] - rb["offset_s"] - travel) % cycle == pytest.approx(cycle, abs=1.01)
    # the counted volume holds along the corridor: what turns off equals what turns on
    m = moves[0]
    assert m["forward"]["left"] + m["forward"]["right"] == pytest.approx(m["a"]["left"] + m["b"]["right"])


def test_the_demand_is_the_data_hubs_weekday_peak(city: Path) -> None:
    payload = traffic.prepare({"corridor": "解放大道"})
    d = payload["demand"]
    # cross-checked here against the packaged CSV (the run itself reads the hub, never the file)
    csv = Path(traffic_corridor.__file__).parents[2] / "demo" / "data" / "datasets" / "traffic_flow_hourly.csv"
    rows = duckdb.sql(f"SELECT hour, direction, AVG(vehicles) FROM read_csv('{csv}') WHERE road_name = '解放大道' "
                      "AND dayofweek(date) BETWEEN 1 AND 5 AND hour BETWEEN 6 AND 9 GROUP BY ALL").fetchall()
    by_hour: dict[int, float] = {}
    for hour, _, v in rows:
        by_hour[hour] = by_hour.get(hour, 0.0) + v
    assert d["hour"] == max(by_hour, key=by_hour.__getitem__)
    assert d["peak_veh_h"] == {direction: round(v) for hour, direction, v in rows if hour == d["hour"]}
    assert d["peak_direction"] == "backward" and set(payload["plans"]) == {"before", "after"}
    assert payload["plans"]["before"]["method"] == "webster-isolated"
    assert traffic.prepare({"corridor": "解放大道", "period": "pm"})["demand"]["hour"] in range(16, 20)


@pytest.mark.parametrize("params, status, kind", [
    ({"corridor": "幸福路"}, 422, "unknown-corridor"),
    ({"corridor": "火星大道"}, 422, "unknown-corridor"),
    ({"corridor": "解放大道", "period": "night"}, 400, "invalid-period"),
    ({"corridor": "解放大道", "measured_s": 10}, 400, "invalid-measured-s"),
])
def test_bad_input_makes_no_job(city: Path, params: dict, status: int, kind: str) -> None:
    before = jobs.history("traffic")[1]
    with pytest.raises(Problem) as exc:
        jobs.create("traffic", params, "test")
    assert exc.value.status == status and exc.value.type_ == kind
    if kind == "unknown-corridor":
        assert "解放大道" in exc.value.detail and "光谷大道" in exc.value.detail
    assert jobs.history("traffic")[1] == before


def test_a_short_peak_runs_both_plans(short_run: dict) -> None:
    r = short_run
    assert r["engine"] == "sumo" and r["corridor"] == "解放大道" and r["job_id"].startswith("sim")
    free_flow = r["network"]["length_m"] / (r["network"]["speed_kmh"] / 3.6)
    for name in ("before", "after"):
        m = r[name]
        assert {"travel_time_s", "delay_s", "queue_m", "throughput_veh_h"} <= set(m)
        assert m["travel_time_s"] > 0.9 * free_flow  # nobody drives the corridor faster than its speed limit
        assert m["throughput_veh_h"] > 0 and m["vehicles"] > 0 and m["delay_s"] >= 0
    assert r["before"]["vehicles"] == r["after"]["vehicles"]  # the same vehicles under both plans
    assert len(r["plan"]["crossings"]) == len(r["network"]["crossings"]) == 11
    assert r["change_pct"]["travel_time_s"] is not None
    recs = {rec["device_id"]: rec for rec in r["recommendations"]}
    assert {"traffic-test-signal-1", "traffic-test-signal-2"} <= set(recs)
    assert all(rec["kind"] == "signal_plan" and rec["params"]["plan"] == "peak" for rec in recs.values())
    assert recs["traffic-test-signal-1"]["places"] == ["解放大道-胜利街"]


def test_the_cli_refuses_an_unknown_corridor(city: Path) -> None:
    out = CliRunner().invoke(cli, ["sim", "traffic", "--corridor", "火星大道", "--data-dir", str(city)])
    assert out.exit_code == 2 and "未知干道" in out.output and "解放大道" in out.output


def test_rest_result_and_the_plan_as_an_approval_request(app: TestClient, short_run: dict) -> None:
    _, official = identity.create_api_key("traffic-official", "official")
    _, citizen = identity.create_api_key("traffic-citizen", "citizen")
    bad = app.post("/api/v1/sim/jobs", json={"kind": "traffic", "corridor": "火星大道"}, headers={"X-API-Key": official})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    listed = app.get("/api/v1/sim/traffic/corridors", headers={"X-API-Key": official}).json()
    assert "解放大道" in [c["name"] for c in listed["corridors"]]
    assert app.get("/api/v1/sim/traffic/corridors").status_code == 401
    job_id = short_run["job_id"]
    result = app.get(f"/api/v1/sim/jobs/{job_id}/result", headers={"X-API-Key": official}).json()
    assert result["engine"] == "sumo" and result["after"]["travel_time_s"] == short_run["after"]["travel_time_s"]
    rec = next(r for r in short_run["recommendations"] if r["device_id"] == "traffic-test-signal-1")
    path = f"/api/v1/sim/jobs/{job_id}/actions"
    assert app.post(path, json={"recommendation": rec["id"]}, headers={"X-API-Key": citizen}).status_code == 403
    queued = app.post(path, json={"recommendation": rec["id"]}, headers={"X-API-Key": official})  # staff ask
    assert queued.status_code == 202 and queued.json()["decision"] == "approval-required"
    pending = next(a for a in approvals.list_approvals("pending") if a.id == queued.json()["approval_id"])
    assert pending.skill == "device_command" and json.loads(pending.params["params"])["plan"] == "peak"
    # nothing was sent before a second person approves it
    assert not [c for c in commands.list_commands(rec["device_id"]) if c.command == "set_plan"]


def test_an_approved_plan_is_sent_to_the_signal(short_run: dict) -> None:
    operator = Principal(Role.operator, department="traffic_police", key_id="traffic-op")
    admin = Principal(Role.admin, key_id="traffic-admin")
    rec = next(r for r in short_run["recommendations"] if r["device_id"] == "traffic-test-signal-2")
    asked = actions.request(short_run["job_id"], rec["id"], operator)
    with pytest.raises(Problem):  # the requester cannot approve it
        approvals.approve(asked["approval_id"], operator, "")
    done = approvals.approve(asked["approval_id"], admin, "同意")
    assert done.status == "approved", done.result
    sent = [c for c in commands.list_commands(rec["device_id"]) if c.command == "set_plan"]
    assert sent and sent[-1].params["cycle_s"] == rec["params"]["cycle_s"]


def _sumo_pids() -> set[int]:
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"/bin/sumo\x00" in cmd or b"/bin/netconvert\x00" in cmd:
            out.add(int(pid))
    return out


def test_a_run_past_its_time_limit_fails_and_leaves_no_sumo(city: Path) -> None:
    running = _sumo_pids()
    job = jobs.create("traffic", {"corridor": "解放大道"}, "test", start=False)
    with database().session() as s:
        s.get(SimJob, job["id"]).time_limit_s = 4
    jobs.supervise(job["id"])  # synchronously, here
    done = jobs.get(job["id"])
    assert done["status"] == "failed" and "时间限制" in done["message"] and done["result"] is None
    deadline = time.monotonic() + 5
    while _sumo_pids() - running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _sumo_pids() - running
