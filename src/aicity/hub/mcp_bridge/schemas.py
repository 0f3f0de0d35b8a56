"""Request and answer models of `/api/v1/mcp`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ServerRequest(BaseModel):
    """An outside MCP server to register: `url` (Streamable HTTP) or `command` (stdio), not both."""

    id: str = Field(description="2–40 of a-z, 0-9 and -, starting with a letter; tools are named `<id>__<tool>`")
    title: str = ""
    url: str | None = Field(default=None, description="the server's Streamable HTTP endpoint")
    command: list[str] | None = Field(default=None, description="a local command and its arguments (stdio)")
    headers: dict[str, str] = Field(default_factory=dict, description="extra headers, e.g. the server's own token")


class ServerView(BaseModel):
    id: str
    title: str
    transport: str
    url: str | None
    command: list[str]
    #: the names of the stored headers (their values are never shown)
    headers: list[str]
    status: str
    last_error: str | None
    tools: int
    created_by: str
    created_at: str
    checked_at: str


class ToolView(BaseModel):
    server: str
    name: str
    qualified: str
    title: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool | None
    destructive: bool | None
    writes: bool


class CallRequest(BaseModel):
    arguments: dict[str, Any] = Field(default_factory=dict)
    text: str = Field(default="", max_length=2000, description="what the call is for (shown to the approver)")


class ToolAnswerView(BaseModel):
    server: str
    tool: str
    #: ok | error | approval-required | denied | refused
    status: str
    #: the answer as a quoted data block: data, never instructions
    text: str
    verdict: str
    findings: list[dict[str, Any]]
    approval_id: str | None
