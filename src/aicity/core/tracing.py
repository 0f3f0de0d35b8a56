"""Traces: every assistant run leaves a record of its steps, timings and decisions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base, database
from aicity.core.ids import new_id, utcnow


class TraceRecord(Base):
    __tablename__ = "traces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[str | None] = mapped_column(String(40), index=True)
    #: the API key that made the run (None: no key); only it, and admins and operators, read the trace
    owner: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime]
    duration_ms: Mapped[float]
    status: Mapped[str] = mapped_column(String(20))
    request: Mapped[dict[str, Any]]
    steps: Mapped[list[Any]]
    summary: Mapped[dict[str, Any]]


class Tracer:
    """Collects the steps of one run; thread-safe enough for parallel skills (list.append).
    `redact` (e.g. the guard's PII masking) is applied to everything saved."""

    def __init__(self, kind: str, role: str, request: dict[str, Any], session_id: str | None = None,
                 redact: Callable[[Any], Any] | None = None, owner: str | None = None):
        self.id = new_id("tr")
        self.owner = owner
        self.kind = kind
        self.role = role
        self.session_id = session_id
        self.request = request
        self.steps: list[dict[str, Any]] = []
        self.created_at = utcnow()
        self._t0 = time.perf_counter()
        self.status = "ok"
        self._redact = redact or (lambda value: value)

    @contextmanager
    def step(self, name: str, **data: Any) -> Iterator[dict[str, Any]]:
        """Time a step; the yielded dict is recorded, so callers can add what they decided."""
        record: dict[str, Any] = {"name": name, **data}
        t0 = time.perf_counter()
        try:
            yield record
        except Exception as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record["ms"] = round((time.perf_counter() - t0) * 1000, 3)
            self.steps.append(record)

    def note(self, name: str, **data: Any) -> None:
        self.steps.append({"name": name, "ms": 0.0, **data})

    def save(self, summary: dict[str, Any]) -> TraceRecord:
        record = TraceRecord(
            id=self.id,
            kind=self.kind,
            role=self.role,
            session_id=self.session_id,
            owner=self.owner,
            created_at=self.created_at,
            duration_ms=round((time.perf_counter() - self._t0) * 1000, 3),
            status=self.status,
            request=self._redact(self.request),
            steps=self._redact(self.steps),
            summary=self._redact(summary),
        )
        with database().session() as s:
            s.add(record)
        return record


def get_trace(trace_id: str) -> TraceRecord | None:
    with database().session() as s:
        return s.get(TraceRecord, trace_id)


def recent_traces(limit: int = 50, kind: str | None = None, owner: str | None = None) -> list[TraceRecord]:
    """The newest traces (of `kind`, and only those `owner` made, when given)."""
    with database().session() as s:
        q = select(TraceRecord).order_by(TraceRecord.created_at.desc()).limit(limit)
        if kind:
            q = q.where(TraceRecord.kind == kind)
        if owner is not None:
            q = q.where(TraceRecord.owner == owner)
        return list(s.scalars(q))
