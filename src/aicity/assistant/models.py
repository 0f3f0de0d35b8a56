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
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    turns: Mapped[list[Any]]
    #: the sub-task that asked a clarifying question, re-run when the user answers
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: slot values learnt in this conversation
    slots: Mapped[dict[str, Any]]
