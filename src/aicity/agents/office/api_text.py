"""`/api/v1/office/` 收文登记 and text work (staff only):

- POST `/register` — multipart `file` (DOCX, PDF with a text layer, TXT) or form field `text`: the
  document's elements, stored in the register as an incoming document (201);
- POST `/summarize`, `/polish`, `/revise` — JSON bodies, the text worked on;
- PATCH `/documents/{id}` — a document's status (and its handling departments or deadline).

Errors are RFC 9457 problems: 401 without a key, 403 for a public role, 415 an unsupported format,
422 a file that is no document or a PDF without a text layer, 400 empty text or an instruction not
understood, 404 a document the caller may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from aicity.agents.office import documents, intake, textwork
from aicity.agents.office.documents import DocumentError
from aicity.agents.office.registration import RegistrationError
from aicity.core.config import settings
from aicity.core.errors import Problem, bad_request, forbidden, unauthorized
from aicity.identity.api import Caller
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/office", tags=["office"])

#: RegistrationError codes → HTTP status
_STATUS = {"unsupported-format": 415, "too-large": 413, "empty": 400, "invalid": 400}
Text = Annotated[str, StringConstraints(min_length=1, max_length=textwork.MAX_CHARS)]


def _staff(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if not principal.is_staff:
        raise forbidden("公文办理只对工作人员开放 official documents are for staff only", "office-staff-only")
    return principal


def _problem(exc: RegistrationError) -> Problem:
    status = _STATUS.get(exc.code, 422)
    titles = {400: "请求无效 Bad request", 413: "文件过大 Payload too large", 415: "不支持的文件格式 Unsupported media type",
              422: "无法登记 Cannot register"}
    return Problem(status, titles[status], str(exc), f"office-{exc.code}")


class RegistrationView(BaseModel):
    """An incoming document as registered: its id in the register and the elements read from it."""

    id: str
    status: str
    kind: str | None
    issuer: list[str]
    doc_number: str | None
    title: str | None
    recipients: list[str]
    date: str | None = Field(description="成文日期 YYYY-MM-DD")
    classification: str | None
    urgency: str | None
    signer: str | None
    attachments: list[str]
    cc: list[str]
    suggested_departments: list[str] = Field(description="建议承办部门 department ids")
    deadline: str | None = Field(description="办理时限 YYYY-MM-DD, when the text sets one")
    notes: dict[str, str] = Field(description="where each element was found (zone and rule)")


@router.post("/register", status_code=201, response_model=RegistrationView,
             summary="收文登记 Register an incoming document (upload or text)")
async def register_route(
    principal: Caller,
    file: Annotated[UploadFile | None, File(description="DOCX、PDF（含文字层）或 TXT")] = None,
    text: Annotated[str | None, Form(description="粘贴的公文文字 pasted text", max_length=textwork.MAX_CHARS)] = None,
) -> dict[str, Any]:
    who = _staff(principal)
    if (file is None) == (text is None):
        raise bad_request("请上传一个文件或粘贴文字（二者选一）give a file or a text", "office-invalid")
    try:
        if file is not None:
            data = await file.read(settings().max_upload_bytes + 1)
            row = await run_in_threadpool(intake.register, principal=who, file_name=file.filename or "document",
                                          data=data)
        else:
            row = await run_in_threadpool(intake.register, principal=who, text=text)
    except RegistrationError as exc:
        raise _problem(exc) from exc
    except DocumentError as exc:
        raise Problem(422, "无法登记 Cannot register", str(exc), "office-invalid-document") from exc
    return {"id": row.document.id, "status": row.document.status, **row.registration.fields(),
            "notes": row.registration.notes}


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(description="公文或一段文字 the text", examples=["希望大家赶紧把材料报上来。"])


class SummaryView(BaseModel):
    summary: str
    keywords: list[str]
    kind: str | None = Field(description="文种, when the text reads as a document")
    title: str | None
    writer: str = Field(description="embedded, or llm:<group> when a model wrote the summary")


async def _work(work: Callable[..., dict[str, Any]], *args: str, kind: str = "office-text") -> dict[str, Any]:
    """Text work on a worker thread; text it cannot work on is a 400 problem."""
    try:
        return await run_in_threadpool(work, *args)
    except textwork.TextWorkError as exc:
        raise bad_request(str(exc), kind) from exc


@router.post("/summarize", response_model=SummaryView, summary="公文摘要与关键词 Summarise a document")
async def summarize_route(body: TextBody, principal: Caller) -> dict[str, Any]:
    return await _work(textwork.summarize, body.text, _staff(principal).role.value)


class Change(BaseModel):
    before: str
    after: str
    rule: str


class PolishView(BaseModel):
    text: str
    changes: list[Change]
    writer: str


@router.post("/polish", response_model=PolishView, summary="公文润色 Polish into the official register")
async def polish_route(body: TextBody, principal: Caller) -> dict[str, Any]:
    return await _work(textwork.polish, body.text, _staff(principal).role.value)


class ReviseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    instruction: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        description="修改要求", examples=["把“尽快”改为“于4月10日前”；删除特此通知"])


class ReviseView(BaseModel):
    text: str
    diff: str = Field(description="unified diff, 原文 → 修改后")
    writer: str


@router.post("/revise", response_model=ReviseView, summary="按要求修改 Revise by instruction")
async def revise_route(body: ReviseBody, principal: Caller) -> dict[str, Any]:
    return await _work(textwork.revise, body.text, body.instruction, _staff(principal).role.value,
                       kind="office-instruction")


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(description=f"one of {', '.join(documents.STATUSES)}", examples=["assigned"])
    suggested_departments: list[Annotated[str, StringConstraints(max_length=40)]] | None = Field(
        default=None, max_length=20, description="承办部门 department ids")
    deadline: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="办理时限 YYYY-MM-DD")


class StatusView(BaseModel):
    id: str
    direction: str
    title: str
    status: str
    suggested_departments: list[str]
    deadline: str | None
    updated_at: str


@router.patch("/documents/{doc_id}", response_model=StatusView,
              summary="公文状态 Change a document's status (assign, handle, archive)")
async def patch_document(doc_id: str, body: StatusBody, principal: Caller) -> dict[str, Any]:
    who = _staff(principal)
    changes = body.model_dump(exclude_unset=True, exclude={"status"})
    try:
        doc = await run_in_threadpool(documents.set_status, doc_id, body.status, who, **changes)
    except DocumentError as exc:
        raise bad_request(str(exc), "office-invalid-status") from exc
    return {"id": doc.id, "direction": doc.direction, "title": doc.title, "status": doc.status,
            "suggested_departments": doc.suggested_departments, "deadline": doc.deadline,
            "updated_at": doc.updated_at.isoformat()}
