"""The investment-project pipeline: seven stages, one forward or one back (with a reason), 409 with
the allowed moves otherwise and nothing written; stalls, reminders, stage materials, the year's
assessment, audit entries — through the service and through REST."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aicity.agents.industry import projects
from aicity.core import audit
from aicity.core.errors import Problem
from aicity.identity import service as identity

COMPANY = "深圳芯腾动力电池有限公司"  # a lead of the demo pack (动力电池)


def test_a_project_moves_one_stage_at_a_time_with_history_and_audit(city: Path) -> None:
    p = projects.create(company=COMPANY, chain="新能源汽车", node="动力电池", owner="张科长", actor="test",
                        investment_100m_yuan=12, jobs=300)
    assert p.stage == "线索" and p.allowed_moves == ["立项"] and len(p.history) == 1
    with pytest.raises(Problem) as exc:
        projects.move(p.id, "落地", actor="test")
    assert exc.value.status == 409 and exc.value.extra["allowed"] == ["立项"] and "落地" in exc.value.detail
    assert len(projects.get(p.id).history) == 1 and projects.get(p.id).stage == "线索"  # nothing written
    p = projects.move(p.id, "立项", actor="test", note="已签约意向书")
    assert p.allowed_moves == ["分派", "线索"]
    with pytest.raises(Problem) as exc:
        projects.move(p.id, "线索", actor="test")  # back needs a reason
    assert exc.value.status == 400 and projects.get(p.id).stage == "立项"
    p = projects.move(p.id, "分派", actor="test", owner="李主任")
    assert p.owner == "李主任" and [h.to_stage for h in p.history] == ["线索", "立项", "分派"]
    actions = {(e.action, e.target) for e in audit.recent_entries(20)}
    assert ("industry.project.moved", p.id) in actions and ("industry.project.created", p.id) in actions
    with pytest.raises(Problem) as exc:
        projects.move(p.id, "签约", actor="test")
    assert exc.value.status == 400 and exc.value.type_ == "unknown-stage"
    with pytest.raises(Problem) as exc:
        projects.create(company=COMPANY, chain="造船", owner="张", actor="test")
    assert exc.value.status == 404 and "造船" in exc.value.detail


def test_stalls_reminders_materials_and_the_years_assessment(city: Path) -> None:
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    p = projects.create(company=COMPANY, chain="新能源汽车", node="动力电池", owner="王处长", actor="test",
                        investment_100m_yuan=8.5, now=start)
    later = start + dt.timedelta(days=31)  # 线索 allows 30 days
    assert projects.get(p.id, later).stalled and projects.get(p.id, later).reminders[0].kind == "stalled"
    assert p.id in [x.id for x in projects.list_projects(stalled=True, now=later)]
    p = projects.add_note(p.id, "下周赴深圳拜访", actor="test", remind_on=dt.date(2026, 4, 8), now=later)
    assert any(r.kind == "note" and r.on == dt.date(2026, 4, 8) for r in p.reminders)
    for stage in ("立项", "分派", "协同", "落地"):
        p = projects.move(p.id, stage, actor="test", now=later)
    brief = projects.material(p.id, "brief")
    assert COMPANY in brief.markdown and "招商线索库" in brief.markdown and "20.62" in brief.markdown  # its revenue
    assert any("investment_leads" in q.datasets for q in brief.queries)
    value = projects.material(p.id, "assessment").markdown
    assert "补链价值" in value and "| 补链契合 | 0.30 |" in value
    hand = projects.material(p.id, "handover").markdown
    assert "下周赴深圳拜访" in hand and "协同 → 落地" in hand
    with pytest.raises(Problem):
        projects.material(p.id, "poster")
    year = projects.assessment(2026)
    landed = next(line for line in year.lines if line.metric == "落地项目数")
    assert p.id in landed.projects and landed.target == 6
    money = next(line for line in year.lines if line.metric.startswith("落地投资额"))
    assert money.result >= 8.5


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, str]:
    return {"official": identity.create_api_key("industry-official", "official", "commerce")[1],
            "citizen": identity.create_api_key("industry-citizen", "citizen")[1]}


def test_rest_chains_leads_reports_and_projects(client: TestClient, keys: dict[str, str]) -> None:
    h = {"X-API-Key": keys["official"]}
    assert client.get("/api/v1/industry/chains").status_code == 401
    assert client.get("/api/v1/industry/chains", headers={"X-API-Key": keys["citizen"]}).status_code == 403
    assert len(client.get("/api/v1/industry/chains", headers=h).json()) == 6
    cmap = client.get("/api/v1/industry/chains/新能源汽车", params={"district": "guanggu"}, headers=h).json()
    assert cmap["district"] == "光谷区" and cmap["nodes"][0]["strength"]["level"] == "missing"
    bad = client.get("/api/v1/industry/chains/造船", headers=h)
    assert bad.status_code == 404 and bad.headers["content-type"].startswith("application/problem+json")
    assert "造船" in bad.json()["detail"]
    gaps = client.get("/api/v1/industry/gaps", params={"chain": "集成电路"}, headers=h).json()
    assert {g["node"] for g in gaps} >= {"EDA与IP核", "半导体设备"}
    ranked = client.get("/api/v1/industry/chains/新能源汽车/leads", params={"node": "动力电池"}, headers=h).json()
    assert ranked["leads"][0]["components"] and ranked["leads"][0]["reasons"]
    none = client.get("/api/v1/industry/chains/现代物流/leads", params={"node": "仓储配送"}, headers=h)
    assert none.status_code == 404 and none.json()["type"].endswith("no-leads")
    page = client.get("/api/v1/industry/chains/集成电路/report", params={"format": "html"}, headers=h)
    assert page.status_code == 200 and "<svg" in page.text and "SELECT" in page.text
    assert client.get("/api/v1/industry/chains/集成电路/report", params={"format": "pdf"}, headers=h).status_code == 422
    made = client.post("/api/v1/industry/projects", headers=h,
                       json={"company": COMPANY, "chain": "新能源汽车", "node": "动力电池", "owner": "赵科员"})
    assert made.status_code == 201
    pid = made.json()["id"]
    refused = client.post(f"/api/v1/industry/projects/{pid}/move", headers=h, json={"to": "考核"})
    assert refused.status_code == 409 and refused.json()["allowed"] == ["立项"]
    moved = client.post(f"/api/v1/industry/projects/{pid}/move", headers=h, json={"to": "立项", "note": "ok"})
    assert moved.status_code == 200 and moved.json()["stage"] == "立项"
    noted = client.post(f"/api/v1/industry/projects/{pid}/notes", headers=h, json={"note": "约见", "remind_on": "2099-01-01"})
    assert noted.json()["reminders"][-1]["text"] == "约见"
    assert client.get(f"/api/v1/industry/projects/{pid}/materials/brief", headers=h).json()["markdown"].startswith("#")
    assert client.get("/api/v1/industry/projects/nope", headers=h).status_code == 404
    assert client.get("/api/v1/industry/assessment", params={"year": 2026}, headers=h).status_code == 200
