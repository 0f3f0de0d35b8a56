"""The simulation jobs table: one row per run, from queued to its result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class SimJob(Base):
    """A simulation run (`kind`: flood, …) with its parameters, progress and result."""

    __tablename__ = "sim_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    #: the parameters as asked (validated), and what the worker process is given
    params: Mapped[dict[str, Any]]
    payload: Mapped[dict[str, Any] | None]
    #: queued, running, succeeded, failed, cancelled
    status: Mapped[str] = mapped_column(String(20), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    #: who asked (`role:key id`, or `cli`)
    requested_by: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: the run's time limit in seconds; the process is killed past it
    time_limit_s: Mapped[float] = mapped_column(Float)
    #: set by a cancel request; the supervisor kills the process when it sees it
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    #: `host:pid` of the process supervising the run (a stopped one's jobs are failed at start-up)
    worker: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
