"""Office HTTP API under `/api/v1/office` (staff only: official, operator, admin).

- `POST /drafts` — draft an official document from a request (公文起草): kind, title, 发文字号 from
  the issuer's register, recipients, text, citations; the DOCX (GB/T 9704-2012) is stored with it.
- `GET /documents?direction=in|out&q=…&status=…` — the register (收文 and 发文) the caller may read.
- `GET /documents/{id}`, `GET /documents/{id}/docx` (download), `GET /documents/{id}/pages/{n}.png`
  (page n rendered by LibreOffice, for the console's preview).
- `POST /check` — upload a DOCX: every GB/T 9704 rule readable from it, passed or failed.

Errors are RFC 9457 problems: 401 without a key, 403 for a public role, 404 an unknown document
(or one of another department), 413 too large, 415 not a DOCX, 422 a request the drafter cannot
work from (no subject, unknown kind or issuer), 503 when LibreOffice is missing for a preview.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aicity.agents.office import checker, documents, drafting, render
from aicity.agents.office.kinds import KINDS, OfficeInputError
from aicity.core.config import settings
from aicity.core.errors import Problem
from aicity.identity.api import Caller
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/office", tags=["office"])

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_UPLOAD = 20 * 1024 * 1024
MAX_PAGE = 200


def unprocessable(exc: OfficeInputError) -> Problem:
    return Problem(422, "请求内容不合法 Unprocessable", str(exc), "office-invalid-input")


class DraftRequest(BaseModel):
    text: str = Field(min_length=1, max_length=drafting.REQUEST_CHARS,
                      description="起草要求 what to draft", examples=["起草一份关于开展燃气安全隐患排查整治的通知"])
    kind: str | None = Field(default=None, max_length=10, description=f"文种，可选：{'、'.join(KINDS)}")
    issuer: str | None = Field(default=None, max_length=60, description="发文机关：部门 id 或全称（默认调用者所在部门）")
    keywords: list[str] = Field(default_factory=list, max_length=10, description="要突出的关键词")
    outline: list[str] = Field(default_factory=list, max_length=12, description="要点，逐条成为正文的二级标题")
    model_text: str | None = Field(default=None, max_length=20000, description="范文：沿用其一级标题结构")
    recipients: list[str] | None = Field(default=None, max_length=20, description="主送机关（默认按文种和发文机关）")
    attachments: list[str] = Field(default_factory=list, max_length=20, description="附件名称")
    urgency: str | None = Field(default=None, pattern="^(特急|加急|特提|平急)$")
    classification: str | None = Field(default=None, max_length=20, description="密级和保密期限，如 秘密★1年")


class CitationView(BaseModel):
    doc: str
    doc_key: str
    locator: str = Field(description="条文位置，如 第四十一条")
    kb: str
    status: str
    text: str = Field(description="所引条文原文 the provision's text")


class DraftView(BaseModel):
    document_id: str
    kind: str
    title: str
    doc_number: str | None
    issuer: str
    recipients: list[str]
    date: str
    layout: str = Field(description="file 文件式 | letter 信函式 | minutes 纪要式")
    text: str
    citations: list[CitationView]
    facts: list[dict[str, Any]] = Field(description="正文所用的城市数据及其来源 the city's figures stated")
    departments: list[str] = Field(description="涉及的部门 id")
    writer: str = Field(description="embedded | llm:<group>")
    fallback: str | None = Field(description="模型文本未被采用的原因")
    docx_url: str
    pages_url: str


class DocumentView(BaseModel):
    id: str
    direction: str
    kind: str | None
    issuer: list[Any]
    doc_number: str | None
    title: str
    recipients: list[Any]
    date: str | None
    classification: str | None
    urgency: str | None
    signer: str | None
    attachments: list[Any]
    cc: list[Any]
    suggested_departments: list[Any]
    deadline: str | None
    status: str
    file_name: str | None
    has_file: bool
    extra: dict[str, Any]
    created_by: str
    department: str | None
    created_at: str
    updated_at: str
    text: str | None = None


class FindingView(BaseModel):
    rule: str
    ok: bool
    message: str
    where: str


class CheckView(BaseModel):
    ok: bool = Field(description="所有规则均通过")
    failed: int
    findings: list[FindingView]


def _urls(doc_id: str) -> dict[str, str]:
    return {"docx_url": f"/api/v1/office/documents/{doc_id}/docx",
            "pages_url": f"/api/v1/office/documents/{doc_id}/pages/1.png"}


def draft_view(d: drafting.Draft) -> dict[str, Any]:
    out = d.as_json()
    out.pop("file", None)
    return {**out, **_urls(d.document_id)}


def _draft(body: DraftRequest, who: Principal) -> dict[str, Any]:
    try:
        made = drafting.draft(body.text, kind=body.kind, issuer=body.issuer, keywords=body.keywords,
                              outline=body.outline, model_text=body.model_text, recipients=body.recipients,
                              attachments=body.attachments, urgency=body.urgency,
                              classification=body.classification, principal=who)
    except OfficeInputError as exc:
        raise unprocessable(exc) from exc
    return draft_view(made)


@router.post("/drafts", status_code=201, response_model=DraftView, summary="公文起草 Draft an official document")
async def create_draft(body: DraftRequest, principal: Caller) -> dict[str, Any]:
    who = documents.require_staff(principal)
    return await run_in_threadpool(_draft, body, who)


@router.get("/documents", response_model=list[DocumentView], summary="公文登记簿 Documents sent and received")
async def list_documents(principal: Caller,
                         direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
                         q: Annotated[str | None, Query(max_length=100)] = None,
                         status: Annotated[str | None, Query(max_length=20)] = None,
                         limit: Annotated[int, Query(ge=1, le=documents.MAX_LIST)] = 100) -> list[dict[str, Any]]:
    who = documents.require_staff(principal)
    try:
        found = await run_in_threadpool(documents.list_documents, direction, q, status, principal=who, limit=limit)
    except OfficeInputError as exc:
        raise unprocessable(exc) from exc
    return [documents.as_json(d, with_text=False) for d in found]


@router.get("/documents/{doc_id}", response_model=DocumentView, summary="一份公文 One document")
async def get_document(doc_id: Annotated[str, PathParam(max_length=40)], principal: Caller) -> dict[str, Any]:
    who = documents.require_staff(principal)
    return documents.as_json(await run_in_threadpool(documents.get_document, doc_id, who))


def _file(doc_id: str, who: Principal) -> tuple[bytes, str]:
    doc = documents.get_document(doc_id, who)
    if doc.file is None:
        raise Problem(404, "未找到 Not found", "该公文没有文件 the document has no file", "office-no-file")
    return doc.file, doc.file_name or f"{doc.id}.docx"


@router.get("/documents/{doc_id}/docx", response_class=Response, summary="下载 DOCX Download the document",
            responses={200: {"content": {DOCX_TYPE: {}}, "description": "DOCX"}})
async def download(doc_id: Annotated[str, PathParam(max_length=40)], principal: Caller) -> Response:
    who = documents.require_staff(principal)
    data, name = await run_in_threadpool(_file, doc_id, who)
    if not name.lower().endswith(".docx"):
        raise Problem(415, "格式不支持 Unsupported media type", "该公文的文件不是 DOCX the file is not a DOCX",
                      "office-not-docx")
    return Response(data, media_type=DOCX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"{doc_id}.docx\"; filename*=UTF-8''{quote(name)}"})


def _cache_dir() -> Path:
    folder = settings().data_dir / "office" / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def page_png(data: bytes, page: int) -> bytes:
    """Page `page` of a DOCX as PNG; the PDF is kept under the data dir by content hash."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    pdf_path = _cache_dir() / f"{digest}.pdf"
    if pdf_path.is_file():
        pdf = pdf_path.read_bytes()
    else:
        pdf = render.docx_to_pdf(data)
        tmp = pdf_path.with_suffix(".tmp")
        tmp.write_bytes(pdf)
        tmp.replace(pdf_path)
    if page > render.pdf_pages(pdf):
        raise Problem(404, "未找到 Not found", f"该公文没有第 {page} 页 no page {page}", "office-no-page")
    return render.pdf_page_png(pdf, page)


def _page(doc_id: str, page: int, who: Principal) -> bytes:
    data, name = _file(doc_id, who)
    if not name.lower().endswith(".docx"):
        raise Problem(415, "格式不支持 Unsupported media type", "只能预览 DOCX 文件 only DOCX files are previewed",
                      "office-not-docx")
    try:
        return page_png(data, page)
    except render.RenderError as exc:
        problem = Problem(503, "暂不可用 Service unavailable", str(exc), "office-render-unavailable")
        problem.headers["Retry-After"] = "60"
        raise problem from exc


@router.get("/documents/{doc_id}/pages/{page}.png", response_class=Response,
            summary="页面预览 A rendered page (PNG)", responses={200: {"content": {"image/png": {}}}})
async def page_preview(doc_id: Annotated[str, PathParam(max_length=40)],
                       page: Annotated[int, PathParam(ge=1, le=MAX_PAGE)], principal: Caller) -> Response:
    who = documents.require_staff(principal)
    png = await run_in_threadpool(_page, doc_id, page, who)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


def check_bytes(data: bytes) -> dict[str, Any]:
    try:
        findings = checker.check_docx(data)
    except checker.NotADocx as exc:
        raise Problem(415, "格式不支持 Unsupported media type", str(exc), "office-not-docx") from exc
    failed = checker.failed(findings)
    return {"ok": not failed, "failed": len(failed), "findings": [f.as_json() for f in findings]}


@router.post("/check", response_model=CheckView, summary="公文格式检查 Check a DOCX against GB/T 9704-2012")
async def check(file: Annotated[UploadFile, File(description="DOCX")], principal: Caller) -> dict[str, Any]:
    documents.require_staff(principal)
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Problem(413, "内容过大 Too large", f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB", "office-too-large")
    return await run_in_threadpool(check_bytes, data)
