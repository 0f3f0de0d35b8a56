"""Knowledge-center tables: documents and their structure-aware chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class KnowledgeBase(Base):
    """A knowledge base at one of three levels: global, department, personal."""

    __tablename__ = "knowledge_bases"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[str | None] = mapped_column(String(40))
    #: the API key that owns a personal knowledge base
    owner_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]


class KbDocument(Base):
    __tablename__ = "kb_documents"
    __table_args__ = (UniqueConstraint("kb", "key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kb: Mapped[str] = mapped_column(String(60), index=True)
    #: short name used in citations and references, e.g. 食品安全法
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    date: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="in_force")
    superseded_by: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300))
    #: law (article-structured) or generic (headings and paragraphs)
    kind: Mapped[str] = mapped_column(String(20), default="law")
    authority: Mapped[str | None] = mapped_column(String(200))
    preamble: Mapped[list[Any]]
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]


class KbChunk(Base):
    __tablename__ = "kb_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("kb_documents.id", ondelete="CASCADE"), index=True)
    ord: Mapped[int] = mapped_column(Integer)
    locator: Mapped[str] = mapped_column(String(100))
    article: Mapped[str] = mapped_column(String(40), index=True)
    headings: Mapped[list[Any]]
    text: Mapped[str] = mapped_column(Text)
