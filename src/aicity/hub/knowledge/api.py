"""Knowledge-center HTTP API. Every read is filtered by what the caller may read; a
knowledge base the caller may not read answers 404, as if it did not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aicity.core.bodies import iso_date
from aicity.core.config import settings
from aicity.core.errors import Problem, bad_request, forbidden, not_found
from aicity.hub.knowledge import service
from aicity.hub.knowledge.grounded import written_answer
from aicity.hub.knowledge.schemas import (
    DocumentSummary,
    DocumentView,
    KbStatus,
    KbView,
    SearchResult,
    UploadedDocument,
)
from aicity.identity.api import Caller
from aicity.identity.models import Role
from aicity.identity.service import Principal, acting_principal

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge"])


def _who(principal: Principal | None) -> Principal:
    return acting_principal(principal, None)


def _kb_dict(kb, principal: Principal) -> dict:
    return {"id": kb.id, "name": kb.name, "level": kb.level, "department": kb.department_id,
            "manage": service.may(principal, kb, "manage")}


@router.get("/bases", response_model=list[KbView], summary="我能读的知识库 Knowledge bases I may read")
def bases(principal: Caller) -> list[dict]:
    who = _who(principal)
    return [_kb_dict(kb, who) for kb in service.list_kbs() if service.may(who, kb, "read")]


class NewKb(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{1,59}$")
    name: str = Field(min_length=1, max_length=200)
    level: str = Field(description="global | department | personal")
    department: str | None = None


@router.post("/bases", status_code=201, response_model=KbView, summary="创建知识库 Create a knowledge base")
def create_base(body: NewKb, principal: Caller) -> dict:
    """Admins create any; an operator creates its own department's; any key holder its
    personal one. An id already in use answers a bare 409: nothing of that knowledge base
    (its name, level or department) is shown to someone who may not read it."""
    who = _who(principal)
    if any(kb.id == body.id for kb in service.list_kbs()):
        raise Problem(409, "知识库已存在 Conflict", "该知识库 id 已被使用，请换一个 the id is taken; choose another",
                      "kb-id-taken")
    if body.level == "personal":
        if who.key_id is None:
            raise forbidden("个人知识库需要 API key")
        kb = service.ensure_kb(body.id, body.name, "personal", owner_key_id=who.key_id)
    elif who.role == Role.admin or (body.level == "department" and who.role == Role.operator
                                     and body.department == who.department):
        kb = service.ensure_kb(body.id, body.name, body.level, body.department)
    else:
        raise forbidden("无权创建该级别的知识库")
    return _kb_dict(kb, who)


@router.get("/status", response_model=KbStatus, summary="知识库索引状态 Index status")
def status(principal: Caller) -> dict:
    """Documents the caller may read, and the progress of the background vector job."""
    job = service.dense_job()
    return {**service.document_stats(service.readable_kbs(_who(principal))),
            "vectors": None if job is None else {"done": job.done if job.get() is None else job.total,
                                                  "total": job.total, "ready": job.get() is not None}}


@router.get("/search", response_model=SearchResult, summary="检索 Search")
def search(principal: Caller, q: Annotated[str, Query(min_length=1, max_length=2000)],
           top_k: Annotated[int, Query(ge=1, le=100)] = 5, kb: str | None = None,
           mode: Annotated[str, Query(pattern="^(hybrid|keyword|dense)$")] = "hybrid") -> dict:
    hits = service.search(q, _who(principal), top_k=top_k, kb=kb, mode=mode)
    return {"q": q, "mode": mode, "hits": [h.model_dump() for h in hits]}


class Question(BaseModel):
    q: str = Field(min_length=1, max_length=2000)
    kb: str | None = None
    top_k: int = Field(default=3, ge=1, le=10)


@router.post("/ask", response_model=service.Answer, summary="依据知识库回答 Answer with citations")
def ask(body: Question, principal: Caller) -> dict:
    found = written_answer(body.q, _who(principal), top_k=body.top_k, kb=body.kb)
    return {"answer": found.answer, "citations": [c.model_dump() for c in found.citations],
            "writer": found.writer, "fallback": found.fallback, "rule": found.rule, "notes": found.notes}


@router.get("/bases/{kb}/documents", response_model=list[DocumentSummary], summary="文件列表 Documents")
def documents(kb: str, principal: Caller) -> list[dict]:
    service.require(_who(principal), kb, "read")
    return [{"key": d.key, "kb": d.kb, "title": d.title, "kind": d.kind, "date": d.date, "status": d.status,
             "superseded_by": d.superseded_by, "authority": d.authority, "source": d.source}
            for d in service.list_documents({kb})]


@router.get("/bases/{kb}/documents/{key}", response_model=DocumentView,
            summary="按结构浏览文件 A document by its structure")
def document(kb: str, key: str, principal: Caller) -> dict:
    service.require(_who(principal), kb, "read")
    doc, chunks = service.document_chunks(kb, key)
    return {"key": doc.key, "title": doc.title, "kind": doc.kind, "status": doc.status, "preamble": doc.preamble,
            "chunks": [{"locator": c.locator, "headings": c.headings, "text": c.text} for c in chunks]}


@router.post("/bases/{kb}/documents", status_code=201,
             response_model=UploadedDocument, summary="上传文件 Upload a document")
async def upload(
    kb: str,
    principal: Caller,
    file: Annotated[UploadFile, File(description="Markdown, TXT, HTML, PDF, DOCX or XLSX")],
    title: Annotated[str | None, Form()] = None,
    authority: Annotated[str | None, Form()] = None,
    date: Annotated[str | None, Form(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    status: Annotated[str, Form(pattern="^(in_force|superseded)$")] = "in_force",
    superseded_by: Annotated[str | None, Form()] = None,
) -> dict:
    service.require(_who(principal), kb, "manage")
    iso_date(date, "date")
    limit = settings().max_upload_bytes
    data = await file.read(limit + 1)
    if not file.filename:
        raise bad_request("缺少文件名 missing file name", "missing-filename")
    doc, changed = await run_in_threadpool(
        service.ingest_document, file.filename, data, kb=kb, title=title, authority=authority, date=date,
        status=status, superseded_by=superseded_by)
    return {"key": doc.key, "kb": doc.kb, "title": doc.title, "kind": doc.kind, "changed": changed}


@router.delete("/bases/{kb}/documents/{key}", status_code=204, summary="删除文件 Delete a document")
def delete(kb: str, key: str, principal: Caller) -> None:
    service.require(_who(principal), kb, "manage")
    service.delete_document(kb, key)


@router.get("/documents/{key}/articles/{article}", response_model=service.Citation,
            summary="引用全局库中的一条原文 Quote an article")
def article(key: str, article: str, paragraph: Annotated[int | None, Query(ge=1)] = None) -> dict:
    cit = service.get_article(key, article, paragraph)
    if cit is None:
        raise not_found(f"《{key}》中没有 {article}", "unknown-article")
    return cit.model_dump()
