"""One check at the door for every JSON request body: values JSON cannot carry are refused with
400 before any route sees them, so nothing stored can break a later read.

Bodies larger than `max_request_bytes` (any kind, by Content-Length or as they stream in) or
`max_json_bytes` (JSON, which is read whole) are refused with 413 first, so no upload is spooled
to disk or memory past the limit before a route can say no.

Refused: NaN, Infinity and -Infinity (Python's json reads them, no JSON writer may emit them), a
lone UTF-16 surrogate (`"\\ud800"`: no UTF-8 text holds one), nesting deeper than
`max_json_depth`, and text that is not JSON at all when the route expects JSON. A slice whose
protocol has its own error shape (NGSI-LD) registers how it answers under its path prefix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aicity.core.config import settings
from aicity.core.errors import PROBLEM_JSON, Problem, bad_request

#: path prefix → (detail → (status, body, media type)) for protocols with their own error shape
ANSWERS: dict[str, Callable[[str], tuple[int, dict[str, Any], str]]] = {}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: the ASGI scope key under which the door check leaves the body it parsed (`parsed_body`), so a
#: route that reads JSON itself (NGSI-LD) does not parse it a second time
PARSED = "aicity.json_body"


class UnsafeJson(ValueError):
    """A JSON text the platform refuses; the message says why."""


def _constant(name: str) -> Any:
    raise UnsafeJson(f"JSON 不允许 {name}（非有限数）/ {name} is not a JSON number")


def _finite(text: str) -> float:
    """A JSON number; one too large for a float (1e999) would become Infinity, so it is refused too."""
    value = float(text)
    if not math.isfinite(value):
        _constant(text)
    return value


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeJson(f"{where} 含有孤立的代理字符 / a lone surrogate is not text") from None


def check(value: Any, max_depth: int) -> None:
    """Raise `UnsafeJson` when `value` (parsed JSON) nests deeper than `max_depth` or holds a
    lone surrogate in a string or a key."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, "字符串 a string")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise UnsafeJson(f"JSON 嵌套超过 {max_depth} 层 / nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key, "键 a key")
                stack.append((inner, depth + 1))
        else:
            stack.extend((inner, depth + 1) for inner in item)


def loads(raw: bytes | str, max_depth: int | None = None) -> Any:
    """`json.loads` that refuses what `check` refuses (and nesting too deep for the parser)."""
    try:
        value = json.loads(raw, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise UnsafeJson("JSON 嵌套过深 / nested too deeply") from None
    check(value, settings().max_json_depth if max_depth is None else max_depth)
    return value


def parsed_body(scope: Scope, raw: bytes) -> Any:
    """The request's JSON body: the value the door check parsed, else `raw` parsed by `loads`
    (a body the check did not read: an app without the middleware, a non-JSON content type)."""
    if PARSED in scope:
        return scope[PARSED]
    return loads(raw)


def iso_date(value: str | None, name: str) -> str | None:
    """`value` when it is a real calendar date (YYYY-MM-DD), else 400: 2024-02-30 is refused."""
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name} 不是有效日期 is not a real date (YYYY-MM-DD): {value[:40]}", "invalid-date") from None
    return value


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> Problem:
    return Problem(413, "内容过大 Too large", f"请求体超过 {limit} 字节 the request body is larger than {limit} bytes",
                   "body-too-large", limit=limit)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True  # no content type: some FastAPI versions still read the body as JSON


class JsonBodyCheck:
    """ASGI middleware: reads a JSON request's body, checks it, and replays it to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = settings().max_request_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_problem(scope, send, _too_large(limit))
            return
        if not _is_json(scope):
            await self.app(scope, _counted(receive, limit), send)
            return
        limit = min(limit, settings().max_json_bytes)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await _send_problem(scope, send, _too_large(limit))
                return
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        if raw.strip():
            try:
                scope[PARSED] = loads(raw)
            except UnsafeJson as exc:
                await _refuse(scope, send, str(exc))
                return
            except ValueError:  # not JSON at all: the route answers as it always has
                pass
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


def _counted(receive: Receive, limit: int) -> Receive:
    """`receive` that ends a streamed body (no Content-Length) past `limit` as a disconnect: the
    route stops reading and stores nothing."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        return {"type": "http.disconnect"} if size > limit else message

    return counted


async def _refuse(scope: Scope, send: Send, detail: str) -> None:
    path = scope.get("path", "")
    answer = next((fn for prefix, fn in ANSWERS.items() if path.startswith(prefix)), None)
    if answer is not None:
        status, body, media = answer(detail)
        await _send(send, status, body, media)
    else:
        await _send_problem(scope, send, bad_request(detail, "unsafe-json"))


async def _send_problem(scope: Scope, send: Send, problem: Problem) -> None:
    await _send(send, problem.status, problem.body(scope.get("path", "")), PROBLEM_JSON)


async def _send(send: Send, status: int, body: dict[str, Any], media: str) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media.encode()), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
