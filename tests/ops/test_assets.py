"""The digital-asset platform: the index (every kind, owners, lineage), apply → approve → credential →
metered use → chargeback for a model group (gateway key) and an API (API key), the refusals (unknown
asset, own application, not the owner, twice), projects through 立项…验收 with their refusals, the
city's declaration, the CLI, and migration 0026."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core import audit
from aicity.hub.gateway import service as gateway
from aicity.identity import service as identity
from aicity.ops.assets import index
from aicity.ops.assets import models as asset_models  # noqa: F401  (its tables on Base.metadata)
from tests.support.http import problem
from tests.support.migration import check_migration


def key(role: str, department: str | None = None) -> dict[str, str]:
    _, plaintext = identity.create_api_key(f"assets-{role}-{department}", role, department)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture(scope="module")
def staff(client: TestClient) -> dict[str, dict[str, str]]:
    return {"ecology": key("official", "ecology"), "data_bureau": key("official", "data_bureau"),
            "market": key("official", "market"), "operator": key("operator"), "admin": key("admin"),
            "citizen": key("citizen")}


def test_the_index_holds_every_kind_with_owners_and_lineage(client: TestClient, staff: dict) -> None:
    assert client.get("/api/v1/assets/summary").status_code == 403
    assert client.get("/api/v1/assets", headers=staff["citizen"]).status_code == 403
    summary = client.get("/api/v1/assets/summary", headers=staff["ecology"]).json()
    assert all(summary["by_kind"][k] >= 1 for k in index.KINDS), summary
    assert summary["by_kind"]["application"] == 4 and summary["by_kind"]["cloud"] == 3

    app = client.get("/api/v1/assets/application:hotline-insight", headers=staff["ecology"]).json()
    assert app["owner"] == "data_bureau" and app["owner_name"]
    assert {(x["id"], x["relation"]) for x in app["lineage"]["upstream"]} >= {
        ("dataset:hotline_tickets", "uses"), ("model:embed", "uses"), ("cloud:gov-ecs-analytics", "hosted_on")}
    data = client.get("/api/v1/assets/dataset:air_quality_daily", headers=staff["ecology"]).json()
    assert data["owner"] == "ecology" and data["source"] == "data"
    assert "application:air-quality-screen" in {x["id"] for x in data["lineage"]["downstream"]}
    skills = client.get("/api/v1/assets?kind=component", headers=staff["ecology"]).json()
    assert skills and all(s["id"].startswith("component:") and s["owner"] for s in skills)

    assert problem(client.get("/api/v1/assets/dataset:nope", headers=staff["ecology"]), 404)["type"] \
        .endswith("unknown-asset")
    assert problem(client.get("/api/v1/assets?kind=robot", headers=staff["ecology"]), 400)["type"] \
        .endswith("unknown-kind")


def test_a_model_group_is_applied_for_approved_metered_and_charged(client: TestClient, staff: dict) -> None:
    apply = {"asset_id": "model:embed", "purpose": "空气质量日报的相似事件检索", "quota": 50_000}
    assert problem(client.post("/api/v1/assets/applications", headers=staff["ecology"],
                               json={**apply, "asset_id": "model:nope"}), 404)["type"].endswith("unknown-asset")
    assert problem(client.post("/api/v1/assets/applications", headers=staff["data_bureau"], json=apply), 400)["type"] \
        .endswith("own-asset")
    resp = client.post("/api/v1/assets/applications", headers=staff["ecology"], json=apply)
    assert resp.status_code == 201, resp.text
    app = resp.json()
    assert app["status"] == "pending" and app["provision"] == "gateway_key"
    assert problem(client.post("/api/v1/assets/applications", headers=staff["ecology"], json=apply), 409)["type"] \
        .endswith("duplicate-application")
    path = f"/api/v1/assets/applications/{app['id']}"

    # nobody decides their own department's application; only the owner decides
    assert problem(client.post(f"{path}/approve", headers=staff["ecology"], json={}), 403)["type"] \
        .endswith("own-application")
    assert problem(client.post(f"{path}/approve", headers=staff["market"], json={}), 403)["type"].endswith("not-owner")
    assert problem(client.post(f"{path}/credential", headers=staff["ecology"]), 409)["type"].endswith("not-approved")
    inbox = client.get("/api/v1/assets/applications?view=inbox", headers=staff["data_bureau"]).json()
    assert app["id"] in {r["id"] for r in inbox}
    approved = client.post(f"{path}/approve", headers=staff["data_bureau"], json={"reason": "同意"}).json()
    assert approved["status"] == "approved" and approved["decided_by"].startswith("official:")
    assert problem(client.post(f"{path}/reject", headers=staff["data_bureau"], json={}), 409)["type"] \
        .endswith("already-decided")

    # the applicant takes a gateway key limited to the group, with the quota as its monthly budget — once
    assert problem(client.post(f"{path}/credential", headers=staff["market"]), 403)["type"].endswith("not-applicant")
    taken = client.post(f"{path}/credential", headers=staff["ecology"]).json()
    assert taken["grant"]["type"] == "gateway_key" and taken["key"].startswith(gateway.KEY_PREFIX)
    granted = next(k for k in gateway.list_keys() if k.id == taken["grant"]["key_id"])
    assert granted.groups == ["embed"] and granted.monthly_token_budget == 50_000 and granted.owner == "ecology"
    assert problem(client.post(f"{path}/credential", headers=staff["ecology"]), 409)["type"] \
        .endswith("already-collected")

    used = client.post("/v1/embeddings", headers={"Authorization": f"Bearer {taken['key']}"},
                       json={"model": "embed", "input": ["臭氧超标", "细颗粒物"]})
    assert used.status_code == 200, used.text
    report = client.get("/api/v1/assets/chargeback?days=1", headers=staff["ecology"]).json()
    line = next(x for d in report["departments"] for x in d["lines"] if x["application_id"] == app["id"])
    assert line["requests"] == 1 and line["tokens"] > 0
    assert line["amount_yuan"] == round(line["tokens"] / 1000 * report["prices"]["model_per_1k_tokens"], 2)
    # an official sees only their department's charges
    assert problem(client.get("/api/v1/assets/chargeback?department=market", headers=staff["ecology"]), 403)
    assert {d["department"] for d in report["departments"]} == {"ecology"}

    revoked = client.post(f"{path}/revoke", headers=staff["data_bureau"], json={"reason": "项目结束"}).json()
    assert revoked["status"] == "revoked"
    assert client.post("/v1/embeddings", headers={"Authorization": f"Bearer {taken['key']}"},
                       json={"model": "embed", "input": "x"}).status_code == 401


def test_an_api_is_provisioned_as_a_key_and_its_runs_are_metered(client: TestClient, staff: dict) -> None:
    app = client.post("/api/v1/assets/applications", headers=staff["market"],
                      json={"asset_id": "service:assistant", "purpose": "企业服务窗口接入超级助理"}).json()
    path = f"/api/v1/assets/applications/{app['id']}"
    assert client.post(f"{path}/approve", headers=staff["data_bureau"], json={}).json()["grant"]["type"] == "api_key"
    taken = client.post(f"{path}/credential", headers=staff["market"]).json()
    asked = client.post("/api/v1/assistant/ask", headers={"Authorization": f"Bearer {taken['key']}"},
                        json={"text": "个体工商户怎么办营业执照"})
    assert asked.status_code == 200, asked.text
    report = client.get("/api/v1/assets/chargeback?days=1", headers=staff["operator"]).json()
    line = next(x for d in report["departments"] for x in d["lines"] if x["application_id"] == app["id"])
    assert line["requests"] == 1 and line["amount_yuan"] == report["prices"]["api_per_call"]
    # a cloud resource is approved but opened outside the platform: no credential
    cloud = client.post("/api/v1/assets/applications", headers=staff["market"],
                        json={"asset_id": "cloud:gov-oss-archive", "purpose": "档案影像存储"}).json()
    cpath = f"/api/v1/assets/applications/{cloud['id']}"
    assert client.post(f"{cpath}/approve", headers=staff["data_bureau"], json={}).json()["grant"]["type"] == "manual"
    assert problem(client.post(f"{cpath}/credential", headers=staff["market"]), 409)["type"].endswith("manual-provision")


def test_an_application_is_seen_only_by_its_departments(client: TestClient, staff: dict) -> None:
    app = client.post("/api/v1/assets/applications", headers=staff["ecology"],
                      json={"asset_id": "service:sim", "purpose": "内涝模拟接入", "quota": 100}).json()
    path = f"/api/v1/assets/applications/{app['id']}"
    for who in ("ecology", "data_bureau", "operator", "admin"):  # applicant, owner, operator, admin
        assert client.get(path, headers=staff[who]).json()["purpose"] == "内涝模拟接入", who
    assert problem(client.get(path, headers=staff["market"]), 404)["type"].endswith("unknown-application")
    assert client.get(path, headers=staff["citizen"]).status_code == 403


def test_a_dataset_is_applied_for_under_a_data_space_agreement(client: TestClient, staff: dict) -> None:
    refused = problem(client.post("/api/v1/assets/applications", headers=staff["market"],
                                  json={"asset_id": "dataset:air_quality_daily", "purpose": "空气质量比对"}), 400)
    assert refused["type"].endswith("dataset-via-data-spaces") and "aicity data spaces" in refused["detail"]


def test_a_grant_not_yet_taken_is_revoked_cleanly(client: TestClient, staff: dict) -> None:
    app = client.post("/api/v1/assets/applications", headers=staff["market"],
                      json={"asset_id": "model:embed", "purpose": "企业名称相似检索", "quota": 1000}).json()
    path = f"/api/v1/assets/applications/{app['id']}"
    client.post(f"{path}/approve", headers=staff["data_bureau"], json={})
    assert problem(client.post(f"{path}/revoke", headers=staff["market"], json={}), 403)  # not the owner
    assert client.get(path, headers=staff["market"]).json()["status"] == "approved"  # nothing half-done
    resp = client.post(f"{path}/revoke", headers=staff["data_bureau"], json={"reason": "未领取即收回"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "revoked" and resp.json()["reason"] == "未领取即收回"
    entries = audit.recent_entries(20)
    assert any(e.action == "assets.application.revoked" and e.target == app["id"] for e in entries)
    assert problem(client.post(f"{path}/credential", headers=staff["market"]), 409)["type"].endswith("not-approved")


def test_concurrent_takes_mint_one_key(client: TestClient, staff: dict) -> None:
    app = client.post("/api/v1/assets/applications", headers=staff["ecology"],
                      json={"asset_id": "service:assistant", "purpose": "并发领取"}).json()
    path = f"/api/v1/assets/applications/{app['id']}"
    client.post(f"{path}/approve", headers=staff["data_bureau"], json={})
    start = threading.Barrier(4)

    def take(_: int) -> int:
        start.wait()
        return client.post(f"{path}/credential", headers=staff["ecology"]).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(take, range(4)))
    assert codes == [200, 409, 409, 409], codes
    assert len([k for k in identity.list_api_keys() if k.name == f"asset:{app['id']}"]) == 1


def test_a_project_moves_one_stage_at_a_time_with_its_documents(client: TestClient, staff: dict) -> None:
    eco = staff["ecology"]
    project = client.post("/api/v1/assets/projects", headers=eco, json={"name": "生态环境监测一张图"}).json()
    assert project["stage"] == "initiation" and project["department"] == "ecology"
    path = f"/api/v1/assets/projects/{project['id']}"

    def stage(to: str, who: dict = eco) -> object:
        return client.post(f"{path}/stage", headers=who, json={"to": to})

    def doc(kind: str) -> None:
        resp = client.post(f"{path}/documents", headers=eco, json={"kind": kind, "title": f"{kind} 正文",
                                                                   "content": f"《生态环境监测一张图》{kind}"})
        assert resp.status_code == 201, resp.text

    assert problem(stage("design"), 409)["type"].endswith("invalid-stage-move")  # skipping 可研
    assert problem(stage("feasibility"), 409)["type"].endswith("documents-missing")
    assert problem(stage("unknown"), 400)["type"].endswith("unknown-stage")
    assert problem(client.post(f"{path}/documents", headers=eco, json={"kind": "memo", "title": "x", "content": "x"}),
                   400)["type"].endswith("unknown-document-kind")
    assert problem(client.post(f"{path}/documents", headers=eco, json={"kind": "proposal", "title": "x"}), 400)
    doc("proposal")
    assert problem(stage("feasibility", staff["market"]), 403)["type"].endswith("not-your-project")
    assert stage("feasibility").json()["stage_name"] == "可研"
    assert problem(stage("initiation"), 409)["type"].endswith("invalid-stage-move")  # no going back
    assert problem(client.post(f"{path}/assets", headers=eco, json={"asset_id": "dataset:air_quality_daily"}),
                   409)["type"].endswith("invalid-stage")  # nothing is produced before 实施
    for current, nxt in (("feasibility_report", "design"), ("preliminary_design", "implementation")):
        doc(current)
        stage(nxt)
    assert problem(client.post(f"{path}/assets", headers=eco, json={"asset_id": "application:nope"}), 404)
    client.post(f"{path}/assets", headers=eco, json={"asset_id": "application:air-quality-screen"})
    doc("implementation_plan")
    stage("acceptance")
    assert problem(stage("accepted"), 409)["type"].endswith("documents-missing")
    doc("acceptance_report")
    done = stage("accepted").json()
    assert done["stage_name"] == "已验收" and [h["stage"] for h in done["history"]] == list(
        ["initiation", "feasibility", "design", "implementation", "acceptance", "accepted"])
    assert len(done["documents"]) == 5 and all(d["sha256"] for d in done["documents"])
    assert problem(stage("accepted"), 409)
    produced = client.get("/api/v1/assets/application:air-quality-screen", headers=eco).json()["produced_by"]
    assert project["id"] in produced


def test_a_project_is_not_accepted_without_what_it_produced(client: TestClient, staff: dict) -> None:
    eco = staff["ecology"]
    pid = client.post("/api/v1/assets/projects", headers=eco, json={"name": "空报项目"}).json()["id"]
    for kind, to in (("proposal", "feasibility"), ("feasibility_report", "design"),
                     ("preliminary_design", "implementation"), ("implementation_plan", "acceptance"),
                     ("acceptance_report", None)):
        client.post(f"/api/v1/assets/projects/{pid}/documents", headers=eco,
                    json={"kind": kind, "title": kind, "reference": "生态〔2026〕1号"})
        if to:
            client.post(f"/api/v1/assets/projects/{pid}/stage", headers=eco, json={"to": to})
    assert problem(client.post(f"/api/v1/assets/projects/{pid}/stage", headers=eco, json={"to": "accepted"}), 409)[
        "type"].endswith("no-assets-produced")


def test_a_declaration_is_checked_before_anything_is_kept(client: TestClient, staff: dict) -> None:
    demo = index.demo_declared().read_text(encoding="utf-8")
    assert client.put("/api/v1/assets/declared", headers=staff["operator"], json={"yaml": demo}).status_code == 403
    assert problem(client.put("/api/v1/assets/declared", headers=staff["admin"], json={"yaml": "a: [1"}), 400)[
        "type"].endswith("bad-declaration")
    dangling = demo.replace("uses: [dataset:hotline_tickets,", "uses: [dataset:no_such_table,")
    assert problem(client.put("/api/v1/assets/declared", headers=staff["admin"], json={"yaml": dangling}), 400)[
        "type"].endswith("unknown-asset")
    stranger = demo.replace("owner: commerce", "owner: ministry_of_magic")
    assert problem(client.put("/api/v1/assets/declared", headers=staff["admin"], json={"yaml": stranger}), 400)[
        "type"].endswith("unknown-department")
    lineage = client.get("/api/v1/assets/application:hotline-insight", headers=staff["ecology"]).json()["lineage"]
    assert "dataset:hotline_tickets" in {x["id"] for x in lineage["upstream"]}  # unchanged
    # a model group this gateway does not serve (its configuration differs) is indexed as missing, not refused
    unserved = demo.replace("model:embed", "model:not_served_here")
    assert client.put("/api/v1/assets/declared", headers=staff["admin"], json={"yaml": unserved}).status_code == 200
    missing = client.get("/api/v1/assets/model:not_served_here", headers=staff["ecology"]).json()
    assert missing["status"] == "missing" and "application:hotline-insight" in {
        x["id"] for x in missing["lineage"]["downstream"]}
    resp = client.put("/api/v1/assets/declared", headers=staff["admin"], json={"yaml": demo})
    assert resp.status_code == 200 and resp.json()["application"] == 4


def test_the_cli_lists_applies_and_refuses_clearly(city: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["assets", "list", "--kind", "cloud", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 3
    result = runner.invoke(cli, ["assets", "apply", "dataset:nope", "--purpose", "x", "--department", "ecology"])
    assert result.exit_code == 2 and "unknown asset" in result.output
    result = runner.invoke(cli, ["assets", "apply", "service:industry", "--purpose", "企业名录比对",
                                 "--department", "ministry_of_magic"])
    assert result.exit_code == 2 and "unknown department 'ministry_of_magic'" in " ".join(result.output.split())
    result = runner.invoke(cli, ["assets", "apply", "service:industry", "--purpose", "企业名录比对",
                                 "--department", "tax", "--json"])
    assert result.exit_code == 0, result.output
    app_id = json.loads(result.output)["id"]
    result = runner.invoke(cli, ["assets", "approve", app_id, "--department", "tax"])
    assert result.exit_code == 2 and "own application" in result.output
    result = runner.invoke(cli, ["assets", "approve", app_id, "--department", "data_bureau", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["status"] == "approved"
    result = runner.invoke(cli, ["assets", "project", "create", "税务数据共享", "--department", "tax", "--json"])
    pid = json.loads(result.output)["id"]
    result = runner.invoke(cli, ["assets", "project", "stage", pid, "accepted", "--department", "tax"])
    assert result.exit_code == 2 and "only the next stage" in result.output
    result = runner.invoke(cli, ["assets", "chargeback", "--days", "7"])
    assert result.exit_code == 0 and "chargeback" in result.output


def test_0026_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    check_migration(blank_database[1], {"asset_assets", "asset_links", "asset_applications", "asset_projects",
                                        "asset_project_documents"}, "0025")
