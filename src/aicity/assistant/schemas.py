"""What the assistant's HTTP API answers besides `AskResult`: sessions and run traces."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Turn(BaseModel):
    q: str = Field(description="提问 the question")
    a: str = Field(description="回答（截至 2000 字）the answer, at most 2000 characters")
    at: str = Field(description="ISO 8601 time")


class SessionView(BaseModel):
    id: str
    role: str
    turns: list[Turn]
    pending: bool = Field(description="是否在等待用户回答澄清问题 waiting for the answer to a clarifying question")
    slots: dict[str, Any] = Field(description="本会话已知的槽位值 slot values learnt in this conversation")


class TraceView(BaseModel):
    """One run's trace: the request, its timed steps and a summary."""

    id: str
    kind: str
    role: str
    session_id: str | None
    created_at: str = Field(description="ISO 8601 time")
    duration_ms: float
    status: str
    request: dict[str, Any]
    steps: list[Any]
    summary: dict[str, Any]


class UnservedView(BaseModel):
    """A request the catalog could not serve (personal information masked), for whoever extends the catalog."""

    id: str
    created_at: str
    text: str
    role: str
    mode: str
    department: str | None
    law: str | None
