"""Simulation jobs in the distributed mode: the platform on a real redis-server (loopback port) and
real `aicity worker` processes (rq). A flood job created through REST is queued, run by the worker
with SWMM in a process of its own (a child of the worker), its progress read through the API, its
result and forecast entities stored; a cancel kills the running engine and writes nothing; a run
past its time limit is killed and fails; a worker killed mid-run takes its engine with it, and
another worker runs the job again from the start to one set of forecasts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from aicity.core import jobs as core_jobs
from aicity.core.db import database
from aicity.hub.sim import jobs
from aicity.hub.sim.models import SimJob
from aicity.hub.twin import service as twin
from aicity.identity import service as identity
from aicity.server import create_app
from tests.support.iot import wait_for
from tests.support.redis import RedisServer, redis_mode

ROOT = Path(__file__).resolve().parents[3]
AICITY = Path(sys.executable).parent / "aicity"
RUNNER = b"aicity.hub.sim.runner"
#: the whole city, the longest storm: seconds of SWMM, long enough to watch its progress, cancel, time out or
#: kill it
WHOLE = {"return_period": 50, "duration_min": 720}


class Workers:
    """The `aicity worker` processes of this module; `current` is the one jobs go to."""

    def __init__(self, city: Path, url: str, log: Path) -> None:
        self.city, self.url, self.log = city, url, log
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "AICITY_DATA_DIR": str(self.city), "AICITY_REDIS_URL": self.url,
               "PYTHONPATH": str(ROOT), "AICITY_DENSE": "false"}
        proc = subprocess.Popen([str(AICITY), "worker", "--queues", "default"], env=env, cwd=ROOT,
                                stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        self.started.append(proc)
        key = f"aicity:workers:{socket.gethostname()}-{proc.pid}"
        try:  # its liveness key: the city is open and it is about to take jobs
            wait_for(lambda: proc.poll() is not None or redis.Redis.from_url(self.url).exists(key), 180)
        except AssertionError:
            raise AssertionError(f"worker did not start: {self.tail()}") from None
        assert proc.poll() is None, self.tail()
        return proc

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.started[-1]

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(city: Path, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """This process in the distributed mode on the private Redis, and one worker on the same city."""
    redis.Redis.from_url(redis_server.url).flushall()
    workers = Workers(city, redis_server.url, tmp_path_factory.mktemp("sim-rq") / "workers.log")
    with redis_mode(redis_server.url):
        workers.start()
        try:
            yield workers
        finally:
            workers.stop()


@pytest.fixture(scope="module")
def api(cluster: Workers) -> Iterator[tuple[TestClient, dict[str, str]]]:
    _, key = identity.create_api_key("sim-rq-official", "official")
    with TestClient(create_app(load_city=False)) as c:
        yield c, {"X-API-Key": key}


def _runners() -> dict[int, int]:
    """The simulation engine processes on this machine: pid → parent pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if RUNNER not in (entry / "cmdline").read_bytes():
                continue
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if state != "Z":
            found[int(entry.name)] = int(ppid)
    return found


def _engine_of(worker: subprocess.Popen[bytes]) -> int | None:
    return next((pid for pid, ppid in _runners().items() if ppid == worker.pid), None)


def _start(api: tuple[TestClient, dict[str, str]], body: dict) -> dict:
    client, key = api
    resp = client.post("/api/v1/sim/jobs", json=body, headers=key)
    assert resp.status_code == 202, resp.text
    return resp.json()


def _job(api: tuple[TestClient, dict[str, str]], job_id: str) -> dict:
    client, key = api
    resp = client.get(f"/api/v1/sim/jobs/{job_id}", headers=key)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _until(api: tuple[TestClient, dict[str, str]], job_id: str, done: tuple[str, ...], timeout: float,
           workers: Workers) -> dict:
    try:
        return wait_for(lambda: (j := _job(api, job_id))["status"] in done and j, timeout)
    except AssertionError:
        raise AssertionError(f"job {_job(api, job_id)} not {done}; workers: {workers.tail()}") from None


def _running_engine(api: tuple[TestClient, dict[str, str]], job_id: str, workers: Workers) -> int:
    """Wait for the job to run on the current worker; its engine process's pid."""
    _until(api, job_id, ("running",), 60, workers)
    return wait_for(lambda: _engine_of(workers.current), 30)


def _supervisor(job_id: str) -> str | None:
    with database().session() as s:
        return s.get(SimJob, job_id).worker


def _forecasts(job_id: str) -> list:
    return twin.query(type=["FloodForecast", "FloodSimulation"], id_pattern=f".*{job_id}.*", limit=200)[0]


def test_a_flood_job_is_queued_and_run_by_a_worker(cluster: Workers, api: tuple[TestClient, dict[str, str]]) -> None:
    job = _start(api, WHOLE)
    assert job["status"] == "queued"  # enqueued on rq, not run in this process
    seen, engines = [], set()
    deadline = time.monotonic() + 120
    while (view := _job(api, job["id"]))["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        seen.append((view["status"], view["progress"]))
        if pid := _engine_of(cluster.current):
            engines.add(pid)
        time.sleep(0.05)
    assert view["status"] == "succeeded", (view, cluster.tail())
    # the worker ran it (its host:pid supervised), SWMM in a process of the worker's own
    assert _supervisor(job["id"]) == f"{socket.gethostname()}:{cluster.current.pid}"
    assert engines and os.getpid() not in engines
    assert any(status == "running" and 0 < p < 1 for status, p in seen), seen  # progress through the API
    client, key = api
    result = client.get(f"/api/v1/sim/jobs/{job['id']}/result", headers=key).json()
    assert result["engine"] == "swmm" and result["job_id"] == job["id"] and result["flooded"]
    stored = {e["id"] for e in _forecasts(job["id"])}
    assert stored == set(result["forecast_entities"]) and len(stored) == len(result["flooded"]) + 1
    assert not _runners().keys() & engines  # the engine is gone


def test_cancel_kills_the_engine_on_the_worker(cluster: Workers, api: tuple[TestClient, dict[str, str]]) -> None:
    job = _start(api, WHOLE)
    engine = _running_engine(api, job["id"], cluster)
    client, key = api
    asked = client.post(f"/api/v1/sim/jobs/{job['id']}/cancel", headers=key)
    assert asked.status_code == 200 and asked.json()["cancel_requested"] is True
    done = _until(api, job["id"], ("cancelled", "succeeded", "failed"), 30, cluster)
    assert done["status"] == "cancelled", done
    assert engine not in _runners()
    assert _forecasts(job["id"]) == []
    assert client.get(f"/api/v1/sim/jobs/{job['id']}/result", headers=key).status_code == 409
    assert cluster.current.poll() is None  # the worker goes on


def test_a_run_past_its_time_limit_fails_cleanly(cluster: Workers, api: tuple[TestClient, dict[str, str]]) -> None:
    # shorter than the engine's own start (a fresh interpreter importing SWMM), so no run can beat it: a
    # quiet machine finishes the whole-city storm in about 2 s
    with redis_mode(cluster.url, sim={"time_limit_s": 0.3}):
        job = _start(api, WHOLE)
    assert job["time_limit_s"] == 0.3
    done = _until(api, job["id"], ("cancelled", "succeeded", "failed"), 60, cluster)
    assert done["status"] == "failed" and "时间限制" in done["message"], done
    assert "time limit" in done["error"]
    assert _engine_of(cluster.current) is None
    assert _forecasts(job["id"]) == []
    assert cluster.current.poll() is None
    # the worker takes the next job
    after = _start(api, {"return_period": 20, "district": "jiangbin", "duration_min": 20})
    assert _until(api, after["id"], ("cancelled", "succeeded", "failed"), 60, cluster)["status"] == "succeeded"


@pytest.mark.cluster
def test_a_worker_killed_mid_run_leaves_the_job_to_another(cluster: Workers,
                                                           api: tuple[TestClient, dict[str, str]]) -> None:
    job = _start(api, WHOLE)
    first = cluster.current
    engine = _running_engine(api, job["id"], cluster)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    wait_for(lambda: engine not in _runners(), 10)  # the engine died with its supervisor
    assert _job(api, job["id"])["status"] == "running"  # nobody has finished it
    second = cluster.start()
    done = _until(api, job["id"], ("cancelled", "succeeded", "failed"), 120, cluster)
    assert done["status"] == "succeeded", done
    assert _supervisor(job["id"]) == f"{socket.gethostname()}:{second.pid}"
    assert "put back on" in cluster.tail()
    result = api[0].get(f"/api/v1/sim/jobs/{job['id']}/result", headers=api[1]).json()
    assert {e["id"] for e in _forecasts(job["id"])} == set(result["forecast_entities"])


def test_a_cancel_asked_while_no_worker_runs_the_job_ends_it(cluster: Workers,
                                                             api: tuple[TestClient, dict[str, str]]) -> None:
    """A running job whose supervisor is gone and whose cancel was asked: the next supervisor to
    pick it up closes it cancelled instead of leaving it running."""
    job = _start(api, {"return_period": 20, "district": "jiangbin", "duration_min": 20})
    _until(api, job["id"], ("succeeded",), 60, cluster)
    with database().session() as s:  # as a killed worker leaves it, cancel asked since
        row = s.get(SimJob, job["id"])
        row.status, row.worker, row.cancel_requested, row.result = "running", "elsewhere:1", True, None
    core_jobs.submit("default", "aicity.hub.sim.jobs:supervise", job["id"])  # as rq's recovery puts it back
    assert _until(api, job["id"], ("cancelled", "succeeded", "failed"), 30, cluster)["status"] == "cancelled"


def test_a_rerun_replaces_what_the_killed_run_half_wrote(cluster: Workers,
                                                         api: tuple[TestClient, dict[str, str]]) -> None:
    """A worker killed while writing the forecast leaves some of its entities; the job's next run
    removes them before writing its own: one set of forecasts, none stale."""
    job = jobs.create("flood", {"return_period": 50, "district": "jiangbin", "duration_min": 30}, "test", start=False)
    stale = f"urn:ngsi-ld:FloodForecast:{job['id']}-stale"
    twin.create_entity({"id": stale, "type": "FloodForecast", "maxDepth": {"type": "Property", "value": 9.9}})
    with database().session() as s:
        row = s.get(SimJob, job["id"])
        row.status, row.worker = "running", f"{socket.gethostname()}:{2 ** 22 + 17}"  # a dead process here
    jobs.recover()  # distributed: a running job is the workers' to put back, not failed at start-up
    assert _job(api, job["id"])["status"] == "running"
    core_jobs.submit("default", "aicity.hub.sim.jobs:supervise", job["id"])
    assert _until(api, job["id"], ("cancelled", "succeeded", "failed"), 60, cluster)["status"] == "succeeded"
    result = api[0].get(f"/api/v1/sim/jobs/{job['id']}/result", headers=api[1]).json()
    assert {e["id"] for e in _forecasts(job["id"])} == set(result["forecast_entities"])
    assert stale not in result["forecast_entities"]
