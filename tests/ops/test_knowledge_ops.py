"""Knowledge operations: overdue reviews, superseded texts still cited, questions with no good passage,
usage per knowledge base; operators and admins only; bad reviews refused."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.hub.knowledge import service as knowledge
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import knowledge_ops
from tests.support.http import problem


def key(role: str, department: str | None = None) -> dict[str, str]:
    _, plaintext = identity.create_api_key(f"kops-{role}-{department}", role, department)
    return {"Authorization": f"Bearer {plaintext}"}


def test_the_report_shows_usage_gaps_and_freshness(client: TestClient) -> None:
    for text in ("食品经营许可证需要什么条件？法律怎么规定的", "火星移民签证的法律规定是什么",
                 "帮我办理一张宠物驾照"):
        client.post("/api/v1/assistant/ask", json={"text": text})
    for headers in ({}, key("citizen"), key("official", "market")):
        problem(client.get("/api/v1/ops/knowledge", headers=headers), 403)
    problem(client.get("/api/v1/ops/knowledge?days=0", headers=key("operator")), 422)
    found = client.get("/api/v1/ops/knowledge", headers=key("operator"))
    assert found.status_code == 200, found.text
    report = found.json()
    assert report["documents"] == sum(u["documents"] for u in report["usage"]) > 0
    usage = {u["kb"]: u for u in report["usage"]}
    assert usage[knowledge.GLOBAL_KB]["citations"] >= 1 and usage[knowledge.GLOBAL_KB]["top"]
    assert report["coverage"]["retrievals"] >= 1 and report["coverage"]["questions"] >= 1
    texts = [t for c in report["coverage"]["clusters"] for t in c["examples"]]
    assert any("宠物驾照" in t or "火星" in t for t in texts)
    assert report["freshness"]["overdue"] == []  # everything was ingested today and is due in a year


def test_overdue_and_superseded_rules(city: Path) -> None:
    documents = knowledge.list_documents()
    later = date.today() + timedelta(days=knowledge_ops.REVIEW_DAYS + 30)
    assert len(knowledge_ops._overdue(documents, later)) == len(documents)
    first = documents[0]
    knowledge_ops.review(first.kb, first.key, Principal(role=Role.admin), later + timedelta(days=1))
    assert first.key not in [d["key"] for d in knowledge_ops._overdue(documents, later)]
    # the demo city's replaced regulation, cited by an answer, is flagged with its replacement
    old = next(d for d in documents if d.key == "个体工商户条例")
    flagged = knowledge_ops._superseded_cited(documents, [("trc_1", old.title), ("trc_2", "促进个体工商户发展条例")])
    assert [(f["key"], f["superseded_by"], f["answers"]) for f in flagged] == [
        ("个体工商户条例", "促进个体工商户发展条例", 1)]


def test_reviews_are_checked(client: TestClient, city: Path) -> None:
    op = key("operator")
    doc = knowledge.list_documents({knowledge.GLOBAL_KB})[0]
    problem(client.post("/api/v1/ops/knowledge/reviews", json={"kb": doc.kb, "key": doc.key},
                        headers=key("official", "market")), 403)
    problem(client.post("/api/v1/ops/knowledge/reviews", json={"kb": doc.kb, "key": "没有这部法"}, headers=op), 404)
    for bad in (date.today().isoformat(), (date.today() + timedelta(days=4000)).isoformat()):
        problem(client.post("/api/v1/ops/knowledge/reviews", json={"kb": doc.kb, "key": doc.key, "next_review": bad},
                            headers=op), 400)
    done = client.post("/api/v1/ops/knowledge/reviews", json={"kb": doc.kb, "key": doc.key, "note": "已核对现行有效"},
                       headers=op)
    assert done.status_code == 200 and done.json()["next_review"] > date.today().isoformat()
    runner = CliRunner()
    assert runner.invoke(cli, ["ops", "knowledge", "--data-dir", str(city)]).exit_code == 0
    bad = runner.invoke(cli, ["ops", "knowledge", "reviewed", doc.kb, doc.key, "--next", "明年",
                              "--data-dir", str(city)])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
