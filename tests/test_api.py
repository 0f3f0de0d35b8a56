"""The HTTP API: answers, streaming, problem bodies, roles and keys, OpenAI compatibility."""

from __future__ import annotations

import json

import openai
import pytest
from fastapi.testclient import TestClient

from aicity.identity import service as identity
from tests.support.http import problem


def test_ask_returns_the_contract_fields(client: TestClient) -> None:
    body = client.post("/api/v1/assistant/ask", json={"text": "食品安全法第三十五条怎么规定的"}).json()
    for field in ("answer", "skills", "departments", "citations", "event", "trace_id", "session_id"):
        assert field in body
    assert body["skills"][0]["agent"] and body["skills"][0]["skill"]
    cit = body["citations"][0]
    assert {"doc", "locator", "text"} <= set(cit)
    # quoted at 款 level (the governing provision, issue #22): the article, then its 款
    assert cit["locator"].startswith("第三十五条") and "预包装食品" in cit["text"]
    assert "[^1]" in body["answer"]


@pytest.mark.parametrize(("payload", "status", "kind"), [
    ({"text": ""}, 400, "empty-text"),
    ({"text": "   \u200b "}, 400, "empty-text"),
    ({"text": "开店" * 4001}, 413, "text-too-long"),
    ({"text": "开店", "role": "mayor"}, 400, "unknown-role"),
    ({"text": "开店", "role": "official"}, 403, "forbidden"),
    ({}, 422, "validation"),
    ({"text": 12}, 422, "validation"),
])
def test_bad_input_gets_a_problem_body(client: TestClient, payload: dict, status: int, kind: str) -> None:
    for path in ("/api/v1/assistant/ask", "/api/v1/assistant/ask/stream"):
        body = problem(client.post(path, json=payload), status)
        assert body["type"].endswith(kind)


@pytest.mark.parametrize("stream", [False, True])
def test_an_over_long_chat_message_gets_the_same_problem(client: TestClient, stream: bool) -> None:
    """The OpenAI-compatible endpoint checks the last user message against the same limit (max_text_chars)."""
    messages = [{"role": "user", "content": "你好"}, {"role": "user", "content": "问" * 8001}]
    resp = client.post("/v1/chat/completions", json={"model": "aicity-assistant", "messages": messages, "stream": stream})
    assert problem(resp, 413)["type"].endswith("text-too-long")


def test_malformed_json_is_a_422_problem(client: TestClient) -> None:
    resp = client.post("/api/v1/assistant/ask", content=b"{not json", headers={"content-type": "application/json"})
    problem(resp, 422)


def test_unknown_session_is_404(client: TestClient) -> None:
    problem(client.post("/api/v1/assistant/ask", json={"text": "开店", "session_id": "ses_nope"}), 404)


def test_stream_emits_plan_steps_then_answer(client: TestClient) -> None:
    with client.stream("POST", "/api/v1/assistant/ask/stream", json={"text": "新生儿出生要办哪些事"}) as resp:
        assert resp.status_code == 200
        events = []
        for line in resp.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
            elif line.startswith("data:") and events and events[-1] == "answer":
                answer = json.loads(line[5:])
    assert events[0] == "plan" and events[-1] == "answer" and "step" in events
    assert answer["trace_id"] and answer["answer"]


def test_staff_role_needs_a_key_of_that_role(client: TestClient) -> None:
    _, official = identity.create_api_key("test-official", "official", "data_bureau")
    _, admin = identity.create_api_key("test-admin", "admin")
    q = {"text": "全市有多少政务服务事项，网办率是多少", "role": "official"}
    ok = client.post("/api/v1/assistant/ask", json=q, headers={"Authorization": f"Bearer {official}"}).json()
    assert ("city_ops", "service_stats") in {(s["agent"], s["skill"]) for s in ok["skills"]}
    citizen = client.post("/api/v1/assistant/ask", json={**q, "role": "citizen"}).json()
    assert ("city_ops", "service_stats") not in {(s["agent"], s["skill"]) for s in citizen["skills"]}
    # an official key cannot act as admin; an admin key may act as official
    problem(client.post("/api/v1/assistant/ask", json={**q, "role": "admin"},
                        headers={"X-API-Key": official}), 403)
    assert client.post("/api/v1/assistant/ask", json=q, headers={"X-API-Key": admin}).status_code == 200
    problem(client.post("/api/v1/assistant/ask", json=q, headers={"X-API-Key": "aic_wrong"}), 401)
    problem(client.get("/api/v1/catalog/stats"), 403)
    assert client.get("/api/v1/catalog/stats", headers={"X-API-Key": official}).json()["items"] >= 10


def test_key_management_is_admin_only(client: TestClient) -> None:
    _, admin = identity.create_api_key("root", "admin")
    _, citizen_key = identity.create_api_key("app", "citizen")
    problem(client.post("/api/v1/keys", json={"name": "x", "role": "official"},
                        headers={"X-API-Key": citizen_key}), 403)
    created = client.post("/api/v1/keys", json={"name": "ops", "role": "operator", "department": "water"},
                          headers={"X-API-Key": admin})
    assert created.status_code == 201
    key = created.json()
    listed = client.get("/api/v1/keys", headers={"X-API-Key": admin}).json()
    assert all("key" not in k for k in listed) and any(k["id"] == key["id"] for k in listed)
    problem(client.post("/api/v1/keys", json={"name": "x", "role": "official", "department": "nope"},
                        headers={"X-API-Key": admin}), 400)
    assert client.delete(f"/api/v1/keys/{key['id']}", headers={"X-API-Key": admin}).status_code == 204
    problem(client.get("/api/v1/me", headers={"X-API-Key": key["key"]}), 401)


def test_trace_of_a_run(client: TestClient) -> None:
    body = client.post("/api/v1/assistant/ask", json={"text": "公积金怎么提取"}).json()
    trace = client.get(f"/api/v1/traces/{body['trace_id']}", headers={"X-Session-Token": body["session_token"]}).json()
    names = [s["name"] for s in trace["steps"]]
    assert names[0] == "plan" and "skill" in names and names[-1] == "compose"
    problem(client.get("/api/v1/traces/tr_missing"), 404)


def test_catalog_and_kb_endpoints(client: TestClient) -> None:
    items = client.get("/api/v1/catalog/items").json()
    assert items and client.get(f"/api/v1/catalog/items/{items[0]['id']}").json()["legal_basis"]
    problem(client.get("/api/v1/catalog/items/nope"), 404)
    hits = client.get("/api/v1/kb/search", params={"q": "燃气 泄漏", "top_k": 3}).json()["hits"]
    assert len(hits) == 3 and all(h["locator"].startswith("第") for h in hits)
    problem(client.get("/api/v1/kb/search", params={"q": ""}), 422)
    problem(client.get("/api/v1/kb/documents/食品安全法/articles/第九百条"), 404)
    assert len(client.get("/api/v1/agents").json()) >= 4
    assert client.get("/api/v1/health").json()["knowledge"]["documents"] == 94


def test_openai_client_against_the_running_server(live_server: str) -> None:
    with pytest.raises(openai.AuthenticationError):  # a wrong key is refused, not downgraded
        openai.OpenAI(base_url=f"{live_server}/v1", api_key="sk-wrong").models.list()
    _, key = identity.create_api_key("openai-client", "citizen")
    oc = openai.OpenAI(base_url=f"{live_server}/v1", api_key=key, max_retries=0)
    listed = [m.id for m in oc.models.list()]
    assert listed[0] == "aicity-assistant" and "embed" in listed  # the assistant, then the gateway's groups
    done = oc.chat.completions.create(model="aicity-assistant",
                                      messages=[{"role": "user", "content": "食品安全法第三十五条怎么规定的"}])
    content = done.choices[0].message.content
    # the governing provision is cited at 款 level (issue #22), its article number said once
    assert "[^1]: 《中华人民共和国食品安全法》第三十五条 第一款：国家对食品生产经营实行许可制度" in content
    extra = done.model_extra
    assert extra["citations"][0]["locator"] == "第三十五条 第一款" and extra["aicity"]["trace_id"]
    pieces = []
    stream = oc.chat.completions.create(model="aicity-assistant", stream=True,
                                        messages=[{"role": "user", "content": "食品安全法第三十五条怎么规定的"}])
    last = None
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "".join(pieces).strip() == content.strip()
    assert last.choices[0].finish_reason == "stop" and last.model_extra["citations"]
    # the flagship question over the OpenAI client: one clarifying turn, then the full answer
    store = [{"role": "user", "content": "我想在自家小区楼下开个小便利店，需要办哪些手续？"}]
    first = oc.chat.completions.create(model="aicity-assistant", messages=store)
    assert first.model_extra["aicity"]["clarification"]
    session = first.model_extra["aicity"]["session_id"]
    full = oc.chat.completions.create(
        model="aicity-assistant", extra_body={"aicity": {"session_id": session}},
        messages=[*store, {"role": "assistant", "content": first.choices[0].message.content},
                  {"role": "user", "content": "只卖包装好的零食饮料，也卖烟"}])
    text = full.choices[0].message.content
    assert "烟草专卖零售许可证" in text and "仅销售预包装食品备案" in text
    assert {"market", "tobacco"} <= set(full.model_extra["aicity"]["departments"])
    assert any(c["doc_key"] == "食品安全法" for c in full.model_extra["citations"])
    with pytest.raises(openai.NotFoundError):
        oc.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError):
        oc.chat.completions.create(model="aicity-assistant", messages=[{"role": "user", "content": ""}])
    with pytest.raises(openai.PermissionDeniedError):
        oc.chat.completions.create(model="aicity-assistant", messages=[{"role": "user", "content": "开店"}],
                                   extra_body={"aicity": {"role": "official"}})


def test_openapi_documents_problem_bodies_and_405_says_what_is_allowed(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ask = spec["paths"]["/api/v1/assistant/ask"]["post"]["responses"]
    assert "application/problem+json" in ask["413"]["content"]
    resp = client.put("/api/v1/assistant/ask", json={"text": "x"})
    assert resp.status_code == 405 and "POST" in resp.headers["allow"]
    problem(resp, 405)
