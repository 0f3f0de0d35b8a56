"""The city as an MCP server at `/mcp` (Streamable HTTP, stateless, JSON answers).

Every request carries a platform API key (`Authorization: Bearer aic_…` or `X-API-Key`); without
a valid one the HTTP answer is 401 before the protocol library sees the request. What a caller
sees and may do follows the key's role:

- **tools** come from the sources registered with `serve_tools` (the assistant layer registers
  every agent's skills and the super assistant's `ask`: `aicity/assistant/mcp_tools.py`, because
  the hub may not import the agents). Each call is rate-limited like the assistant (per key),
  its text arguments go through the guard's input stage (a blocked call is refused and audited),
  the tool runs in a worker thread, its answer goes through the guard's output stage, and the call
  is recorded in the audit ledger and as a trace;
- **resources**: the documents of the knowledge bases the key may read, `aicity://kb/{kb}/{doc}`
  (the document's text, screened by the guard's `retrieved` stage like any passage the city quotes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from aicity import __version__
from aicity.core import audit
from aicity.core.errors import PROBLEM_JSON, Problem, unauthorized
from aicity.core.slices import Mounted, Stop
from aicity.core.tracing import Tracer
from aicity.hub.knowledge import service as knowledge
from aicity.identity import auth
from aicity.identity.api import bearer
from aicity.identity.service import Principal
from aicity.security import guard

log = logging.getLogger(__name__)

PATH = "/mcp"
RESOURCE_PREFIX = "aicity://kb/"
_PRINCIPAL = "aicity.principal"
_INSTRUCTIONS = ("城市超级助理与城市智能中枢：工具是各智能体的技能（作用于城市设施的技能只会提交审批申请）与超级助理 ask；"
                 "资源是您有权阅读的知识库文档。The city's skills (actuating ones only file approval requests), "
                 "the super assistant `ask`, and the knowledge-base documents your key may read.")


@dataclass(frozen=True)
class Served:
    """What a served tool answers: Markdown text, optional structured data, whether it failed."""

    text: str
    data: dict[str, Any] | None = None
    is_error: bool = False


@dataclass(frozen=True)
class ServedTool:
    """A tool the city serves. `run(arguments, principal, tracer)` runs in a worker thread; it may
    raise `Problem` (answered as a tool error). `allowed` decides whether a caller sees and may call it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[dict[str, Any], Principal, Tracer], Served]
    title: str = ""
    read_only: bool = True
    destructive: bool = False
    allowed: Callable[[Principal], bool] = field(default=lambda _p: True)
    #: the tool runs the guard's input and output stages itself (the super assistant does): not twice
    screens_itself: bool = False


ToolSource = Callable[[], list[ServedTool]]
_sources: list[ToolSource] = []
_lock = threading.Lock()


def serve_tools(source: ToolSource) -> Stop:
    """Register a source of served tools (called on every listing and call); returns what removes it."""
    with _lock:
        _sources.append(source)

    def remove() -> None:
        with _lock:
            if source in _sources:
                _sources.remove(source)

    return remove


def served_tools() -> dict[str, ServedTool]:
    with _lock:
        sources = list(_sources)
    return {t.name: t for source in sources for t in source()}


# ---- the protocol's handlers ------------------------------------------------------------------------

def _principal(ctx: Any) -> Principal:
    request = ctx.request
    principal = request.scope.get(_PRINCIPAL) if request is not None else None
    if not isinstance(principal, Principal):  # the door (`_Keyed`) lets nothing through without one
        raise MCPError(types.INVALID_REQUEST, "未认证 unauthenticated")
    return principal


def _client(ctx: Any) -> str:
    request = ctx.request
    return request.client.host if request is not None and request.client else "unknown"


def _tool_view(t: ServedTool) -> types.Tool:
    return types.Tool(name=t.name, title=t.title or None, description=t.description, input_schema=t.input_schema,
                      annotations=types.ToolAnnotations(title=t.title or None, read_only_hint=t.read_only,
                                                        destructive_hint=t.destructive))


async def _list_tools(ctx: Any, _params: Any) -> types.ListToolsResult:
    principal = _principal(ctx)
    tools = await anyio.to_thread.run_sync(served_tools)
    return types.ListToolsResult(tools=[_tool_view(t) for t in tools.values() if t.allowed(principal)])


def _failed(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON value (what the guard reads of a call's arguments)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def call_served(name: str, arguments: dict[str, Any], principal: Principal, client: str) -> types.CallToolResult:
    """One call of a served tool, as the protocol answers it (the thread-side half of tools/call)."""
    tool = served_tools().get(name)
    if tool is None:
        raise MCPError(types.INVALID_PARAMS, f"没有这个工具 unknown tool '{name}'")
    if not tool.allowed(principal):
        audit.record(principal.actor, "mcp.serve.denied", name, {"role": principal.role.value})
        return _failed(f"无权使用工具 “{name}” / the key's role ({principal.role.value}) may not use this tool")
    auth.admit_assistant(principal, client)  # Problem 429 when the key asks too often
    said = "\n".join(_strings(arguments))
    tracer = Tracer("mcp", principal.role.value, {"tool": name, "arguments": arguments}, redact=guard.redact,
                    owner=principal.key_id)
    if not tool.screens_itself:
        guard.enforce(said, "input", principal.role.value, "mcp")  # Problem 400 guard-blocked, audited
    error: str | None = None
    try:
        answer = tool.run(arguments, principal, tracer)
    except Problem as exc:
        answer, error = Served(f"{exc.title}：{exc.detail}", is_error=True), exc.type_
    checked = (guard.GuardResult("output", "allow", [], answer.text) if tool.screens_itself
               else guard.check(answer.text, "output", principal.role.value, own=said))
    guard.note(checked, tracer)
    text = checked.text or "〔回答未通过安全检查，已拦截 withheld by the guard〕"
    tracer.status = "error" if answer.is_error else "ok"
    tracer.save({"tool": name, "is_error": answer.is_error})
    audit.record(principal.actor, "mcp.serve.call", name,
                 {"trace_id": tracer.id, "arguments": guard.redact(arguments), "is_error": answer.is_error,
                  "error": error, "read_only": tool.read_only})
    data = {**(answer.data or {}), "trace_id": tracer.id}
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                structured_content=guard.redact(data) if checked.verdict != "allow" else data,
                                is_error=answer.is_error)


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    principal = _principal(ctx)
    try:
        return await anyio.to_thread.run_sync(call_served, params.name, dict(params.arguments or {}), principal,
                                              _client(ctx))
    except Problem as exc:  # rate limit, guard block: a tool error the caller (a model) can read
        return _failed(f"{exc.title}：{exc.detail}")


def _uri(kb: str, key: str) -> str:
    return f"{RESOURCE_PREFIX}{quote(kb, safe='')}/{quote(key, safe='')}"


def _resources(principal: Principal) -> list[types.Resource]:
    readable = knowledge.readable_kbs(principal)
    return [types.Resource(uri=_uri(d.kb, d.key), name=d.key, title=d.title, mime_type="text/markdown",
                           description=f"知识库 {d.kb}：{d.title}" + (f"（{d.date}）" if d.date else ""))
            for d in knowledge.list_documents(readable)]


async def _list_resources(ctx: Any, _params: Any) -> types.ListResourcesResult:
    principal = _principal(ctx)
    return types.ListResourcesResult(resources=await anyio.to_thread.run_sync(_resources, principal))


async def _list_templates(ctx: Any, _params: Any) -> types.ListResourceTemplatesResult:
    _principal(ctx)
    return types.ListResourceTemplatesResult(resource_templates=[types.ResourceTemplate(
        name="kb-document", title="知识库文档 knowledge-base document", uri_template=RESOURCE_PREFIX + "{kb}/{doc}",
        mime_type="text/markdown", description="一份文档的全文 the text of one document")])


def read_document(uri: str, principal: Principal, client: str) -> str:
    """The text of the document `uri` names, if the principal may read its knowledge base."""
    rest = uri[len(RESOURCE_PREFIX):] if uri.startswith(RESOURCE_PREFIX) else ""
    kb, _, key = rest.partition("/")
    if not kb or not key or "/" in key:
        raise MCPError(types.INVALID_PARAMS, f"资源地址应为 {RESOURCE_PREFIX}{{kb}}/{{doc}} / not a document URI")
    auth.admit_assistant(principal, client)
    kb, key = unquote(kb), unquote(key)
    try:
        knowledge.require(principal, kb, "read")  # 404 when it may not read it: its existence is not disclosed
        doc, chunks = knowledge.document_chunks(kb, key)
    except Problem as exc:
        raise MCPError(types.INVALID_PARAMS, f"{exc.title}：{exc.detail}") from None
    body = [f"# {doc.title}", *(c.text for c in chunks)]
    checked = guard.check("\n\n".join(body), "retrieved", principal.role.value)
    audit.record(principal.actor, "mcp.serve.read", uri[:500], {"verdict": checked.verdict})
    return checked.text or "〔内容未通过安全检查，已拦截 withheld by the guard〕"


async def _read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    principal = _principal(ctx)
    uri = str(params.uri)
    try:
        text = await anyio.to_thread.run_sync(read_document, uri, principal, _client(ctx))
    except Problem as exc:
        raise MCPError(types.INVALID_REQUEST, f"{exc.title}：{exc.detail}") from None
    return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type="text/markdown",
                                                                         text=text)])


# ---- the door: a platform key on every request --------------------------------------------------------

class _Keyed:
    """ASGI: a valid platform key (or console session) on every HTTP request, else 401 problem."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope["client"][0] if scope.get("client") else "unknown"
        presented = bearer(headers.get("authorization")) or headers.get("x-api-key")
        try:
            if not presented:
                raise unauthorized("需要 API key：Authorization: Bearer aic_… / an API key is required")
            principal = await anyio.to_thread.run_sync(auth.identify, presented, None, client)
            if principal is None:
                raise unauthorized("需要 API key / an API key is required")
        except Problem as exc:
            response = JSONResponse(exc.body(scope.get("path")), status_code=exc.status, media_type=PROBLEM_JSON,
                                    headers={"WWW-Authenticate": "Bearer", **exc.headers})
            await response(scope, receive, send)
            return
        scope[_PRINCIPAL] = principal
        await self.app(scope, receive, send)


def build_server() -> Server[Any]:
    return Server("aicity", version=__version__, title="AI CITY 城市超级助理", instructions=_INSTRUCTIONS,
                  on_list_tools=_list_tools, on_call_tool=_call_tool, on_list_resources=_list_resources,
                  on_list_resource_templates=_list_templates, on_read_resource=_read_resource)


def mount() -> Mounted:
    """The slice's mount (`Slice.mounts`): a fresh server and session manager per app built."""
    manager = StreamableHTTPSessionManager(
        app=build_server(), stateless=True, json_response=True,
        # callers are authenticated by key, which a browser page cannot attach to a rebinding request
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    return Mounted(app=_Keyed(StreamableHTTPASGIApp(manager)), lifespan=manager.run)
