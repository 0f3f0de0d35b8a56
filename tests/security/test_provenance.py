"""Provenance records of answers and the invisible, verifiable mark of generated documents."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.security import provenance
from aicity.security.guard_cli import app as guard_cli
from aicity.security.report_cli import app as report_cli

LAW_Q = "食品安全法第三十五条怎么规定的？"


def _answer(client: TestClient) -> dict:
    r = client.post("/api/v1/assistant/ask", json={"text": LAW_Q})
    assert r.status_code == 200, r.text
    return r.json()


def test_every_answer_has_a_signed_record(client: TestClient) -> None:
    body = _answer(client)
    assert body["provenance"] == body["trace_id"]
    rec = client.get(f"/api/v1/guard/provenance/{body['provenance']}").json()
    assert rec["kind"] == "answer" and rec["producer"] == body["planner"]
    assert rec["signature_valid"] is True and rec["signature_algorithm"] == "Ed25519"
    assert rec["sha256"] == provenance.text_hash(body["answer"])
    assert {"doc": body["citations"][0]["doc"], "locator": body["citations"][0]["locator"]} in rec["sources"]
    assert "\u2060" not in body["answer"]  # chat answers are not marked; exports are
    assert client.get("/api/v1/guard/provenance/tr_nothing").status_code == 404


def test_exported_answer_verifies_and_edits_are_caught(client: TestClient) -> None:
    body = _answer(client)
    url = f"/api/v1/guard/provenance/{body['provenance']}/export"
    exported = client.post(url, json={"text": body["answer"]}).json()["text"]
    assert exported != body["answer"] and provenance.strip_marks(exported) == body["answer"]
    verdict = client.post("/api/v1/guard/verify", json={"text": exported}).json()
    assert verdict["status"] == "intact" and verdict["ok"]
    mark = verdict["marks"][0]
    assert mark["id"] == body["trace_id"] and mark["valid"] and mark["record"]["producer"] == body["planner"]
    assert mark["count"] >= 1
    edited = exported.replace("食品", "食物", 1)
    assert client.post("/api/v1/guard/verify", json={"text": edited}).json()["status"] == "edited"
    plain = client.post("/api/v1/guard/verify", json={"text": body["answer"]}).json()
    assert plain["status"] == "unmarked" and not plain["ok"]
    # only the platform's own text is marked
    r = client.post(url, json={"text": body["answer"] + "（我加的）"})
    assert r.status_code == 409 and r.json()["type"].endswith("provenance-mismatch")


def test_forged_marks_are_named(city: Path) -> None:
    rec = provenance.record("report", provenance.new_document_id(), "test", [], "第一段。\n\n第二段。")
    marked = provenance.mark_document("第一段。\n\n第二段。", rec)
    assert provenance.verify_text(marked).marks[0].count == 2
    # a mark copied with its signature bytes flipped
    start = marked.index("\u2060") + 1
    flipped = marked[:start + 40] + chr(ord(marked[start + 40]) ^ 1) + marked[start + 41:]
    assert provenance.verify_text(flipped).status == "forged"
    # a well-formed mark signed by another key
    fake = "\u2060" + provenance._selectors(b"\xac\x01\x03abc" + bytes(6 + 12 + 64))
    assert provenance.verify_text("伪造的通知。" + fake).status == "forged"
    # emoji variation selectors in ordinary text are not mistaken for a mark
    assert provenance.verify_text("好的❤️👍🏻").status == "unmarked"


def test_marks_leave_code_and_tables_alone(city: Path) -> None:
    text = "说明。\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nrm x\n```\n"
    rec = provenance.record("report", provenance.new_document_id(), "test", [], text)
    marked = provenance.mark_document(text, rec)
    assert marked.count("\u2060") == 1 and marked.index("\u2060") == len("说明。")
    assert provenance.verify_text(marked).status == "intact"


def test_cli_verify_and_the_security_report(city: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "report.md"
    r = runner.invoke(report_cli, ["security", "--days", "7", "--out", str(out), "--data-dir", str(city)])
    assert r.exit_code == 0, r.output
    report = out.read_text(encoding="utf-8")
    assert "# 安全报告" in report and "审计账本校验" in report and "完好 intact" in report
    r = runner.invoke(guard_cli, ["verify", str(out), "--json", "--data-dir", str(city)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["status"] == "intact"
    r = runner.invoke(guard_cli, ["verify", str(out), "--data-dir", str(city)])
    assert r.exit_code == 0 and "intact" in r.output and "report.security" in r.output
    out.write_text(report.replace("安全报告", "安全报吿", 1), encoding="utf-8")
    r = runner.invoke(guard_cli, ["verify", str(out), "--json", "--data-dir", str(city)])
    assert r.exit_code == 1 and json.loads(r.output)["status"] == "edited"
    out.write_text("没有水印的文字", encoding="utf-8")
    r = runner.invoke(guard_cli, ["verify", str(out), "--data-dir", str(city)])
    assert r.exit_code == 1 and "unmarked" in r.output
    html_out = tmp_path / "report.html"
    r = runner.invoke(report_cli, ["security", "--format", "html", "--out", str(html_out), "--data-dir", str(city)])
    assert r.exit_code == 0 and html_out.read_text(encoding="utf-8").startswith("<!doctype html>")
    r = runner.invoke(guard_cli, ["verify", str(html_out), "--json", "--data-dir", str(city)])
    assert json.loads(r.output)["status"] == "intact"
