"""The corpus centre: feedback and corrections become reviewed, masked, versioned examples; operators and
admins only; bad input and repeated reviews are refused."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.identity import service as identity
from tests.support.http import problem


def key(role: str, department: str | None = None) -> dict[str, str]:
    _, plaintext = identity.create_api_key(f"corpus-{role}-{department}", role, department)
    return {"Authorization": f"Bearer {plaintext}"}


def rated(client: TestClient, text: str, rating: str, reason: str = "") -> dict:
    answer = client.post("/api/v1/assistant/ask", json={"text": text}).json()
    done = client.post("/api/v1/assistant/feedback", json={"trace_id": answer["trace_id"], "rating": rating,
                                                           "reason": reason},
                       headers={"X-Session-Token": answer["session_token"]})
    assert done.status_code == 201, done.text
    return answer


def test_feedback_and_corrections_become_reviewed_versions(client: TestClient) -> None:
    op = key("operator")
    liked = rated(client, "公积金怎么提取", "up")
    disliked = rated(client, "我家楼下路灯坏了，电话13912345678", "down", "我是要报修，不是问政策，回电13912345678")
    for headers in ({}, key("citizen"), key("official", "market")):
        problem(client.post("/api/v1/ops/corpus/collect", headers=headers), 403)
        problem(client.get("/api/v1/ops/corpus/items", headers=headers), 403)
        problem(client.post("/api/v1/ops/corpus/versions", headers=headers), 403)
    found = client.post("/api/v1/ops/corpus/collect", headers=op)
    assert found.status_code == 200 and found.json()["added"] >= 2, found.text
    assert client.post("/api/v1/ops/corpus/collect", headers=op).json()["added"] == 0  # each rating once
    queue = {r["trace_id"]: r for r in client.get("/api/v1/ops/corpus/items", headers=op).json()}
    up, down = queue[liked["trace_id"]], queue[disliked["trace_id"]]
    assert up["mode"] == liked["mode"] == up["predicted_mode"] and up["status"] == "pending"
    assert down["mode"] is None and "13912345678" not in down["text"] + down["note"] and "报修" in down["note"]
    # a thumbs-down has no label: accepting it needs one, from the known modes
    problem(client.post(f"/api/v1/ops/corpus/items/{down['id']}/accept", json={}, headers=op), 400)
    problem(client.post(f"/api/v1/ops/corpus/items/{down['id']}/accept", json={"mode": "nonsense"}, headers=op), 400)
    accepted = client.post(f"/api/v1/ops/corpus/items/{down['id']}/accept", json={"mode": "report"}, headers=op)
    assert accepted.status_code == 200 and accepted.json()["mode"] == "report" and accepted.json()["reviewed_by"]
    problem(client.post(f"/api/v1/ops/corpus/items/{down['id']}/reject", json={}, headers=op), 409)
    rejected = client.post(f"/api/v1/ops/corpus/items/{up['id']}/reject", json={"note": "太泛"}, headers=op)
    assert rejected.json()["status"] == "rejected"
    problem(client.post("/api/v1/ops/corpus/items/cor_nope/accept", json={}, headers=op), 404)
    # an operator's correction: a trace's request or a text (masked), never both or neither
    bad = ({"mode": "report"}, {"mode": "report", "trace_id": liked["trace_id"], "text": "x"},
           {"mode": "what", "text": "路灯坏了"})
    for body in bad:
        problem(client.post("/api/v1/ops/corpus/corrections", json=body, headers=op), 400)
    problem(client.post("/api/v1/ops/corpus/corrections", json={"mode": "report", "trace_id": "trc_nope"},
                        headers=op), 404)
    made = client.post("/api/v1/ops/corpus/corrections", headers=op, json={
        "mode": "report", "text": "小区门口路灯坏了一周，王先生反映，电话13812345678", "skill": "governance.report"})
    assert made.status_code == 201, made.text
    assert "13812345678" not in made.json()["text"] and made.json()["skill"] == "governance.report"
    client.post(f"/api/v1/ops/corpus/items/{made.json()['id']}/accept", json={}, headers=op)
    frozen = client.post("/api/v1/ops/corpus/versions", headers=key("admin"))
    assert frozen.status_code == 201, frozen.text
    version = frozen.json()
    assert version["size"] >= 2 and version["counts"]["report"] >= 2
    full = client.get(f"/api/v1/ops/corpus/versions/{version['version']}", headers=op).json()
    texts = [i["text"] for i in full["items"]]
    assert len(texts) == version["size"] and not any("13912345678" in t for t in texts)
    assert version["version"] in [v["version"] for v in client.get("/api/v1/ops/corpus/versions", headers=op).json()]
    problem(client.get("/api/v1/ops/corpus/versions/9999", headers=op), 404)
    problem(client.get("/api/v1/ops/corpus/items?status=odd", headers=op), 400)


def test_the_cli_corrects_reviews_and_refuses_clearly(city: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["ops", "corpus", "correct", "--mode", "duty", "--text", "井盖丢了归哪个部门管",
                               "--json", "--data-dir", str(city)])
    assert made.exit_code == 0, made.output
    item_id = json.loads(made.stdout[made.stdout.index("{"):])["id"]
    bad = runner.invoke(cli, ["ops", "corpus", "correct", "--mode", "nope", "--text", "x", "--data-dir", str(city)])
    assert bad.exit_code == 2 and "unknown mode" in bad.output
    assert runner.invoke(cli, ["ops", "corpus", "accept", item_id, "--data-dir", str(city)]).exit_code == 0
    again = runner.invoke(cli, ["ops", "corpus", "accept", item_id, "--data-dir", str(city)])
    assert again.exit_code == 2 and "already" in again.output
    listed = runner.invoke(cli, ["ops", "corpus", "queue", "--status", "accepted", "--json", "--data-dir", str(city)])
    assert listed.exit_code == 0 and item_id in [r["id"] for r in json.loads(listed.stdout)]
    assert runner.invoke(cli, ["ops", "corpus", "queue", "--data-dir", str(city)]).exit_code == 0
