"""一句话问数 through its interfaces on the demo city (the store the data hub imported): `aicity data
ask` (JSON, batch, errors), `POST /api/v1/data/ask` (roles from the key, RFC 9457 problems), and
the model path through the gateway with a scripted OpenAI-compatible upstream over real HTTP:
the model's SQL answers when the checker allows it and is refused, unrun, when it does not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.hub.data import ask as engine_module
from aicity.hub.data.ask_cli import ask_command
from aicity.identity import service as identity
from tests.support.http import problem
from tests.support.upstream import RunningUpstream

cli = typer.Typer()
cli.command()(ask_command)
runner = CliRunner()


@pytest.fixture(scope="module")
def official(city: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.create_api_key('ask-official', 'official')[1]}"}


def test_the_store_answers(city: Path) -> None:
    conn, source = engine_module.connection()
    conn.close()
    assert source != "pack"  # the demo city imported the pack into the store
    a = engine_module.ask("东湖区3月份有多少工单")
    assert a.status == "answered" and a.value == 334 and a.datasets == ["hotline_tickets"]


def test_cli_json_and_errors(city: Path) -> None:
    out = runner.invoke(cli, ["各区低保户数", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert set(body) >= {"answer", "sql", "columns", "rows", "value", "datasets", "status", "reason"}
    assert body["status"] == "answered" and body["datasets"] == ["low_income_households"]
    refused = json.loads(runner.invoke(cli, ["列出低保户的身份证号", "--json"]).output)
    assert refused["status"] == "refused" and refused["reason"]
    citizen = json.loads(runner.invoke(cli, ["各区工单数量", "--role", "citizen", "--json"]).output)
    assert citizen["status"] == "refused"
    dated = json.loads(runner.invoke(cli, ["上个月有多少工单", "--as-of", "2025-07-15", "--json"]).output)
    assert "2025年6月" in dated["answer"]
    plain = runner.invoke(cli, ["各区工单数量"])
    assert "光谷区" in plain.output and "SQL" in plain.output
    for args, message in ((["x", "--role", "mayor"], "unknown role"), (["x", "--as-of", "2025-13-01"], "YYYY-MM-DD"),
                          ([], "--batch")):
        bad = runner.invoke(cli, args)
        assert bad.exit_code != 0 and message in bad.output, bad.output


def test_cli_batch_writes_one_line_per_question(city: Path, tmp_path: Path) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join([
        json.dumps({"q": "光谷区的常住人口"}, ensure_ascii=False),
        "{not json",
        json.dumps({"q": "各区工单数量", "role": "citizen"}, ensure_ascii=False),
        json.dumps({"q": "上个月有多少工单", "as_of": "2025-04-02"}, ensure_ascii=False),
        json.dumps({"question": "missing q"}),
        json.dumps({"q": "x", "as_of": "yesterday"}),
    ]) + "\n", encoding="utf-8")
    out = runner.invoke(cli, ["--batch", str(batch)])
    lines = [json.loads(line) for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 6
    assert lines[0]["status"] == "answered" and lines[0]["value"] == 712970
    assert "error" in lines[1] and lines[1]["line"] == 2
    assert lines[2]["status"] == "refused"
    assert "2025年3月" in lines[3]["answer"]
    assert "error" in lines[4] and "error" in lines[5] and "YYYY-MM-DD" in lines[5]["error"]


def test_rest_answers_for_the_callers_role(client: TestClient, official: dict[str, str]) -> None:
    resp = client.post("/api/v1/data/ask", json={"question": "哪个区的工单最多"}, headers=official)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "answered" and body["value"] == "光谷区" and body["sql"].startswith("SELECT")
    public = client.post("/api/v1/data/ask", json={"question": "哪个区的工单最多"}).json()
    assert public["status"] == "refused"  # no key: a citizen, who sees open data only
    air = client.post("/api/v1/data/ask", json={"question": "各区AQI平均值"}).json()
    assert air["status"] == "answered" and air["chart_svg"].startswith("<svg")
    personal = client.post("/api/v1/data/ask", json={"question": "低保户户主的身份证号码"}, headers=official).json()
    assert personal["status"] == "refused" and personal["alternative"]


def test_rest_bad_input_is_a_problem(client: TestClient, official: dict[str, str]) -> None:
    problem(client.post("/api/v1/data/ask", json={"question": ""}, headers=official), 422)
    problem(client.post("/api/v1/data/ask", json={"question": "多" * 501}, headers=official), 422)
    problem(client.post("/api/v1/data/ask", json={"q": "东湖区工单"}, headers=official), 422)
    problem(client.post("/api/v1/data/ask", json={"question": "x", "as_of": "soon"}, headers=official), 422)
    problem(client.post("/api/v1/data/ask", json={"question": "各区工单", "role": "admin"}), 403)


def _script(llm: RunningUpstream, reply: dict[str, Any] | str) -> None:
    content = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
    llm.set(script=[{"content": content}])


def test_the_model_writes_sql_the_checker_allows(llm: RunningUpstream, official: dict[str, str],
                                                  client: TestClient) -> None:
    question = "每个社区服务站覆盖的工单平均满意度"  # the parser does not understand it: the model is asked
    assert engine_module.embedded_answer is not None
    _script(llm, {"sql": "SELECT channel, COUNT(*) AS n FROM hotline_tickets GROUP BY channel ORDER BY n DESC",
                  "title": "各渠道工单数", "unit": "件"})
    body = client.post("/api/v1/data/ask", json={"question": question}, headers=official).json()
    assert body["status"] == "answered" and body["writer"] == "llm:chat-large", body
    assert body["rows"][0] == ["电话", 13930] and body["sql"].endswith("LIMIT 1000")
    sent = llm.requests[-1]["messages"]
    assert "hotline_tickets" in sent[1]["content"] and "id_number" not in sent[1]["content"]  # personal columns withheld


@pytest.mark.parametrize("sql", ["SELECT head_name, id_number FROM low_income_households",
                                 "DROP TABLE hotline_tickets", "SELECT * FROM read_csv('/etc/passwd')",
                                 "SELECT 1; DELETE FROM districts"])
def test_the_models_hostile_sql_is_refused_unrun(llm: RunningUpstream, official: dict[str, str],
                                                 client: TestClient, sql: str) -> None:
    _script(llm, {"sql": sql, "title": "x"})
    body = client.post("/api/v1/data/ask", json={"question": "每个社区服务站覆盖的工单平均满意度"},
                       headers=official).json()
    assert body["status"] == "refused" and body["rows"] == [] and body["value"] is None, body
    assert engine_module.ask("各区工单数量").rows[0] == ["光谷区", 5590]  # nothing was dropped


def test_a_failing_model_leaves_the_parsers_answer(llm: RunningUpstream, official: dict[str, str],
                                                   client: TestClient) -> None:
    _script(llm, "我不知道")
    body = client.post("/api/v1/data/ask", json={"question": "每个社区服务站覆盖的工单平均满意度"},
                       headers=official).json()
    assert body["status"] == "not_understood" and body["writer"] == "embedded"
    # a question the parser understands never reaches the model in `auto`
    before = len(llm.requests)
    assert client.post("/api/v1/data/ask", json={"question": "各区工单数量"}, headers=official).json()["writer"] \
        == "embedded"
    assert len(llm.requests) == before
