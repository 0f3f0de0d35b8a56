"""Infrastructure operations (基础设施运营): the health and capacity of what the platform runs on.

Read from what the platform already has — the database engine, the job queues (core/jobs.py), the bus
streams (core/streams.py), the MQTT broker and Redis, the IoT hub's devices and the model gateway's
deployments — through their service functions. `snapshot()` is the operator's view (`aicity ops
infra`, `GET /api/v1/ops/infra`); `InfraCollector` puts the same figures into `/metrics`, where the
alert rules shipped in `ops/alerts.yml` (Prometheus format) watch them.

Slow queries come from ops/slowlog.py (a cursor listener the ops slice switches on at activation).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
import prometheus_client
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from aicity.core import jobs, scale, streams
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.data import store
from aicity.hub.gateway import service as gateway
from aicity.hub.iot import service as iot
from aicity.ops.slowlog import infra_settings, slow_queries

#: devices with no district are counted under this name
NO_DISTRICT = "未分区 unassigned"


# ---- the database ---------------------------------------------------------------------------

def _file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def database_info() -> dict[str, Any]:
    """The relational database's dialect and size, the analytics store's size, and slow statements
    (PostgreSQL: also the statements running longer than the threshold now, from pg_stat_activity)."""
    db = database()
    dialect = db.engine.dialect.name
    running_long: int | None = None
    with db.engine.connect() as conn:
        if dialect == "sqlite":
            pages = conn.execute(text("PRAGMA page_count")).scalar() or 0
            size = int(pages) * int(conn.execute(text("PRAGMA page_size")).scalar() or 0)
            path = db.url.split("///", 1)[-1]
            if path and path != ":memory:":
                size = max(size, _file_size(Path(path)))
        elif dialect == "postgresql":
            size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
            running_long = int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                "AND now() - query_start > make_interval(secs => :s)"), {"s": infra_settings().slow_query_ms / 1000}
            ).scalar() or 0)
        else:
            size = 0
    return {"dialect": dialect, "size_bytes": size, "analytics_size_bytes": _analytics_size(),
            "running_long": running_long, "slow_queries": slow_queries()}


def _analytics_size() -> int:
    """The data hub's store: the DuckDB file, or the `hub_data` schema's tables on PostgreSQL (0 while
    that server cannot be reached: the store's own checks report it)."""
    try:
        return store.size_bytes()
    except Problem:
        return 0


# ---- queues and the bus ---------------------------------------------------------------------

def _age_s(at: datetime | None, now: datetime) -> float:
    if at is None:
        return 0.0
    return max(0.0, (now - (at if at.tzinfo else at.replace(tzinfo=UTC))).total_seconds())


def queues() -> list[dict[str, Any]]:
    """Each job queue: queued, running and failed jobs and how long the oldest queued job has waited
    (worker lag). Embedded, a job is a thread of this process: running only."""
    now = datetime.now(UTC)
    if not scale.distributed():
        running = Counter(t.name.removeprefix("job-") for t in threading.enumerate() if t.name.startswith("job-"))
        return [{"queue": q, "mode": "embedded", "queued": 0, "running": running[q], "failed": None,
                 "oldest_queued_s": 0.0} for q in jobs.QUEUES]
    found = []
    for name in jobs.QUEUES:
        q = jobs.rq_queue(name)
        ids = q.get_job_ids(0, 1)
        first = q.fetch_job(ids[0]) if ids else None
        found.append({"queue": name, "mode": "redis", "queued": q.count, "running": q.started_job_registry.count,
                      "failed": q.failed_job_registry.count,
                      "oldest_queued_s": round(_age_s(first.enqueued_at if first else None, now), 1)})
    return found


def _entry_time(entry_id: bytes | str) -> datetime:
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return datetime.fromtimestamp(int(raw.split("-")[0]) / 1000, UTC)


def bus() -> dict[str, Any]:
    """The durable bus: backlog, dead letters, the age of the oldest event no worker has taken yet
    (`lag_s`) and of the oldest taken but not acknowledged (`oldest_pending_s`)."""
    found = streams.stats()
    lag = oldest_pending = 0.0
    if scale.distributed():
        redis: Any = scale.redis_client()
        durable = scale.key("bus", "durable")
        now = datetime.now(UTC)
        try:
            group = next((g for g in redis.xinfo_groups(durable) if g["name"] in (streams.GROUP, streams.GROUP.encode())),
                         None)
        except Exception as exc:  # no stream yet
            if "no such key" not in str(exc).lower():
                raise
            group = None
        if group is not None:
            last = group["last-delivered-id"]
            last = last.decode() if isinstance(last, bytes) else last
            waiting = redis.xrange(durable, min=f"({last}", count=1)
            lag = _age_s(_entry_time(waiting[0][0]), now) if waiting else 0.0
            summary = redis.xpending(durable, streams.GROUP)
            if summary["pending"]:
                oldest_pending = _age_s(_entry_time(summary["min"]), now)
        elif redis.exists(durable):  # events written, no worker ever read them
            first = redis.xrange(durable, count=1)
            lag = _age_s(_entry_time(first[0][0]), now) if first else 0.0
    return {**found, "lag_s": round(lag, 1), "oldest_pending_s": round(oldest_pending, 1)}


# ---- brokers --------------------------------------------------------------------------------

_probe_lock = threading.Lock()
_probe: tuple[float, str, dict[str, Any]] | None = None


def probe_mqtt(url: str, timeout_s: float) -> dict[str, Any]:
    """Connect to the broker and read Mosquitto's `$SYS/broker/clients/connected` (published every
    `sys_interval`, retained); `clients` is None when the broker publishes no such topic in time."""
    parts = urlsplit(url)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"aicity-ops-{scale.process_name()}")
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set()
    got = threading.Event()
    answer: dict[str, Any] = {"clients": None}

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            answer["clients"] = int(msg.payload.decode())
        except ValueError:
            return
        got.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe("$SYS/broker/clients/connected")
    started = time.perf_counter()
    try:
        client.connect(parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme == "mqtts" else 1883),
                       keepalive=10)
    except OSError as exc:
        return {"broker": "mqtt", "up": False, "clients": None, "error": type(exc).__name__}
    client.loop_start()
    try:
        got.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return {"broker": "mqtt", "up": True, "clients": answer["clients"],
            "probe_ms": round((time.perf_counter() - started) * 1000, 1)}


def brokers() -> list[dict[str, Any]]:
    """The MQTT broker (`[aicity.iot] mqtt_url`) and Redis (`redis_url`, the distributed mode):
    reachable, and how many clients are connected. The MQTT answer is reused for `broker_probe_cache_s`."""
    global _probe
    found: list[dict[str, Any]] = []
    url = iot.iot_config().mqtt_url
    if url:
        cfg = infra_settings()
        with _probe_lock:
            if _probe is None or _probe[1] != url or time.monotonic() - _probe[0] > cfg.broker_probe_cache_s:
                _probe = (time.monotonic(), url, probe_mqtt(url, cfg.broker_probe_timeout_s))
            found.append(dict(_probe[2]))
    if scale.distributed():
        try:
            info = scale.redis_client().info("clients")
            found.append({"broker": "redis", "up": True, "clients": int(info.get("connected_clients", 0))})
        except scale.connection_errors() as exc:
            found.append({"broker": "redis", "up": False, "clients": None, "error": type(exc).__name__})
    return found


# ---- sensing and compute --------------------------------------------------------------------

def devices() -> list[dict[str, Any]]:
    """Devices and those online per district (感知运营)."""
    total: Counter[str] = Counter()
    online: Counter[str] = Counter()
    now = datetime.now(UTC)
    for d in iot.list_devices(limit=1_000_000):
        district = d.district or NO_DISTRICT
        total[district] += 1
        online[district] += iot.online(d, now)
    return [{"district": k, "devices": total[k], "online": online[k], "online_rate": round(online[k] / total[k], 4)}
            for k in sorted(total)]


def models() -> list[dict[str, Any]]:
    """Each model deployment: its breaker, calls, failures, error rate and mean latency (算力运营)."""
    rows = []
    for group in gateway.gateway().health()["groups"]:
        for d in group["deployments"]:
            calls = d["successes"] + d["failures"]
            rows.append({"group": group["name"], "deployment": d["name"], "provider": d["provider"],
                         "state": d["state"], "calls": calls, "failures": d["failures"],
                         "error_rate": round(d["failures"] / calls, 4) if calls else None,
                         "mean_latency_ms": d["mean_latency_ms"], "last_error": d["last_error"]})
    return rows


def snapshot() -> dict[str, Any]:
    """Everything above, for `aicity ops infra` and `GET /api/v1/ops/infra`."""
    return {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": "redis" if scale.distributed() else "embedded",
            "database": database_info(), "queues": queues(), "bus": bus(), "brokers": brokers(),
            "devices": devices(), "models": models()}


# ---- Prometheus -----------------------------------------------------------------------------

#: the gauges InfraCollector exports (the alert rules' test checks against these and the registry)
GAUGES = ("aicity_db_size_bytes", "aicity_jobs_queued", "aicity_jobs_running", "aicity_jobs_failed",
          "aicity_jobs_oldest_queued_seconds", "aicity_bus_lag_seconds", "aicity_bus_oldest_pending_seconds",
          "aicity_broker_up", "aicity_broker_clients", "aicity_iot_devices", "aicity_iot_devices_online")


class InfraCollector(Collector):
    """The snapshot's figures as gauges, read when `/metrics` is scraped. A part that cannot be read
    (Redis away, no database yet) is left out; the scrape still answers."""

    def describe(self) -> list[Metric]:
        """Nothing up front: registering must not read the database (prometheus_client would call
        `collect` at import otherwise)."""
        return []

    def collect(self) -> Iterator[Metric]:
        for part in (self._database, self._queues, self._bus, self._brokers, self._devices):
            try:
                yield from part()
            except Exception:  # one part unreadable: the others are still worth scraping
                continue

    def _database(self) -> Iterator[Metric]:
        info = database_info()
        m = GaugeMetricFamily("aicity_db_size_bytes", "Size of the relational database and the analytics store",
                              labels=["store"])
        m.add_metric(["relational"], info["size_bytes"])
        m.add_metric(["analytics"], info["analytics_size_bytes"])
        yield m

    def _queues(self) -> Iterator[Metric]:
        found = queues()
        for field, name, help_text in (("queued", "aicity_jobs_queued", "Jobs waiting in the queue"),
                                       ("running", "aicity_jobs_running", "Jobs being run"),
                                       ("failed", "aicity_jobs_failed", "Jobs in the failed registry"),
                                       ("oldest_queued_s", "aicity_jobs_oldest_queued_seconds",
                                        "How long the oldest queued job has waited (worker lag)")):
            m = GaugeMetricFamily(name, help_text, labels=["queue"])
            for q in found:
                if q[field] is not None:
                    m.add_metric([q["queue"]], q[field])
            yield m

    def _bus(self) -> Iterator[Metric]:
        found = bus()
        yield GaugeMetricFamily("aicity_bus_lag_seconds", "Age of the oldest durable event no worker has taken",
                                value=found["lag_s"])
        yield GaugeMetricFamily("aicity_bus_oldest_pending_seconds",
                                "Age of the oldest durable event taken but not acknowledged",
                                value=found["oldest_pending_s"])

    def _brokers(self) -> Iterator[Metric]:
        found = brokers()
        up = GaugeMetricFamily("aicity_broker_up", "1 when the broker answers", labels=["broker"])
        clients = GaugeMetricFamily("aicity_broker_clients", "Clients connected to the broker", labels=["broker"])
        for b in found:
            up.add_metric([b["broker"]], 1 if b["up"] else 0)
            if b["clients"] is not None:
                clients.add_metric([b["broker"]], b["clients"])
        yield up
        yield clients

    def _devices(self) -> Iterator[Metric]:
        found = devices()
        total = GaugeMetricFamily("aicity_iot_devices", "Registered devices per district", labels=["district"])
        online = GaugeMetricFamily("aicity_iot_devices_online", "Devices online per district", labels=["district"])
        for row in found:
            total.add_metric([row["district"]], row["devices"])
            online.add_metric([row["district"]], row["online"])
        yield total
        yield online


prometheus_client.REGISTRY.register(InfraCollector())
