"""RFC 9457 problem details: one error type for the whole platform, one JSON shape on the wire."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """A failure the caller can act on. `type_` is a short slug, e.g. `text-too-long`."""

    def __init__(self, status: int, title: str, detail: str = "", type_: str = "about:blank", **extra: Any):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type_ = type_
        self.extra = extra
        #: response headers, e.g. Retry-After on a 429
        self.headers: dict[str, str] = {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_ if self.type_ == "about:blank" else f"urn:aicity:problem:{self.type_}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class ProblemBody(BaseModel):
    """The RFC 9457 body every error is answered with."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


_PROBLEM_SCHEMA = {"application/problem+json": {"schema": ProblemBody.model_json_schema()}}
#: documented on every route: the errors any of them may answer with
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": _PROBLEM_SCHEMA}
    for status, text in [
        (400, "请求无效 Bad request"), (401, "API key 无效 Invalid API key"), (403, "无权访问 Forbidden"),
        (404, "未找到 Not found"), (413, "内容过大 Too large"), (415, "格式不支持 Unsupported media type"),
        (422, "请求内容不合法 Unprocessable"), (429, "超出配额 Too many requests (see Retry-After)"),
        (502, "上游模型出错 Bad gateway"), (503, "暂不可用 Not ready"), (504, "上游模型超时 Gateway timeout"),
    ]
}


def bad_request(detail: str, type_: str = "invalid-request", **extra: Any) -> Problem:
    return Problem(400, "请求无效 Bad request", detail, type_, **extra)


def not_found(detail: str, type_: str = "not-found") -> Problem:
    return Problem(404, "未找到 Not found", detail, type_)


def forbidden(detail: str, type_: str = "forbidden") -> Problem:
    return Problem(403, "无权访问 Forbidden", detail, type_)


def conflict(detail: str, type_: str = "conflict") -> Problem:
    """409: the request clashes with the current state (already decided, duplicate, wrong stage)."""
    return Problem(409, "状态冲突 Conflict", detail, type_)


def unauthorized(detail: str) -> Problem:
    return Problem(401, "未认证 Unauthorized", detail, "unauthorized")


def too_many(detail: str, retry_after: float, kind: str, **extra: object) -> Problem:
    """429 with `Retry-After` (whole seconds, at least 1): a quota or rate limit was hit."""
    seconds = max(1, math.ceil(retry_after))
    problem = Problem(429, "超出配额 Quota exceeded", detail, kind, retry_after=seconds, **extra)
    problem.headers["Retry-After"] = str(seconds)
    return problem


def _problem_response(problem: Problem, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else {}
    headers.update(problem.headers)
    body = problem.body(request.url.path)
    if request.url.path.startswith("/v1/"):  # OpenAI clients read `error`; keep both shapes
        body["error"] = {"message": f"{problem.title}: {problem.detail}", "type": problem.type_,
                         "code": problem.status}
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


#: a store that is away (the database restarting, Redis unreachable) is answered 503 with this
#: Retry-After, so clients and load balancers back off instead of seeing a 500
UNAVAILABLE_RETRY_S = 5


def unavailable(what: str) -> Problem:
    problem = Problem(503, "暂不可用 Service unavailable", f"{what} 暂不可用，请稍后重试 is unavailable; retry shortly",
                      "unavailable")
    problem.headers["Retry-After"] = str(UNAVAILABLE_RETRY_S)
    return problem


def answer_unavailable(app: FastAPI, errors: tuple[type[Exception], ...], what: str) -> None:
    """Answer `errors` (a store's connection failures) with a clean 503 problem."""

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s unavailable on %s: %s", what, request.url.path, exc)
        return _problem_response(unavailable(what), request)

    for error in errors:
        app.add_exception_handler(error, _unavailable)


def install_handlers(app: FastAPI) -> None:
    """Every error leaves the API as problem+json, never as a bare 500 page."""
    # the database restarting or away: 503, and the pool's pre-ping reconnects once it is back
    answer_unavailable(app, (OperationalError, InterfaceError), "数据库 the database")

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return _problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        problem = Problem(422, "请求内容不合法 Unprocessable request", detail, "validation", errors=errors)
        return _problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = Problem(exc.status_code, str(exc.detail), str(exc.detail))
        response = _problem_response(problem, request)
        response.headers.update(exc.headers or {})  # e.g. `Allow` on a 405
        return response
