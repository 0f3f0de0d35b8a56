"""MCP both ways: the city served at `/mcp` (skills, the super assistant, knowledge-base documents)
and outside MCP servers registered as tools (`/api/v1/mcp`, `aicity mcp`). docs/mcp.md."""

from aicity.core.slices import Command, HttpRouter, Mount, Section, Slice

mcp = Slice(
    id="mcp",
    title="MCP 双向 the Model Context Protocol both ways",
    # the skills served as tools and the approval executor's chaining are the assistant layer's
    # (aicity/assistant/mcp_tools.py, registered by the assistant slice's activation): a hub slice names no upper layer
    depends_on=("approvals", "auth", "guard", "identity", "knowledge"),
    tables=("aicity.hub.mcp_bridge.models",),
    routers=(HttpRouter("aicity.hub.mcp_bridge.api:router"),),
    mounts=(Mount("/mcp", "aicity.hub.mcp_bridge.server:mount"),),
    commands=(Command("mcp", "aicity.hub.mcp_bridge.cli:app", "MCP：外部 MCP 服务与本平台的 MCP 服务 outside MCP servers"),),
    activation=("aicity.hub.mcp_bridge.connect:activate",),
    settings=(Section("mcp", "aicity.hub.mcp_bridge.settings:McpSettings"),),
    health="aicity.hub.mcp_bridge.api:health",
)
