"""The flood simulation (EPA SWMM) and the job machinery: a short design storm over one district
runs in its own process to a result written to the twin; bad input is refused before any job;
a model SWMM rejects, a run past its time limit and a cancelled run end without a forecast."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.core.ids import utcnow
from aicity.hub.geo.drainage import drainage
from aicity.hub.iot import service as iot
from aicity.hub.sim import actions, jobs, network, storm
from aicity.hub.sim.jobs import JobKind
from aicity.hub.sim.models import SimJob
from aicity.hub.twin import service as twin
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals
from aicity.server import create_app

SHORT = {"return_period": 50, "district": "江滨区", "duration_min": 30}


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="module")
def short_run(city: Path) -> dict:
    job = jobs.create("flood", dict(SHORT), "test")
    return jobs.wait(job["id"], 60)


def test_design_storm_keeps_the_formula_depth() -> None:
    f = drainage().formula
    for period in (2, 50, 100):
        h = storm.chicago(period, 120, 0.4, 5)
        assert h.depth_mm == pytest.approx(storm.depth_mm(f, period, 120), rel=1e-3)
        assert h.intensities.index(h.peak_mm_h) == int(0.4 * 120 / 5)
    assert storm.chicago(100, 120, 0.4, 5).depth_mm > storm.chicago(2, 120, 0.4, 5).depth_mm


def test_network_is_built_from_the_city_data() -> None:
    net = network.build(None)
    assert {n.watch_point for n in net.nodes.values() if n.watch_point} == {p.id for p in drainage().points}
    assert len(net.outfalls) == 6
    # every conduit's upstream invert lies above its downstream one, every node drains somewhere
    inverts = {**{n.id: n.invert_m for n in net.nodes.values()}, **{o.id: o.invert_m for o in net.outfalls.values()}}
    assert all(inverts[c.upstream] > inverts[c.downstream] for c in net.conduits)
    assert {c.upstream for c in net.conduits} == set(net.nodes)
    # the riverside outfall's crown is where the watch points' outfalls are submerged (3.0 m)
    assert net.outfalls["O-jiangbin"].crown_m == 3.0


def test_a_short_storm_runs_to_a_forecast(short_run: dict) -> None:
    job = short_run
    assert job["status"] == "succeeded", (job.get("error"), job.get("message"))
    assert job["progress"] == 1.0
    result = job["result"]
    assert result["engine"] == "swmm" and result["job_id"] == job["id"]
    assert result["scenario"]["return_period"] == 50 and result["scenario"]["district"] == "jiangbin"
    assert result["flooded"], "a 50-year storm floods the riverside district's 1-2 year drains"
    for f in result["flooded"]:
        assert f["district"] == "jiangbin" and f["max_depth_m"] >= 0.15 and f["start"] and f["duration_min"] > 0
    assert [o["id"] for o in result["outfalls"]] == ["O-jiangbin"]
    # one entity for the run, one per flooded place, readable through the twin's service
    assert len(result["forecast_entities"]) == len(result["flooded"]) + 1
    entity = twin.get_entity(result["forecast_entities"][1])
    assert entity["type"] == "FloodForecast" and entity["maxDepth"]["value"] >= 0.15
    c = result["comparison"]
    assert c["both"] + c["swmm_only"] + c["watch_only"] + c["neither"] == 4  # 江滨区's four watch points
    assert result["recommendations"]


@pytest.mark.parametrize("params, kind", [
    ({"return_period": 1, "duration_min": 30}, "invalid-return-period"),
    ({"return_period": 150, "duration_min": 30}, "invalid-return-period"),
    ({"return_period": 50, "district": "火星区"}, "unknown-district"),
    ({"return_period": 50, "duration_min": 5000}, "storm-too-long"),
    ({"duration_min": 60}, "invalid-return-period"),
    ({"return_period": 50, "river_level_m": 99}, "invalid-river-level"),
])
def test_bad_input_makes_no_job(city: Path, params: dict, kind: str) -> None:
    before = jobs.history(limit=1)[1]
    with pytest.raises(Problem) as exc:
        jobs.create("flood", params, "test")
    assert exc.value.type_ == kind and exc.value.status in (400, 422)
    assert jobs.history(limit=1)[1] == before


def _forecasts(job_id: str) -> list:
    return twin.query(type=["FloodForecast", "FloodSimulation"], id_pattern=f".*{job_id}.*", limit=100)[0]


def test_a_model_swmm_rejects_fails_cleanly(city: Path) -> None:
    jobs.register_kind(JobKind("broken", "test", "tests.hub.sim.kinds:broken_prepare", "aicity.hub.sim.swmm:run",
                               "aicity.hub.sim.flood:finish"))
    job = jobs.wait(jobs.create("broken", dict(SHORT), "test")["id"], 60)
    assert job["status"] == "failed"
    assert "SWMM" in job["message"] and "ERROR" in job["error"]
    assert job["result"] is None and _forecasts(job["id"]) == []


def test_time_limit_kills_the_run(city: Path) -> None:
    jobs.register_kind(JobKind("slow", "test", "tests.hub.sim.kinds:slow_prepare", "tests.hub.sim.kinds:slow_run",
                               "tests.hub.sim.kinds:never_finish"))
    job = jobs.create("slow", {"seconds": 60}, "test", start=False)
    with database().session() as s:
        s.get(SimJob, job["id"]).time_limit_s = 2
    started = time.monotonic()
    jobs.supervise(job["id"])  # synchronously, here
    done = jobs.get(job["id"])
    assert done["status"] == "failed" and "时间限制" in done["message"]
    assert time.monotonic() - started < 30


def test_cancel_kills_a_running_job(city: Path) -> None:
    jobs.register_kind(JobKind("slow", "test", "tests.hub.sim.kinds:slow_prepare", "tests.hub.sim.kinds:slow_run",
                               "tests.hub.sim.kinds:never_finish"))
    job = jobs.create("slow", {"seconds": 60}, "test")
    deadline = time.monotonic() + 30
    while jobs.get(job["id"])["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    jobs.cancel(job["id"], "test")
    done = jobs.wait(job["id"], 15)
    assert done["status"] == "cancelled"
    with pytest.raises(Problem) as exc:
        jobs.cancel(job["id"], "test")
    assert exc.value.status == 409


def test_a_role_the_approval_policy_does_not_let_ask_is_refused(app: TestClient, short_run: dict,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _, official = identity.create_api_key("sim-official-unlisted", "official")
    only_operators = approvals.policy().model_copy(update={"request_roles": ["operator", "admin"]})
    monkeypatch.setattr(approvals, "policy", lambda: only_operators)
    rec = next(r for r in short_run["result"]["recommendations"] if r["kind"] == "deploy_pumps")
    refused = app.post(f"/api/v1/sim/jobs/{short_run['id']}/actions", json={"recommendation": rec["id"]},
                       headers={"X-API-Key": official})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


def test_api_is_staff_only_and_follows_a_job(app: TestClient, short_run: dict) -> None:
    _, official = identity.create_api_key("sim-official", "official")
    _, citizen = identity.create_api_key("sim-citizen", "citizen")
    _, operator = identity.create_api_key("sim-operator", "operator")
    body = {"return_period": 20, "district": "jiangbin", "duration_min": 20}
    assert app.post("/api/v1/sim/jobs", json=body).status_code == 401
    assert app.post("/api/v1/sim/jobs", json=body, headers={"X-API-Key": citizen}).status_code == 403
    bad = app.post("/api/v1/sim/jobs", json={**body, "return_period": 500}, headers={"X-API-Key": official})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    resp = app.post("/api/v1/sim/jobs", json={**body, "wait_s": 30}, headers={"X-API-Key": official})
    assert resp.status_code == 202
    job = resp.json()
    assert job["status"] == "succeeded", (job.get("error"), job.get("message"))
    assert app.get(f"/api/v1/sim/jobs/{job['id']}", headers={"X-API-Key": official}).json()["progress"] == 1.0
    result = app.get(f"/api/v1/sim/jobs/{job['id']}/result", headers={"X-API-Key": official}).json()
    assert result["engine"] == "swmm" and {"flooded", "outfalls", "scenario", "job_id"} <= set(result)
    history = app.get("/api/v1/sim/jobs", params={"kind": "flood"}, headers={"X-API-Key": official}).json()
    assert job["id"] in [j["id"] for j in history["jobs"]]
    assert app.post(f"/api/v1/sim/jobs/{job['id']}/cancel", headers={"X-API-Key": official}).status_code == 409
    assert app.get("/api/v1/sim/jobs/sim_nope", headers={"X-API-Key": official}).status_code == 404
    # a recommendation becomes an approval request, never an actuation; staff may ask, as through the assistant
    rec = next(r for r in short_run["result"]["recommendations"] if r["kind"] == "deploy_pumps")
    path = f"/api/v1/sim/jobs/{short_run['id']}/actions"
    assert app.post(path, json={"recommendation": rec["id"]}).status_code == 401
    assert app.post(path, json={"recommendation": rec["id"]}, headers={"X-API-Key": citizen}).status_code == 403
    queued = app.post(path, json={"recommendation": rec["id"]}, headers={"X-API-Key": official})
    assert queued.status_code == 202 and queued.json()["decision"] == "approval-required"
    pending = approvals.list_approvals("pending")
    assert any(a.id == queued.json()["approval_id"] and a.skill == "deploy_pumps" for a in pending)
    assert app.post(path, json={"recommendation": "nope"}, headers={"X-API-Key": operator}).status_code == 404


def test_cli_runs_a_flood_simulation(city: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["sim", "flood", "--return-period", "50", "--district", "江滨区", "--duration-min", "20",
                              "--json", "--data-dir", str(city)])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["engine"] == "swmm" and result["job_id"].startswith("sim")
    assert {"place", "road", "max_depth_m", "start", "duration_min"} <= set(result["flooded"][0])
    bad = runner.invoke(cli, ["sim", "flood", "--return-period", "150", "--data-dir", str(city)])
    assert bad.exit_code == 2 and "重现期" in bad.output
    listed = runner.invoke(cli, ["sim", "jobs", "--json", "--data-dir", str(city)])
    assert result["job_id"] in listed.stdout
    shown = runner.invoke(cli, ["sim", "job", result["job_id"], "--data-dir", str(city)])
    assert shown.exit_code == 0 and "积水超过 15 cm 的地点" in shown.stdout and "一致率" in shown.stdout
    assert runner.invoke(cli, ["sim", "cancel", result["job_id"], "--data-dir", str(city)]).exit_code == 2


def test_live_gauges_drive_a_run(city: Path) -> None:
    """A fresh reading of a rain gauge is held for the storm; a river gauge over the outfall's crown
    submerges it (the run's outfall says so)."""
    for key, type_ in (("rain", "WeatherObserved"), ("river", "WaterLevelObserved")):
        iot.create_device(iot.DeviceSpec(type=type_, id=f"sim-test-{key}", district="江滨区", lat=30.60, lon=114.36),
                          "test")
    now = utcnow()
    iot.ingest([iot.ReadingIn("sim-test-rain", "precipitation", 150.0, "mm/h", now),
                iot.ReadingIn("sim-test-river", "waterLevel", 3.6, "m", now)])
    job = jobs.wait(jobs.create("flood", {"rain": "gauges", "district": "jiangbin", "duration_min": 20}, "test")["id"], 60)
    assert job["status"] == "succeeded", (job.get("error"), job.get("message"))
    scenario = job["result"]["scenario"]
    assert scenario["rain"] == "gauges" and "实时雨量站" in scenario["label"]
    assert scenario["river_levels"]["O-jiangbin"] >= 3.6
    assert job["result"]["outfalls"][0]["submerged"] is True
    # a submerged outfall: keep the gates shut, pumps instead
    assert {r["kind"] for r in job["result"]["recommendations"]} <= {"deploy_pumps"}


def test_an_approved_pump_deployment_dispatches_the_water_department(short_run: dict) -> None:
    operator = Principal(Role.operator, department="water", key_id="sim-op")
    admin = Principal(Role.admin, key_id="sim-admin")
    rec = next(r for r in short_run["result"]["recommendations"] if r["kind"] == "deploy_pumps")
    asked = actions.request(short_run["id"], rec["id"], operator)
    assert asked["decision"] == "approval-required"
    with pytest.raises(Problem):  # the requester cannot approve it
        approvals.approve(asked["approval_id"], operator, "")
    done = approvals.approve(asked["approval_id"], admin, "同意")
    if done.approvals_needed == 2:  # the run's district is in the call: two approvers, on the safe side
        assert done.status == "pending"
        done = approvals.approve(asked["approval_id"], Principal(Role.admin, key_id="sim-admin-2"), "同意")
    assert done.status == "approved", done.result
    assert "预置泵车" in json.dumps(done.result, ensure_ascii=False)


def test_a_run_left_by_a_stopped_process_fails_at_start_up(city: Path) -> None:
    job = jobs.create("flood", dict(SHORT), "test", start=False)
    with database().session() as s:
        row = s.get(SimJob, job["id"])
        row.status, row.worker = "running", f"{socket.gethostname()}:{2 ** 22 + 17}"  # no such pid
    jobs.recover()
    done = jobs.get(job["id"])
    assert done["status"] == "failed" and "中断" in done["message"]
