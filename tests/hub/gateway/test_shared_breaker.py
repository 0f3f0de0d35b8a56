"""The gateway's circuit breakers in the distributed mode, against a real redis-server: a
deployment that fails in one process is skipped by the others, exactly one process probes it,
a probe's success closes it everywhere, and a Redis that is away leaves the breaker in memory."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aicity.core.db import database
from aicity.hub.gateway import health
from aicity.hub.gateway.health import DeploymentHealth
from aicity.hub.gateway.metering import UsageMeter
from aicity.hub.gateway.router import CallContext, Gateway
from aicity.hub.gateway.schemas import BreakerSettings, GatewayConfig
from tests.support.net import free_port
from tests.support.redis import private_redis, redis_mode
from tests.support.upstream import RunningUpstream

FAST = BreakerSettings(failures=3, cooldown_s=0.3, max_cooldown_s=1.0)

#: another process's breaker for the same deployment: answers one command a line on stdin with
#: one JSON line (`fail`, `success`, `release`, `allow`, `state`, and `allow*N`: how many of N
#: calls were let through)
_OTHER = """
import json, sys
from aicity.hub.gateway.health import DeploymentHealth
from aicity.hub.gateway.schemas import BreakerSettings
breaker = DeploymentHealth(BreakerSettings.model_validate_json(sys.argv[1]), shared_key=sys.argv[2])
print(json.dumps("ready"), flush=True)
for line in sys.stdin:
    cmd, answer = line.strip(), None
    if cmd == "fail":
        breaker.record_failure("upstream-error: 500")
    elif cmd == "success":
        breaker.record_success(0.01)
    elif cmd == "release":
        breaker.release_probe()
    elif cmd == "allow":
        answer = breaker.allow()
    elif cmd.startswith("allow*"):
        answer = sum(breaker.allow() for _ in range(int(cmd[6:])))
    elif cmd == "state":
        snap = breaker.snapshot()
        answer = [snap["state"], snap["consecutive_failures"]]
    print(json.dumps(answer), flush=True)
"""


class Other:
    """A breaker in a process of its own, sharing this test's Redis."""

    def __init__(self, redis_url: str, tmp: Path, key: str, settings: BreakerSettings = FAST) -> None:
        env = {**os.environ, "AICITY_DATA_DIR": str(tmp), "AICITY_REDIS_URL": redis_url}
        self.proc = subprocess.Popen([sys.executable, "-c", _OTHER, settings.model_dump_json(), key], env=env,
                                     text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, cmd: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def answer(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the other process ended ({self.proc.poll()})"
        return json.loads(line)

    def ready(self) -> Other:
        assert self.answer() == "ready"
        return self

    def __call__(self, *commands: str) -> list[Any]:
        answers = []
        for cmd in commands:
            self.send(cmd)
            answers.append(self.answer())
        return [a for a, c in zip(answers, commands, strict=True) if c not in ("fail", "success", "release")]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def test_failures_in_one_process_open_the_breaker_in_another(redis_url: str, tmp_path: Path) -> None:
    slow = BreakerSettings(failures=3, cooldown_s=30, max_cooldown_s=60)
    with redis_mode(redis_url):
        here = DeploymentHealth(slow, shared_key="dep-a:1")
        here.record_failure("upstream-error: 500")
        here.record_failure("upstream-error: 500")
        assert here.allow() and here.snapshot()["consecutive_failures"] == 2
        # the third consecutive failure happens in the other process: the count is the cluster's
        other = Other(redis_url, tmp_path, "dep-a:1", slow).ready()
        assert other("fail", "allow", "state") == [False, ["open", 3]]
        other.close()
        assert not here.allow()
        snap = here.snapshot()
        assert snap["state"] == "open" and 25 < snap["probe_in_s"] <= 30 and here.gauge() == 0.0
        # another deployment (or the same name with changed settings) has a breaker of its own
        assert DeploymentHealth(slow, shared_key="dep-a:2").allow()


def test_one_probe_across_processes_and_its_success_closes_the_breaker_for_all(redis_url: str,
                                                                                 tmp_path: Path) -> None:
    with redis_mode(redis_url):
        here = DeploymentHealth(FAST, shared_key="dep-b:1")
        for _ in range(3):
            here.record_failure("timeout: upstream timed out")
        assert not here.allow()
        others = [Other(redis_url, tmp_path, "dep-b:1") for _ in range(2)]
        for other in others:
            other.ready()
        time.sleep(FAST.cooldown_s + 0.1)  # cooled down: half-open
        for other in others:  # both processes at once
            other.send("allow*200")
        granted = [other.answer() for other in others]
        assert sorted(granted) == [0, 1], granted  # 400 attempts in two processes, one probe
        assert not here.allow() and here.snapshot()["state"] == "half-open"

        # the probe failed (reported by the process that probed): open again, twice as long
        here.record_failure("timeout: upstream timed out")
        snap = here.snapshot()
        assert snap["state"] == "open" and 0.3 < snap["probe_in_s"] <= 0.6
        time.sleep(0.65)
        assert here.allow()  # this process probes now; the others wait
        assert others[0]("allow", "state") == [False, ["half-open", 4]]
        assert others[1]("allow") == [False]
        here.record_success(0.02)
        assert others[0]("allow", "state") == [True, ["closed", 0]]
        assert others[1]("allow", "state") == [True, ["closed", 0]]
        assert here.snapshot()["state"] == "closed" and here.gauge() == 1.0
        for other in others:
            other.close()


def test_a_probe_without_a_verdict_lets_another_process_probe(redis_url: str, tmp_path: Path) -> None:
    with redis_mode(redis_url):
        here = DeploymentHealth(FAST, shared_key="dep-c:1")
        for _ in range(3):
            here.record_failure("upstream-error: 503")
        time.sleep(FAST.cooldown_s + 0.05)
        assert here.allow()
        other = Other(redis_url, tmp_path, "dep-c:1").ready()
        # a release by a process that does not hold the probe changes nothing
        assert other("allow", "release", "allow") == [False, False]
        here.release_probe()  # the caller's own bad request: no verdict on the deployment
        assert other("allow", "allow") == [True, False]
        assert not here.allow()
        other.close()


def test_two_gateways_share_a_failing_deployments_breaker(city: Any, redis_url: str) -> None:
    """Two gateways (as in two API processes): the one that saw the failures and the one that
    did not both skip the deployment; its digest names the breaker, so both find the same one."""
    bad, good = RunningUpstream("bad", free_port()), RunningUpstream("good", free_port())
    try:
        bad.set(fail_status=500, fail_count=-1)
        config = GatewayConfig.model_validate({
            "deployments": [
                {"name": "bad", "group": "g", "base_url": bad.url, "model": "m", "priority": 0, "timeout_s": 2},
                {"name": "good", "group": "g", "base_url": good.url, "model": "m", "priority": 1, "timeout_s": 2}],
            "groups": [{"name": "g", "strategy": "priority", "retries": 1}],
            "breaker": {"failures": 2, "cooldown_s": 30, "max_cooldown_s": 60},
            "backoff_s": 0.01, "max_backoff_s": 0.05})
        body = {"model": "g", "messages": [{"role": "user", "content": "你好"}]}
        with redis_mode(redis_url):
            first, second = Gateway(config, UsageMeter(database())), Gateway(config, UsageMeter(database()))
            try:
                for _ in range(2):
                    assert first.chat(dict(body), CallContext(agent="test")).deployment == "good"
                assert len(bad.requests) == 2
                states = {d["name"]: d["state"] for d in second.health()["groups"][0]["deployments"]}
                assert states == {"bad": "open", "good": "closed"}
                for _ in range(3):  # the second gateway never called `bad` and skips it all the same
                    assert second.chat(dict(body), CallContext(agent="test")).deployment == "good"
                assert len(bad.requests) == 2
            finally:
                first.close()
                second.close()
    finally:
        bad.stop()
        good.stop()


def test_redis_away_leaves_the_breaker_in_memory_and_logs_once(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    server = private_redis(tmp_path)
    url = server.url
    server.kill()
    monkeypatch.setattr(health, "_store_down", False)
    caplog.set_level(logging.WARNING, logger=health.__name__)
    with redis_mode(url):
        here = DeploymentHealth(FAST, shared_key="dep-d:1")
        t0 = time.perf_counter()
        assert here.allow()  # no breaker store: the call still goes out
        for _ in range(3):
            here.record_failure("upstream-error: 500")
        assert not here.allow() and here.snapshot()["state"] == "open"
        time.sleep(FAST.cooldown_s + 0.05)
        assert here.allow() and not here.allow()  # one probe, from this process's memory
        here.record_success(0.01)
        assert here.allow() and here.snapshot()["state"] == "closed"
        assert time.perf_counter() - t0 < 10
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
