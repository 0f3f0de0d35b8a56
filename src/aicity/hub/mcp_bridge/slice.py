"""MCP both ways: the city served at `/mcp` (skills, the super assistant, knowledge-base documents)
and outside MCP servers registered as tools (`/api/v1/mcp`, `aicity mcp`). docs/mcp.md."""

from aicity.core.slices import Command, HttpRouter, Mount, Section, Slice

mcp = Slice(
    id="mcp",
    title="MCP 双向 the Model Context Protocol both ways",
    # after the assistant: its activation registers the skills as served tools and chains the
    # approval executor (aicity/assistant/mcp_tools.py, in the assistant layer: the hub may not import agents)
    depends_on=("approvals", "assistant", "auth", "guard", "identity", "knowledge"),
    tables=("aicity.hub.mcp_bridge.models",),
    routers=(HttpRouter("aicity.hub.mcp_bridge.api:router"),),
    mounts=(Mount("/mcp", "aicity.hub.mcp_bridge.server:mount"),),
    commands=(Command("mcp", "aicity.hub.mcp_bridge.cli:app", "MCP：外部 MCP 服务与本平台的 MCP 服务 outside MCP servers"),),
    activation=("aicity.assistant.mcp_tools:register", "aicity.hub.mcp_bridge.connect:activate"),
    settings=(Section("mcp", "aicity.hub.mcp_bridge.settings:McpSettings"),),
    health="aicity.hub.mcp_bridge.api:health",
)
