"""Event tables: the events, every status change, and everyone who reported each one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class Event(Base):
    """A city problem. `reporter_ref` is an opaque reference (never a phone number or an ID
    number); contacts live only in `event_reporters`."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    department: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    district: Mapped[str | None] = mapped_column(String(40), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    #: urgent | high | normal | low
    priority: Mapped[str] = mapped_column(String(10))
    #: the classifier's confidence in `category` (1.0 when the reporter or an operator chose it)
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), index=True)
    #: citizen | assistant | open311 | sensor | camera | operator
    source: Mapped[str] = mapped_column(String(20))
    reporter_ref: Mapped[str] = mapped_column(String(80), index=True)
    media: Mapped[list[Any]]
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: set on a duplicate report: the open event it was merged into
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("events.id"), index=True)
    #: when the SLA clock of this round started (the report, or the last reopen)
    sla_started_at: Mapped[datetime]
    #: the deadline of the current stage (accept, then resolve); None once resolved
    sla_due_at: Mapped[datetime | None] = mapped_column(index=True)
    #: when the current stage's deadline was found breached (escalated once per stage)
    sla_breached_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class EventHistory(Base):
    """One step of an event's life: who did what, when, from which status to which."""

    __tablename__ = "event_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class EventReporter(Base):
    """Someone who reported an event (the first reporter and each merged duplicate's), so that
    each can follow it and be kept informed. `contact` is PII: it never leaves this table."""

    __tablename__ = "event_reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    reporter_ref: Mapped[str] = mapped_column(String(80), index=True)
    source: Mapped[str] = mapped_column(String(20))
    #: name, phone, email … as the reporter gave them, to inform them
    contact: Mapped[dict[str, Any]]
    #: the report that joined this reporter (a merged duplicate's id, or the event itself)
    report_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
