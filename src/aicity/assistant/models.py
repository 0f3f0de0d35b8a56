"""Assistant sessions: the turns of a conversation and a pending clarifying question."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class AssistantSession(Base):
    __tablename__ = "assistant_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    #: the API key that opened it (None: no key); only it, and admins and operators, read or continue it
    owner: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    turns: Mapped[list[Any]]
    #: the sub-task that asked a clarifying question, re-run when the user answers
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: slot values learnt in this conversation
    slots: Mapped[dict[str, Any]]


class UnservedRequest(Base):
    """A request the assistant could not serve from the catalog (an honest gap): what the
    operations team reads to decide which services to add."""

    __tablename__ = "assistant_unserved"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    #: the request with personal information masked
    text: Mapped[str] = mapped_column(String(2000))
    role: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(30))
    department: Mapped[str | None] = mapped_column(String(40), nullable=True)
    law: Mapped[str | None] = mapped_column(String(200), nullable=True)
