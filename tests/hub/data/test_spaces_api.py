"""`/api/v1/data/spaces` and `aicity data spaces` with real keys: typed answers, RFC 9457
problems for contradictions and for the wrong department, the whole flow over HTTP and the CLI,
and the trail in the audit ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.core import audit
from aicity.hub.data import spaces_cli
from aicity.hub.data.policy import aggregate_policy
from aicity.identity import service as identity
from tests.support.data_store import pack_dataset
from tests.support.http import problem

DATASET = "low_income_households"
PURPOSE = "低保覆盖情况分区统计"


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, dict[str, str]]:
    pack_dataset(DATASET)
    made = {name: identity.create_api_key(f"spaces-{name}", role, dept)[1] for name, role, dept in [
        ("civil", "official", "civil_affairs"), ("data", "official", "data_bureau"),
        ("health", "official", "health"), ("citizen", "citizen", None)]}
    return {name: {"Authorization": f"Bearer {key}"} for name, key in made.items()}


def test_the_flow_over_rest(client: TestClient, keys) -> None:
    civil, data = keys["civil"], keys["data"]
    problem(client.post("/api/v1/data/spaces", json={"name": "x", "kind": "city"}, headers=keys["citizen"]), 403)
    space = client.post("/api/v1/data/spaces", json={"name": "REST 空间", "kind": "city"}, headers=civil)
    assert space.status_code == 201, space.text
    space_id = space.json()["id"]
    assert client.post(f"/api/v1/data/spaces/{space_id}/members", json={}, headers=data).status_code == 201

    bad = {**aggregate_policy(purposes=[PURPOSE], epsilon=1.0), "prohibition": [{"action": "aggregate"}]}
    body = problem(client.post(f"/api/v1/data/spaces/{space_id}/offers",
                               json={"dataset": DATASET, "policy": bad}, headers=civil), 422)
    assert body["contradiction"] == "permitted-and-prohibited" and "aggregate" in body["detail"]
    problem(client.post(f"/api/v1/data/spaces/{space_id}/offers", json={"dataset": "nope", "policy": bad},
                        headers=civil), 404)
    offer = client.post(f"/api/v1/data/spaces/{space_id}/offers", headers=civil, json={
        "dataset": DATASET, "policy": aggregate_policy(purposes=[PURPOSE], epsilon=0.3, min_group_size=10)})
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]

    requested = client.post(f"/api/v1/data/spaces/offers/{offer_id}/requests", json={"purpose": PURPOSE},
                            headers=data)
    assert requested.status_code == 201, requested.text
    agreement_id = requested.json()["id"]
    problem(client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/agree", headers=data), 403)
    agreed = client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/agree", headers=civil).json()
    assert agreed["status"] == "agreed" and len(agreed["signature"]) == 128 and agreed["policy"]["@type"] == "Agreement"
    assert client.get(f"/api/v1/data/spaces/agreements/{agreement_id}/verify", headers=data).json()["ok"]
    problem(client.get(f"/api/v1/data/spaces/agreements/{agreement_id}", headers=keys["health"]), 403)

    spec = {"metric": "count", "group_by": ["district_id"], "epsilon": 0.2}
    problem(client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/query", json=spec, headers=civil), 403)
    problem(client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/query", json={**spec, "sql": "x"},
                        headers=data), 422)
    done = client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/query", json=spec, headers=data)
    assert done.status_code == 200, done.text
    assert len(done.json()["release"]["groups"]) == 6 and done.json()["epsilon_left"] == pytest.approx(0.1)
    spent = problem(client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/query", json=spec, headers=data), 403)
    assert spent["type"].endswith("privacy-budget-exhausted")

    sql = "SELECT COUNT(*) FROM low_income_households WHERE district_id = 'donghu'"
    assert "one SELECT" in problem(client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/query-sql", json={
        "sql": "DROP TABLE low_income_households", "epsilon": 0.1}, headers=data), 422)["detail"]
    by_sql = client.post(f"/api/v1/data/spaces/agreements/{agreement_id}/query-sql",
                         json={"sql": sql, "epsilon": 0.1}, headers=data)
    assert by_sql.status_code == 200, by_sql.text
    assert len(by_sql.json()["release"]["groups"]) == 1 and by_sql.json()["epsilon_left"] == pytest.approx(0)

    usage = client.get(f"/api/v1/data/spaces/agreements/{agreement_id}/usage", headers=civil).json()
    assert [u["outcome"] for u in usage["uses"]] == ["released", "refused", "released"]
    assert usage["agreement"]["epsilon_left"] == pytest.approx(0)
    listed = client.get("/api/v1/data/spaces/agreements", headers=civil).json()
    assert agreement_id in {a["id"] for a in listed}
    assert agreement_id not in {a["id"] for a in client.get("/api/v1/data/spaces/agreements",
                                                             headers=keys["health"]).json()}
    problem(client.get("/api/v1/data/spaces", headers=keys["citizen"]), 403)
    assert space_id in {s["id"] for s in client.get("/api/v1/data/spaces", headers=data).json()}
    assert audit.verify().ok


def _cli(*args: str, key: dict[str, str] | None = None):
    env = {"AICITY_API_KEY": key["Authorization"][7:]} if key else {}
    return CliRunner().invoke(spaces_cli.app, list(args), env=env)


def test_the_flow_from_the_cli(keys, tmp_path: Path) -> None:
    made = _cli("create", "CLI 空间", "--kind", "industry", "--json", key=keys["civil"])
    assert made.exit_code == 0, made.output
    space_id = json.loads(made.output)["id"]
    assert _cli("join", space_id, key=keys["data"]).exit_code == 0
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"permission": [{"action": "read"}], "prohibition": [{"action": "read"}]}))
    refused = _cli("offer", space_id, "--dataset", DATASET, "--policy", f"@{policy}", key=keys["civil"])
    assert refused.exit_code == 2 and "permitted and prohibited" in refused.output
    offer = _cli("offer", space_id, "--dataset", DATASET, "--purpose", PURPOSE, "--epsilon", "1", "--quota", "5",
                 "--json", key=keys["civil"])
    assert offer.exit_code == 0, offer.output
    request = _cli("request", json.loads(offer.output)["id"], "--purpose", PURPOSE, "--json", key=keys["data"])
    agreement_id = json.loads(request.output)["id"]
    assert _cli("agree", agreement_id, key=keys["health"]).exit_code == 2
    assert _cli("agree", agreement_id, "--json", key=keys["civil"]).exit_code == 0
    result = _cli("query", agreement_id, "--group-by", "district_id", "--filter", "household_size>=2",
                  "--epsilon", "0.5", "--json", key=keys["data"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["epsilon_left"] == pytest.approx(0.5)
    by_sql = _cli("query", agreement_id, "--sql", "SELECT AVG(household_size), district_id FROM "
                  "low_income_households GROUP BY district_id", "--lower", "1", "--upper", "10", "--epsilon", "0.2",
                  key=keys["data"])
    assert by_sql.exit_code == 0 and "donghu" in by_sql.output, by_sql.output
    bad = _cli("query", agreement_id, "--metric", "sum", "--column", "household_size", key=keys["data"])
    assert bad.exit_code == 2 and "bounds" in bad.output
    usage = json.loads(_cli("usage", agreement_id, "--json", key=keys["civil"]).output)
    assert usage["agreement"]["queries_used"] == 2 and usage["uses"][0]["consumer"] == "data_bureau"
    assert _cli("verify", agreement_id, key=keys["data"]).exit_code == 0
    assert space_id in _cli("list", "--json").output
