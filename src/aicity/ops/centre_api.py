"""The corpus and model centre and knowledge operations over HTTP (operators and admins; 403 otherwise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from aicity.assistant import modes as mode_data
from aicity.identity.api import Caller
from aicity.ops import corpus, knowledge_ops, model_centre
from aicity.ops.centre_schemas import (
    Collected,
    CorpusItemView,
    CorpusVersionView,
    CorrectionRequest,
    KbReviewView,
    KnowledgeOps,
    ModelRegistry,
    ModelVersionView,
    ModeView,
    RetrainRequest,
    ReviewBody,
    ReviewRequest,
    Rollback,
)

router = APIRouter(prefix="/api/v1/ops", tags=["ops"])
Days = Annotated[int, Query(ge=1, le=366)]
Kind = Annotated[str, Query(max_length=12, description="modes | events")]


@router.get("/corpus/items", response_model=list[CorpusItemView], summary="语料审核队列 The corpus review queue")
def corpus_items(principal: Caller, status: Annotated[str | None, Query(max_length=12)] = "pending",
                 kind: Annotated[str | None, Query(max_length=12, description="modes | events")] = None) -> list[dict]:
    """Pending proposals (default), or the accepted or rejected examples; of one kind or all."""
    corpus.require_operator(principal)
    return corpus.items(status, kind=kind)


@router.get("/corpus/modes", response_model=list[ModeView], summary="可用的标注 The labels (the assistant's modes)")
def corpus_modes(principal: Caller) -> list[dict]:
    corpus.require_operator(principal)
    return [{"id": m.id, "name": m.name} for m in mode_data.modes().values()]


@router.post("/corpus/collect", response_model=Collected, summary="从评价收集语料 Propose rated answers")
def corpus_collect(principal: Caller, days: Days = 30, kind: Kind = "modes") -> dict:
    """Every 👍/👎 of the last `days` days proposes its request once (👍 with the understood mode); kind
    events: the city's older corrections file, each row once (new corrections are proposed as they happen)."""
    corpus.require_operator(principal)
    return corpus.collect(days, kind)


@router.post("/corpus/corrections", response_model=CorpusItemView, status_code=201,
             summary="纠正理解 Correct an understanding")
def corpus_correct(body: CorrectionRequest, principal: Caller) -> dict:
    """The right mode (skill, target) for a trace's request or for a text; it waits for review."""
    return corpus.correct(corpus.require_operator(principal), body.mode, body.trace_id, body.text, body.skill,
                          body.target, body.note)


@router.post("/corpus/items/{item_id}/accept", response_model=CorpusItemView, summary="接受语料 Accept")
def corpus_accept(item_id: str, body: ReviewRequest, principal: Caller) -> dict:
    return corpus.accept(item_id, corpus.require_operator(principal), body.mode, body.note, body.category)


@router.post("/corpus/items/{item_id}/reject", response_model=CorpusItemView, summary="拒绝语料 Reject")
def corpus_reject(item_id: str, body: ReviewRequest, principal: Caller) -> dict:
    return corpus.reject(item_id, corpus.require_operator(principal), body.note)


@router.get("/corpus/versions", response_model=list[CorpusVersionView], summary="语料版本 Corpus versions")
def corpus_versions(principal: Caller,
                    kind: Annotated[str | None, Query(max_length=12, description="modes | events")] = None
                    ) -> list[dict]:
    corpus.require_operator(principal)
    return corpus.versions(kind)


@router.post("/corpus/versions", response_model=CorpusVersionView, status_code=201,
             summary="冻结新语料版本 Freeze a corpus version")
def corpus_freeze(principal: Caller, kind: Kind = "modes") -> dict:
    """Every accepted example of `kind` now, as the next numbered version (never changed afterwards)."""
    return corpus.freeze(corpus.require_operator(principal), kind)


@router.get("/corpus/versions/{number}", response_model=CorpusVersionView, response_model_exclude_unset=True,
            summary="语料版本及样本 A corpus version with its examples")
def corpus_version(number: int, principal: Caller) -> dict:
    corpus.require_operator(principal)
    return corpus.get_version(number)


@router.get("/models/{kind}", response_model=ModelRegistry, summary="模型版本登记 The model registry")
def models(kind: str, principal: Caller) -> dict:
    """Every version of `kind` (router, events), with its evaluations, and the one running."""
    corpus.require_operator(principal)
    return model_centre.registry(kind)


@router.post("/models/{kind}/retrain", response_model=ModelVersionView, status_code=202,
             summary="从语料版本再训练（任务）Retrain from a corpus version (a job)")
def retrain(kind: str, body: RetrainRequest, principal: Caller) -> dict:
    """Queued on the job queue; poll `GET /api/v1/ops/models/{kind}/{version}`. Promoted only if not worse
    on the development sets; 409 while another round of the kind runs."""
    return model_centre.submit(kind, body.corpus_version, corpus.require_operator(principal))


@router.get("/models/{kind}/{version}", response_model=ModelVersionView, summary="一个模型版本 One version")
def model_version(kind: str, version: int, principal: Caller) -> dict:
    corpus.require_operator(principal)
    return model_centre.get(kind, version)


@router.post("/models/{kind}/rollback", response_model=Rollback, summary="回滚 Roll back")
def rollback(kind: str, principal: Caller) -> dict:
    """Retire the active version and restore the previous one (or the built-in rows); 409 when none is active."""
    return model_centre.rollback(kind, corpus.require_operator(principal))


@router.get("/knowledge", response_model=KnowledgeOps, summary="知识运营 Knowledge operations")
async def knowledge_report(principal: Caller, days: Days = 30) -> dict:
    """Freshness (overdue reviews, superseded texts still cited), coverage gaps, usage per knowledge base."""
    corpus.require_operator(principal)
    return await run_in_threadpool(knowledge_ops.report, days)


@router.post("/knowledge/reviews", response_model=KbReviewView, summary="记录文档审核 Record a document review")
def knowledge_review(body: ReviewBody, principal: Caller) -> dict:
    return knowledge_ops.review(body.kb, body.key, corpus.require_operator(principal), body.next_review, body.note)
