"""Operations tables: what people said about the answers they got (thumbs up or down, and why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class AnswerFeedback(Base):
    """One person's verdict on one answer (a trace); a second verdict on the same trace replaces the first."""

    __tablename__ = "ops_feedback"

    trace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    #: "up" or "down"
    rating: Mapped[str] = mapped_column(String(8))
    #: why, in the person's words, with personal information masked ("" when none was given)
    reason: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20))
    #: the skills that answered (agent.skill), copied from the trace so that the ratings group by skill
    skills: Mapped[list[Any]]
