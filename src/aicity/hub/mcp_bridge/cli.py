"""`aicity mcp servers add|list|remove|tools|call`: outside MCP servers, from the city's own machine
(acting as a local admin). The city's own MCP server is served by `aicity serve` at `/mcp`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.mcp_bridge import client
from aicity.identity.models import Role
from aicity.identity.service import Principal

app = typer.Typer(help="MCP：外部 MCP 服务与本平台的 MCP 服务 outside MCP servers", no_args_is_help=True)
servers = typer.Typer(help="外部 MCP 服务 outside MCP servers: add, list, remove, tools, call", no_args_is_help=True)
app.add_typer(servers, name="servers")
out = Console()
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOut = Annotated[bool, typer.Option("--json")]
LOCAL_ADMIN = Principal(role=Role.admin)


def _header(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            fail(f"--header 须为 'Name: value' / --header takes 'Name: value': {value!r}")
        pairs[name.strip()] = content.strip()
    return pairs


@servers.command("add")
def add(
    server_id: Annotated[str, typer.Argument(help="服务 id（小写字母、数字、-）")],
    url: Annotated[str | None, typer.Option(help="Streamable HTTP 地址 the server's URL")] = None,
    command: Annotated[str | None, typer.Option(help="本地命令（stdio），如 'python -m my_server' a local command")] = None,
    title: Annotated[str, typer.Option(help="名称 title")] = "",
    header: Annotated[list[str] | None, typer.Option(help="附加请求头 'Name: value'（可多次）")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """注册外部 MCP 服务（连接并列出工具；连不上则不登记）Register an outside MCP server."""
    open_city(data_dir)
    argv = command.split() if command else None
    try:
        row = client.add_server(server_id, LOCAL_ADMIN, url=url, command=argv, title=title,
                                headers=_header(header or []))
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(client.view(row))
        return
    out.print(f"已注册 {row.id}（{row.transport}），{len(row.tools)} 个工具 registered with {len(row.tools)} tools")


@servers.command("list")
def list_(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """已注册的外部 MCP 服务 The registered servers."""
    open_city(data_dir)
    rows = [client.view(row) for row in client.list_servers()]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "名称 title", "方式 transport", "地址/命令 where", "状态 status", "工具 tools")
    for r in rows:
        table.add_row(r["id"], r["title"], r["transport"], r["url"] or " ".join(r["command"]), r["status"],
                      str(r["tools"]))
    out.print(table)


@servers.command("remove")
def remove(server_id: str, data_dir: DataDir = None) -> None:
    """移除一个外部 MCP 服务 Remove a server."""
    open_city(data_dir)
    try:
        client.remove_server(server_id, LOCAL_ADMIN)
    except Problem as exc:
        fail(problem_message(exc))
    out.print(f"已移除 {server_id} removed")


@servers.command("tools")
def tools(
    server_id: str,
    refresh: Annotated[bool, typer.Option("--refresh", help="重新连接并列出 connect and list again")] = False,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """一个外部服务的工具（是否需要审批）A server's tools, and which need approval."""
    open_city(data_dir)
    try:
        row = client.refresh(server_id, LOCAL_ADMIN) if refresh else client.get_server(server_id)
    except Problem as exc:
        fail(problem_message(exc))
    found = [t.to_dict() for t in client.server_tools(row)]
    if json_out:
        print_json(found)
        return
    table = Table("工具 tool", "需审批 approval", "说明 description")
    for t in found:
        table.add_row(t["qualified"], "是 yes" if t["writes"] else "否 no", t["description"][:80])
    out.print(table)


@servers.command("call")
def call(
    server_id: str,
    tool: str,
    arguments: Annotated[str, typer.Option("--args", help="参数（JSON 对象）arguments as a JSON object")] = "{}",
    text: Annotated[str, typer.Option(help="调用目的（供审批人阅读）what the call is for")] = "",
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """调用外部工具（经护栏；写入类先审批；回答作为数据引用）Call an outside tool through the guard."""
    open_city(data_dir)
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError as exc:
        fail(f"--args 不是 JSON / --args is not JSON: {exc.msg}")
    try:
        answer = client.call_tool(server_id, tool, parsed, LOCAL_ADMIN, text=text)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(answer.to_dict())
        return
    out.print(f"[bold]{answer.status}[/bold]" + (f"  审批 {answer.approval_id}" if answer.approval_id else ""))
    out.print(answer.text, markup=False)
