"""Three levels of knowledge base, enforced inside retrieval: the matrix of who can find,
cite or count what, through the service, the REST API, the assistant and the OpenAI face."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aicity.hub.knowledge import service as kb
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal

# one unmistakable fact per knowledge base
SECRETS = {
    "market_internal": "市场监管内部通报：代号青松的专项检查定于周三开展。",
    "tax_internal": "税务内部通报：代号白杨的稽查名单暂不公开。",
    "personal_notes": "个人笔记：代号红枫的会议纪要待整理。",
}
TOKENS = {"market_internal": "青松", "tax_internal": "白杨", "personal_notes": "红枫"}


@pytest.fixture(scope="module")
def people(city: Path) -> dict[str, tuple[Principal, str | None]]:
    keys = {}
    for name, role, dept in [("market_official", "official", "market"), ("tax_official", "official", "tax"),
                             ("market_operator", "operator", "market"), ("admin", "admin", None),
                             ("note_owner", "citizen", None), ("other_citizen", "citizen", None)]:
        key, plaintext = identity.create_api_key(name, role, dept)
        keys[name] = (Principal(Role(role), dept, key.id), plaintext)
    keys["anonymous"] = (Principal(Role.citizen), None)
    kb.ensure_kb("market_internal", "市场监管局内部库", "department", "market")
    kb.ensure_kb("tax_internal", "税务局内部库", "department", "tax")
    kb.ensure_kb("personal_notes", "个人笔记", "personal", owner_key_id=keys["note_owner"][0].key_id)
    for kb_id, text in SECRETS.items():
        kb.ingest_document(f"{kb_id}.md", f"# {kb_id}\n\n{text}\n".encode(), kb=kb_id, key=f"{kb_id}-doc")
    return keys


EXPECTED = {  # who reads which non-global knowledge base
    "anonymous": set(),
    "other_citizen": set(),
    "note_owner": {"personal_notes"},
    "market_official": {"market_internal"},
    "market_operator": {"market_internal"},
    "tax_official": {"tax_internal"},
    "admin": {"market_internal", "tax_internal", "personal_notes"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_service_search_and_counts(people: dict, who: str) -> None:
    principal, _ = people[who]
    readable = kb.readable_kbs(principal) - {kb.GLOBAL_KB}
    assert readable & set(SECRETS) == EXPECTED[who]
    for kb_id, token in TOKENS.items():
        hits = kb.search(f"代号{token}", principal, top_k=50)
        found = any(token in h.text for h in hits)
        assert found == (kb_id in EXPECTED[who]), (who, kb_id)
        assert all(h.kb in readable | {kb.GLOBAL_KB} for h in hits)


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_rest_api(client: TestClient, people: dict, who: str) -> None:
    _, key = people[who]
    headers = {"X-API-Key": key} if key else {}
    bases = {b["id"] for b in client.get("/api/v1/kb/bases", headers=headers).json()}
    assert bases & set(SECRETS) == EXPECTED[who]
    for kb_id, token in TOKENS.items():
        hits = client.get("/api/v1/kb/search", params={"q": f"代号{token}", "top_k": 50}, headers=headers).json()["hits"]
        assert any(token in h["text"] for h in hits) == (kb_id in EXPECTED[who])
        answer = client.post("/api/v1/kb/ask", json={"q": f"代号{token}是什么"}, headers=headers).json()
        assert (token in answer["answer"] + str(answer["citations"])) == (kb_id in EXPECTED[who])
        listing = client.get(f"/api/v1/kb/bases/{kb_id}/documents", headers=headers)
        scoped = client.get("/api/v1/kb/search", params={"q": token, "kb": kb_id}, headers=headers)
        if kb_id in EXPECTED[who]:
            assert listing.status_code == 200 and scoped.status_code == 200
        else:  # not even its existence is disclosed
            assert listing.status_code == 404 and scoped.status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "tax_official", "market_official", "admin"])
def test_assistant_and_openai_never_cite_what_the_caller_cannot_read(client: TestClient, people: dict,
                                                                     who: str) -> None:
    principal, key = people[who]
    headers = {"X-API-Key": key} if key else {}
    role = principal.role.value
    body = client.post("/api/v1/assistant/ask", json={"text": "代号青松的专项检查是什么法律规定", "role": role},
                       headers=headers).json()
    leaked = "青松" in body["answer"] or any("青松" in c["text"] for c in body["citations"])
    assert leaked == ("market_internal" in EXPECTED[who])
    chat = client.post("/v1/chat/completions", headers=headers, json={
        "model": "aicity-assistant", "messages": [{"role": "user", "content": "代号青松的专项检查是什么法律规定"}],
        "aicity": {"role": role}}).json()
    assert ("青松" in chat["choices"][0]["message"]["content"]) == ("market_internal" in EXPECTED[who])


def test_managing_knowledge_bases(client: TestClient, people: dict) -> None:
    _, operator = people["market_operator"]
    _, official = people["market_official"]
    _, tax = people["tax_official"]
    upload = {"file": ("通知.md", "# 通知\n\n代号紫藤的内部通知。\n".encode(), "text/markdown")}
    assert client.post("/api/v1/kb/bases/market_internal/documents", files=upload,
                       headers={"X-API-Key": official}).status_code == 403  # reads, may not manage
    assert client.post("/api/v1/kb/bases/market_internal/documents", files=upload,
                       headers={"X-API-Key": tax}).status_code == 404
    created = client.post("/api/v1/kb/bases/market_internal/documents", files=upload,
                          headers={"X-API-Key": operator})
    assert created.status_code == 201 and created.json()["changed"] is True
    doc = client.get(f"/api/v1/kb/bases/market_internal/documents/{created.json()['key']}",
                     headers={"X-API-Key": official}).json()
    assert doc["chunks"][0]["text"] == "代号紫藤的内部通知。"
    bad = client.post("/api/v1/kb/bases/market_internal/documents", headers={"X-API-Key": operator},
                      files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert bad.status_code == 415 and bad.headers["content-type"].startswith("application/problem+json")
    assert client.delete(f"/api/v1/kb/bases/market_internal/documents/{created.json()['key']}",
                         headers={"X-API-Key": official}).status_code == 403
    assert client.delete(f"/api/v1/kb/bases/market_internal/documents/{created.json()['key']}",
                         headers={"X-API-Key": operator}).status_code == 204
    # operators create their own department's knowledge bases only; key holders a personal one
    assert client.post("/api/v1/kb/bases", headers={"X-API-Key": operator},
                       json={"id": "market_faq", "name": "FAQ", "level": "department", "department": "market"}
                       ).status_code == 201
    assert client.post("/api/v1/kb/bases", headers={"X-API-Key": operator},
                       json={"id": "tax_faq", "name": "FAQ", "level": "department", "department": "tax"}
                       ).status_code == 403
    assert client.post("/api/v1/kb/bases", json={"id": "mine", "name": "x", "level": "personal"}).status_code == 403


def test_status_counts_only_what_the_caller_reads(client: TestClient, people: dict) -> None:
    kb.dense_job().wait(300)  # another test may have had the index rebuilt: counts once vectors are back
    anonymous = client.get("/api/v1/kb/status").json()
    _, admin = people["admin"]
    everything = client.get("/api/v1/kb/status", headers={"X-API-Key": admin}).json()
    assert everything["documents"] > anonymous["documents"] >= 80
    assert anonymous["vectors"]["ready"] is True and anonymous["vectors"]["done"] == anonymous["vectors"]["total"]
    assert client.get("/api/v1/kb/search", params={"q": "x", "mode": "fuzzy"}).status_code == 422
    keyword = client.get("/api/v1/kb/search", params={"q": "食品安全法第三十五条", "mode": "keyword"}).json()
    assert keyword["mode"] == "keyword" and keyword["hits"][0]["locator"] == "第三十五条"
