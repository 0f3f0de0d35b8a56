"""MCP both ways: the city's skills, the super assistant and its knowledge bases served over the
Model Context Protocol at `/mcp`, and outside MCP servers registered as tools agents may be given
(docs/mcp.md)."""
