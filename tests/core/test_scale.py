"""The distributed mode's building blocks against a real redis-server: rate limits shared between
processes, scheduled work once per period, the durable bus (at least once, once per handler,
retries with backoff, dead letters), broadcasts, and the embedded default left as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from aicity.core import audit, config, scale, streams
from aicity.core.audit_models import AuditEntry
from aicity.core.bus import EventBus, delivering, handler_name
from aicity.core.db import PerDatabase, database, on_invalidated
from aicity.core.handled import HandledEvent
from aicity.hub.gateway.metering import UsageMeter
from aicity.hub.gateway.quotas import KeyInfo, Quotas
from aicity.hub.twin.mirror import entity_id, mirror_readings
from aicity.hub.twin.models import TwinAttributeInstance
from aicity.identity import service as identity
from tests.support.http import METRICS
from tests.support.iot import wait_for
from tests.support.redis import redis_mode

#: a process of its own that counts `n` attempts against one key's moving window (the login throttle)
_HITS = """
import sys
from aicity.core.errors import Problem
from aicity.identity import auth
admitted = 0
for _ in range(int(sys.argv[1])):
    try:
        auth._admit("10/minute", "login", "203.0.113.7", "too many")
        admitted += 1
    except Problem as exc:
        assert exc.status == 429
print(admitted)
"""


def _hits_in_process(redis_url: str | None, n: int, tmp: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "AICITY_REDIS_URL"}
    env["AICITY_DATA_DIR"] = str(tmp)
    if redis_url:
        env["AICITY_REDIS_URL"] = redis_url
    return subprocess.Popen([sys.executable, "-c", _HITS, str(n)], env=env, stdout=subprocess.PIPE, text=True)


def test_the_login_throttle_holds_across_processes_on_redis(redis_url: str, tmp_path: Path) -> None:
    procs = [_hits_in_process(redis_url, 15, tmp_path) for _ in range(2)]
    admitted = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(admitted) == 10, admitted  # 10/minute for the address, whichever process counts


def test_memory_storage_counts_per_process(tmp_path: Path) -> None:
    """The failure the distributed mode fixes: two processes on memory storage each let 10 through."""
    procs = [_hits_in_process(None, 15, tmp_path) for _ in range(2)]
    assert [int(p.communicate(timeout=60)[0]) for p in procs] == [10, 10]
    assert scale.per_process_warning(3) is not None and "redis_url" in scale.per_process_warning(3)
    assert scale.per_process_warning(1) is None


def test_http_logins_count_in_redis(client: TestClient, redis_url: str) -> None:
    with redis_mode(redis_url):
        for _ in range(6):  # the app counts into Redis (TestClient's address is "testclient")
            assert client.post("/api/v1/auth/login", json={"api_key": "ak_wrong"}).status_code == 401
        keys = redis.Redis.from_url(redis_url).keys("aicity:limits*")
        assert keys, "the login throttle did not count in Redis"
    assert scale.per_process_warning(3) is not None  # back on memory storage


def test_gateway_quotas_count_in_redis(redis_url: str) -> None:
    key = KeyInfo(id=f"k-{time.time_ns()}", name="t", owner="o", groups=(), rpm=3, tpm=None,
                  monthly_token_budget=None)
    with redis_mode(redis_url):
        first, second = Quotas(UsageMeter(database())), Quotas(UsageMeter(database()))  # two workers' gateways
        first.admit(key, "g", 1)
        first.admit(key, "g", 1)
        second.admit(key, "g", 1)
        with pytest.raises(Exception) as refused:
            second.admit(key, "g", 1)
        assert getattr(refused.value, "status", None) == 429


def test_a_scheduled_job_runs_once_per_period_across_loops(redis_url: str) -> None:
    runs: list[int] = []
    with redis_mode(redis_url):
        stops = [scale.every("test-once", 0.2, lambda: runs.append(int(time.time() // 0.2))) for _ in range(3)]
        time.sleep(1.5)
        for stop in stops:
            stop()
    assert len(runs) >= 4
    assert len(runs) == len(set(runs)), "a period ran twice"


def test_embedded_every_runs_on_a_thread_without_redis() -> None:
    assert not scale.distributed()
    runs: list[float] = []
    stop = scale.every("test-embedded", 0.05, lambda: runs.append(time.time()))
    wait_for(lambda: len(runs) >= 3, 5)
    stop()


# --- the durable bus -------------------------------------------------------------------------

def _entries(redis_url: str, stream: str) -> int:
    return int(redis.Redis.from_url(redis_url).xlen(f"aicity:bus:{stream}"))


def test_durable_events_are_handled_once_by_one_of_several_consumers(redis_url: str) -> None:
    seen: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def handler(_topic: str, payload: dict[str, Any]) -> None:
        with lock:
            seen.append((threading.current_thread().name, payload["n"]))

    with redis_mode(redis_url):
        publisher, a, b = EventBus(), EventBus(), EventBus()
        for bus in (publisher, a, b):
            bus.subscribe("test.work", handler, "durable")
        publisher.attach(streams.RedisStreams(publisher))
        consumers = []
        for i, bus in enumerate((a, b)):
            s = streams.RedisStreams(bus)
            s.consumer = f"consumer-{i}"
            consumers.append(s.consume())
        for n in range(200):
            publisher.publish("test.work", {"n": n})
        wait_for(lambda: len(seen) >= 200, 20)
        time.sleep(0.3)
        for s in consumers:
            s.close()
    assert sorted(n for _, n in seen) == list(range(200))  # each once, none in the publisher


def test_a_redelivered_event_skips_handlers_that_succeeded(redis_url: str) -> None:
    calls: list[str] = []
    with redis_mode(redis_url):
        bus = EventBus()
        bus.subscribe("test.once", lambda _t, p: calls.append(p["v"]), "durable")
        transport = streams.RedisStreams(bus)
        bus.attach(transport)
        bus.publish("test.once", {"v": "x"})
        client = redis.Redis.from_url(redis_url)
        transport._ensure_group()
        client.xgroup_setid("aicity:bus:durable", streams.GROUP, "0")
        (_, entries), = client.xreadgroup(streams.GROUP, "c1", {"aicity:bus:durable": ">"}, count=10)
        entry_id, fields = entries[0]
        assert transport.handle(entry_id.decode(), fields) is True
        # delivered again (a consumer died before its XACK reached Redis): the handler is not run again
        assert transport.handle(entry_id.decode(), fields) is True
    assert calls == ["x"]


def test_an_audit_entry_is_written_once_when_its_worker_dies_between_commit_and_done_mark(
        city: Path, redis_url: str) -> None:
    """The crash window: the audit handler's transaction commits, then its worker dies before
    the Redis done mark and the XACK. Another worker claims the entry and runs the handler
    again; the (event id, handler) row committed with the entry makes that a no-op."""
    target = f"kb-crash/doc-{time.time_ns()}"
    kb, key = target.split("/")
    with redis_mode(redis_url, bus_claim_idle_s=0.1):
        bus = EventBus()
        bus.subscribe("kb.document.ingested", audit.audit_event, "durable")
        bus.attach(streams.RedisStreams(bus))
        bus.publish("kb.document.ingested", {"kb": kb, "key": key, "actor": "crash-test"})
        client = redis.Redis.from_url(redis_url)
        dying = streams.RedisStreams(bus)
        dying._ensure_group()
        (_, entries), = client.xreadgroup(streams.GROUP, "dying", {"aicity:bus:durable": ">"}, count=10)
        _entry_id, fields = entries[0]
        event_id = fields[b"id"].decode()
        with delivering(event_id, audit.audit_event):  # what handle() runs, up to the handler's commit
            audit.audit_event("kb.document.ingested", json.loads(fields[b"payload"]))
        # ... and the worker is gone: no done mark, no XACK; the entry waits in the pending list
        assert client.hlen(f"aicity:bus:done:{event_id}") == 0 and streams.stats()["pending"] == 1
        survivor = streams.RedisStreams(bus)
        survivor.consumer = "survivor"
        time.sleep(0.25)
        survivor.reclaim()  # claimed and handled again by the other worker
        stats = streams.stats()
        assert client.hexists(f"aicity:bus:done:{event_id}", handler_name(audit.audit_event))
    assert stats["pending"] == 0 and stats["dead_letters"] == 0
    with database().session() as s:
        written = s.scalars(select(AuditEntry).where(AuditEntry.target == target)).all()
        marks = s.scalars(select(HandledEvent).where(HandledEvent.event_id == event_id)).all()
    assert len(written) == 1, "the redelivered event wrote a second ledger entry"
    assert [(m.handler, m.ref) for m in marks] == [(handler_name(audit.audit_event), str(written[0].seq))]
    report = audit.verify()
    assert report.ok, report.findings


def test_the_twin_mirror_applies_a_redelivered_batch_once(city: Path) -> None:
    device = f"crash-{time.time_ns()}"
    batch = {"type": "WaterLevelSensor", "device_id": device,
             "readings": [{"attribute": "level", "value": 1.5, "unit": "MTR"}]}
    with delivering("evt_twincrash" + device[-12:], mirror_readings):  # first delivery: commits, no done mark
        mirror_readings("iot.reading.stored", batch)
    with delivering("evt_twincrash" + device[-12:], mirror_readings):  # the same event id, redelivered
        mirror_readings("iot.reading.stored", batch)
    mirror_readings("iot.reading.stored", batch)  # embedded: no delivery key, a batch is a new point
    with database().session() as s:
        points = s.scalars(select(TwinAttributeInstance)
                           .where(TwinAttributeInstance.entity_id == entity_id(device, "WaterLevelSensor"))).all()
    assert len(points) == 2, "the redelivered batch added a second history point"


def test_the_embedded_bus_records_no_deliveries(city: Path) -> None:
    target = f"kb-embedded/doc-{time.time_ns()}"
    kb, key = target.split("/")
    bus = EventBus()
    bus.subscribe("kb.document.ingested", audit.audit_event, "durable")
    bus.publish("kb.document.ingested", {"kb": kb, "key": key})
    bus.publish("kb.document.ingested", {"kb": kb, "key": key})  # two events: two entries, as before
    with database().session() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.target == target)).all()) == 2


def test_failing_handlers_are_retried_with_backoff_then_dead_lettered(client: TestClient, redis_url: str) -> None:
    attempts: list[float] = []
    good: list[int] = []

    def flaky(_topic: str, payload: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("the receiver is down")

    with redis_mode(redis_url, bus_claim_idle_s=0.2, bus_max_attempts=3):
        bus = EventBus()
        bus.subscribe("test.flaky", flaky, "durable")
        bus.subscribe("test.flaky", lambda _t, p: good.append(p["n"]), "durable")
        publisher = EventBus()
        publisher.subscribe("test.flaky", flaky, "durable")
        publisher.attach(streams.RedisStreams(publisher))
        consumer = streams.RedisStreams(bus).consume()
        publisher.publish("test.flaky", {"n": 1})
        wait_for(lambda: _entries(redis_url, "dead") == 1, 20)
        consumer.close()
        stats = streams.stats()
        assert stats["dead_letters"] == 1 and stats["pending"] == 0
        dead = streams.dead_letters()
        metrics = client.get("/metrics", headers=METRICS).text
        ops = client.get("/api/v1/ops/bus", headers={"Authorization": f"Bearer {_staff_key(client)}"})
    assert len(attempts) == 3  # bus_max_attempts deliveries
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4, gaps  # bus_claim_idle_s, then doubled
    assert good == [1]  # the other handler ran once, though the event was delivered three times
    assert dead[0]["topic"] == "test.flaky" and "the receiver is down" in dead[0]["error"]
    assert json.loads(dead[0]["payload"]) == {"n": 1}
    assert "aicity_bus_dead_letters 1.0" in metrics
    assert ops.status_code == 200 and ops.json()["dead_letters"] == 1 and ops.json()["dead"][0]["attempts"] == "3"


def _staff_key(client: TestClient) -> str:
    return identity.create_api_key("bus-test", "admin")[1]


def test_broadcasts_reach_every_other_process_once(redis_url: str) -> None:
    got: dict[str, list[int]] = {"publisher": [], "other": []}
    with redis_mode(redis_url):
        publisher, other = EventBus(), EventBus()
        publisher.subscribe("test.cache", lambda _t, p: got["publisher"].append(p["n"]), "broadcast")
        other.subscribe("test.cache", lambda _t, p: got["other"].append(p["n"]), "broadcast")
        a, b = streams.RedisStreams(publisher), streams.RedisStreams(other)
        b.origin = "another-host-1"
        publisher.attach(a)
        b.listen()
        time.sleep(0.3)  # the listener has pinned its position
        for n in range(5):
            publisher.publish("test.cache", {"n": n})
        wait_for(lambda: len(got["other"]) == 5, 10)
        b.close()
    assert got == {"publisher": [0, 1, 2, 3, 4], "other": [0, 1, 2, 3, 4]}  # at once here, soon there


def test_a_cache_invalidated_in_one_process_is_dropped_in_the_others() -> None:
    builds: list[int] = []
    cache = PerDatabase(lambda: builds.append(1) or len(builds))
    assert cache.get() == 1 and cache.get() == 1
    on_invalidated("core.cache.invalidated", {"cache": cache.name})  # what another process's broadcast runs
    assert cache.get() == 2


def test_durable_events_are_handled_here_when_redis_is_away(tmp_path: Path) -> None:
    handled: list[int] = []
    with redis_mode("redis://127.0.0.1:1/0"):  # nothing listens there
        bus = EventBus()
        bus.subscribe("test.work", lambda _t, p: handled.append(p["n"]), "durable")
        bus.attach(streams.RedisStreams(bus))
        bus.publish("test.work", {"n": 7})
    assert handled == [7]  # not lost: delivered in the publisher's process


def test_the_embedded_default_has_no_redis() -> None:
    assert config.settings().redis_url is None and not scale.distributed()
    assert streams.stats()["mode"] == "embedded"
    assert scale.runs_schedules()
    with pytest.raises(RuntimeError):
        scale.redis_client()
