"""Agent operations: feedback on answers (checked against the trace's owner), the per-agent and
per-skill report over HTTP and the CLI, and the clustering of questions nobody served."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.identity import service as identity
from aicity.ops import agents
from tests.support.http import problem


def key(role: str, department: str | None = None) -> dict[str, str]:
    _, plaintext = identity.create_api_key(f"ops-{role}-{department}", role, department)
    return {"Authorization": f"Bearer {plaintext}"}


def test_feedback_is_given_by_the_asker_only(client: TestClient) -> None:
    answer = client.post("/api/v1/assistant/ask", json={"text": "公积金怎么提取？我电话13912345678"}).json()
    token, trace = answer["session_token"], answer["trace_id"]
    body = {"trace_id": trace, "rating": "down", "reason": "没说要带什么材料，回电13912345678"}
    # the trace id alone, another caller, a staff key that did not ask: 404, as for reading the trace
    for headers in ({}, {"X-Session-Token": "x" * len(token)}, key("citizen"), key("operator")):
        problem(client.post("/api/v1/assistant/feedback", json=body, headers=headers), 404)
    done = client.post("/api/v1/assistant/feedback", json=body, headers={"X-Session-Token": token})
    assert done.status_code == 201, done.text
    saved = done.json()
    assert saved["rating"] == "down" and "13912345678" not in saved["reason"] and "材料" in saved["reason"]
    assert saved["skills"] == [f"{s['agent']}.{s['skill']}" for s in answer["skills"]]
    # a second verdict replaces the first
    again = client.post("/api/v1/assistant/feedback", json={"trace_id": trace, "rating": "up"},
                        headers={"X-Session-Token": token})
    assert again.status_code == 201 and again.json()["rating"] == "up" and again.json()["reason"] == ""
    assert sum(v["trace_id"] == trace for v in agents.feedback()) == 1
    for bad in ({**body, "rating": "meh"}, {**body, "reason": "长" * 501}, {"rating": "up"}):
        problem(client.post("/api/v1/assistant/feedback", json=bad, headers={"X-Session-Token": token}), 422)


def test_a_keyed_asker_rates_its_own_answer(client: TestClient) -> None:
    mine = key("official", "market")
    answer = client.post("/api/v1/assistant/ask", json={"text": "个体户营业执照怎么办"}, headers=mine).json()
    body = {"trace_id": answer["trace_id"], "rating": "down", "reason": "太长"}
    problem(client.post("/api/v1/assistant/feedback", json=body, headers=key("official", "market")), 404)
    assert client.post("/api/v1/assistant/feedback", json=body, headers=mine).status_code == 201


def test_the_operations_report_counts_skills_and_feedback(client: TestClient) -> None:
    for text in ("个体户营业执照怎么办", "公积金怎么提取", "帮我办理一张宠物驾照", "我想申请月球土地使用证"):
        client.post("/api/v1/assistant/ask", json={"text": text})
    problem(client.get("/api/v1/ops/agents"), 403)
    problem(client.get("/api/v1/ops/agents", headers=key("citizen")), 403)
    problem(client.get("/api/v1/ops/agents?days=0", headers=key("operator")), 422)
    report = client.get("/api/v1/ops/agents", headers=key("operator"))
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["runs"] >= 4 and body["skills"] and body["agents"]
    for row in body["skills"]:
        assert row["calls"] == row["ok"] + row["errors"] + row["denied"] + row["abstained"] or row["calls"] == 0
        if row["calls"]:
            assert 0 <= row["success_rate"] <= 1 and row["latency_ms_p50"] is not None
    assert body["feedback"]["down"] + body["feedback"]["up"] >= 1
    assert sum(r["calls"] for r in body["agents"]) == sum(r["calls"] for r in body["skills"])
    assert body["failed"], "the unserved questions are clustered"
    texts = [t for g in body["failed"] for t in g["examples"]]
    assert any("月球" in t or "宠物驾照" in t for t in texts)
    assert all("13912345678" not in t for t in texts)


def test_clustering_puts_the_same_question_together() -> None:
    items = [("公园里能不能遛狗", "unserved"), ("公园遛狗有什么规定", "down"), ("公园能遛狗吗", "abandoned"),
             ("护照过期了怎么换", "unserved"), ("护照到期怎么换新", "error")]
    groups = agents.cluster(items)
    sizes = sorted(g["size"] for g in groups)
    assert sizes[-1] == 3 and sum(sizes) == 5
    dogs = groups[0]
    assert all("遛狗" in t for t in dogs["examples"]) and dogs["reasons"] == {"unserved": 1, "down": 1, "abandoned": 1}
    assert agents.cluster([]) == [] and agents.cluster([("只有一句", "down")])[0]["size"] == 1


def test_the_cli_prints_the_report(city: Path) -> None:
    result = CliRunner().invoke(cli, ["ops", "agents", "--json", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "skills" in json.loads(result.output)
    table = CliRunner().invoke(cli, ["ops", "agents"])
    assert table.exit_code == 0 and "智能体 agents" in table.output
    assert CliRunner().invoke(cli, ["ops", "agents", "--days", "0"]).exit_code != 0


@pytest.mark.parametrize("rating", ["up", "down"])
def test_feedback_on_an_unknown_trace_is_404(client: TestClient, rating: str) -> None:
    problem(client.post("/api/v1/assistant/feedback", json={"trace_id": "tr_nope", "rating": rating}), 404)
