"""The corpus and model centre's tables and the knowledge reviews (migration 0025).

- `ops_corpus_items`: labelled examples proposed from feedback and operators' corrections, waiting for
  review, accepted or rejected (text with personal information masked);
- `ops_corpus_versions`: frozen, numbered snapshots of the accepted examples (what a retraining reads);
- `ops_model_versions`: the model registry — each retraining round of a model kind is a numbered
  version with its evaluations before and after, the gate's decision and its status;
- `ops_kb_reviews`: when an operator last reviewed a knowledge document and when it is due again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class CorpusItem(Base):
    """One proposed labelled example: a request and the mode (skill, target) it should have had."""

    __tablename__ = "ops_corpus_items"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    #: feedback (from 👍/👎 on an answer) or correction (an operator says what was right)
    source: Mapped[str] = mapped_column(String(20))
    trace_id: Mapped[str | None] = mapped_column(String(40), index=True)
    #: the request, personal information masked
    text: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    #: what the assistant understood (the trace's mode), when known
    predicted_mode: Mapped[str | None] = mapped_column(String(40))
    #: the label: the right mode (None until someone says it)
    mode: Mapped[str | None] = mapped_column(String(40))
    skill: Mapped[str | None] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(200))
    #: pending | accepted | rejected
    status: Mapped[str] = mapped_column(String(12), index=True)
    #: the person's reason (feedback) or the reviewer's note, masked
    note: Mapped[str] = mapped_column(String(500))
    submitted_by: Mapped[str] = mapped_column(String(60))
    reviewed_by: Mapped[str | None] = mapped_column(String(60))
    reviewed_at: Mapped[datetime | None]


class CorpusVersion(Base):
    """A frozen snapshot of every accepted example at one moment; never changed afterwards."""

    __tablename__ = "ops_corpus_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(60))
    #: [{id, text, role, mode, skill, target, source}]
    items: Mapped[list[Any]]
    #: mode → examples
    counts: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))


class ModelVersion(Base):
    """One retraining round of a model kind (the mode router): queued, running, then refused by the
    gate, failed, or promoted (active); a promoted version is later retired or rolled back."""

    __tablename__ = "ops_model_versions"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    #: queued | running | refused | failed | active | retired | rolled_back
    status: Mapped[str] = mapped_column(String(12), index=True)
    corpus_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    promoted_at: Mapped[datetime | None]
    #: the incumbent's evaluation and the candidate's, on the same sets
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]
    decision: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer)
    rows_sha256: Mapped[str] = mapped_column(String(64))
    #: rows per mode of the training file the round used (None: all of them)
    sample: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500))


class KbReview(Base):
    """An operator's review of one knowledge document and the date it is due again."""

    __tablename__ = "ops_kb_reviews"
    __table_args__ = (UniqueConstraint("kb", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kb: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime]
    reviewed_by: Mapped[str] = mapped_column(String(60))
    next_review: Mapped[date]
    note: Mapped[str] = mapped_column(String(500))
