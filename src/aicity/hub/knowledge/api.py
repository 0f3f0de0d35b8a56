"""Knowledge-center HTTP API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from aicity.core.errors import not_found
from aicity.hub.knowledge import service

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge"])


@router.get("/search", summary="检索条文 Search")
def search(q: Annotated[str, Query(min_length=1, max_length=2000)],
           top_k: Annotated[int, Query(ge=1, le=100)] = 5, kb: str | None = None) -> dict:
    return {"q": q, "hits": [h.model_dump() for h in service.search(q, top_k=top_k, kb=kb)]}


@router.get("/documents", summary="文件列表 Documents")
def documents(kb: str | None = None) -> list[dict]:
    return [{"key": d.key, "kb": d.kb, "title": d.title, "date": d.date, "status": d.status,
             "superseded_by": d.superseded_by, "source": d.source} for d in service.list_documents(kb)]


@router.get("/documents/{key}/articles/{article}", summary="引用一条原文 Quote an article")
def article(key: str, article: str, paragraph: Annotated[int | None, Query(ge=1)] = None) -> dict:
    cit = service.get_article(key, article, paragraph)
    if cit is None:
        raise not_found(f"《{key}》中没有 {article}", "unknown-article")
    return cit.model_dump()
