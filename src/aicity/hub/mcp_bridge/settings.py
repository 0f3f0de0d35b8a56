"""`[aicity.mcp]`: the MCP server at /mcp and the outside MCP servers (each key also `AICITY_MCP_<KEY>`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class McpSettings(BaseModel):
    """[aicity.mcp]: call_rate, timeout_s, max_answer_chars, unannotated, stdio_over_http"""

    model_config = ConfigDict(extra="forbid")

    call_rate: str = Field(default="60/minute",
                           description="calls of outside tools one key (or the local CLI) may make, per server")
    timeout_s: float = Field(default=20, gt=0, le=300, description="connecting to and answering from an outside server")
    max_answer_chars: int = Field(default=20_000, ge=100, le=1_000_000,
                                  description="an outside tool's answer is cut to this many characters")
    unannotated: Literal["read", "write"] = Field(
        default="write", description="how an outside tool that declares neither readOnlyHint nor destructiveHint "
        "counts: write (approval first, as the protocol's defaults say) or read")
    stdio_over_http: bool = Field(default=False, description="whether admins may register stdio (local command) "
                                  "servers through the REST API; the CLI always may")
