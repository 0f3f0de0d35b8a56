"""The corpus and model centre's tables and the knowledge reviews (migration 0025).

- `ops_corpus_items`: labelled examples proposed from feedback and operators' corrections, waiting for
  review, accepted or rejected (text with personal information masked); of a kind: `modes` (a request
  and the assistant's mode) or `events` (a citizen's report and its event category);
- `ops_corpus_versions`: frozen, numbered snapshots of the accepted examples of one kind (what a
  retraining reads);
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
    """One proposed labelled example: a request and the mode (skill, target) it should have had, or
    (kind `events`) an event's report and the category it should have had."""

    __tablename__ = "ops_corpus_items"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    #: modes (the assistant's mode router) | events (the events classifier)
    kind: Mapped[str] = mapped_column(String(12), index=True, default="modes")
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
    #: kind events: the corrected event, the category the classifier (or reporter) gave and the right one
    event_id: Mapped[str | None] = mapped_column(String(40), index=True)
    predicted_category: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    #: pending | accepted | rejected
    status: Mapped[str] = mapped_column(String(12), index=True)
    #: the person's reason (feedback) or the reviewer's note, masked
    note: Mapped[str] = mapped_column(String(500))
    submitted_by: Mapped[str] = mapped_column(String(60))
    reviewed_by: Mapped[str | None] = mapped_column(String(60))
    reviewed_at: Mapped[datetime | None]


class CorpusVersion(Base):
    """A frozen snapshot of every accepted example of one kind at one moment; never changed afterwards.
    Versions are numbered across kinds (1, 2, … whatever their kind)."""

    __tablename__ = "ops_corpus_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(12), default="modes")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(60))
    #: [{id, text, role, mode, skill, target, source}] (kind events: [{id, text, category, event_id, source}])
    items: Mapped[list[Any]]
    #: label (mode or category) → examples
    counts: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))


class ModelVersion(Base):
    """One retraining round of a model kind (`router`: the mode router; `events`: the events classifier): queued, running, then refused by the
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
