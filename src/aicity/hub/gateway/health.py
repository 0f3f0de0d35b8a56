"""The health of one deployment: a circuit breaker that cools a failing deployment down and
probes it back, and a moving window of latencies for the lowest-latency strategy.

Embedded (no `redis_url`) the breaker lives in this process's memory. In the distributed mode
(docs/scale-out.md) the breaker's state — consecutive failures, open since, cool-down, the
half-open probe's claim — is one Redis hash per deployment (`<prefix>:breaker:<key>`) changed
by small Lua scripts on Redis' clock, so a deployment that fails in one API process is skipped
by all of them and only one process probes it. A Redis that is away falls back to the breaker
in memory for that call (logged once per outage): a request is never failed because the
breaker's store is down. Latencies and the success/failure tallies stay per process."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from aicity.core import scale
from aicity.hub.gateway.schemas import BreakerSettings

log = logging.getLogger(__name__)

LATENCY_WINDOW = 20
#: the shortest claim on a shared probe (the longest cool-down when that is longer): a process
#: that died while probing keeps the others from probing for this long, so it must outlast a call
PROBE_LEASE_S = 60.0
#: how long an unused breaker hash stays in Redis (closed ones with a failure or two)
SHARED_TTL_MS = 24 * 3600 * 1000


class BreakerState(StrEnum):
    closed = "closed"  # calls flow
    open = "open"  # cooling down: no calls
    half_open = "half-open"  # one probe call is let through


# The shared breaker: hash fields `state` (absent/closed, open, half-open), `fails`,
# `opened` (ms, Redis clock), `cooldown` (ms), `probe` (holder), `probe_until` (ms).
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS[1] breaker; ARGV: holder, probe lease ms → {state, granted (0/1)}
_ALLOW = _NOW + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'closed' then return {'closed', 1} end
if state == 'open' then
  local opened = tonumber(redis.call('HGET', KEYS[1], 'opened'))
  local cooldown = tonumber(redis.call('HGET', KEYS[1], 'cooldown'))
  if now - opened < cooldown then return {'open', 0} end
  state = 'half-open'
  redis.call('HSET', KEYS[1], 'state', state, 'probe_until', 0)
end
local until_ = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if until_ == 0 or now >= until_ then
  redis.call('HSET', KEYS[1], 'probe', ARGV[1], 'probe_until', now + tonumber(ARGV[2]))
  return {state, 1}
end
return {state, 0}
"""

# KEYS[1] breaker; ARGV: failures to open, first cool-down ms, longest cool-down ms, ttl ms → state
_FAIL = _NOW + """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
if state == 'half-open' then
  local cooldown = tonumber(redis.call('HGET', KEYS[1], 'cooldown'))
  cooldown = math.min(cooldown * 2, tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened', now, 'cooldown', cooldown, 'probe_until', 0)
  state = 'open'
elseif state == 'closed' and fails >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened', now, 'cooldown', ARGV[2], 'probe_until', 0)
  state = 'open'
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return state
"""

# KEYS[1] breaker; ARGV: holder → 1 when this holder's probe was released
_RELEASE = """
if redis.call('HGET', KEYS[1], 'state') == 'half-open' and redis.call('HGET', KEYS[1], 'probe') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'probe_until', 0)
  return 1
end
return 0
"""

# KEYS[1] breaker → {state, fails, ms until a probe may go}
_READ = _NOW + """
local h = redis.call('HMGET', KEYS[1], 'state', 'fails', 'opened', 'cooldown')
local state = h[1] or 'closed'
local wait = 0
if state == 'open' then wait = math.max(0, tonumber(h[3]) + tonumber(h[4]) - now) end
return {state, tonumber(h[2] or '0'), wait}
"""

_scripts: dict[int, dict[str, Any]] = {}
_scripts_lock = threading.Lock()
_store_down = False


def _script(name: str, source: str) -> Any:
    """The script `name` registered on this process's Redis client (evalsha, loaded on demand)."""
    client = scale.redis_client()
    with _scripts_lock:
        found = _scripts.setdefault(id(client), {})
        if name not in found:
            found[name] = client.register_script(source)
        return found[name]


def _store_ok() -> None:
    global _store_down
    if _store_down:
        _store_down = False
        log.warning("网关熔断器重新在 Redis 中共享 — gateway breakers shared in Redis again")


def _store_failed() -> None:
    global _store_down
    if not _store_down:
        _store_down = True
        log.warning("Redis 不可用：网关熔断器暂按进程内存判断 — Redis unavailable: gateway breakers fall back "
                    "to this process's memory", exc_info=True)


class DeploymentHealth:
    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic,
                 shared_key: str | None = None) -> None:
        """`shared_key` names the breaker in Redis (the same for every process with the same
        deployment); without it, or without `redis_url`, the breaker is this process's."""
        self.settings = settings
        self.shared_key = shared_key
        self._holder = f"{scale.process_name()}-{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._lock = threading.Lock()
        self.state = BreakerState.closed  # the breaker in this process's memory
        self.seen = BreakerState.closed  # the state last answered (Redis' or the memory's), for the gauge
        self.consecutive_failures = 0
        self.cooldown_s = settings.cooldown_s
        self.opened_at = 0.0
        self._probing = False
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.successes = 0
        self.failures = 0
        self.last_error: str | None = None

    # ---- the shared store -------------------------------------------------------------------

    def _shared(self, name: str, source: str, *args: object) -> Any:
        """Run a breaker script on Redis; None when the breaker is this process's (embedded, or
        Redis away: then the caller uses the breaker in memory)."""
        if self.shared_key is None or not scale.distributed():
            return None
        try:
            result = _script(name, source)(keys=[scale.key("breaker", self.shared_key)], args=list(args))
        except scale.connection_errors():
            _store_failed()
            return None
        _store_ok()
        return result

    def _remember(self, state: bytes | str) -> BreakerState:
        """Keep the state Redis answered (for the gauge)."""
        self.seen = BreakerState(state.decode() if isinstance(state, bytes) else state)
        return self.seen

    # ---- the breaker ------------------------------------------------------------------------

    def allow(self) -> bool:
        """Whether a call may go to this deployment now; after the cool-down exactly one
        caller (in the cluster, when shared) gets through as the probe."""
        lease_ms = int(max(self.settings.max_cooldown_s, PROBE_LEASE_S) * 1000)
        shared = self._shared("allow", _ALLOW, self._holder, lease_ms)
        if shared is not None:
            self._remember(shared[0])
            return bool(int(shared[1]))
        with self._lock:
            if self.state == BreakerState.closed:
                self.seen = self.state
                return True
            if self.state == BreakerState.open and self._clock() - self.opened_at >= self.cooldown_s:
                self.state = BreakerState.half_open
                self._probing = False
            granted = self.state == BreakerState.half_open and not self._probing
            self._probing = self._probing or granted
            self.seen = self.state
            return granted

    def record_success(self, seconds: float) -> None:
        with self._lock:
            self.latencies.append(seconds)
            self.successes += 1
        self._shared("close", "redis.call('DEL', KEYS[1]) return 1")
        with self._lock:  # closes the memory's breaker too (it answers when Redis is away)
            self.consecutive_failures = 0
            self.state = self.seen = BreakerState.closed
            self.cooldown_s = self.settings.cooldown_s
            self._probing = False

    def record_failure(self, error: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = error
        s = self.settings
        shared = self._shared("fail", _FAIL, s.failures, int(s.cooldown_s * 1000), int(s.max_cooldown_s * 1000),
                              SHARED_TTL_MS)
        if shared is not None:
            self._remember(shared)
            return
        with self._lock:
            self.consecutive_failures += 1
            if self.state == BreakerState.half_open:  # the probe failed: cool down for longer
                self.cooldown_s = min(self.cooldown_s * 2, self.settings.max_cooldown_s)
                self._open()
            elif self.state == BreakerState.closed and self.consecutive_failures >= self.settings.failures:
                self._open()
            self.seen = self.state

    def release_probe(self) -> None:
        """A probe that ended without a verdict on the deployment (e.g. the caller's own bad
        request) lets the next caller probe."""
        self._shared("release", _RELEASE, self._holder)
        with self._lock:
            self._probing = False

    def _open(self) -> None:
        self.state = BreakerState.open
        self.opened_at = self._clock()
        self._probing = False

    def mean_latency(self) -> float:
        """0 for a deployment never measured, so that the latency strategy tries it."""
        with self._lock:
            return sum(self.latencies) / len(self.latencies) if self.latencies else 0.0

    def gauge(self) -> float:
        return {BreakerState.closed: 1.0, BreakerState.half_open: 0.5, BreakerState.open: 0.0}[self.seen]

    def snapshot(self) -> dict:
        shared = self._shared("read", _READ)
        if shared is not None:
            state, consecutive, retry_in = self._remember(shared[0]), int(shared[1]), int(shared[2]) / 1000
        with self._lock:
            if shared is None:
                state = self.seen = self.state
                consecutive = self.consecutive_failures
                retry_in = max(0.0, self.cooldown_s - (self._clock() - self.opened_at)) \
                    if self.state == BreakerState.open else 0.0
            return {"state": state.value, "consecutive_failures": consecutive,
                    "successes": self.successes, "failures": self.failures, "last_error": self.last_error,
                    "mean_latency_ms": round(1000 * sum(self.latencies) / len(self.latencies), 2)
                    if self.latencies else None,
                    "probe_in_s": round(retry_in, 2)}
