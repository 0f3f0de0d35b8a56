"""Gateway tables: the keys other applications use, and metered usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class GatewayKey(Base):
    """A key for an application or department of the city to call models through the gateway."""

    __tablename__ = "gateway_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the application or department the key belongs to (the unit metering reports by)
    owner: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: model groups the key may use; empty = every group
    groups: Mapped[list[Any]]
    rpm: Mapped[int | None] = mapped_column(Integer)
    tpm: Mapped[int | None] = mapped_column(Integer)
    monthly_token_budget: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class GatewayUsage(Base):
    """Calls, tokens and latency per day, key, agent, group and deployment."""

    __tablename__ = "gateway_usage"
    __table_args__ = (UniqueConstraint("day", "key_id", "agent", "group_name", "deployment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    #: "" for calls from inside the platform (agents), which carry no gateway key
    key_id: Mapped[str] = mapped_column(String(40))
    agent: Mapped[str] = mapped_column(String(80))
    group_name: Mapped[str] = mapped_column(String(64))
    deployment: Mapped[str] = mapped_column(String(64))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
