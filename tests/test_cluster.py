"""The distributed mode end to end (`pytest -m cluster`): three API processes and two background
workers on one PostgreSQL and one Redis, all real processes on loopback. Each subscription is
notified once, each alarm raised once, a per-key rate limit holds across the API processes, a
document ingested through one is found through the others, a scheduled job runs once per period;
then faults: SIGKILL of an API process and of a worker mid-stream lose no acknowledged write and
leave no event unhandled, a restarted Redis lets the bus catch up, a restarted PostgreSQL is
answered with 503 while it is away and recovers."""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from tests.support.cluster import Cluster, Receiver
from tests.support.http import problem
from tests.support.iot import wait_for
from tests.support.pg import PgServer, pg_bin
from tests.support.redis import available as redis_available
from tests.support.redis import private_redis

pytestmark = pytest.mark.cluster
_ids = itertools.count()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if pg_bin() is None or not redis_available():
        pytest.skip("needs PostgreSQL and redis-server (apt-get install postgresql redis-server)")
    pg = PgServer(pg_bin() or Path()).init().start()
    rd = private_redis(Path(tempfile.mkdtemp(prefix="aicity-cluster-redis-")))
    c = Cluster(pg, rd, tmp_path_factory.mktemp("cluster-data"), tmp_path_factory.mktemp("cluster-logs"),
                {"AICITY_BUS_CLAIM_IDLE_S": "2", "AICITY_EGRESS_ALLOW": '["127.0.0.1"]'})
    try:
        c.wait_ready(c.start_api())  # the first one loads the demo city into PostgreSQL
        for _ in range(2):
            c.start_api()
        for _ in range(2):  # the keyword-only city's work; `embed` is the dense test's own worker's
            c.start_worker("default,notify,ingest,reports")
        c.key = json.loads(c.cli("keys", "create", "--name", "cluster-admin", "--role", "admin", "--json"))["key"]
        for i in (1, 2):
            c.wait_ready(i)
        wait_for(lambda: c.live_workers() == 2, 600)
        yield c
    finally:
        c.close()
        rd.stop()
        pg.remove()


def _admin(c: Cluster) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.key}"}


def test_the_login_throttle_holds_across_api_processes(cluster: Cluster) -> None:
    codes = [httpx.post(f"{cluster.url(i % 3)}/api/v1/auth/login", json={"api_key": "ak_wrong"}).status_code
             for i in range(25)]
    assert codes.count(401) == 10 and codes.count(429) == 15, codes  # 10/minute per address, in Redis


def test_each_subscription_is_notified_once(cluster: Cluster) -> None:
    receiver = Receiver()
    kind = f"ClusterProbe{next(_ids)}"
    entity = f"urn:ngsi-ld:{kind}:1"
    try:
        with httpx.Client(headers=_admin(cluster), timeout=30) as http:
            r = http.post(f"{cluster.url(0)}/ngsi-ld/v1/entities",
                          json={"id": entity, "type": kind, "level": {"type": "Property", "value": 0}})
            assert r.status_code == 201, r.text
            r = http.post(f"{cluster.url(1)}/ngsi-ld/v1/subscriptions", json={
                "type": "Subscription", "entities": [{"type": kind}], "watchedAttributes": ["level"],
                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url, "accept": "application/json"}}})
            assert r.status_code == 201, r.text
            time.sleep(1)  # the other processes drop their subscription cache (a broadcast, milliseconds)
            for n in range(1, 31):  # through every API process in turn
                r = http.patch(f"{cluster.url(n % 3)}/ngsi-ld/v1/entities/{entity}/attrs",
                               json={"level": {"type": "Property", "value": n}})
                assert r.status_code == 204, r.text
        wait_for(lambda: len(receiver.received) >= 30, 120)
        time.sleep(2)
        values = sorted(note["data"][0]["level"] for note in receiver.received)
        assert values == list(range(1, 31)), values  # each change notified once, by a background worker
    finally:
        receiver.close()


def _device(c: Cluster, http: httpx.Client) -> str:
    device = f"cluster-wl-{next(_ids)}"
    r = http.post(f"{c.url(0)}/api/v1/iot/devices", json={"id": device, "type": "WaterLevelObserved"})
    assert r.status_code == 201, r.text
    return device


def test_each_alarm_is_raised_once(cluster: Cluster) -> None:
    with httpx.Client(headers=_admin(cluster), timeout=60) as http:
        device = _device(cluster, http)
        r = http.post(f"{cluster.url(1)}/api/v1/iot/rules", json={
            "name": "集群测试高水位", "kind": "threshold", "severity": "high", "device_id": device,
            "attribute": "waterLevel", "direction": "above", "limit": 1.0})
        assert r.status_code == 201, r.text

        def send(n: int) -> int:
            return http.post(f"{cluster.url(n % 3)}/api/v1/iot/telemetry", json={
                "device_id": device, "attribute": "waterLevel", "value": 2.0 + n / 100, "unit": "m"}).status_code

        with ThreadPoolExecutor(6) as pool:  # the three processes at once
            assert set(pool.map(send, range(30))) == {202}
        alarms = http.get(f"{cluster.url(2)}/api/v1/iot/alarms", params={"device_id": device}).json()
    assert len(alarms) == 1, alarms
    assert alarms[0]["count"] == 30 and alarms[0]["event_id"]  # one alarm, one city event


def test_a_document_ingested_through_one_process_is_found_through_the_others(cluster: Cluster) -> None:
    token = f"集群检索验证词{next(_ids)}号"
    text = f"# 集群测试规定\n\n第一条 {token}适用于分布式部署的检索一致性测试。\n".encode()
    with httpx.Client(headers=_admin(cluster), timeout=120) as http:
        for i in (1, 2):  # the other processes have built their index already
            assert http.get(f"{cluster.url(i)}/api/v1/kb/search", params={"q": "城市管理", "mode": "keyword"}
                            ).status_code == 200
        r = http.post(f"{cluster.url(0)}/api/v1/kb/bases/global/documents",
                      files={"file": ("cluster-rule.md", text, "text/markdown")})
        assert r.status_code == 201, r.text
        key = r.json()["key"]
        for i in (1, 2, 1, 2):
            hits = wait_for(lambda i=i: http.get(f"{cluster.url(i)}/api/v1/kb/search",
                                                 params={"q": token, "mode": "keyword"}).json()["hits"], 60)
            assert hits[0]["doc_key"] == key, hits[0]


def test_vectors_are_computed_by_the_workers_and_read_by_every_api_process(cluster: Cluster) -> None:
    """Dense search on: the API processes queue the passages' vectors on `embed`, the background
    workers (which search nothing themselves) compute them into PostgreSQL, and each API process
    reads them from there; a document ingested through one is found by meaning through the other."""
    dense = {"AICITY_DENSE": "true"}
    cluster.start_worker("embed", env=dense)
    one, other = cluster.start_api(env=dense), cluster.start_api(env=dense)
    for i in (one, other):
        cluster.wait_ready(i)
    text = "# 集群语义规定\n\n第一条 社区独居老人每周至少上门探访一次，发现异常及时联系家属和社区卫生服务中心。\n".encode()
    with httpx.Client(headers=_admin(cluster), timeout=120) as http:
        r = http.post(f"{cluster.url(one)}/api/v1/kb/bases/global/documents",
                      files={"file": ("cluster-dense.md", text, "text/markdown")})
        assert r.status_code == 201, r.text
        key = r.json()["key"]
        for i in (one, other):
            wait_for(lambda i=i: (http.get(f"{cluster.url(i)}/api/v1/kb/status").json()["vectors"] or {}).get("ready"),
                     900)
            hits = http.get(f"{cluster.url(i)}/api/v1/kb/search",
                            params={"q": "家里只有一个老人住，社区会不会定期来看看", "mode": "dense"}).json()["hits"]
            assert key in [h["doc_key"] for h in hits], hits
    engine = sqlalchemy.create_engine(cluster.pg.url)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT count(*) FROM text_vectors")).scalar_one() > 0
    engine.dispose()
    for i in (one, other):
        assert "still not computed" not in cluster.log(f"api-{i}")


def test_a_scheduled_job_runs_once_per_period(cluster: Cluster) -> None:
    redis = cluster.redis()
    seen: dict[str, str] = {}
    deadline = time.time() + 8
    while time.time() < deadline:  # every worker runs the loop; the claims say who ran each period
        for k in redis.keys("aicity:schedule:jobs-maintain:1:*"):
            value = redis.get(k)
            if value is not None:
                seen.setdefault(k.decode(), value.decode())
        time.sleep(0.2)
    periods = sorted(int(k.rsplit(":", 1)[1]) for k in seen)
    assert len(periods) >= 5 and periods == list(range(periods[0], periods[0] + len(periods)))  # every period, once
    assert len(set(seen.values())) <= len(cluster.workers)  # the two of the fixture, the dense test's `embed` one


@pytest.fixture(scope="module")
def multi_worker(cluster: Cluster) -> str:
    """`aicity serve --workers 2`: one port, two uvicorn worker processes, on the cluster's
    PostgreSQL (city loaded already) and Redis; its base URL."""
    i = cluster.start_api(workers=2)
    cluster.wait_ready(i)  # the first worker is up; the second may still be starting (it builds its indexes)
    wait_for(lambda: len(_workers(cluster.url(i), 16)) == 2, 300)
    return cluster.url(i)


def _fresh(local: str = "127.0.0.1") -> httpx.Client:
    """A client that opens a new connection per request (the kernel hands each to either worker)."""
    return httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0),
                        transport=httpx.HTTPTransport(local_address=local))


def _workers(url: str, n: int) -> set[str]:
    """The processes that answered n concurrent health checks (an idle worker takes what the busy one can't)."""
    with _fresh() as http, ThreadPoolExecutor(8) as pool:
        return set(pool.map(lambda _: http.get(f"{url}/api/v1/health").json()["worker"], range(n)))


def test_serve_with_two_workers_shares_the_throttle_and_notifies_once(cluster: Cluster, multi_worker: str) -> None:
    assert len(workers := _workers(multi_worker, 40)) == 2, workers  # both workers answer on the one port
    with _fresh("127.0.0.2") as http:  # an address of its own: the other throttle test does not count here
        codes = [http.post(f"{multi_worker}/api/v1/auth/login", json={"api_key": "ak_wrong"}).status_code
                 for _ in range(25)]
    assert codes.count(401) == 10 and codes.count(429) == 15, codes  # 10/minute per address, in Redis
    receiver = Receiver()
    kind = f"ClusterProbe{next(_ids)}"
    entities = [f"urn:ngsi-ld:{kind}:{n}" for n in range(1, 31)]
    try:
        with _fresh() as http, ThreadPoolExecutor(6) as pool:
            http.headers.update(_admin(cluster))
            for entity in entities:
                r = http.post(f"{multi_worker}/ngsi-ld/v1/entities",
                              json={"id": entity, "type": kind, "level": {"type": "Property", "value": 0}})
                assert r.status_code == 201, r.text
            r = http.post(f"{multi_worker}/ngsi-ld/v1/subscriptions", json={
                "type": "Subscription", "entities": [{"type": kind}], "watchedAttributes": ["level"],
                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url, "accept": "application/json"}}})
            assert r.status_code == 201, r.text
            time.sleep(1)  # the other worker drops its subscription cache (a broadcast)

            def change(n: int) -> int:  # entity n to level n, on a new connection, to either worker
                return http.patch(f"{multi_worker}/ngsi-ld/v1/entities/{entities[n - 1]}/attrs",
                                  json={"level": {"type": "Property", "value": n}}).status_code

            assert set(pool.map(change, range(1, 31))) == {204}
        wait_for(lambda: len(receiver.received) >= 30, 120)
        time.sleep(2)
        seen = sorted((note["data"][0]["id"], note["data"][0]["level"]) for note in receiver.received)
        assert seen == sorted((entity, n) for n, entity in enumerate(entities, 1)), seen  # each change once
    finally:
        receiver.close()


# --- faults --------------------------------------------------------------------------------------

def _readings(c: Cluster, http: httpx.Client, device: str) -> set[float]:
    r = http.get(f"{c.url(0)}/api/v1/iot/devices/{device}/readings", params={"limit": 5000})
    assert r.status_code == 200, r.text
    return {row["value"] for row in r.json()}


def _bus_settled(c: Cluster) -> bool:
    groups = c.redis().xinfo_groups("aicity:bus:durable")
    return all(g["pending"] == 0 and g.get("lag") in (0, None) for g in groups)


def test_sigkill_of_an_api_process_and_a_worker_loses_nothing_acknowledged(cluster: Cluster) -> None:
    with httpx.Client(headers=_admin(cluster), timeout=30) as http:
        device = _device(cluster, http)
        acked: list[float] = []
        stop = threading.Event()

        def stream(i: int) -> None:
            n = 0
            while not stop.is_set():
                value = round(i + n / 10000, 4)
                n += 1
                try:
                    r = http.post(f"{cluster.url(i)}/api/v1/iot/telemetry",
                                  json={"device_id": device, "attribute": "waterLevel", "value": value})
                except httpx.HTTPError:
                    if i == 2:
                        return  # its process is gone
                    continue
                if r.status_code == 202:
                    acked.append(value)

        threads = [threading.Thread(target=stream, args=(i,)) for i in (1, 2)]
        for t in threads:
            t.start()
        wait_for(lambda: len(acked) >= 40, 120)
        cluster.kill(cluster.apis[2][1])  # an API process, mid-stream
        cluster.kill(cluster.workers[0])  # a background worker holding durable events
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert acked and set(acked) <= _readings(cluster, http, device)  # every acknowledged reading is stored
    wait_for(lambda: _bus_settled(cluster), 120)  # the survivor claimed what the dead worker held


def test_a_restarted_redis_lets_the_bus_catch_up(cluster: Cluster) -> None:
    redis_server = cluster.redis_server
    with httpx.Client(headers=_admin(cluster), timeout=30) as http:
        device = _device(cluster, http)
        before = cluster.redis().xlen("aicity:bus:durable")
        redis_server.stop()
        refused = http.post(f"{cluster.url(0)}/api/v1/auth/login", json={"api_key": "ak_wrong"})
        problem(refused, 503)  # the shared throttle cannot count: refused cleanly, not a 500
        r = http.post(f"{cluster.url(1)}/api/v1/iot/telemetry",
                      json={"device_id": device, "attribute": "waterLevel", "value": 0.5})
        assert r.status_code == 202  # readings are in PostgreSQL; their bus event is handled in-process
        redis_server.start()
        assert cluster.redis().xlen("aicity:bus:durable") >= before  # the stream survived the restart (AOF)
        for n in range(5):
            r = http.post(f"{cluster.url(n % 2)}/api/v1/iot/telemetry",
                          json={"device_id": device, "attribute": "waterLevel", "value": 0.6 + n / 10})
            assert r.status_code == 202, r.text
        assert {0.5, 0.6, 1.0} <= _readings(cluster, http, device)
    wait_for(lambda: cluster.redis().xlen("aicity:bus:durable") > before, 60)
    wait_for(lambda: _bus_settled(cluster), 120)  # the consumers reconnected and took the new entries


def test_a_restarted_postgresql_is_answered_503_then_recovers(cluster: Cluster) -> None:
    with httpx.Client(headers=_admin(cluster), timeout=30) as http:
        cluster.pg.stop()
        try:
            r = http.get(f"{cluster.url(0)}/api/v1/iot/devices")
            body = problem(r, 503)
            assert r.headers["retry-after"] and "unavailable" in body["type"]
        finally:
            cluster.pg.start()
        wait_for(lambda: http.get(f"{cluster.url(0)}/api/v1/iot/devices").status_code == 200, 60)
        wait_for(lambda: http.get(f"{cluster.url(1)}/api/v1/iot/devices").status_code == 200, 60)
