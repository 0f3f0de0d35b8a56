"""Security tables: approval requests (the queue) and provenance records (signed answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class Approval(Base):
    """A request to run an `actuate` skill (作用于城市设施), waiting for a second person (for the devices of one
    district, two approvers, neither the requester).

    `text` and `params` are what the skill runs with once approved; `reason` is why it was asked."""

    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agent: Mapped[str] = mapped_column(String(100))
    skill: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]]
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    #: `role:key id` of who asked (`role:local` in process), the key itself (None in process: an admin key may
    #: act as any role, so the key, not the actor, says who may not approve), their role and department
    requester: Mapped[str] = mapped_column(String(200), index=True)
    requester_key: Mapped[str | None] = mapped_column(String(40))
    requester_role: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(40))
    #: pending, approved (and run), failed (approved, the skill failed), rejected, expired
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    #: what the skill returned (PII masked) and its trace
    result: Mapped[dict[str, Any] | None]
    trace_id: Mapped[str | None] = mapped_column(String(40))
    #: how many distinct approvers, never the requester, must approve before it runs (two when the call reaches
    #: more than one device, `Skill.acts_on`, counted again at each approval; else `intent.approvals_needed`), and
    #: those who have, in order: [{actor, key, at, note}]
    approvals_needed: Mapped[int] = mapped_column(default=1, server_default="1")
    approved_by: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")


class ProvenanceRecord(Base):
    """Where a generated text came from: one row per answer (id = its trace id) or document,
    signed with the audit ledger's Ed25519 key (see `security/provenance.py`)."""

    __tablename__ = "provenance"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # answer | report
    time: Mapped[datetime]
    #: the planner or model that wrote it (AskResult.planner), or the generator of a document
    producer: Mapped[str] = mapped_column(String(100))
    #: [{doc, locator}] the passages it cites
    sources: Mapped[list[Any]]
    #: hex SHA-256 of the text (see `provenance.text_hash`)
    sha256: Mapped[str] = mapped_column(String(64))
    #: hex Ed25519 signature over the record's canonical JSON
    signature: Mapped[str] = mapped_column(String(128))
