"""What the operations endpoints answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class DocumentCounts(BaseModel):
    documents: int
    chunks: int


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str
    worker: str = Field(description="应答进程的随机标识（`serve --workers N` 时区分工作进程，不暴露进程号）"
                                    "a random id of the answering process (tells N workers apart, no pid)")
    knowledge: DocumentCounts = Field(description="全局知识库的文档与分块数 the global knowledge base's size")
    slices: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="各切片的健康检查 each slice's health check (`Slice.health`), by slice id")


class RunStats(BaseModel):
    """Counters of assistant runs since the process started."""

    runs: int
    clarifications: int
    skills: dict[str, int] = Field(description="每个技能的调用次数 calls per skill")
    departments: dict[str, int]
    roles: dict[str, int]


class DeadLetter(BaseModel):
    """A durable bus event that failed `bus_max_attempts` times."""

    dead_id: str
    topic: str = ""
    id: str = Field(default="", description="the event id")
    attempts: str = ""
    error: str = Field(default="", description="the last handler error")
    payload: str = ""
    at: str = ""


class BusStats(BaseModel):
    """The bus: embedded (in-process), or Redis Streams with the durable group's backlog."""

    mode: str = Field(examples=["embedded", "redis"])
    durable: int = Field(description="entries in the durable stream")
    pending: int = Field(description="durable entries delivered but not yet acknowledged")
    dead_letters: int
    broadcast: int = Field(description="entries in the broadcast stream")
    dead: list[DeadLetter] = Field(default_factory=list, description="the newest dead letters")
