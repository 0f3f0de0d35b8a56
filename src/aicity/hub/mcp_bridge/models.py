"""The outside MCP servers the city has registered, with their tools as last listed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class McpServer(Base):
    """An outside MCP server: Streamable HTTP (`url`) or a local command over stdio (`command`)."""

    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: http (Streamable HTTP) | stdio (a local command)
    transport: Mapped[str] = mapped_column(String(10))
    url: Mapped[str | None] = mapped_column(String(1000))
    #: the command and its arguments (stdio)
    command: Mapped[list[Any]]
    #: extra HTTP headers sent to the server (e.g. its own bearer token); never shown back
    headers: Mapped[dict[str, Any]]
    #: ok | unreachable | error — as of `checked_at`
    status: Mapped[str] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the tools as last listed: name, title, description, input_schema, read_only, destructive
    tools: Mapped[list[Any]]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    checked_at: Mapped[datetime]
