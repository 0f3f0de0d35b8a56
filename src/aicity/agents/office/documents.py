"""The document register: documents sent (drafts, direction 'out') and received (registered,
direction 'in'), and the per-issuer number register (发文字号).

Access follows the department: an official or operator sees the documents of their own
department (and those they recorded themselves); an admin sees every one. Citizens and
enterprises see none. A number is taken with one conditional UPDATE inside the caller's
transaction, so two drafts never share a number (the row is locked until that transaction ends).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aicity.agents.office.kinds import OfficeInputError
from aicity.agents.office.models import OfficeDocument, OfficeNumber
from aicity.core import audit
from aicity.core.db import database
from aicity.core.errors import Problem, forbidden, not_found, unauthorized
from aicity.core.ids import new_id, utcnow
from aicity.identity.models import Role
from aicity.identity.service import Principal

#: the city's clock for 成文日期 and years of document numbers (Beijing time)
CITY_TZ = timezone(timedelta(hours=8), "UTC+8")
DIRECTIONS = ("in", "out")
#: a document's states: drafts and issued ones (out); registered, assigned, handled ones (in)
STATUSES = ("draft", "issued", "registered", "assigned", "handling", "done", "archived")
#: the fields `record_document` takes, with their defaults
FIELDS: dict[str, Any] = {
    "kind": None, "issuer": [], "doc_number": None, "title": "", "recipients": [], "date": None,
    "classification": None, "urgency": None, "signer": None, "attachments": [], "cc": [],
    "suggested_departments": [], "deadline": None, "status": None, "department": None, "extra": {},
}
LIST_FIELDS = ("issuer", "recipients", "attachments", "cc", "suggested_departments")
MAX_LIST = 500
TITLE_CHARS = 300
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DocumentError(OfficeInputError):
    """A document record that cannot be stored as given (unknown field, wrong value)."""


def today() -> str:
    return datetime.now(CITY_TZ).date().isoformat()


def city_year() -> int:
    return datetime.now(CITY_TZ).year


def require_staff(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if not principal.is_staff:
        raise forbidden("公文只对工作人员开放 official documents are for staff only")
    return principal


def may_read(principal: Principal, doc: OfficeDocument) -> bool:
    if principal.role == Role.admin:
        return True
    if not principal.is_staff:
        return False
    if doc.created_by == principal.actor:
        return True
    return principal.department is not None and doc.department == principal.department


@contextmanager
def _unit(s: Session | None) -> Iterator[Session]:
    """The caller's session, or a transaction of our own."""
    if s is not None:
        yield s
        return
    with database().session() as own:
        yield own


# --- numbers -----------------------------------------------------------------------------------

def take_number(s: Session, code: str, year: int) -> int:
    """The next sequence number of `code` in `year`, taken inside `s`'s transaction: the UPDATE
    locks the row (SQLite: the database) until the caller commits, so no other draft reads it."""
    for _ in range(3):
        bumped = s.execute(update(OfficeNumber).where(OfficeNumber.code == code, OfficeNumber.year == year)
                           .values(next_seq=OfficeNumber.next_seq + 1))
        if bumped.rowcount:  # type: ignore[attr-defined]
            taken = s.scalar(select(OfficeNumber.next_seq).where(OfficeNumber.code == code,
                                                                 OfficeNumber.year == year))
            return int(taken or 0) - 1
        try:
            with s.begin_nested():
                s.add(OfficeNumber(code=code, year=year, next_seq=2))
            return 1
        except IntegrityError:  # another transaction created the row first: bump it
            continue
    raise Problem(503, "暂不可用 Service unavailable", "发文字号登记簿忙，请重试 the number register is busy",
                  "office-number-busy")


def format_number(code: str, year: int, seq: int) -> str:
    """发文字号 as GB/T 9704-2012 7.2.3 writes it: 江政办发〔2026〕12号 (六角括号, no leading zeros)."""
    return f"{code}〔{year}〕{seq}号"


# --- the register ------------------------------------------------------------------------------

def _clean(fields: dict[str, Any], direction: str) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise DocumentError(f"未知字段 unknown field(s): {', '.join(unknown)}")
    if direction not in DIRECTIONS:
        raise DocumentError(f"direction 只能是 in 或 out, not {direction!r}")
    values = {**FIELDS, **fields}
    for name in LIST_FIELDS:
        value = values[name]
        if value is None:
            values[name] = []
        elif isinstance(value, str):
            values[name] = [value]
        elif not isinstance(value, list):
            raise DocumentError(f"{name} 应为列表 must be a list")
    for name in ("date", "deadline"):
        if values[name] is not None and not _DATE.match(str(values[name])):
            raise DocumentError(f"{name} 应为 YYYY-MM-DD: {values[name]!r}")
    status = values["status"] or ("draft" if direction == "out" else "registered")
    if status not in STATUSES:
        raise DocumentError(f"未知状态 unknown status {status!r}; allowed: {', '.join(STATUSES)}")
    values["status"] = status
    title = str(values["title"] or "").strip()
    if not title:
        raise DocumentError("公文标题不能为空 a document needs a title")
    values["title"] = title[:TITLE_CHARS]
    return values


def record_document(s: Session | None, *, direction: str, fields: dict[str, Any], text: str,
                    file_bytes: bytes | None = None, file_name: str | None = None,
                    principal: Principal) -> OfficeDocument:
    """Store one document (in `s`'s transaction when given, else in one of its own) and note it
    in the audit ledger once stored. `fields`: the keys of FIELDS; `department` defaults to the
    principal's."""
    require_staff(principal)
    values = _clean(fields, direction)
    now = utcnow()
    doc = OfficeDocument(
        id=new_id("doc"), direction=direction, text=text, file=file_bytes, file_name=file_name,
        created_by=principal.actor, created_at=now, updated_at=now,
        **{k: v for k, v in values.items() if k != "department"},
        department=values["department"] or principal.department,
    )
    with _unit(s) as unit:
        unit.add(doc)
        unit.flush()
    if s is None:
        _audit(principal, "office.document.recorded", doc)
    return doc


def _audit(principal: Principal, action: str, doc: OfficeDocument) -> None:
    audit.record(principal.actor, action, doc.id,
                 {"direction": doc.direction, "kind": doc.kind, "doc_number": doc.doc_number, "status": doc.status})


def audit_recorded(principal: Principal, doc: OfficeDocument) -> None:
    """For callers that recorded in their own transaction: the ledger entry, after it committed."""
    _audit(principal, "office.document.recorded", doc)


def list_documents(direction: str | None = None, q: str | None = None, status: str | None = None, *,
                   principal: Principal, limit: int = 100) -> list[OfficeDocument]:
    """The documents the principal may read, newest first; `q` matches title, number, issuer or text."""
    require_staff(principal)
    if direction is not None and direction not in DIRECTIONS:
        raise DocumentError(f"direction 只能是 in 或 out, not {direction!r}")
    if status is not None and status not in STATUSES:
        raise DocumentError(f"未知状态 unknown status {status!r}")
    query = select(OfficeDocument).order_by(OfficeDocument.created_at.desc(), OfficeDocument.id.desc())
    if direction:
        query = query.where(OfficeDocument.direction == direction)
    if status:
        query = query.where(OfficeDocument.status == status)
    if principal.role != Role.admin:
        mine = OfficeDocument.created_by == principal.actor
        query = query.where(or_(mine, OfficeDocument.department == principal.department)
                            if principal.department else mine)
    if q and q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(OfficeDocument.title.like(like), OfficeDocument.doc_number.like(like),
                                OfficeDocument.text.like(like)))
    with database().session() as s:
        return list(s.scalars(query.limit(max(1, min(limit, MAX_LIST)))))


def get_document(doc_id: str, principal: Principal) -> OfficeDocument:
    """One document; 404 when it does not exist or the principal may not read it (no probing)."""
    require_staff(principal)
    with database().session() as s:
        doc = s.get(OfficeDocument, doc_id)
    if doc is None or not may_read(principal, doc):
        raise not_found(f"公文不存在 no document {doc_id}", "office-document-not-found")
    return doc


def set_status(doc_id: str, status: str, principal: Principal, **changes: Any) -> OfficeDocument:
    """Move a document to `status` (and change other fields of FIELDS at the same time, e.g.
    `suggested_departments`, `deadline`); audited."""
    require_staff(principal)
    if status not in STATUSES:
        raise DocumentError(f"未知状态 unknown status {status!r}; allowed: {', '.join(STATUSES)}")
    unknown = sorted(set(changes) - set(FIELDS) - {"text"})
    if unknown:
        raise DocumentError(f"未知字段 unknown field(s): {', '.join(unknown)}")
    with database().session() as s:
        doc = s.get(OfficeDocument, doc_id)
        if doc is None or not may_read(principal, doc):
            raise not_found(f"公文不存在 no document {doc_id}", "office-document-not-found")
        doc.status = status
        for name, value in changes.items():
            setattr(doc, name, value)
        doc.updated_at = utcnow()
    _audit(principal, "office.document.status", doc)
    return doc


def as_json(doc: OfficeDocument, *, with_text: bool = True) -> dict[str, Any]:
    """A document as the API and the CLI show it (the file itself is downloaded separately)."""
    out: dict[str, Any] = {
        "id": doc.id, "direction": doc.direction, "kind": doc.kind, "issuer": doc.issuer,
        "doc_number": doc.doc_number, "title": doc.title, "recipients": doc.recipients, "date": doc.date,
        "classification": doc.classification, "urgency": doc.urgency, "signer": doc.signer,
        "attachments": doc.attachments, "cc": doc.cc, "suggested_departments": doc.suggested_departments,
        "deadline": doc.deadline, "status": doc.status, "file_name": doc.file_name,
        "has_file": doc.file is not None, "extra": doc.extra, "created_by": doc.created_by,
        "department": doc.department, "created_at": doc.created_at.isoformat(),
        "updated_at": doc.updated_at.isoformat(),
    }
    if with_text:
        out["text"] = doc.text
    return out
