"""The assistant as an OpenAI-compatible model, `aicity-assistant`, served behind the
gateway's `/v1/chat/completions` (streaming and not). Citations travel as footnotes in the
content and as a structured `citations` field; `aicity` carries skills, departments, trace."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from aicity.assistant.service import AskResult, assistant, validate_text
from aicity.core.errors import Problem, bad_request
from aicity.core.ids import new_id
from aicity.hub.gateway import api as gateway_api
from aicity.identity.api import caller
from aicity.identity.service import Principal, acting_principal

MODEL_ID = "aicity-assistant"


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


class AicityOptions(BaseModel):
    role: str | None = None
    session_id: str | None = None
    #: a keyless session's token (returned in `aicity.session_token` of its first answer)
    session_token: str | None = Field(default=None, max_length=100)


class ChatRequest(BaseModel):
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    aicity: AicityOptions | None = Field(default=None, description="aicity 扩展：角色与会话")


def _text_of(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return "".join(p.get("text", "") for p in message.content if p.get("type") == "text")
    return message.content or ""


@dataclass(frozen=True)
class ChatCall:
    """A chat completion request read and checked: who calls, as whom, with which last user text."""

    body: ChatRequest
    opts: AicityOptions
    principal: Principal
    acting: Principal
    text: str


def read_chat(raw: dict[str, Any], request: Request) -> ChatCall:
    try:
        body = ChatRequest.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    principal = caller(request.headers.get("authorization"), request.headers.get("x-api-key"))
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise bad_request("messages 中没有 user 消息 no user message", "no-user-message")
    opts = body.aicity or AicityOptions()
    return ChatCall(body, opts, principal, acting_principal(principal, opts.role), validate_text(_text_of(users[-1])))


async def complete(raw: dict[str, Any], request: Request) -> Response:
    """Answer a chat completion request for `aicity-assistant` (the gateway routes it here)."""
    call = read_chat(raw, request)
    body, opts, acting, text = call.body, call.opts, call.acting, call.text
    reply = Completion(MODEL_ID)
    if not body.stream:
        result = await run_in_threadpool(assistant().ask, text, acting, opts.session_id, opts.session_token)
        return reply.whole(text, result)

    def answers() -> Iterator[AskResult]:
        for kind, payload in assistant().run(text, acting, opts.session_id, opts.session_token):
            if kind == "answer":
                yield payload

    return reply.streamed(answers)


class Completion:
    """One chat completion's answer in OpenAI's shape, whole or as server-sent chunks (the
    assistant's and a co-created agent's alike)."""

    def __init__(self, model: str) -> None:
        self.model, self.id, self.created = model, f"chatcmpl-{new_id('c')}", int(time.time())

    def whole(self, text: str, result: AskResult) -> JSONResponse:
        return JSONResponse({
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": result.answer}}],
            "usage": {"prompt_tokens": len(text), "completion_tokens": len(result.answer),
                      "total_tokens": len(text) + len(result.answer)},
            **_extras(result),
        })

    def chunk(self, delta: dict, finish: str | None = None, **extra: Any) -> str:
        payload = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def streamed(self, answers: Callable[[], Iterator[AskResult]]) -> StreamingResponse:
        """The answers `answers()` yields (run on a worker thread), paragraph by paragraph."""
        def stream() -> Iterator[str]:
            yield self.chunk({"role": "assistant", "content": ""})
            try:
                for result in answers():
                    for piece in result.answer.split("\n\n"):
                        yield self.chunk({"content": piece + "\n\n"})
                    yield self.chunk({}, "stop", **_extras(result))
            except Problem as exc:
                yield f"data: {json.dumps({'error': exc.body()}, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(iterate_in_threadpool(stream()), media_type="text/event-stream")


def _extras(result: AskResult) -> dict[str, Any]:
    return {
        "citations": result.citations,
        "aicity": {"skills": [s.model_dump() for s in result.skills], "departments": result.departments,
                   "trace_id": result.trace_id, "session_id": result.session_id,
                   "session_token": result.session_token,
                   "clarification": result.clarification, "event": result.event, "mode": result.mode,
                   "mode_confidence": result.mode_confidence},
    }


def register() -> Callable[[], None]:
    """Serve `aicity-assistant` from the gateway's `/v1/chat/completions` (the assistant
    slice's activation); returns what takes it away."""
    gateway_api.register_local_model(MODEL_ID, complete)
    return lambda: gateway_api.unregister_local_model(MODEL_ID)
