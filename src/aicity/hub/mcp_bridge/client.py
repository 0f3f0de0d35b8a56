"""Outside MCP servers as tools of the city (the MCP client).

Admins register a server — Streamable HTTP (`url`) or a local command over stdio (`command`) —
and its tools are listed at once: a server that cannot be reached or listed is a 502/504 problem
and nothing is stored. HTTP connections follow the platform's egress rules (`core/egress.py`:
public addresses only unless on `egress_allow`, each connection to the address checked, no
redirects, no environment proxies).

A call of an outside tool (`call_tool`, or a `McpTool` from `tools_for`, which agents are given):

1. is rate-limited per key and server (`[aicity.mcp] call_rate`);
2. goes through the guard on the way in: its text arguments at the input stage (blocked → 400);
3. when the tool is declared as writing (`readOnlyHint: false` or `destructiveHint: true`; a tool
   without annotations per `[aicity.mcp] unannotated`), is queued for approval by the policy
   (`security/approvals.py`), never run straight away; the approved call runs through
   `run_approved`;
4. goes through the guard on the way out: the answer is data, never instructions — the guard's
   `tool` stage (the indirect-injection check) neutralises instructions in it, and the answer is
   handed on as a quoted data block (`guard.as_data`); its findings go to the caller's trace, so a
   later actuation in the same turn is refused (`approvals.untrusted_findings`);
5. is recorded in the audit ledger (arguments with personal information masked, the verdict).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limits import parse
from sqlalchemy import select

from aicity.core import audit, egress, scale
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request, forbidden, not_found, too_many
from aicity.core.ids import utcnow
from aicity.core.tracing import Tracer
from aicity.hub.mcp_bridge import connect
from aicity.hub.mcp_bridge.connect import Spec
from aicity.hub.mcp_bridge.models import McpServer
from aicity.hub.mcp_bridge.settings import McpSettings
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals, guard

if TYPE_CHECKING:  # the MCP SDK loads with the first connection (connect.py)
    from mcp import Client

log = logging.getLogger(__name__)

#: approval requests for outside tools name the agent `mcp.<server id>` (the skill is the tool's name)
APPROVAL_AGENT_PREFIX = "mcp."
#: a tool's qualified name, as agents and models see it: `<server id>__<tool name>`
SEPARATOR = "__"
_ID = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


def config() -> McpSettings:
    return settings().section(McpSettings)


# ---- what a tool is ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ToolAnswer:
    """An outside tool's answer as the city hands it on. `text` is a quoted data block (never to be
    followed as instructions); `status`: ok | error (the tool said it failed) | approval-required |
    denied | refused (the approval queue's decision); `findings`: what the guard found in the answer."""

    server: str
    tool: str
    status: str
    text: str
    verdict: str = "allow"
    findings: tuple[dict[str, Any], ...] = ()
    approval_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "tool": self.tool, "status": self.status, "text": self.text,
                "verdict": self.verdict, "findings": list(self.findings), "approval_id": self.approval_id}


@dataclass(frozen=True)
class McpTool:
    """One tool of a registered outside server, as an agent is given it (`tools_for`)."""

    server: str
    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool | None
    destructive: bool | None

    @property
    def qualified(self) -> str:
        """The name agents and models see: `<server>__<tool>`."""
        return f"{self.server}{SEPARATOR}{self.name}"

    @property
    def writes(self) -> bool:
        """Declared as writing (needs approval): `readOnlyHint: false` or `destructiveHint: true`;
        a tool that declares neither counts as `[aicity.mcp] unannotated` says."""
        if self.read_only is None and self.destructive is None:
            return config().unannotated == "write"
        return self.read_only is False or self.destructive is True

    def call(self, arguments: dict[str, Any], principal: Principal, text: str = "",
             tracer: Tracer | None = None) -> ToolAnswer:
        return call_tool(self.server, self.name, arguments, principal, text=text, tracer=tracer)

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "name": self.name, "qualified": self.qualified, "title": self.title,
                "description": self.description, "input_schema": self.input_schema, "read_only": self.read_only,
                "destructive": self.destructive, "writes": self.writes}


def _tool_row(t: Any) -> dict[str, Any]:
    hints = t.annotations
    return {"name": t.name, "title": t.title or (hints.title if hints and hints.title else "") or "",
            "description": t.description or "", "input_schema": dict(t.input_schema or {}),
            "read_only": hints.read_only_hint if hints else None,
            "destructive": hints.destructive_hint if hints else None}


async def _list_tools(client: Client) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(50):  # a server that pages forever cannot hang the registration
        page = await client.list_tools(cursor=cursor)
        rows += [_tool_row(t) for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            break
    return rows


def _spec(row: McpServer) -> Spec:
    return Spec(row.transport, row.url, tuple(row.command or ()),
                tuple(sorted((str(k), str(v)) for k, v in (row.headers or {}).items())))


# ---- the register of servers ------------------------------------------------------------------------

def view(row: McpServer) -> dict[str, Any]:
    """A server as the API and CLI show it (header values never shown back)."""
    return {"id": row.id, "title": row.title, "transport": row.transport, "url": row.url,
            "command": list(row.command or []), "headers": sorted((row.headers or {}).keys()),
            "status": row.status, "last_error": row.last_error, "tools": len(row.tools or []),
            "created_by": row.created_by, "created_at": row.created_at.isoformat(timespec="seconds"),
            "checked_at": row.checked_at.isoformat(timespec="seconds")}


def _require_admin(principal: Principal) -> None:
    if principal.role != Role.admin:
        raise forbidden("只有管理员可以管理外部 MCP 服务 / only admins manage outside MCP servers")


def add_server(server_id: str, principal: Principal, *, url: str | None = None, command: list[str] | None = None,
               title: str = "", headers: dict[str, str] | None = None, via_http: bool = False) -> McpServer:
    """Register an outside server: checked, connected and its tools listed, then stored — or a problem
    (400 bad input or egress refused, 409 id taken, 502/504 unreachable) and nothing stored."""
    _require_admin(principal)
    if not _ID.match(server_id or ""):
        raise bad_request("服务 id 须为 2–40 位小写字母、数字和 - ，以字母开头 / id: 2–40 of a-z 0-9 -", "mcp-bad-id")
    if (url is None) == (not command):
        raise bad_request("须且只能给出 url（Streamable HTTP）或 command（stdio）之一 / give url or command",
                          "mcp-bad-server")
    if command and via_http and not config().stdio_over_http:
        raise forbidden("通过 REST 注册本地命令（stdio）已关闭，请用 CLI：aicity mcp servers add --command … / "
                        "stdio servers are registered with the CLI ([aicity.mcp] stdio_over_http)", "mcp-stdio-off")
    if url is not None:
        try:
            egress.check_url(url)
        except egress.EgressDenied as exc:
            raise bad_request(f"不允许连接该地址 / egress refused: {exc}", "egress-denied") from None
    with database().session() as s:
        if s.get(McpServer, server_id) is not None:
            raise Problem(409, "服务 id 已被使用 Server id taken", f"'{server_id}' 已注册", "mcp-id-taken")
    transport = "http" if url is not None else "stdio"
    clean_headers = {str(k): str(v) for k, v in (headers or {}).items()}
    tools = connect.once(Spec(transport, url, tuple(command or ()), tuple(sorted(clean_headers.items()))),
                         _list_tools)
    now = utcnow()
    row = McpServer(id=server_id, title=title or server_id, transport=transport, url=url, command=list(command or []),
                    headers=clean_headers, status="ok", last_error=None, tools=tools, created_by=principal.actor,
                    created_at=now, checked_at=now)
    with database().session() as s:
        if s.get(McpServer, server_id) is not None:  # registered by someone else meanwhile
            raise Problem(409, "服务 id 已被使用 Server id taken", f"'{server_id}' 已注册", "mcp-id-taken")
        s.add(row)
    audit.record(principal.actor, "mcp.server.added", server_id,
                 {"transport": transport, "url": url, "command": list(command or []), "tools": [t["name"] for t in tools]})
    return row


def get_server(server_id: str) -> McpServer:
    with database().session() as s:
        row = s.get(McpServer, server_id)
    if row is None:
        raise not_found(f"外部 MCP 服务 '{server_id}' 未注册 unknown MCP server", "unknown-mcp-server")
    return row


def list_servers() -> list[McpServer]:
    with database().session() as s:
        return list(s.scalars(select(McpServer).order_by(McpServer.id)))


def remove_server(server_id: str, principal: Principal) -> None:
    _require_admin(principal)
    get_server(server_id)
    with database().session() as s:
        row = s.get(McpServer, server_id)
        if row is not None:
            s.delete(row)
    connect.close(server_id)
    audit.record(principal.actor, "mcp.server.removed", server_id, {})


def refresh(server_id: str, principal: Principal) -> McpServer:
    """List the server's tools again; its status says whether it answered (a failure is stored, then raised)."""
    _require_admin(principal)
    row = get_server(server_id)
    try:
        tools = connect.once(_spec(row), _list_tools)
    except Problem as exc:
        with database().session() as s:
            stored = s.get(McpServer, server_id)
            if stored is not None:
                stored.status = "unreachable" if exc.status in (502, 504) else "error"
                stored.last_error, stored.checked_at = exc.detail, utcnow()
        raise
    connect.close(server_id)  # the next call opens a session on what was listed now
    with database().session() as s:
        stored = s.get(McpServer, server_id)
        if stored is None:
            raise not_found(f"外部 MCP 服务 '{server_id}' 未注册 unknown MCP server", "unknown-mcp-server")
        stored.tools, stored.status, stored.last_error, stored.checked_at = tools, "ok", None, utcnow()
        row = stored
    return row


def server_tools(row: McpServer) -> list[McpTool]:
    return [McpTool(server=row.id, name=t["name"], title=t.get("title", ""), description=t.get("description", ""),
                    input_schema=t.get("input_schema", {}), read_only=t.get("read_only"),
                    destructive=t.get("destructive")) for t in row.tools or []]


def tools_for(server_ids: list[str]) -> list[McpTool]:
    """The tools of these registered servers, as agents are given them (404 problem for an unknown id).
    Each `McpTool.call` goes through `call_tool`: rate limit, guard in, approval for writing tools,
    guard out (the answer as quoted data), audit."""
    return [tool for server_id in dict.fromkeys(server_ids) for tool in server_tools(get_server(server_id))]


# ---- calls ------------------------------------------------------------------------------------------

def _admit(principal: Principal, server_id: str) -> None:
    rate = config().call_rate
    item = parse(rate)
    who = f"{principal.key_id or principal.actor}:{server_id}"
    if not scale.limiter().hit(item, "mcp-call", who):
        reset = scale.limiter().get_window_stats(item, "mcp-call", who).reset_time
        raise too_many(f"调用外部工具过于频繁（上限 {rate}）too many calls of this server's tools",
                       reset - utcnow().timestamp(), "rate-limited")


def _answer_text(result: Any) -> str:
    parts: list[str] = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource" and hasattr(block.resource, "text"):
            parts.append(block.resource.text)
        else:
            parts.append(f"〔{kind or '未知'} 内容未转为文字 non-text content〕")
    if result.structured_content is not None and not parts:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def _find_tool(server_id: str, name: str) -> tuple[McpServer, McpTool]:
    row = get_server(server_id)
    for tool in server_tools(row):
        if tool.name == name:
            return row, tool
    raise not_found(f"服务 '{server_id}' 没有工具 '{name}' / unknown tool", "unknown-mcp-tool")


def call_tool(server_id: str, name: str, arguments: dict[str, Any], principal: Principal, *, text: str = "",
              tracer: Tracer | None = None, approved: bool = False) -> ToolAnswer:
    """Call one outside tool for `principal` (`text`: the request it serves, for the approval queue)."""
    row, tool = _find_tool(server_id, name)
    if not isinstance(arguments, dict):
        raise bad_request("arguments 须为 JSON 对象 / arguments must be an object", "mcp-bad-arguments")
    role = principal.role.value
    said = json.dumps(arguments, ensure_ascii=False)
    target = f"{server_id}.{name}"
    if not approved:
        _admit(principal, server_id)
        guard.enforce(said, "input", role, "mcp-client")  # 400 guard-blocked, audited
        if tool.writes:
            outcome = approvals.submit(APPROVAL_AGENT_PREFIX + server_id, name, {"arguments": said},
                                       text or f"调用外部工具 {target} call {target}", tool.title or tool.qualified,
                                       principal, tracer or Tracer("mcp-client", role, {"tool": target}))
            return ToolAnswer(server_id, name, outcome.decision, outcome.body, approval_id=outcome.approval_id)
    async def work(client: Client) -> Any:
        return await client.call_tool(name, arguments)

    try:
        result = connect.pooled(server_id, _spec(row), work)
    except Problem as exc:
        audit.record(principal.actor, "mcp.tool.failed", target, {"arguments": guard.redact(arguments),
                                                                  "error": exc.type_})
        raise
    raw = _answer_text(result)[:config().max_answer_chars]
    quoted, checked = guard.as_data(raw, "tool", role, tracer)
    findings = tuple(checked.summary())
    status = "error" if result.is_error else "ok"
    audit.record(principal.actor, "mcp.tool.call", target,
                 {"arguments": guard.redact(arguments), "status": status, "verdict": checked.verdict,
                  "findings": list(findings), "approved": approved,
                  "trace_id": tracer.id if tracer is not None else None})
    return ToolAnswer(server_id, name, status, quoted, checked.verdict, findings)


def run_approved(agent: str, skill: str, params: dict[str, str], text: str, principal: Principal,
                 tracer: Tracer) -> list[dict[str, Any]]:
    """The approval queue's executor for outside tools (`mcp.<server>`): the approved call, its answer
    as a section (the answer as quoted data)."""
    arguments = json.loads(params.get("arguments", "{}"))
    answer = call_tool(agent[len(APPROVAL_AGENT_PREFIX):], skill, arguments, principal, text=text, tracer=tracer,
                       approved=True)
    return [{"title": f"外部工具 {answer.server}.{answer.tool}", "body": answer.text,
             "kind": "error" if answer.status == "error" else "info"}]
