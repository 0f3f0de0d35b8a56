"""Metering: Prometheus metrics for operators, and usage per key, agent, group and
deployment in the database for reports and monthly budgets."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select

from aicity.core.db import Database
from aicity.hub.gateway.models import GatewayUsage

_FAST = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
_SLOW = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("aicity_gateway_requests", "Calls to deployments by outcome",
                   ["group", "deployment", "outcome"])
LATENCY = Histogram("aicity_gateway_request_seconds", "Upstream call latency", ["group", "deployment"],
                    buckets=_SLOW)
TTFT = Histogram("aicity_gateway_time_to_first_token_seconds", "Time to the first streamed chunk",
                 ["group", "deployment"], buckets=_SLOW)
OVERHEAD = Histogram("aicity_gateway_overhead_seconds",
                     "Time the gateway adds to a call (routing, limits, metering, serialisation)", ["api"],
                     buckets=_FAST)
HEALTH = Gauge("aicity_gateway_deployment_healthy", "1 closed, 0.5 half-open (probing), 0 open breaker",
               ["group", "deployment"])
TOKENS = Counter("aicity_gateway_tokens", "Tokens metered", ["owner", "agent", "group", "kind"])
REJECTED = Counter("aicity_gateway_rejected", "Calls refused before any upstream", ["reason"])

_Key = tuple[str, str, str, str, str]  # day, key id, agent, group, deployment
FIELDS = ("requests", "errors", "prompt_tokens", "completion_tokens", "latency_ms")


def month_start(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y-%m-01")


class UsageMeter:
    """Adds usage in memory on the request path and writes it to the database in the
    background (`flush`), so a metered call costs no database write. Monthly token totals
    per key stay in memory for budget checks."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # two flushes must not insert the same row
        self._pending: dict[_Key, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
        self._month_tokens: dict[str, int] = {}
        self._month = month_start()

    def record(self, key_id: str, owner: str, agent: str, group: str, deployment: str, *, ok: bool,
               prompt_tokens: int, completion_tokens: int, seconds: float) -> None:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        with self._lock:
            row = self._pending[(day, key_id, agent, group, deployment)]
            row[0] += 1
            row[1] += 0 if ok else 1
            row[2] += prompt_tokens
            row[3] += completion_tokens
            row[4] += seconds * 1000
            if key_id:
                self._month_tokens[key_id] = self.month_tokens(key_id, locked=True) + prompt_tokens + completion_tokens
        TOKENS.labels(owner or "platform", agent or "-", group, "prompt").inc(prompt_tokens)
        TOKENS.labels(owner or "platform", agent or "-", group, "completion").inc(completion_tokens)

    def month_tokens(self, key_id: str, locked: bool = False) -> int:
        """Tokens the key used this calendar month (UTC), from the database once, then in memory."""
        if not locked:
            with self._lock:
                return self.month_tokens(key_id, locked=True)
        if self._month != month_start():  # a new month: budgets start again
            self._month, self._month_tokens = month_start(), {}
        if key_id not in self._month_tokens:
            with self.db.session() as s:
                used = s.scalar(select(func.coalesce(func.sum(GatewayUsage.prompt_tokens
                                                              + GatewayUsage.completion_tokens), 0))
                                .where(GatewayUsage.key_id == key_id, GatewayUsage.day >= self._month))
            pending = sum(int(v[2] + v[3]) for k, v in self._pending.items() if k[1] == key_id)
            self._month_tokens[key_id] = int(used or 0) + pending
        return self._month_tokens[key_id]

    def flush(self) -> int:
        """Write pending usage; returns the rows touched."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, defaultdict(lambda: [0, 0, 0, 0, 0.0])
            if pending:
                self._write(pending)
            return len(pending)

    def _write(self, pending: dict[_Key, list[float]]) -> None:
        with self.db.session() as s:
            for (day, key_id, agent, group, deployment), values in pending.items():
                row = s.scalar(select(GatewayUsage).where(
                    GatewayUsage.day == day, GatewayUsage.key_id == key_id, GatewayUsage.agent == agent,
                    GatewayUsage.group_name == group, GatewayUsage.deployment == deployment))
                if row is None:
                    row = GatewayUsage(day=day, key_id=key_id, agent=agent, group_name=group, deployment=deployment,
                                       requests=0, errors=0, prompt_tokens=0, completion_tokens=0, latency_ms=0.0)
                    s.add(row)
                for name, value in zip(FIELDS, values, strict=True):
                    setattr(row, name, getattr(row, name) + (int(value) if name != "latency_ms" else value))

    def report(self, since_day: str | None = None) -> list[dict]:
        self.flush()
        with self.db.session() as s:
            query = select(GatewayUsage).order_by(GatewayUsage.day, GatewayUsage.key_id, GatewayUsage.agent,
                                                  GatewayUsage.group_name, GatewayUsage.deployment)
            if since_day:
                query = query.where(GatewayUsage.day >= since_day)
            return [{"day": r.day, "key_id": r.key_id or None, "agent": r.agent or None, "group": r.group_name,
                     "deployment": r.deployment, "requests": r.requests, "errors": r.errors,
                     "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
                     "mean_latency_ms": round(r.latency_ms / r.requests, 2) if r.requests else None}
                    for r in s.scalars(query)]
