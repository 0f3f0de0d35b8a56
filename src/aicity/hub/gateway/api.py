"""The gateway's HTTP face: OpenAI-compatible `/v1/chat/completions`, `/v1/embeddings` and
`/v1/models` for the city's other applications, and `/api/v1/gateway/…` to operate it.

Models served by the platform itself (the super assistant, `aicity-assistant`) register
here with `register_local_model`; every other model name is a model group of the gateway."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from aicity.core.bodies import iso_date
from aicity.core.errors import Problem, bad_request, forbidden, not_found, unauthorized
from aicity.hub.gateway import service
from aicity.hub.gateway.metering import OVERHEAD
from aicity.hub.gateway.providers import UpstreamError
from aicity.hub.gateway.router import CallContext, Served
from aicity.hub.gateway.schemas import (
    ChatCompletion,
    EmbeddingList,
    GatewayConfigView,
    GatewayHealth,
    GatewayKeyCreated,
    GatewayKeyView,
    ModelList,
    UsageReport,
)
from aicity.identity import service as identity
from aicity.identity.api import Caller, bearer, require_admin
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import guard

LocalModel = Callable[[dict[str, Any], Request], Awaitable[Response]]
_local_models: dict[str, LocalModel] = {}

v1 = APIRouter(prefix="/v1", tags=["openai-compatible"])
router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])
Admin = Annotated[Principal, Depends(require_admin)]


def register_local_model(model_id: str, handler: LocalModel) -> None:
    """Serve `model_id` from inside the platform instead of routing it to a deployment."""
    _local_models[model_id] = handler


def unregister_local_model(model_id: str) -> None:
    _local_models.pop(model_id, None)


class ChatCompletionRequest(BaseModel):
    """OpenAI chat completion request; fields not named here pass through to the upstream."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="a model group (e.g. chat-large) or aicity-assistant")
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False


class EmbeddingRequest(BaseModel):
    model: str = Field(default=service.EMBED_GROUP, description="an embedding model group")
    input: str | list[str] = Field(description="text or texts to embed")
    input_type: str = Field(default="passage", pattern="^(passage|query)$",
                            description="passage (documents) or query (search requests); e5-style models differ")


#: token limits a request may set: a whole number from 1 up
_TOKEN_LIMITS = ("max_tokens", "max_completion_tokens")


def _check_limits(body: ChatCompletionRequest) -> None:
    """400 for a token limit that is not a positive whole number (OpenAI answers 400 too)."""
    extra = body.model_extra or {}
    for name in _TOKEN_LIMITS:
        value = extra.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise bad_request(f"{name} 必须是正整数 must be a positive integer", "invalid-max-tokens")


def _presented(authorization: str | None, x_api_key: str | None) -> str | None:
    return x_api_key or bearer(authorization)


def gateway_caller(authorization: Annotated[str | None, Header()] = None,
                   x_api_key: Annotated[str | None, Header()] = None) -> CallContext:
    """A gateway key (`gk_…`) with its quotas, or an admin API key (unlimited)."""
    key = _presented(authorization, x_api_key)
    if not key:
        raise unauthorized("调用模型组需要网关密钥 a gateway key (Authorization: Bearer gk_…) is required")
    if key.startswith(service.KEY_PREFIX):
        return CallContext(key=service.key_by_plaintext(key))
    principal = identity.authenticate(key)
    if principal is None or principal.role != Role.admin:
        raise forbidden("此 API key 不能调用模型组；请使用网关密钥 / use a gateway key")
    return CallContext(agent=f"admin:{principal.key_id}")


def any_valid_key(authorization: Annotated[str | None, Header()] = None,
                  x_api_key: Annotated[str | None, Header()] = None) -> None:
    """No key is fine; a wrong key is refused, never silently ignored."""
    key = _presented(authorization, x_api_key)
    if key and key.startswith(service.KEY_PREFIX):
        service.key_by_plaintext(key)
    elif key:
        identity.authenticate(key)


@v1.get("/models",
        response_model=ModelList,
        summary="模型列表 OpenAI-compatible model list", dependencies=[Depends(any_valid_key)])
def models() -> dict:
    local = [{"id": m, "object": "model", "created": 0, "owned_by": "aicity"} for m in _local_models]
    groups = [{"id": g, "object": "model", "created": 0, "owned_by": "aicity-gateway"}
              for g in service.gateway().groups()]
    return {"object": "list", "data": local + groups}


@v1.post("/chat/completions", response_model=ChatCompletion, summary="对话补全 OpenAI-compatible chat completions",
         responses={200: {"description": "补全；stream=true 时为 SSE 分块 a completion, or SSE chunks when streaming",
                          "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Response:
    _check_limits(body)
    local = _local_models.get(body.model)
    if local is not None:
        return await local(body.model_dump(), request)
    t0 = time.perf_counter()
    gw = service.gateway()
    if body.model not in gw.groups():
        available = ", ".join([*_local_models, *gw.groups()])
        raise not_found(f"模型 '{body.model}' 不存在；可用 available: {available}", "model-not-found")
    ctx = gateway_caller(request.headers.get("authorization"), request.headers.get("x-api-key"))
    # the city's other applications are guarded too: a prompt attack never reaches the model
    # (checked on a worker thread, like the call, so the event loop keeps serving others)
    await run_in_threadpool(guard.enforce, _last_user_text(body.messages), "input", None,
                            f"gateway:{body.model}:{ctx.key.id if ctx.key else ctx.agent}")
    payload = body.model_dump(exclude_none=True)
    if not body.stream:
        served = await run_in_threadpool(gw.chat, payload, ctx)
        response = JSONResponse(served.data, headers=_served_headers(served))
        OVERHEAD.labels("chat").observe(max(0.0, time.perf_counter() - t0 - served.upstream_s))
        return response
    served, chunks = await run_in_threadpool(gw.chat_stream, payload, ctx)
    return StreamingResponse(iterate_in_threadpool(_sse(chunks)), media_type="text/event-stream",
                             headers=_served_headers(served))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    content = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), None)
    if isinstance(content, list):  # content parts: only the text ones are text
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content if isinstance(content, str) else ""


def _sse(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
    try:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    except UpstreamError as exc:  # the status line is sent already: report in the stream
        error = {"message": f"上游模型中断 upstream failed mid-stream: {exc}", "type": exc.kind, "code": 502}
        yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _served_headers(served: Served) -> dict[str, str]:
    return {"X-Aicity-Deployment": served.deployment, "X-Aicity-Group": served.group,
            "X-Aicity-Attempts": str(len(served.attempts) + 1)}


@v1.post("/embeddings", response_model=EmbeddingList, summary="向量 OpenAI-compatible embeddings")
async def embeddings(body: EmbeddingRequest, ctx: Annotated[CallContext, Depends(gateway_caller)]) -> Response:
    t0 = time.perf_counter()
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or any(not t for t in texts):
        raise Problem(422, "请求内容不合法 Unprocessable request", "input 不能为空 input must not be empty", "validation")
    served = await run_in_threadpool(service.gateway().embed, texts, body.model, ctx, body.input_type)
    OVERHEAD.labels("embeddings").observe(max(0.0, time.perf_counter() - t0 - served.upstream_s))
    return JSONResponse(served.data, headers=_served_headers(served))


@router.get("/health", response_model=GatewayHealth, summary="网关健康 Gateway health")
def health() -> dict:
    return service.gateway().health()


@router.get("/config", response_model=GatewayConfigView, summary="网关配置（管理员）Gateway configuration")
def get_config(_: Admin) -> dict:
    config, source = service.current_config()
    return {"source": source, **config.public()}


@router.put("/config",
            response_model=GatewayConfigView,
            summary="修改网关配置（管理员，立即生效）Replace the configuration at run time")
def put_config(body: dict[str, Any], admin: Admin) -> dict:
    config = service.set_config(body, actor=admin.actor)
    return {"source": "runtime", **config.public()}


@router.delete("/config", status_code=204, summary="恢复 aicity.toml 中的配置（管理员）")
def delete_config(admin: Admin) -> Response:
    service.reset_config(actor=admin.actor)
    return Response(status_code=204)


class KeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    owner: str = Field(min_length=1, max_length=100, description="应用或部门 application or department")
    groups: list[str] = Field(default=[], description="可用模型组；空 = 全部")
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    monthly_token_budget: int | None = Field(default=None, ge=1)


@router.post("/keys", status_code=201,
             response_model=GatewayKeyCreated, summary="创建网关密钥（管理员）Create a gateway key")
def create_key(body: KeyRequest, admin: Admin) -> dict:
    key, plaintext = service.create_key(**body.model_dump(), actor=admin.actor)
    return {**service.key_public(key), "key": plaintext}


@router.get("/keys", response_model=list[GatewayKeyView], summary="网关密钥列表（管理员）")
def list_keys(_: Admin) -> list[dict]:
    return [service.key_public(k) for k in service.list_keys()]


@router.delete("/keys/{key_id}", status_code=204, summary="吊销网关密钥（管理员）")
def revoke_key(key_id: str, admin: Admin) -> Response:
    service.revoke_key(key_id, actor=admin.actor)
    return Response(status_code=204)


@router.get("/usage", response_model=UsageReport, summary="用量计量（运营/管理员）Metered usage")
def usage(principal: Caller, since: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None) -> dict:
    if principal is None or principal.role not in (Role.admin, Role.operator):
        raise forbidden("需要运营或管理员 API key / operator or admin key required")
    return {"rows": service.gateway().meter.report(iso_date(since, "since"))}
