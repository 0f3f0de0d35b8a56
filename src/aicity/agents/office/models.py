"""The office agent's tables: the per-issuer number register (发文字号) and the document register
(收文 and 发文 both, `direction` 'in' | 'out')."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class OfficeNumber(Base):
    """The next sequence number of one issuer's code (机关代字) in one year: 江政办发〔2026〕12号."""

    __tablename__ = "office_numbers"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_seq: Mapped[int] = mapped_column(Integer)


class OfficeDocument(Base):
    """A document the city's offices sent (a draft, 'out') or received (registered, 'in')."""

    __tablename__ = "office_documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), index=True)
    kind: Mapped[str | None] = mapped_column(String(20))
    issuer: Mapped[list[Any]]
    doc_number: Mapped[str | None] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(300))
    recipients: Mapped[list[Any]]
    #: 成文日期, YYYY-MM-DD
    date: Mapped[str | None] = mapped_column(String(10))
    classification: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[str | None] = mapped_column(String(20))
    signer: Mapped[str | None] = mapped_column(String(80))
    attachments: Mapped[list[Any]]
    cc: Mapped[list[Any]]
    suggested_departments: Mapped[list[Any]]
    #: 办理时限, YYYY-MM-DD
    deadline: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: more about the document: a draft's citations, a registration's extraction notes
    extra: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(80))
    department: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
