"""Data-space tables (可信数据空间): spaces, members, offers, agreements and every use.

The privacy budget is accounted here, not in memory: `epsilon_spent` and `queries_used` move by
one conditional UPDATE per query, so the accounting survives restarts and holds across processes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class DataSpace(Base):
    __tablename__ = "data_spaces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: city | industry | enterprise | personal | cross_border
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    #: the member that created the space (a department id or `enterprise:<uscc>`)
    operator: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class SpaceMember(Base):
    __tablename__ = "data_space_members"

    space_id: Mapped[str] = mapped_column(ForeignKey("data_spaces.id", ondelete="CASCADE"), primary_key=True)
    #: a department id, or `enterprise:<uscc>`
    member: Mapped[str] = mapped_column(String(80), primary_key=True)
    #: department | enterprise
    member_kind: Mapped[str] = mapped_column(String(20))
    joined_by: Mapped[str] = mapped_column(String(80))
    joined_at: Mapped[datetime]


class DataOffer(Base):
    __tablename__ = "data_offers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("data_spaces.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(80), index=True)
    dataset_id: Mapped[str] = mapped_column(String(60))
    dataset_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    #: the ODRL policy as given (validated)
    policy: Mapped[dict[str, Any]]
    #: active | withdrawn
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class DataAgreement(Base):
    """A consumer's request under an offer, and the provider's decision. Once agreed, its
    canonical form (`canonical`) is signed with the ledger's Ed25519 key (`signature`) and
    recorded in the audit ledger (`audit_seq`)."""

    __tablename__ = "data_agreements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("data_offers.id", ondelete="CASCADE"), index=True)
    space_id: Mapped[str] = mapped_column(String(40), index=True)
    provider: Mapped[str] = mapped_column(String(80), index=True)
    consumer: Mapped[str] = mapped_column(String(80), index=True)
    dataset_id: Mapped[str] = mapped_column(String(60))
    dataset_version: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(200))
    #: requested | agreed | refused
    status: Mapped[str] = mapped_column(String(20), default="requested")
    #: the terms agreed to: the offer's policy narrowed to this consumer (ODRL Agreement)
    policy: Mapped[dict[str, Any]]
    actions: Mapped[list[Any]]
    min_group_size: Mapped[int] = mapped_column(Integer)
    epsilon_budget: Mapped[float | None] = mapped_column(Float)
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    query_quota: Mapped[int | None] = mapped_column(Integer)
    queries_used: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    canonical: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))
    audit_seq: Mapped[int | None] = mapped_column(Integer)


class DataUsage(Base):
    """One use (or refused use) under an agreement: who, when, for what purpose, what was asked,
    the privacy budget it spent; never the values released."""

    __tablename__ = "data_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("data_agreements.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    consumer: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    #: released | refused
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    request: Mapped[dict[str, Any]]
    epsilon: Mapped[float] = mapped_column(Float, default=0.0)
    groups_released: Mapped[int] = mapped_column(Integer, default=0)
    groups_suppressed: Mapped[int] = mapped_column(Integer, default=0)
    audit_seq: Mapped[int | None] = mapped_column(Integer)
