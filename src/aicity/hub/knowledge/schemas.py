"""What the knowledge center's HTTP API answers (read models). Search hits, citations and written
answers are `Hit`, `Citation` and `Answer` in the service."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aicity.hub.knowledge.service import Hit


class KbView(BaseModel):
    id: str
    name: str
    level: str = Field(description="global | department | personal")
    department: str | None
    manage: bool = Field(description="调用者能否管理该库 whether the caller may manage it")


class VectorProgress(BaseModel):
    done: int
    total: int
    ready: bool


class KbStatus(BaseModel):
    documents: int
    chunks: int
    vectors: VectorProgress | None = Field(description="后台向量任务；null 表示未开始 the background vector job")


class SearchResult(BaseModel):
    q: str
    mode: str = Field(description="hybrid | keyword | dense")
    hits: list[Hit]


class DocumentSummary(BaseModel):
    key: str
    kb: str
    title: str
    kind: str
    date: str | None
    status: str = Field(description="in_force | superseded")
    superseded_by: str | None
    authority: str | None
    source: str


class ChunkView(BaseModel):
    locator: str = Field(description="位置，如 第十二条 where in the document")
    headings: list[Any]
    text: str


class DocumentView(BaseModel):
    key: str
    title: str
    kind: str
    status: str
    preamble: list[Any]
    chunks: list[ChunkView]


class UploadedDocument(BaseModel):
    key: str
    kb: str
    title: str
    kind: str
    changed: bool = Field(description="内容是否有变化（相同内容不重复入库）false when the same content was there")
