"""The project pipeline and the chain report through the super assistant's REST endpoint: an official
of the commerce bureau asks where a project stands, moves it a stage (history and audit, as REST),
is refused a stage it cannot reach (with the allowed moves, nothing written), is asked which project
when the name fits several, and downloads the chain report from the links the answer gives; other
departments and the public are refused, in the assistant, REST and the CLI alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.agents.industry import projects
from aicity.agents.industry.chat import unmatched
from aicity.agents.industry.cli import app as cli
from aicity.assistant.service import assistant
from aicity.core import audit
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, tuple[str, str]]:
    """(key id, key) per caller: the commerce bureau's official, another department's official, an operator."""
    made = {"commerce": identity.create_api_key("pipeline-commerce", "official", "commerce"),
            "water": identity.create_api_key("pipeline-water", "official", "water"),
            "operator": identity.create_api_key("pipeline-operator", "operator")}
    return {k: (row.id, plaintext) for k, (row, plaintext) in made.items()}


def _ask(client: TestClient, text: str, key: str | None) -> dict[str, Any]:
    resp = client.post("/api/v1/assistant/ask", json={"text": text}, headers={"X-API-Key": key} if key else {})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _skills(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["agent"], s["skill"]) for s in answer["skills"]]


def test_status_move_refusals_and_audit_through_the_assistant(client: TestClient, keys: dict) -> None:
    commerce_id, commerce = keys["commerce"]
    p = projects.create(company="宁德时代新能源科技股份有限公司", chain="新能源汽车", node="动力电池", owner="周科长",
                        actor="test", investment_100m_yuan=50)
    where = _ask(client, "宁德时代的项目现在到哪一步了", commerce)
    assert _skills(where) == [("industry", "project_status")], where["answer"]
    assert p.id in where["answer"] and "线索" in where["answer"] and "可移到：立项" in where["answer"]

    moved = _ask(client, "请把宁德时代那个项目推进到立项阶段", commerce)
    assert _skills(moved) == [("industry", "project_move")], moved["answer"]
    assert "已从“线索”推进到“立项”" in moved["answer"] and projects.get(p.id).stage == "立项"
    entries = [(e.action, e.target, e.actor) for e in audit.recent_entries(30)]
    assert ("industry.project.moved", p.id, f"official:{commerce_id}") in entries  # as the REST move records it
    assert ("tool.call", "industry.project_move", f"official:{commerce_id}") in entries  # the assistant's write

    steps = len(projects.get(p.id).history)
    jump = _ask(client, "宁德时代项目直接推进到落地", commerce)
    assert _skills(jump) == [("industry", "project_move")], jump["answer"]
    assert "不能移到“落地”" in jump["answer"] and "分派、线索" in jump["answer"]
    back = _ask(client, "宁德时代项目退回线索", commerce)  # back needs a reason
    assert "需要说明原因" in back["answer"]
    after = projects.get(p.id)
    assert after.stage == "立项" and len(after.history) == steps  # nothing written

    _, water = keys["water"]
    other = _ask(client, "把宁德时代项目推进到分派", water)
    assert _skills(other) == [("industry", "project_move")] and "商务和投资促进局" in other["answer"]
    public = _ask(client, "把宁德时代项目推进到分派", None)
    assert ("industry", "project_move") not in _skills(public) and "工作人员" in public["answer"]
    assert projects.get(p.id).stage == "立项"
    _, operator = keys["operator"]
    assert "已从“立项”推进到“分派”" in _ask(client, f"把招商项目 {p.id} 推进到分派，负责人改为钱主任", operator)["answer"]
    assert projects.get(p.id).owner == "钱主任"


def test_an_ambiguous_name_is_asked_back_and_stalls_are_listed(client: TestClient, keys: dict) -> None:
    _, commerce = keys["commerce"]
    cells = projects.create(company="比亚迪股份有限公司", chain="新能源汽车", node="动力电池", owner="吴", actor="test")
    chips = projects.create(company="比亚迪半导体股份有限公司", chain="集成电路", owner="吴", actor="test",
                            now=dt.datetime(2025, 1, 6, tzinfo=dt.UTC))
    asked = _ask(client, "比亚迪的项目推进到立项", commerce)
    options = asked["clarification"]["options"]
    assert {o["value"] for o in options} == {cells.id, chips.id}, asked
    assert projects.get(cells.id).stage == projects.get(chips.id).stage == "线索"
    chosen = next(o["label"] for o in options if o["value"] == chips.id)
    assert "已从“线索”推进到“立项”" in _ask(client, chosen, commerce)["answer"]  # the option's label, as sent
    assert projects.get(chips.id).stage == "立项" and projects.get(cells.id).stage == "线索"
    again = _ask(client, "比亚迪项目退回线索，原因：立项材料不全", commerce)["clarification"]["options"]
    back = next(o["label"] for o in again if o["value"] == chips.id)
    assert "已从“立项”退回到“线索”" in _ask(client, back, commerce)["answer"], back
    assert projects.get(chips.id).history[-1].note == "立项材料不全"

    before = {p.id: p.stage for p in projects.list_projects()}
    partial = _ask(client, "把国轩高科电池项目推进到立项", commerce)  # only "电池" fits a project here
    assert cells.id in [o["value"] for o in partial["clarification"]["options"]], partial["answer"]
    assert {p.id: p.stage for p in projects.list_projects()} == before  # no write on a partial match

    battery = _ask(client, "比亚迪电池项目进行到什么阶段了", commerce)
    assert _skills(battery) == [("industry", "project_status")] and cells.id in battery["answer"], battery["answer"]
    late = projects.create(company="武汉光启光芯片有限公司", chain="光电子信息", owner="郑", actor="test",
                           now=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
    stalled = _ask(client, "哪些招商项目卡住不动了", commerce)
    assert _skills(stalled) == [("industry", "project_status")], stalled["answer"]
    assert late.id in stalled["answer"] and "**超期**" in stalled["answer"] and cells.id not in stalled["answer"]


def test_the_chain_report_downloads_from_the_answers_links(client: TestClient, keys: dict) -> None:
    _, commerce = keys["commerce"]
    made = _ask(client, "帮我生成一份集成电路产业链的分析报告", commerce)
    assert _skills(made) == [("industry", "chain_report")], made["answer"]
    assert "集成电路产业链报告（全市）" in made["answer"] and "EDA与IP核" in made["answer"]
    links = {a["label"]: a["value"] for a in made["next_actions"] if a["kind"] == "link"}
    docx = next(v for k, v in links.items() if "DOCX" in k)
    html = next(v for k, v in links.items() if "HTML" in k)
    assert docx in made["answer"]
    got = client.get(docx, headers={"X-API-Key": commerce})
    assert got.status_code == 200 and got.headers["content-type"] == DOCX and got.content[:2] == b"PK"
    page = client.get(html, headers={"X-API-Key": commerce})
    assert page.status_code == 200 and "<svg" in page.text and "集成电路产业链报告" in page.text
    assert client.get(docx).status_code == 401  # the link needs a staff key
    unknown = _ask(client, "生成造船产业链报告", commerce)
    assert _skills(unknown) == [("industry", "chain_report")] and "新能源汽车" in unknown["answer"], unknown["answer"]
    assert "/report?" not in unknown["answer"]


def test_project_writes_are_for_the_commerce_bureau_in_rest_and_the_cli(client: TestClient, keys: dict) -> None:
    _, commerce = keys["commerce"]
    _, water = keys["water"]
    made = client.post("/api/v1/industry/projects", headers={"X-API-Key": water},
                       json={"company": "某公司", "chain": "集成电路", "owner": "陈"})
    assert made.status_code == 403 and made.json()["type"].endswith("commerce-only")
    pid = client.post("/api/v1/industry/projects", headers={"X-API-Key": commerce},
                      json={"company": "某公司", "chain": "集成电路", "owner": "陈"}).json()["id"]
    refused = client.post(f"/api/v1/industry/projects/{pid}/move", headers={"X-API-Key": water}, json={"to": "立项"})
    assert refused.status_code == 403 and "商务和投资促进局" in refused.json()["detail"]
    assert client.post(f"/api/v1/industry/projects/{pid}/notes", headers={"X-API-Key": water},
                       json={"note": "x"}).status_code == 403
    assert client.get(f"/api/v1/industry/projects/{pid}", headers={"X-API-Key": water}).json()["stage"] == "线索"
    runner = CliRunner()
    denied = runner.invoke(cli, ["projects", "move", pid, "立项", "--key", water])
    assert denied.exit_code == 2 and "商务和投资促进局" in denied.output
    done = runner.invoke(cli, ["projects", "move", pid, "立项", "--key", commerce, "--json"])
    assert done.exit_code == 0 and projects.get(pid).stage == "立项", done.output


OFFICIAL = Principal(role=Role.official, department="commerce")


@pytest.mark.parametrize("text, skill", [
    ("宁德时代的招商项目进展如何", "project_status"),
    ("列一下所有超期的招商项目", "project_status"),
    ("协同阶段的招商项目有哪些", "project_status"),
    ("宁德时代项目可以推进到下一阶段了", "project_move"),
    ("把比亚迪项目退回到线索，原因：对方暂停扩产", "project_move"),
    ("生成一份生物医药产业链报告", "chain_report"),
    ("我要光谷区新能源汽车的产业链报告", "chain_report"),
    ("出一份人工智能产业发展报告", "chain_report"),
    ("把招商项目 prj_01abcdefghjkmnpqrs 推进到分派", "project_move"),
    ("招商项目 prj_01abcdefghjkmnpqrs 到哪一步了", "project_status"),
    ("比亚迪电池项目到哪一步了", "project_status"),
    ("把宁德时代项目推进到立项", "project_move"),
])
def test_requests_reach_the_pipeline_and_report_skills(city: Path, text: str, skill: str) -> None:
    """Planned only (a move is not carried out): the mode, then the skill."""
    helper = assistant()
    guess = helper.understanding.guess(text)
    plan = helper.understanding.plan(text, OFFICIAL, helper.planner, guess)
    assert plan.mode == "industry", (text, guess.ranked[:3])
    assert [(t.agent, t.skill) for t in plan.subtasks][:1] == [("industry", skill)], (text, plan)


def test_words_a_project_lacks_are_measured() -> None:
    """A move names its project fully: "宁德时代" left over against a BYD battery project blocks the write."""
    byd = "比亚迪  比亚迪动力电池  动力电池"
    assert unmatched("把宁德时代电池  到", byd) == 4
    assert unmatched("请把比亚迪电池  到", byd) == 0
    assert unmatched("请把比亚迪那个  直接到", byd) == 0  # filler words name nothing
