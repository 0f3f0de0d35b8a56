"""Outside MCP servers under `/api/v1/mcp` (the city's own MCP server is at `/mcp`, server.py).

- `GET /servers` (staff), `POST /servers` (admin; 201, or 400/409/502/504 and nothing stored),
  `DELETE /servers/{id}` (admin; 204);
- `GET /servers/{id}/tools` (staff; `refresh=true`, admin: list them again and update the status);
- `POST /servers/{id}/tools/{tool}/call` (staff): rate limit, guard in, approval for writing
  tools, guard out (the answer as quoted data), audit (client.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from aicity.core.db import database
from aicity.core.errors import forbidden, unauthorized
from aicity.hub.mcp_bridge import client
from aicity.hub.mcp_bridge.models import McpServer
from aicity.hub.mcp_bridge.schemas import CallRequest, ServerRequest, ServerView, ToolAnswerView, ToolView
from aicity.identity.api import Caller
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/mcp", tags=["mcp"])


def _staff(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if not principal.is_staff:
        raise forbidden("外部 MCP 工具仅供工作人员直接调用 / outside MCP tools are for staff")
    return principal


@router.get("/servers", response_model=list[ServerView], summary="外部 MCP 服务 Outside MCP servers")
def servers(principal: Caller) -> list[dict[str, Any]]:
    _staff(principal)
    return [client.view(row) for row in client.list_servers()]


@router.post("/servers", status_code=201, response_model=ServerView, summary="注册外部 MCP 服务 Register a server")
def add(body: ServerRequest, principal: Caller, response: Response) -> dict[str, Any]:
    row = client.add_server(body.id, _staff(principal), url=body.url, command=body.command, title=body.title,
                            headers=body.headers, via_http=True)
    response.headers["Location"] = f"/api/v1/mcp/servers/{row.id}"
    return client.view(row)


@router.delete("/servers/{server_id}", status_code=204, response_class=Response,
               summary="移除外部 MCP 服务 Remove a server")
def remove(server_id: str, principal: Caller) -> Response:
    client.remove_server(server_id, _staff(principal))
    return Response(status_code=204)


@router.get("/servers/{server_id}/tools", response_model=list[ToolView], summary="外部服务的工具 A server's tools")
def tools(server_id: str, principal: Caller, refresh: bool = False) -> list[dict[str, Any]]:
    who = _staff(principal)
    row = client.refresh(server_id, who) if refresh else client.get_server(server_id)
    return [t.to_dict() for t in client.server_tools(row)]


@router.post("/servers/{server_id}/tools/{tool}/call", response_model=ToolAnswerView,
             summary="调用外部工具 Call an outside tool")
def call(server_id: str, tool: str, body: CallRequest, principal: Caller) -> dict[str, Any]:
    answer = client.call_tool(server_id, tool, body.arguments, _staff(principal), text=body.text)
    return answer.to_dict()


def health() -> dict[str, Any]:
    with database().session() as s:
        rows = s.execute(select(McpServer.status, func.count()).group_by(McpServer.status)).all()
    return {"servers": sum(n for _, n in rows), **{status: n for status, n in rows if status != "ok"}}
