"""Investment projects (招商项目) and every step of their life (history, like events')."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class IndustryProject(Base):
    """One investment project moving through 线索 → 立项 → 分派 → 协同 → 落地 → 移交 → 考核."""

    __tablename__ = "industry_projects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), index=True)
    chain: Mapped[str] = mapped_column(String(40), index=True)
    node: Mapped[str | None] = mapped_column(String(60))
    stage: Mapped[str] = mapped_column(String(10), index=True)
    owner: Mapped[str] = mapped_column(String(80))
    department: Mapped[str | None] = mapped_column(String(40))
    #: planned investment (亿元) and jobs, as the project states them
    investment_100m_yuan: Mapped[float | None] = mapped_column(Float)
    jobs: Mapped[int | None] = mapped_column(Integer)
    #: when the project entered its current stage (the stall clock)
    stage_entered_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class IndustryProjectHistory(Base):
    """One step: created, moved forward or back, a note (maybe with a reminder date)."""

    __tablename__ = "industry_project_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("industry_projects.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_stage: Mapped[str | None] = mapped_column(String(10))
    to_stage: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(120))
    owner: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    remind_on: Mapped[date | None]
