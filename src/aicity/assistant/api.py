"""The assistant's HTTP API: ask, ask with a stream of plan steps (SSE), sessions, traces."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from aicity.assistant import sessions, unserved
from aicity.assistant.schemas import SessionView, TraceView, UnservedView
from aicity.assistant.service import AskResult, assistant, validate_text
from aicity.core.errors import Problem, forbidden, not_found
from aicity.core.tracing import get_trace, recent_traces
from aicity.identity.api import Caller
from aicity.identity.models import Role
from aicity.identity.service import acting_principal

router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])


class AskRequest(BaseModel):
    text: str = Field(description="问题 the request", examples=["我想在自家小区楼下开个小便利店，需要办哪些手续？"])
    role: str | None = Field(default=None, description="citizen | enterprise | official | operator | admin")
    session_id: str | None = None
    session_token: str | None = Field(default=None, max_length=100, description=(
        "无 key 会话的令牌（首次回答时返回）a keyless session's token, returned with its first answer"))


#: a keyless caller's session token on reads (a header, so that it stays out of URLs and logs)
SessionToken = Annotated[str | None, Header(alias="X-Session-Token", max_length=100,
                                            description="无 key 会话的令牌 a keyless session's token")]


@router.post("/ask", response_model=AskResult, summary="向超级助理提问 Ask")
async def ask(body: AskRequest, principal: Caller, token: SessionToken = None) -> AskResult:
    """A keyless caller gets a `session_token` with the answer: only it continues the session or
    reads the session and its traces (send it in `session_token` or the X-Session-Token header)."""
    acting = acting_principal(principal, body.role)
    return await run_in_threadpool(assistant().ask, body.text, acting, body.session_id, body.session_token or token)


@router.post("/ask/stream", summary="提问并流式返回计划步骤与答案 (SSE)",
             response_class=EventSourceResponse,
             responses={200: {"description": "Server-Sent Events: plan, step…, answer (or error)",
                              "content": {"text/event-stream": {}}}})
async def ask_stream(body: AskRequest, principal: Caller, token: SessionToken = None) -> EventSourceResponse:
    """Events: `plan` (the sub-tasks), `step` (one per skill as it finishes), `answer` (the
    full result), or `error` (a problem body). Validation errors answer before the stream."""
    acting = acting_principal(principal, body.role)
    validate_text(body.text)
    token = body.session_token or token
    if body.session_id:
        sessions.get_session(body.session_id, acting, token)
    queue: asyncio.Queue = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def produce() -> None:
        try:
            for kind, payload in assistant().run(body.text, acting, body.session_id, token):
                data = payload.model_dump() if isinstance(payload, BaseModel) else payload
                loop.call_soon_threadsafe(queue.put_nowait, (kind, data))
        except Problem as exc:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc.body()))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def events() -> AsyncIterator[dict]:
        task = loop.run_in_executor(None, produce)
        while (item := await queue.get()) is not None:
            yield {"event": item[0], "data": json.dumps(item[1], ensure_ascii=False)}
        await task

    return EventSourceResponse(events())


@router.get("/sessions/{session_id}", response_model=SessionView, summary="会话记录 A session's turns")
def get_session(session_id: str, principal: Caller, token: SessionToken = None) -> dict:
    """Only the key that opened the session reads it (a keyless session: whoever presents its
    session token); admins read any. Another's session answers 404."""
    s = sessions.get_session(session_id, acting_principal(principal, None), token)
    return {"id": s.id, "role": s.role, "turns": s.turns, "pending": bool(s.pending), "slots": s.slots}


@router.get("/unserved", response_model=list[UnservedView],
            summary="目录未覆盖的诉求（工作人员）Requests the catalog could not serve (staff)")
def unserved_list(principal: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return unserved.recent(limit)


traces = APIRouter(prefix="/api/v1/traces", tags=["traces"])


def _trace_dict(t) -> dict:
    return {"id": t.id, "kind": t.kind, "role": t.role, "session_id": t.session_id,
            "created_at": t.created_at.isoformat(), "duration_ms": t.duration_ms, "status": t.status,
            "request": t.request, "steps": t.steps, "summary": t.summary}


@traces.get("/{trace_id}", response_model=TraceView, summary="一次运行的轨迹 A run's trace")
def trace(trace_id: str, principal: Caller, token: SessionToken = None) -> dict:
    """The key that made the run reads its trace; admins any. A run made without a key (a citizen
    in the console) is read, like its session, only with the session token returned to whoever
    made it. Anyone else gets 404."""
    t = get_trace(trace_id)
    if t is None or not sessions.may_read(t.owner, acting_principal(principal, None), token):
        raise not_found(f"trace '{trace_id}' not found", "unknown-trace")
    return _trace_dict(t)


@traces.get("", response_model=list[TraceView], summary="最近的运行（工作人员）Recent runs (staff)")
def traces_list(principal: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
    """Admins see every run; officials and operators see only the runs of their own key."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    owner = None if principal.role == Role.admin else principal.key_id
    return [_trace_dict(t) for t in recent_traces(limit, owner=owner)]
