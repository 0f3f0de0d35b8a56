"""A scripted OpenAI-compatible model server for tests and benchmarks, on loopback.

It answers `/v1/chat/completions` (streaming and not, tool calls) and `/v1/embeddings`,
and misbehaves on request: latency, errors with Retry-After, garbage bodies, streams that
stall, context-window errors. `POST /_control` sets the behaviour; `GET /_requests` returns
what it received. Run alone with `python -m tests.support.upstream --port 9001 --name a`."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT = {"latency_ms": 0, "fail_status": None, "fail_count": 0, "retry_after": None, "garbage": False,
           "stall_after": None, "context_limit": None, "script": [], "require_key": None}


class Upstream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.behaviour: dict[str, Any] = dict(DEFAULT)
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            Route("/_control", self.control, methods=["POST"]),
            Route("/_requests", self.received, methods=["GET"]),
        ])

    async def control(self, request: Request) -> Response:
        update = await request.json()
        if update.get("reset"):
            self.behaviour, self.requests = dict(DEFAULT), []
        self.behaviour.update({k: v for k, v in update.items() if k != "reset"})
        return JSONResponse(self.behaviour)

    async def received(self, _: Request) -> Response:
        return JSONResponse(self.requests)

    async def _misbehave(self, request: Request, body: dict[str, Any]) -> Response | None:
        b = self.behaviour
        self.requests.append(body)
        if b["require_key"] and request.headers.get("authorization") != f"Bearer {b['require_key']}":
            return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
        if b["latency_ms"]:
            await asyncio.sleep(b["latency_ms"] / 1000)
        if b["fail_status"] and b["fail_count"] != 0:
            b["fail_count"] -= 1
            headers = {"Retry-After": str(b["retry_after"])} if b["retry_after"] is not None else {}
            return JSONResponse({"error": {"message": f"{self.name} failing on purpose"}}, status_code=b["fail_status"],
                                headers=headers)
        if b["garbage"]:
            return PlainTextResponse("<html>502 proxy error</html>", status_code=200)
        limit = b["context_limit"]
        if limit and sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) > limit:
            return JSONResponse({"error": {"message": f"This model's maximum context length is {limit} tokens",
                                           "code": "context_length_exceeded"}}, status_code=400)
        return None

    async def chat(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": {"message": "invalid JSON"}}, status_code=400)
        bad = await self._misbehave(request, body)
        if bad is not None:
            return bad
        script = self.behaviour["script"]
        message = script.pop(0) if script else {"content": f"[{self.name}] {_last_user(body)}"}
        message = {"role": "assistant", "content": message.get("content"), **{
            k: v for k, v in message.items() if k == "tool_calls"}}
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if not body.get("stream"):
            finish = "tool_calls" if message.get("tool_calls") else "stop"
            return JSONResponse({"id": "chatcmpl-x", "object": "chat.completion", "created": int(time.time()),
                                 "model": body.get("model"), "served_by": self.name,
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                 "usage": usage})
        return StreamingResponse(self._stream(body, message, usage), media_type="text/event-stream")

    async def _stream(self, body: dict, message: dict, usage: dict) -> AsyncIterator[str]:
        def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
            return "data: " + json.dumps({"id": "chatcmpl-x", "object": "chat.completion.chunk",
                                          "model": body.get("model"), "served_by": self.name,
                                          "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                                          **extra}) + "\n\n"

        pieces = [{"role": "assistant", "content": ""}]
        text = message.get("content") or ""
        pieces += [{"content": text[i:i + 4]} for i in range(0, len(text), 4)]
        if message.get("tool_calls"):
            pieces.append({"tool_calls": [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]})
        for n, delta in enumerate(pieces):
            if self.behaviour["stall_after"] is not None and n >= self.behaviour["stall_after"]:
                await asyncio.sleep(3600)
            yield chunk(delta)
        yield chunk({}, "tool_calls" if message.get("tool_calls") else "stop")
        yield "data: " + json.dumps({"id": "chatcmpl-x", "object": "chat.completion.chunk", "choices": [],
                                     "usage": usage}) + "\n\n"
        yield "data: [DONE]\n\n"

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        bad = await self._misbehave(request, body)
        if bad is not None:
            return bad
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(inputs)]
        return JSONResponse({"object": "list", "data": data, "model": body.get("model"),
                             "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})


def _last_user(body: dict) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return str(users[-1].get("content", "")) if users else ""


def _vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 for b in digest[:8]]


class RunningUpstream:
    """An Upstream served by uvicorn on a thread; `url` ends in /v1."""

    def __init__(self, name: str, port: int) -> None:
        self.upstream = Upstream(name)
        self.server = uvicorn.Server(uvicorn.Config(self.upstream.app, host="127.0.0.1", port=port,
                                                    log_level="warning", timeout_graceful_shutdown=1))
        self.url = f"http://127.0.0.1:{port}/v1"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("scripted upstream did not start")
            time.sleep(0.02)

    def set(self, **behaviour: Any) -> None:
        self.upstream.behaviour.update(behaviour)

    def reset(self) -> None:
        self.upstream.behaviour, self.upstream.requests = dict(DEFAULT), []

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.upstream.requests

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="upstream")
    args = parser.parse_args()
    uvicorn.run(Upstream(args.name).app, host="127.0.0.1", port=args.port, log_level="warning")
