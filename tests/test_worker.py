"""`aicity worker` (rq) against a real redis-server: jobs run in worker processes; a worker killed
with SIGKILL in the middle of a job leaves it to another worker, which runs it to the end; the
embedded mode runs the same jobs on a thread and refuses to start a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.core import jobs
from tests.support.iot import wait_for
from tests.support.redis import redis_mode

ROOT = Path(__file__).resolve().parents[1]
AICITY = Path(sys.executable).parent / "aicity"


def _worker(city: Path, redis_url: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AICITY_DATA_DIR": str(city), "AICITY_REDIS_URL": redis_url, "PYTHONPATH": str(ROOT),
           "AICITY_DENSE": "false"}
    return subprocess.Popen([str(AICITY), "worker", "--queues", "default", *args], env=env, cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


@pytest.mark.cluster
def test_a_job_of_a_killed_worker_is_run_to_the_end_by_another(city: Path, redis_url: str, tmp_path: Path,
                                                               workers: list[subprocess.Popen[bytes]]) -> None:
    marks = tmp_path / "marks.txt"
    log = tmp_path / "workers.log"
    first = _worker(city, redis_url, log)
    workers.append(first)
    with redis_mode(redis_url):
        jobs.submit("default", "tests.support.jobs:mark", str(marks), 6.0)
    wait_for(lambda: "start" in _lines(marks), 60)
    first.send_signal(signal.SIGKILL)  # mid-job: rq still lists the job as started
    first.wait(timeout=10)
    assert "done" not in _lines(marks)
    workers.append(_worker(city, redis_url, log))
    try:
        wait_for(lambda: "done" in _lines(marks), 60)
    except AssertionError:
        raise AssertionError(log.read_text(encoding="utf-8", errors="replace")[-3000:]) from None
    text = marks.read_text(encoding="utf-8").splitlines()
    assert text[0] == f"start {first.pid}" and text[-1].startswith("done ") and text[-1] != f"done {first.pid}"
    assert "put back on" in log.read_text(encoding="utf-8", errors="replace")


def test_embedded_jobs_run_on_a_thread(tmp_path: Path) -> None:
    marks = tmp_path / "marks.txt"
    jobs.submit("default", "tests.support.jobs:mark", str(marks))
    wait_for(lambda: "done" in _lines(marks), 10)
    with pytest.raises(ValueError):
        jobs.submit("nope", "tests.support.jobs:mark", str(marks))


def test_the_worker_needs_redis(city: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AICITY_REDIS_URL"}
    done = subprocess.run([str(AICITY), "worker"], env={**env, "AICITY_DATA_DIR": str(city)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "redis_url" in done.stderr + done.stdout
