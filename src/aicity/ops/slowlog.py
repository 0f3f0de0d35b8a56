"""Slow statements (慢查询): a SQLAlchemy cursor listener, switched on by the ops slice at activation
(`watch_queries`), times every statement of every engine in the process. One slower than `[aicity.infra]
slow_query_ms` is counted (`aicity_db_slow_queries_total`) and the newest are kept in memory: the
statement text only (it is parameterised: no values, so no personal data), per process. Kept apart from
ops/infra.py so that activation imports nothing heavy."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import prometheus_client
from sqlalchemy import event
from sqlalchemy.engine import Engine

from aicity.core.config import settings
from aicity.ops.infra_settings import InfraSettings


def infra_settings() -> InfraSettings:
    return settings().section(InfraSettings)


SLOW = prometheus_client.Counter("aicity_db_slow_queries", "Statements slower than [aicity.infra] slow_query_ms")
_slow_lock = threading.Lock()
_slow: deque[dict[str, Any]] = deque(maxlen=50)
_slow_total = 0
_SPACES = re.compile(r"\s+")


def _before(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
    if context is not None:  # the statement's own execution context: a failed statement leaves nothing behind
        context.aicity_started = time.perf_counter()


def _after(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    started = getattr(context, "aicity_started", None)
    if started is None:
        return
    ms = (time.perf_counter() - started) * 1000
    if ms >= infra_settings().slow_query_ms:
        record_slow(statement, ms)


def record_slow(statement: str, ms: float) -> None:
    """Count one slow statement and keep it (its text, shortened; never its parameters)."""
    global _slow_total
    SLOW.inc()
    with _slow_lock:
        _slow_total += 1
        _slow.append({"statement": _SPACES.sub(" ", statement).strip()[:300], "ms": round(ms, 1),
                      "at": datetime.now(UTC).isoformat(timespec="seconds")})


def watch_queries() -> Callable[[], None]:
    """The ops slice's activation: time every statement of every engine in this process."""
    event.listen(Engine, "before_cursor_execute", _before)
    event.listen(Engine, "after_cursor_execute", _after)

    def stop() -> None:
        event.remove(Engine, "before_cursor_execute", _before)
        event.remove(Engine, "after_cursor_execute", _after)

    return stop


def slow_queries() -> dict[str, Any]:
    with _slow_lock:
        return {"threshold_ms": infra_settings().slow_query_ms, "count": _slow_total,
                "recent": sorted(_slow, key=lambda q: q["ms"], reverse=True)[:10]}
