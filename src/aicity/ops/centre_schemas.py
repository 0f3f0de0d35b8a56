"""What the corpus, model and knowledge operations endpoints take and answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from aicity.ops.schemas import QuestionCluster


class CorpusItemView(BaseModel):
    """A proposed labelled example (request text with personal information masked)."""

    id: str
    created_at: str
    kind: str = Field(examples=["modes", "events"], description="模式路由或事件分类 the mode router's or the events "
                                                                   "classifier's")
    source: str = Field(examples=["feedback", "correction", "legacy-file"])
    trace_id: str | None
    event_id: str | None = Field(description="被纠正的事件（kind events）the corrected event")
    text: str
    role: str
    predicted_mode: str | None = Field(description="助理当时理解的模式 what the assistant understood")
    mode: str | None = Field(description="标注的正确模式（未标注为 null）the label, null until someone says it")
    skill: str | None
    target: str | None
    predicted_category: str | None = Field(description="纠正前的事件类别 the category before the correction")
    category: str | None = Field(description="正确的事件类别（kind events）the right event category")
    status: str = Field(examples=["pending", "accepted", "rejected"])
    note: str
    submitted_by: str
    reviewed_by: str | None
    reviewed_at: str | None


class ModeView(BaseModel):
    """One of the assistant's modes (a label a corpus example may carry)."""

    id: str
    name: str


class Collected(BaseModel):
    added: int
    skipped: int = Field(description="评价所指的轨迹已不存在 rated traces no longer kept")


class CorrectionRequest(BaseModel):
    """What the right understanding was, for a trace's request or for a text (one of the two)."""

    mode: str = Field(max_length=40, examples=["report"])
    trace_id: str | None = Field(default=None, max_length=40)
    text: str | None = Field(default=None, max_length=2000, examples=["小区门口的路灯坏了一个星期了，归哪个部门管"])
    skill: str | None = Field(default=None, max_length=100, examples=["governance.report"])
    target: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=500)


class ReviewRequest(BaseModel):
    mode: str | None = Field(default=None, max_length=40, description="接受时可给出/改正标注 the label, on accepting")
    category: str | None = Field(default=None, max_length=40, description="事件语料的类别 the category (kind events)")
    note: str = Field(default="", max_length=500)


class CorpusVersionView(BaseModel):
    version: int
    kind: str = Field(examples=["modes", "events"])
    created_at: str
    created_by: str
    size: int
    counts: dict[str, int] = Field(description="每个模式（或事件类别）的样本数 examples per mode (or category)")
    sha256: str
    items: list[dict[str, Any]] | None = Field(default=None, description="样本 the examples (one version only)")


class RetrainRequest(BaseModel):
    corpus_version: int = Field(ge=1)


class ModelVersionView(BaseModel):
    """One retraining round: its evaluations before (the running model) and after (the candidate)."""

    kind: str
    version: int
    status: str = Field(examples=["queued", "running", "refused", "failed", "active", "retired", "rolled_back"])
    corpus_version: int
    created_by: str
    created_at: str | None
    finished_at: str | None
    promoted_at: str | None
    before: dict[str, Any] = Field(description="现用模型：{rows, dev: {cases, mode_accuracy, …}, eval: {…}}"
                                               "（events: {cases, accuracy, needs_human_rate, wrong_dispatched_rate}）")
    after: dict[str, Any] = Field(description="候选模型，同上 the candidate, the same figures")
    decision: str
    rows: int
    rows_sha256: str
    sample: int | None
    error: str


class ModelRegistry(BaseModel):
    kind: str
    active: int | None = Field(description="助理正在使用的版本；null 为内置模型 null: the built-in rows")
    corpus_file: str
    versions: list[ModelVersionView]


class Rollback(BaseModel):
    kind: str
    rolled_back: int
    active: int | None


class ReviewBody(BaseModel):
    kb: str = Field(max_length=60, examples=["global"])
    key: str = Field(max_length=200, examples=["食品安全法"])
    next_review: date | None = Field(default=None, description="下次审核日期（默认一年后）default: in a year")
    note: str = Field(default="", max_length=500)


class KbReviewView(BaseModel):
    kb: str
    key: str
    reviewed_at: str
    reviewed_by: str
    next_review: str
    note: str


class OverdueDocument(BaseModel):
    kb: str
    key: str
    title: str
    due: str
    days_overdue: int
    last_reviewed: str | None


class SupersededCited(BaseModel):
    key: str
    title: str
    kb: str
    superseded_by: str | None
    catalog: list[str] = Field(description="引用它的事项及条文 catalog entries citing it")
    answers: int = Field(description="统计期内引用它的回答段落数 passages cited in answers")
    answer_traces: list[str]


class Freshness(BaseModel):
    overdue: list[OverdueDocument]
    superseded_cited: list[SupersededCited]


class Coverage(BaseModel):
    retrievals: int
    questions: int
    clusters: list[QuestionCluster]


class CitedDocument(BaseModel):
    doc: str
    citations: int


class KbUsage(BaseModel):
    kb: str
    name: str
    level: str
    documents: int
    chunks: int
    citations: int
    cited_documents: int
    uncited_documents: int
    top: list[CitedDocument]


class KnowledgeOps(BaseModel):
    days: int
    generated_at: str
    documents: int
    answers: int
    review_days: int
    freshness: Freshness
    coverage: Coverage
    usage: list[KbUsage]
