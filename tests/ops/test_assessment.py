"""The assessment: five dimensions from the platform's own measures and the questionnaire, over the
CLI (table, JSON, HTML with inline SVG) and REST; bad questionnaires and outputs are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core.errors import Problem
from aicity.identity import service as identity
from aicity.ops import assessment
from tests.support.http import problem

DIMENSIONS = {"facilities", "hub", "applications", "evolution", "people"}


def _blank() -> dict:
    return yaml.safe_load(Path(assessment.default_questionnaire()).read_text(encoding="utf-8"))


def test_every_dimension_is_scored_with_its_sources(city: Path) -> None:
    report = assessment.assess()
    assert set(report["dimensions"]) == DIMENSIONS
    for d in report["dimensions"].values():
        assert 0 <= d["score"] <= 100 and d["indicators"]
        for i in d["indicators"]:
            assert i["source"] and i["name"]
            assert i["attainment"] is None or 0 <= i["attainment"] <= 1
    # the blank questionnaire's items are listed as not answered, not scored
    unanswered = [i for i in report["unanswered"] if i["source"].startswith("questionnaire")]
    assert len(unanswered) == len(_blank()["questions"]) and all(i["note"] == "未作答 not answered" for i in unanswered)
    assert [w["attainment"] for w in report["weakest"]] == sorted(w["attainment"] for w in report["weakest"])


def test_answers_change_the_score(city: Path, tmp_path: Path) -> None:
    filled = _blank()
    for q in filled["questions"]:
        q["answer"] = True if q["kind"] == "yesno" else q["target"]
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(filled, allow_unicode=True), encoding="utf-8")
    report = assessment.assess(assessment.load_questionnaire(path))
    assert not [i for i in report["unanswered"] if i["source"].startswith("questionnaire")]
    people = report["dimensions"]["people"]
    assert people["score"] > assessment.assess()["dimensions"]["people"]["score"]
    half = {**filled, "questions": [{**q, "answer": False} if q["kind"] == "yesno" else q for q in filled["questions"]]}
    path.write_text(yaml.safe_dump(half, allow_unicode=True), encoding="utf-8")
    lower = assessment.assess(assessment.load_questionnaire(path))
    assert lower["dimensions"]["people"]["score"] < people["score"]
    assert any(w["name"].startswith("控制台与助理") for w in lower["weakest"][:5])


@pytest.mark.parametrize("content", ["questions: [{id: x}]", "not: [valid", "questions:\n - {id: a, dimension: hub, "
                                     "name: n, kind: ratio, target: 0.5, answer: 7}"])
def test_a_bad_questionnaire_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Problem) as err:
        assessment.load_questionnaire(path)
    assert err.value.status == 400
    result = CliRunner().invoke(cli, ["report", "assessment", "--questionnaire", str(path)])
    assert result.exit_code != 0 and "问卷" in result.output


def test_the_cli_writes_json_and_an_html_report(city: Path, tmp_path: Path) -> None:
    out = tmp_path / "assessment.html"
    result = CliRunner().invoke(cli, ["report", "assessment", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body["dimensions"]) == DIMENSIONS and "weakest" in body
    assert all({"score", "indicators"} <= set(d) for d in body["dimensions"].values())
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") >= 1 and 'data-testid="dimension-chart"' in page and "<script" not in page
    weakest_at = page.find("最薄弱的环节")
    assert 0 < weakest_at < page.find("<h2>", weakest_at + 1)  # the weakest points come before the dimensions
    assert CliRunner().invoke(cli, ["report", "assessment"]).exit_code == 0
    bad = CliRunner().invoke(cli, ["report", "assessment", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code != 0 and not (tmp_path / "x.pdf").exists()


def test_rest_is_for_staff(client: TestClient) -> None:
    problem(client.get("/api/v1/ops/assessment"), 403)
    _, citizen = identity.create_api_key("assess-citizen", "citizen")
    problem(client.get("/api/v1/ops/assessment", headers={"Authorization": f"Bearer {citizen}"}), 403)
    _, operator = identity.create_api_key("assess-operator", "operator")
    found = client.get("/api/v1/ops/assessment", headers={"Authorization": f"Bearer {operator}"})
    assert found.status_code == 200 and set(found.json()["dimensions"]) == DIMENSIONS
