"""The health of one deployment: a circuit breaker that cools a failing deployment down and
probes it back, and a moving window of latencies for the lowest-latency strategy."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from aicity.hub.gateway.schemas import BreakerSettings

LATENCY_WINDOW = 20


class BreakerState(StrEnum):
    closed = "closed"  # calls flow
    open = "open"  # cooling down: no calls
    half_open = "half-open"  # one probe call is let through


class DeploymentHealth:
    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self.state = BreakerState.closed
        self.consecutive_failures = 0
        self.cooldown_s = settings.cooldown_s
        self.opened_at = 0.0
        self._probing = False
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.successes = 0
        self.failures = 0
        self.last_error: str | None = None

    def allow(self) -> bool:
        """Whether a call may go to this deployment now; after the cool-down exactly one
        caller gets through as the probe."""
        with self._lock:
            if self.state == BreakerState.closed:
                return True
            if self.state == BreakerState.open and self._clock() - self.opened_at >= self.cooldown_s:
                self.state = BreakerState.half_open
                self._probing = False
            if self.state == BreakerState.half_open and not self._probing:
                self._probing = True
                return True
            return False

    def record_success(self, seconds: float) -> None:
        with self._lock:
            self.latencies.append(seconds)
            self.successes += 1
            self.consecutive_failures = 0
            self.state = BreakerState.closed
            self.cooldown_s = self.settings.cooldown_s
            self._probing = False

    def record_failure(self, error: str) -> None:
        with self._lock:
            self.failures += 1
            self.consecutive_failures += 1
            self.last_error = error
            if self.state == BreakerState.half_open:  # the probe failed: cool down for longer
                self.cooldown_s = min(self.cooldown_s * 2, self.settings.max_cooldown_s)
                self._open()
            elif self.state == BreakerState.closed and self.consecutive_failures >= self.settings.failures:
                self._open()

    def release_probe(self) -> None:
        """A probe that ended without a verdict on the deployment (e.g. the caller's own bad
        request) lets the next caller probe."""
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
        return {BreakerState.closed: 1.0, BreakerState.half_open: 0.5, BreakerState.open: 0.0}[self.state]

    def snapshot(self) -> dict:
        with self._lock:
            retry_in = max(0.0, self.cooldown_s - (self._clock() - self.opened_at)) \
                if self.state == BreakerState.open else 0.0
            return {"state": self.state.value, "consecutive_failures": self.consecutive_failures,
                    "successes": self.successes, "failures": self.failures, "last_error": self.last_error,
                    "mean_latency_ms": round(1000 * sum(self.latencies) / len(self.latencies), 2)
                    if self.latencies else None,
                    "probe_in_s": round(retry_in, 2)}
