"""Routing: which deployment serves a call, retries with backoff, breakers, and fallback
across groups. One `Gateway` per process holds the deployments' health (breakers shared through Redis in the
distributed mode, see health.py) and HTTP pool."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from aicity.core import egress
from aicity.core.errors import Problem, bad_request, not_found
from aicity.hub.gateway.health import DeploymentHealth
from aicity.hub.gateway.metering import HEALTH, LATENCY, REQUESTS, TTFT, UsageMeter
from aicity.hub.gateway.providers import ModelProvider, UpstreamError, estimate_tokens, make_provider
from aicity.hub.gateway.quotas import KeyInfo, Quotas
from aicity.hub.gateway.schemas import Deployment, GatewayConfig, ModelGroup, Strategy

T = TypeVar("T")


@dataclass(frozen=True)
class CallContext:
    """Who is calling: an application's gateway key, or an agent inside the platform."""

    key: KeyInfo | None = None
    agent: str = ""


@dataclass
class Served:
    """A successful call and where it went."""

    data: Any
    group: str
    deployment: str
    upstream_s: float
    attempts: list[dict] = field(default_factory=list)
    #: the tokens metered for the call (prompt, completion)
    tokens: tuple[int, int] = (0, 0)


class _Live:
    """A deployment as the router sees it: its config, health and (lazily built) provider."""

    def __init__(self, deployment: Deployment, health: DeploymentHealth) -> None:
        self.deployment = deployment
        self.health = health
        self._provider: ModelProvider | None = None
        self._lock = threading.Lock()

    def provider(self, http: httpx.Client) -> ModelProvider:
        with self._lock:  # a GGUF file loads once, not once per concurrent first caller
            if self._provider is None:
                self._provider = make_provider(self.deployment, http)
            return self._provider


class Gateway:
    def __init__(self, config: GatewayConfig, meter: UsageMeter) -> None:
        self.http = egress.client(limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        self.meter = meter
        self.quotas = Quotas(self.meter)
        self._live: dict[str, _Live] = {}
        self.config = GatewayConfig()
        self.configure(config)

    def configure(self, config: GatewayConfig) -> None:
        """Switch to a new configuration; deployments that did not change keep their health."""
        live = {}
        for dep in config.deployments:
            old = self._live.get(dep.name)
            if old is not None and old.deployment == dep:
                live[dep.name] = old
            else:
                live[dep.name] = _Live(dep, DeploymentHealth(config.breaker, shared_key=_breaker_key(dep)))
            HEALTH.labels(dep.group, dep.name).set(live[dep.name].health.gauge())
        self._live, self.config = live, config

    def close(self) -> None:
        self.http.close()

    # ---- what callers use -------------------------------------------------------------

    def serves(self, group: str) -> bool:
        """Whether the group exists and has at least one deployment."""
        return any(d.group == group for d in self.config.deployments)

    def chat(self, body: dict[str, Any], ctx: CallContext) -> Served:
        group = self._admit(body, ctx)
        served = self._route(group, lambda p: p.chat(body))
        usage = served.data.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or _prompt_estimate(body))
        completion = int(usage.get("completion_tokens") or estimate_tokens(_content_of(served.data)))
        self._meter(ctx, served, prompt, completion)
        served.data["model"] = served.group
        served.tokens = (prompt, completion)
        return served

    def chat_stream(self, body: dict[str, Any], ctx: CallContext) -> tuple[Served, Iterator[dict[str, Any]]]:
        """Fails over until one deployment starts streaming; after the first chunk a failure
        ends the stream with an `UpstreamError` (text already sent cannot be taken back)."""
        group = self._admit(body, ctx)
        t0 = time.perf_counter()
        served = self._route(group, lambda p: _started(p.chat_stream(body)))
        return served, self._relay(served, served.data, body, ctx, t0)

    def embed(self, inputs: list[str], group: str, ctx: CallContext, input_type: str = "passage") -> Served:
        body = {"model": group, "messages": [{"content": t} for t in inputs]}
        self._admit(body, ctx)
        served = self._route(group, lambda p: p.embed(inputs, input_type))
        usage = served.data.get("usage") or {}
        self._meter(ctx, served, int(usage.get("prompt_tokens") or _prompt_estimate(body)), 0)
        served.data["model"] = served.group
        return served

    def health(self) -> dict[str, Any]:
        groups = []
        for g in self.config.groups:
            deps = [{"name": d.name, "provider": d.provider.value, "model": d.model,
                     **self._live[d.name].health.snapshot()} for d in self.config.deployments_of(g.name)]
            up = sum(1 for d in deps if d["state"] != "open")
            groups.append({"name": g.name, "strategy": g.strategy.value, "fallbacks": g.fallbacks,
                           "context_fallback": g.context_fallback, "deployments": deps,
                           "status": "ok" if deps and up == len(deps) else "degraded" if up else "down"})
        status = "ok" if all(g["status"] == "ok" for g in groups) else "degraded"
        return {"status": status, "groups": groups}

    # ---- routing ----------------------------------------------------------------------

    def _admit(self, body: dict[str, Any], ctx: CallContext) -> str:
        group = body.get("model")
        if not isinstance(group, str) or not group:
            raise bad_request("缺少 model（模型组名）/ model (a model group) is required", "model-required")
        if self.config.group(group) is None:
            raise not_found(f"模型组 '{group}' 不存在；可用 available: {', '.join(self.groups())}", "model-not-found")
        if ctx.key is not None:
            self.quotas.admit(ctx.key, group, _prompt_estimate(body))
        return group

    def groups(self) -> list[str]:
        return [g.name for g in self.config.groups]

    def _route(self, group_name: str, call: Callable[[ModelProvider], T]) -> Served:
        attempts: list[dict] = []
        queue, visited = [group_name], set()
        cooling = False
        while queue:
            group = self.config.group(queue.pop(0))
            if group is None or group.name in visited:
                continue
            visited.add(group.name)
            tried: set[str] = set()
            for live in self._attempt_order(group):
                if not live.health.allow():
                    cooling = True
                    continue
                name = live.deployment.name
                if name in tried:
                    self._backoff(len(attempts), attempts[-1].get("retry_after"))
                tried.add(name)
                t0 = time.perf_counter()
                try:
                    data = call(live.provider(self.http))
                except UpstreamError as exc:
                    seconds = time.perf_counter() - t0
                    attempts.append({"group": group.name, "deployment": name, "error": exc.kind, "detail": str(exc),
                                     "ms": round(seconds * 1000, 2), "retry_after": exc.retry_after})
                    self._observe(group.name, live, seconds, exc)
                    if exc.context_overflow:
                        if group.context_fallback:
                            queue.insert(0, group.context_fallback)
                            break
                        raise Problem(400, "超出上下文窗口 Context window exceeded", str(exc),
                                      "context-length-exceeded", attempts=attempts) from None
                    if not exc.retryable:
                        raise Problem(exc.status if exc.status and 400 <= exc.status < 500 else 400,
                                      "上游拒绝了请求 Upstream rejected the request", str(exc), exc.kind,
                                      attempts=attempts) from None
                    continue
                seconds = time.perf_counter() - t0
                self._observe(group.name, live, seconds, None)
                return Served(data=data, group=group.name, deployment=name, upstream_s=seconds, attempts=attempts)
            else:
                queue.extend(group.fallbacks)
        raise _exhausted(group_name, attempts, cooling)

    def _attempt_order(self, group: ModelGroup) -> list[_Live]:
        """Deployments in the order the strategy prefers, repeated to cover the retries."""
        lives = [self._live[d.name] for d in self.config.deployments_of(group.name)]
        if not lives:
            return []
        if group.strategy == Strategy.latency:
            ordered = sorted(lives, key=lambda lv: (lv.health.mean_latency(), random.random()))
        else:
            ordered = _weighted_shuffle(lives)
            if group.strategy == Strategy.priority:
                ordered.sort(key=lambda lv: lv.deployment.priority)  # stable: weights break ties
        total = group.retries + 1
        return [ordered[i % len(ordered)] for i in range(total)] if total > len(ordered) else ordered[:total]

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        wait = self.config.backoff_s * (2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            wait = max(wait, retry_after)
        time.sleep(min(wait, self.config.max_backoff_s))

    def _observe(self, group: str, live: _Live, seconds: float, error: UpstreamError | None) -> None:
        dep = live.deployment.name
        if error is None:
            live.health.record_success(seconds)
            LATENCY.labels(group, dep).observe(seconds)
        elif error.retryable:
            live.health.record_failure(f"{error.kind}: {error}"[:300])
        else:  # the request's fault, not the deployment's
            live.health.release_probe()
        REQUESTS.labels(group, dep, "ok" if error is None else error.kind).inc()
        HEALTH.labels(live.deployment.group, dep).set(live.health.gauge())

    def _meter(self, ctx: CallContext, served: Served, prompt: int, completion: int, ok: bool = True) -> None:
        key = ctx.key
        self.meter.record(key.id if key else "", key.owner if key else "", ctx.agent, served.group,
                          served.deployment, ok=ok, prompt_tokens=prompt, completion_tokens=completion,
                          seconds=served.upstream_s)
        if key is not None:
            self.quotas.spend(key, prompt + completion)

    def _relay(self, served: Served, chunks: Iterator[dict[str, Any]], body: dict[str, Any], ctx: CallContext,
               t0: float) -> Iterator[dict[str, Any]]:
        text: list[str] = []
        usage: dict[str, Any] = {}
        first = True
        live = self._live.get(served.deployment)
        try:
            for chunk in chunks:
                if first:
                    TTFT.labels(served.group, served.deployment).observe(time.perf_counter() - t0)
                    first = False
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    text.append(str((choice.get("delta") or {}).get("content") or ""))
                chunk["model"] = served.group
                yield chunk
        except UpstreamError as exc:
            if live is not None:
                self._observe(served.group, live, time.perf_counter() - t0, exc)
            self._meter(ctx, served, _prompt_estimate(body), estimate_tokens("".join(text)), ok=False)
            raise
        served.upstream_s = time.perf_counter() - t0
        self._meter(ctx, served, int(usage.get("prompt_tokens") or _prompt_estimate(body)),
                    int(usage.get("completion_tokens") or estimate_tokens("".join(text))))


def _started(chunks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Pull the first chunk now, so that a stream that fails before any output fails over."""
    first = next(chunks, None)

    def rest() -> Iterator[dict[str, Any]]:
        if first is not None:
            yield first
        yield from chunks

    return rest()


def _breaker_key(dep: Deployment) -> str:
    """The deployment's breaker in Redis: its name and a digest of its settings, so every process
    with the same deployment shares one breaker and a changed deployment starts closed."""
    return f"{dep.name}:{hashlib.sha256(dep.model_dump_json().encode()).hexdigest()[:12]}"


def _weighted_shuffle(lives: list[_Live]) -> list[_Live]:
    """Weighted random order without replacement (Efraimidis–Spirakis keys)."""
    return sorted(lives, key=lambda lv: -random.random() ** (1.0 / lv.deployment.weight))


def _exhausted(group: str, attempts: list[dict], cooling: bool) -> Problem:
    if not attempts and cooling:
        problem = Problem(503, "模型暂不可用 Model unavailable",
                          f"模型组 {group} 的所有部署都在熔断冷却中 / every deployment is cooling down", "all-cooling")
        problem.headers["Retry-After"] = "5"
        return problem
    if not attempts:
        return Problem(503, "模型未配置 No deployment", f"模型组 {group} 没有可用部署 / no deployment serves it",
                       "no-deployment")
    if all(a["error"] == "timeout" for a in attempts):
        return Problem(504, "上游模型超时 Upstream timeout", f"模型组 {group}：所有尝试都超时 / every attempt timed out",
                       "upstream-timeout", attempts=attempts)
    return Problem(502, "上游模型出错 Upstream failed",
                   f"模型组 {group}：{len(attempts)} 次尝试均失败 / every attempt failed", "upstream-failed",
                   attempts=attempts)


def _prompt_estimate(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += estimate_tokens(content)
        elif isinstance(content, list):
            total += sum(estimate_tokens(str(p.get("text", ""))) for p in content if isinstance(p, dict))
    return total


def _content_of(data: dict[str, Any]) -> str:
    parts = []
    for choice in data.get("choices") or []:
        message = choice.get("message") or {}
        parts.append(str(message.get("content") or ""))
        for call in message.get("tool_calls") or []:
            parts.append(str((call.get("function") or {}).get("arguments") or ""))
    return "".join(parts)
