"""The distributed mode (docs/scale-out.md): what several processes of one city share.

Unset `redis_url` keeps the embedded default — one process, SQLite, nothing else to run — and
every function here answers for that process alone (memory rate limits, counters in memory,
scheduled work on a thread of the server). With `redis_url` set, the same functions answer for
the cluster: rate limits, login throttles and gateway quotas count in Redis (`limits`' Redis
storage), ingest counters are Redis hashes, and a scheduled job runs once per period across
every process (`every`, a Redis key per period taken with SET NX).

`redis` is an optional dependency (the `scale` extra): it is imported only when `redis_url` is
set, so the embedded install never needs it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from aicity.core.config import settings

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

#: what this process is: `all` (the embedded server, or a CLI command: runs everything),
#: `api` (`aicity serve` in the distributed mode: requests; scheduled work is left to workers)
#: or `worker` (`aicity worker`: jobs, scheduled work, the durable bus's consumers)
Role = Literal["all", "api", "worker"]
_role: Role = "all"
_lock = threading.Lock()


def distributed() -> bool:
    """Whether `redis_url` is set: the processes of this city share state through Redis."""
    return bool(settings().redis_url)


def set_role(role: Role) -> None:
    global _role
    _role = role


def role() -> Role:
    return _role


def runs_schedules() -> bool:
    """Whether this process runs scheduled work: the embedded server does; in the distributed
    mode the background workers do (`aicity worker`), and each period runs once among them."""
    return _role == "worker" or (_role == "all" and not distributed())


def process_name() -> str:
    """`<host>-<pid>`: unique among the city's processes (MQTT client ids, bus consumers)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def key(*parts: str) -> str:
    """A Redis key of this city: `<redis_prefix>:<part>:<part>…`."""
    return ":".join((settings().redis_prefix, *parts))


_clients: dict[str, Redis] = {}


def redis_client() -> Redis:
    """The process's Redis client for `redis_url` (short timeouts: a Redis that is away is an
    error the caller sees in seconds, not a hang)."""
    url = settings().redis_url
    if not url:
        raise RuntimeError("redis_url is not set: the embedded mode has no Redis")
    with _lock:
        client = _clients.get(url)
        if client is None:
            import redis  # here: the optional dependency of the distributed mode (the `scale` extra)

            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3,
                                                          health_check_interval=15)
        return client


def connection_errors() -> tuple[type[Exception], ...]:
    """Redis' connection failures (for a 503 answer), or none in the embedded mode."""
    if not distributed():
        return ()
    import redis  # here: as in redis_client

    return (redis.ConnectionError, redis.TimeoutError)


@contextmanager
def cluster_lock(name: str, timeout_s: float = 1800) -> Iterator[None]:
    """Hold `name` against the city's other processes (a Redis lock with expiry `timeout_s`):
    loading the city or migrating its schema is done by one process while the others wait.
    Embedded: nothing to wait for."""
    if not distributed():
        yield
        return
    lock = redis_client().lock(key("lock", name), timeout=timeout_s, blocking_timeout=timeout_s)
    if not lock.acquire():
        raise TimeoutError(f"the cluster lock {name} stayed taken for {timeout_s} s")
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception:  # expired meanwhile (a very long load): nothing left to release
            log.warning("the cluster lock %s had expired before it was released", name)


# --- rate limits ---------------------------------------------------------------------------------

_limiters: dict[str, MovingWindowRateLimiter] = {}


def limits_storage() -> Storage:
    """Where moving windows count: Redis in the distributed mode, this process's memory otherwise."""
    url = settings().redis_url
    if url:
        storage = storage_from_string(url, key_prefix=key("limits"))
        assert isinstance(storage, Storage)  # redis:// is the synchronous storage
        return storage
    return MemoryStorage()


def limiter() -> MovingWindowRateLimiter:
    """The moving-window limiter every rate limit of the city uses (login, assistant, gateway
    quotas); one per storage, so a changed `redis_url` (tests) gets its own."""
    url = settings().redis_url or ""
    with _lock:
        found = _limiters.get(url)
        if found is None:
            found = _limiters[url] = MovingWindowRateLimiter(limits_storage())
        return found


def per_process_warning(workers: int) -> str | None:
    """The warning to log when several workers would each count rate limits in their own memory
    (N workers let N times the configured rate through); None when nothing is wrong."""
    if workers > 1 and not distributed():
        return (f"{workers} 个工作进程各自在内存中计数：登录节流、助理与网关限额按进程生效（放行约 {workers} 倍）；"
                f"设置 redis_url 以共享 — {workers} workers count rate limits in their own memory "
                f"(about {workers}x the configured rate passes); set redis_url to share them")
    return None


# --- counters ------------------------------------------------------------------------------------

class SharedCounter:
    """Counts by name: a Counter in this process, or one Redis hash the whole cluster adds to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.local: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, field: str, n: int = 1) -> None:
        """Count; a Redis that is away loses the count (logged), never the write being counted."""
        if distributed():
            try:
                redis_client().hincrby(key("counters", self.name), field, n)
                return
            except Exception:
                log.warning("counter %s.%s not shared: Redis unavailable", self.name, field, exc_info=True)
        with self._lock:
            self.local[field] += n

    def snapshot(self) -> dict[str, int]:
        if distributed():
            raw: dict[Any, Any] = redis_client().hgetall(key("counters", self.name))
            return {k.decode(): int(v) for k, v in raw.items()}
        with self._lock:
            return dict(self.local)

    def clear(self) -> None:
        if distributed():
            redis_client().delete(key("counters", self.name))
        with self._lock:
            self.local.clear()


# --- scheduled work ------------------------------------------------------------------------------

def claim_period(name: str, period: int, ttl_s: float) -> bool:
    """Whether this process takes period number `period` of the job `name` (the first to ask
    does; the claim expires after `ttl_s`)."""
    taken = redis_client().set(key("schedule", name, str(period)), process_name(), nx=True,
                               px=max(1000, int(ttl_s * 1000)))
    return bool(taken)


def every(name: str, interval_s: float | Callable[[], float], job: Callable[[], object]) -> Callable[[], None]:
    """Run `job` every `interval_s` seconds (a number, or a function asked before each round) on
    a daemon thread; returns what stops it.

    Embedded: the thread runs it. Distributed: every background worker runs the loop and
    the period (`time // interval_s`) is claimed in Redis first, so each period runs once in
    the cluster, and another worker takes over when one dies. A failing round is logged and
    the next one runs."""
    stop = threading.Event()

    def interval() -> float:
        return interval_s() if callable(interval_s) else interval_s

    def loop() -> None:
        wait = 30.0
        while True:
            try:
                wait = interval()
            except Exception:  # e.g. the database is away: keep the last interval
                log.exception("scheduled job %s: interval unknown", name)
            if stop.wait(wait):
                return
            try:
                if distributed() and not claim_period(f"{name}:{wait:g}", int(time.time() // wait), 2 * wait):
                    continue
                job()
            except Exception:  # one bad round must not end the job
                log.exception("scheduled job %s failed", name)

    threading.Thread(target=loop, name=f"every-{name}", daemon=True).start()
    return stop.set
