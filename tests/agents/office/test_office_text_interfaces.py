"""收文登记 and text work through the REST API and the CLI: staff only, problems for bad input, the
registration stored in the register (direction 'in', status 'registered') and its status changed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.agents.office import documents, drafting, textwork
from aicity.agents.office.registration import register_bytes
from aicity.cli import app as cli
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal

DEV = Path(__file__).parent / "registration_dev"
NOTICE = (DEV / "d06.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, str]:
    return {"official": identity.create_api_key("office-b-official", "official", department="gov_office")[1],
            "water": identity.create_api_key("office-b-water", "official", department="water")[1],
            "citizen": identity.create_api_key("office-b-citizen", "citizen")[1]}


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_an_uploaded_docx_is_registered_into_the_register(client: TestClient, keys: dict[str, str]) -> None:
    data = (DEV / "d01.docx").read_bytes()
    res = client.post("/api/v1/office/register", headers=auth(keys["official"]),
                      files={"file": ("d01.docx", data, "application/octet-stream")})
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["doc_number"] == "江政办发〔2026〕12号" and body["status"] == "registered"
    assert body["attachments"] == ["江城市2026年易涝点清单", "防汛责任人名单表"] and body["deadline"] == "2026-04-10"
    assert body["suggested_departments"][0] == "water" and body["notes"]["doc_number"].startswith("版头")
    doc = documents.get_document(body["id"], Principal(Role.admin))
    assert doc.direction == "in" and doc.file == data and doc.file_name == "d01.docx" and doc.department == "gov_office"
    # the handler is assigned: the status and the department change, and the register says so
    patched = client.patch(f"/api/v1/office/documents/{body['id']}", headers=auth(keys["official"]),
                           json={"status": "assigned", "suggested_departments": ["water"]})
    assert patched.status_code == 200 and patched.json()["status"] == "assigned"
    assert documents.get_document(body["id"], Principal(Role.admin)).suggested_departments == ["water"]
    # another department's official cannot see (or change) it
    other = client.patch(f"/api/v1/office/documents/{body['id']}", headers=auth(keys["water"]),
                         json={"status": "done"})
    assert other.status_code == 404
    bad = client.patch(f"/api/v1/office/documents/{body['id']}", headers=auth(keys["official"]),
                       json={"status": "lost"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


def test_pasted_text_is_registered(client: TestClient, keys: dict[str, str]) -> None:
    res = client.post("/api/v1/office/register", headers=auth(keys["official"]), data={"text": NOTICE})
    assert res.status_code == 201
    assert res.json()["kind"] == "通知" and res.json()["deadline"] == "2026-04-15"


@pytest.mark.parametrize(("files", "data", "status", "kind"), [
    ({"file": ("scan.pdf", b"", "application/pdf")}, None, 400, "office-empty"),
    ({"file": ("table.docx", "a,b\n1,2\n".encode(), "application/octet-stream")}, None, 422, "office-not-a-document"),
    ({"file": ("photo.png", b"\x89PNG\r\n\x1a\n\0\0", "image/png")}, None, 415, "office-unsupported-format"),
    (None, {"text": "序号,名称\n1,沙袋\n"}, 422, "office-not-a-document"),
    (None, None, 400, "office-invalid"),
])
def test_bad_uploads_are_problems(client: TestClient, keys: dict[str, str], files: dict | None, data: dict | None,
                                  status: int, kind: str) -> None:
    before = len(documents.list_documents("in", principal=Principal(Role.admin), limit=500))
    res = client.post("/api/v1/office/register", headers=auth(keys["official"]), files=files, data=data)
    assert res.status_code == status and res.json()["type"].endswith(kind), res.text
    assert len(documents.list_documents("in", principal=Principal(Role.admin), limit=500)) == before


def test_a_pdf_without_text_layer_is_a_problem_naming_ocr(client: TestClient, keys: dict[str, str]) -> None:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    buf = io.BytesIO()
    pdf.save(buf)
    res = client.post("/api/v1/office/register", headers=auth(keys["official"]),
                      files={"file": ("scan.pdf", buf.getvalue(), "application/pdf")})
    assert res.status_code == 422 and res.json()["type"].endswith("office-no-text-layer") and "OCR" in res.json()["detail"]


@pytest.mark.parametrize("who", [None, "citizen"])
def test_the_public_is_refused(client: TestClient, keys: dict[str, str], who: str | None) -> None:
    headers = auth(keys[who]) if who else {}
    expected = 403 if who else 401
    assert client.post("/api/v1/office/register", headers=headers, data={"text": NOTICE}).status_code == expected
    assert client.post("/api/v1/office/polish", headers=headers, json={"text": "搞好"}).status_code == expected
    assert client.post("/api/v1/office/summarize", headers=headers, json={"text": NOTICE}).status_code == expected
    assert client.post("/api/v1/office/revise", headers=headers,
                       json={"text": "甲", "instruction": "把甲改为乙"}).status_code == expected


def test_summarize_polish_and_revise_over_http(client: TestClient, keys: dict[str, str]) -> None:
    h = auth(keys["official"])
    summary = client.post("/api/v1/office/summarize", headers=h, json={"text": NOTICE}).json()
    assert summary["kind"] == "通知" and "4月15日前" in summary["summary"] and summary["writer"] == "embedded"
    polished = client.post("/api/v1/office/polish", headers=h, json={"text": "希望大家赶紧报上来"}).json()
    assert polished["text"] == "请各单位尽快报送" and len(polished["changes"]) == 3
    revised = client.post("/api/v1/office/revise", headers=h,
                          json={"text": "请各单位做好准备。\n", "instruction": "把做好准备改为做好防汛准备"}).json()
    assert revised["text"] == "请各单位做好防汛准备。\n" and "+请各单位做好防汛准备。" in revised["diff"]
    empty = client.post("/api/v1/office/polish", headers=h, json={"text": ""})
    assert empty.status_code in (400, 422) and empty.headers["content-type"].startswith("application/problem+json")
    unknown = client.post("/api/v1/office/revise", headers=h, json={"text": "甲。", "instruction": "写得感人一些"})
    assert unknown.status_code == 400 and "没能理解" in unknown.json()["detail"]


def test_cli_register_json_batch_and_errors(city: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["office", "register", str(DEV / "d07.docx"), "--json", "--data-dir", str(city)])
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)
    assert row["kind"] == "请示" and row["signer"] == "蒋涛" and row["classification"] == "秘密" and row["id"]
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"path": str(DEV / "d02.pdf")}) + "\n" + json.dumps({"path": "missing.docx"}) + "\n"
                     + json.dumps({"path": str(DEV / "build.py")}) + "\n", encoding="utf-8")
    out = runner.invoke(cli, ["office", "register", "--batch", str(batch), "--data-dir", str(city)])
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert lines[0]["issuer"] == ["江城市教育局", "江城市财政局"] and "error" in lines[1] and "error" in lines[2]
    table = runner.invoke(cli, ["office", "register", str(DEV / "d05.pdf"), "--data-dir", str(city)],
                          env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "第5期" in table.stdout and "纪要" in table.stdout
    fake = tmp_path / "table.docx"
    fake.write_text("a,b\n1,2\n", encoding="utf-8")
    bad = runner.invoke(cli, ["office", "register", str(fake), "--data-dir", str(city)])
    assert bad.exit_code == 2 and "不是" in bad.output
    neither = runner.invoke(cli, ["office", "register", "--data-dir", str(city)])
    assert neither.exit_code == 2


def test_cli_text_commands(city: Path) -> None:
    runner = CliRunner()
    summary = runner.invoke(cli, ["office", "summarize", str(DEV / "d03.txt"), "--json", "--data-dir", str(city)])
    assert summary.exit_code == 0 and json.loads(summary.stdout)["kind"] == "报告"
    polish = runner.invoke(cli, ["office", "polish", "咱们马上开会", "--json", "--data-dir", str(city)])
    assert json.loads(polish.stdout)["text"] == "我们立即召开会议"
    revise = runner.invoke(cli, ["office", "revise", "请各单位做好准备。", "-i", "删除各单位", "--data-dir", str(city)])
    assert revise.exit_code == 0 and "-请各单位做好准备。" in revise.stdout and "+请做好准备。" in revise.stdout
    bad = runner.invoke(cli, ["office", "revise", "请做好准备。", "-i", "写得感人一些", "--data-dir", str(city)])
    assert bad.exit_code == 2 and "没能理解" in bad.output


def test_cli_eval_office_on_the_development_set() -> None:
    out = CliRunner().invoke(cli, ["eval", "office", "--dev", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["documents"] >= 20 and report["accuracy"]["doc_number"] >= 0.95


@pytest.mark.parametrize("request_text", ["起草一份关于开展燃气安全隐患排查整治的通知", "起草一份请示，申请防汛物资经费",
                                          "拟一份函，商请市水务局配合排查易涝点"])
def test_a_drafted_docx_registers_back_to_its_own_elements(city: Path, request_text: str) -> None:
    """The drafter's DOCX (GB/T 9704 layout) read by 收文登记: the elements it was written with."""
    made = drafting.draft(request_text, principal=Principal(Role.official, department="gov_office"))
    reg = register_bytes("draft.docx", made.docx)
    assert (reg.kind, reg.doc_number, reg.title, reg.date) == (made.kind, made.doc_number, made.title, made.date)
    assert reg.issuer == [made.issuer] and reg.recipients == made.recipients


def test_with_a_model_configured_the_model_writes_and_a_failing_one_leaves_the_rules(city: Path, llm) -> None:  # type: ignore[no-untyped-def]
    llm.set(script=[{"content": "本通知要求各单位于4月15日前完成职业技能培训补贴申报。"}])
    summary = textwork.summarize(NOTICE)
    assert summary["writer"] == "llm:chat-large" and summary["summary"].startswith("本通知要求")
    llm.set(script=[{"content": "请各单位尽快报送材料。"}])
    polished = textwork.polish("希望大家赶紧把材料报上来")
    assert polished["text"] == "请各单位尽快报送材料。" and polished["writer"] == "llm:chat-large"
    assert any(c["rule"] == "model 模型润色" for c in polished["changes"])
    llm.set(fail_status=500, fail_count=10)
    fallback = textwork.revise("请各单位做好准备。", "把做好准备改为做好防汛准备")
    assert fallback["writer"] == "embedded" and fallback["text"] == "请各单位做好防汛准备。"
