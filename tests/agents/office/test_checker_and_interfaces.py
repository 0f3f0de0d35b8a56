"""The GB/T 9704 checker finds faults seeded into a good DOCX; drafting and checking through the
CLI (`aicity office draft|check`) and REST (`/api/v1/office/…`); the rendered page (LibreOffice →
PDF → PNG); the plain report DOCX."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from aicity.agents.office import checker, drafting, render
from aicity.agents.office.cli import app as office_cli
from aicity.agents.office.docx_writer import OfficialDoc, report_docx, write_docx
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.http import problem

OFFICIAL = Principal(Role.official, department="gov_office")


@pytest.fixture(scope="module")
def notice(city: Path) -> bytes:
    return drafting.draft("起草一份关于开展燃气安全隐患排查整治的通知", principal=OFFICIAL).docx


def _spoil(data: bytes, change: Callable[[Document], None]) -> bytes:
    doc = Document(io.BytesIO(data))
    change(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _paragraph(doc: Document, pattern: str):  # type: ignore[no-untyped-def]
    return next(p for p in doc.paragraphs if re.search(pattern, p.text))


def _margins(doc: Document) -> None:
    doc.sections[0].top_margin = Mm(25)
    doc.sections[0].left_margin = Mm(20)


def _title_size(doc: Document) -> None:
    for run in _paragraph(doc, "^关于").runs:
        run.font.size = Pt(18)


def _number(doc: Document) -> None:
    p = _paragraph(doc, "〔")
    for run in p.runs:
        run.text = re.sub(r"〔(\d+)〕(\d+)号", r"[\1]0\2号", run.text)


def _date(doc: Document) -> None:
    p = _paragraph(doc, r"^\d{4}年\d+月\d+日$")
    p.runs[0].text = "二〇二六年十二月六日"


def _black_mark(doc: Document) -> None:
    for run in _paragraph(doc, "文件$").runs:
        run.font.color.rgb = None


def _body_font(doc: Document) -> None:
    p = _paragraph(doc, "^为切实")
    for run in p.runs:
        run._r.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def _heading(doc: Document) -> None:
    p = _paragraph(doc, "^一、")
    p.runs[0]._r.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")


def _footers(doc: Document) -> None:
    doc.settings.odd_and_even_pages_header_footer = False
    doc.sections[0].footer.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _colophon(doc: Document) -> None:
    body = doc.element.body
    cc = next(p for p in body.iter(qn("w:p")) if "抄送" in "".join(t.text or "" for t in p.iter(qn("w:t"))))
    body.insert(0, cc)  # 抄送 moved to the top, above the date


def _colophon_inline(doc: Document) -> None:
    for pos in doc.element.body.iter(qn("w:tblpPr")):
        pos.getparent().remove(pos)  # the 版记 table no longer floats to the foot of the 版心


@pytest.mark.parametrize(("spoil", "rule"), [
    (_margins, "page.margin_top"), (_margins, "page.margin_left"), (_margins, "page.text_area"),
    (_title_size, "title.size"), (_number, "number.form"), (_date, "date.form"), (_black_mark, "mark.red"),
    (_body_font, "body.font"), (_heading, "heading.1"), (_footers, "pagenum.place"), (_colophon, "colophon.order"),
    (_colophon_inline, "colophon.position"),
])
def test_the_checker_finds_a_seeded_fault(notice: bytes, spoil: Callable[[Document], None], rule: str) -> None:
    assert not checker.failed(checker.check_docx(notice))
    findings = {f.rule: f for f in checker.check_docx(_spoil(notice, spoil))}
    assert not findings[rule].ok, findings[rule]
    assert re.search(r"[\u4e00-\u9fa5]", findings[rule].message)


def test_an_upward_document_without_signer_fails(city: Path) -> None:
    made = drafting.draft("向市政府报告今年燃气安全隐患排查整治情况", kind="报告", principal=OFFICIAL)

    def drop_signer(doc: Document) -> None:
        for p in doc.paragraphs:
            for run in p.runs:
                run.text = run.text.replace("签发人：", "").replace("赵立新", "").replace("孙文华", "")

    findings = {f.rule: f for f in checker.check_docx(_spoil(made.docx, drop_signer))}
    assert not findings["signer.upward"].ok


def test_a_document_written_elsewhere_is_read_through_its_styles() -> None:
    doc = Document()  # python-docx's own template: Letter paper, Calibri, no grid, no red
    doc.add_paragraph("关于某事的通知").alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("正文内容。")
    out = io.BytesIO()
    doc.save(out)
    failed = {f.rule for f in checker.failed(checker.check_docx(out.getvalue()))}
    assert {"page.size", "page.margin_top", "mark.red", "separator.red", "number.form", "date.form",
            "pagenum.field"} <= failed


@pytest.mark.parametrize("data", [b"", b"not a docx", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_docx_is_refused(data: bytes) -> None:
    with pytest.raises(checker.NotADocx):
        checker.check_docx(data)


# --- CLI --------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize(("text", "kind"), [("起草一份关于开展燃气安全隐患排查整治的通知", "通知"),
                                            ("给市水务局发函商请协助做好汛期道路积水监测", "函"),
                                            ("向市政府请示增加城区防汛排涝应急经费", "请示")])
def test_cli_drafts_and_checks(city: Path, tmp_path: Path, text: str, kind: str) -> None:
    out = tmp_path / f"{kind}.docx"
    done = runner.invoke(office_cli, ["draft", text, "--out", str(out), "--json", "--data-dir", str(city)])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert {"kind", "title", "doc_number", "recipients", "text", "citations", "file"} <= set(body)
    assert body["kind"] == kind and body["file"] == str(out) and out.read_bytes()[:2] == b"PK"
    checked = runner.invoke(office_cli, ["check", str(out), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["ok"] is True


def test_cli_check_exits_1_on_a_failed_rule_and_2_on_a_bad_file(city: Path, notice: bytes, tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(_spoil(notice, _date))
    done = runner.invoke(office_cli, ["check", str(bad)])
    assert done.exit_code == 1 and "date.form" in done.output
    junk = tmp_path / "junk.docx"
    junk.write_text("hello", encoding="utf-8")
    assert runner.invoke(office_cli, ["check", str(junk)]).exit_code == 2
    refused = runner.invoke(office_cli, ["draft", "起草一份通知", "--data-dir", str(city)])
    assert refused.exit_code == 2


# --- REST -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, dict[str, str]]:
    out = {}
    for role, dept in (("official", "gov_office"), ("admin", None), ("citizen", None), ("official", "water")):
        _, key = identity.create_api_key(f"office-{role}-{dept}", role, dept)
        out[f"{role}:{dept}" if dept else role] = {"X-API-Key": key}
    return out


@pytest.mark.parametrize(("text", "kind"), [("起草一份关于开展燃气安全隐患排查整治的通知", "通知"),
                                            ("给市水务局发函商请协助做好汛期道路积水监测", "函"),
                                            ("向市政府请示增加城区防汛排涝应急经费", "请示")])
def test_rest_drafts_downloads_and_lists(client: TestClient, keys: dict, text: str, kind: str) -> None:
    official = keys["official:gov_office"]
    made = client.post("/api/v1/office/drafts", json={"text": text}, headers=official)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["kind"] == kind and body["doc_number"] and body["text"].startswith(body["title"])
    docx = client.get(body["docx_url"], headers=official)
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert "attachment" in docx.headers["content-disposition"]
    listed = client.get("/api/v1/office/documents", params={"direction": "out", "q": body["title"]}, headers=official)
    assert any(d["id"] == body["document_id"] for d in listed.json())
    one = client.get(f"/api/v1/office/documents/{body['document_id']}", headers=official).json()
    assert one["doc_number"] == body["doc_number"] and one["text"] == body["text"]
    checked = client.post("/api/v1/office/check", files={"file": ("d.docx", docx.content, "application/octet-stream")},
                          headers=official)
    assert checked.status_code == 200 and checked.json()["ok"], checked.json()


def test_rest_refuses_bad_input_and_other_people(client: TestClient, keys: dict) -> None:
    official = keys["official:gov_office"]
    problem(client.post("/api/v1/office/drafts", json={"text": "起草一份通知"}, headers=official), 422)
    problem(client.post("/api/v1/office/drafts", json={"text": "关于燃气安全的通知", "kind": "公函"}, headers=official), 422)
    problem(client.post("/api/v1/office/drafts", json={"text": ""}, headers=official), 422)
    problem(client.post("/api/v1/office/drafts", json={"text": "关于燃气安全的通知"}), 401)
    problem(client.post("/api/v1/office/drafts", json={"text": "关于燃气安全的通知"}, headers=keys["citizen"]), 403)
    problem(client.post("/api/v1/office/check", files={"file": ("x.docx", b"hello", "text/plain")}, headers=official), 415)
    problem(client.get("/api/v1/office/documents/doc_nothing", headers=official), 404)
    made = client.post("/api/v1/office/drafts", json={"text": "起草关于规范户外广告设置的通知"}, headers=official).json()
    problem(client.get(f"/api/v1/office/documents/{made['document_id']}", headers=keys["official:water"]), 404)
    problem(client.get(made["docx_url"], headers=keys["official:water"]), 404)
    assert client.get(made["docx_url"], headers=keys["admin"]).status_code == 200
    problem(client.get("/api/v1/office/documents", params={"direction": "sideways"}, headers=official), 422)


# --- rendering --------------------------------------------------------------------------------

needs_office = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                                  reason="LibreOffice (soffice) or poppler-utils (pdftoppm) not installed")


@needs_office
def test_a_notice_renders_to_pages_with_a_red_mark(client: TestClient, keys: dict) -> None:
    official = keys["official:gov_office"]
    made = client.post("/api/v1/office/drafts", json={"text": "起草一份关于开展燃气安全隐患排查整治的通知"},
                       headers=official).json()
    page = client.get(made["pages_url"], headers=official)
    assert page.status_code == 200 and page.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(page.content)).convert("RGB")
    assert abs(image.width / image.height - 210 / 297) < 0.01  # A4
    top = image.crop((0, 0, image.width, image.height // 3))
    pixels = np.asarray(top)
    red = int(((pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).sum())
    assert red > 200, "the red mark and line are drawn in the top third"
    problem(client.get(made["pages_url"].replace("/1.png", "/99.png"), headers=official), 404)


def _lines_mm(pdf: bytes, page_no: int) -> tuple[list[tuple[float, str]], list[tuple[float, float, float]]]:
    """A rendered page's characters (bottom edge in mm from the top, text) and its ruled lines
    (top in mm, left and right in mm)."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[page_no - 1]
    height, mm = page.get_height(), 25.4 / 72
    text = page.get_textpage()
    chars = [((height - text.get_charbox(k)[1]) * mm, text.get_text_range(k, 1)) for k in range(text.count_chars())]
    rules = [((height - b[3]) * mm, b[0] * mm, b[2] * mm) for b in (obj.get_bounds() for obj in page.get_objects()
                                                                     if obj.type == pdfium_c.FPDF_PAGEOBJ_PATH)]
    return [c for c in chars if c[1].strip()], rules


@needs_office
@pytest.mark.parametrize("paragraphs", [1, 9, 12])
def test_the_colophon_sits_at_the_foot_of_the_last_page(paragraphs: int) -> None:
    d = OfficialDoc(kind="通知", title="关于开展燃气安全隐患排查整治的通知", issuers=["江城市人民政府办公室"],
                    body=["为切实加强燃气安全管理，防范化解燃气安全风险，经市人民政府同意，现就有关事项通知如下。"] * paragraphs,
                    doc_number="江政办发〔2026〕12号", recipients=["各区人民政府"], date="2026-03-05",
                    cc=["市委办公室", "市政协办公室"], printer="江城市人民政府办公室", print_date="2026-03-05")
    pdf = render.docx_to_pdf(write_docx(d))
    pages = render.pdf_pages(pdf)
    chars, rules = _lines_mm(pdf, pages)
    foot = 297 - 35  # the 版心's lower edge
    printed = [y for y, ch in chars if ch == "发"]
    assert printed and foot - 10.2 < max(printed) <= foot, "印发 is on the 版心's last line of the last page"
    # the 版记's rules, as wide as the 版心 (156 mm), in its lower part (the red separator is higher)
    full = [r for r in rules if r[2] - r[1] > 150 and r[0] > foot - 40]
    assert len(full) == 3 and abs(max(r[0] for r in full) - foot) < 1.5
    assert all(abs(r[1] - 28) < 1 and abs(r[2] - 184) < 1 for r in full)
    top_rule = min(r[0] for r in full)
    text = [y for y, ch in chars if y < top_rule and ch not in "—0123456789"]
    assert not text or max(text) < top_rule, "the text ends above the 版记"
    for page_no in range(1, pages):  # no 版记 before the last page
        assert not any(ch == "抄" for _, ch in _lines_mm(pdf, page_no)[0])


@needs_office
def test_render_makes_one_png_per_page() -> None:
    data = report_docx("测试报告", "# 测试报告\n\n## 一、概况\n\n" + "城市运行总体平稳。" * 200)
    pages = render.docx_pages_png(data, dpi=40)
    assert len(pages) >= 2 and all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pages)


def test_render_says_so_when_libreoffice_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda _name: None)
    with pytest.raises(render.RenderError, match="LibreOffice"):
        render.docx_to_pdf(b"PK")


def test_a_report_has_headings_tables_and_lists_in_the_body_style() -> None:
    data = report_docx("产业链分析报告", "# 产业链分析报告\n\n## 一、总体情况\n\n全市**新能源汽车**产业链企业 120 家。\n\n"
                       "| 环节 | 企业数 |\n|---|---|\n| 电池 | 30 |\n| 整车 | 5 |\n\n- 补链：引进电机企业\n- 强链：扶持龙头\n")
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "产业链分析报告" and texts.count("产业链分析报告") == 1
    assert "一、总体情况" in texts and any("新能源汽车" in t and "**" not in t for t in texts)
    assert any(t.startswith("· 补链") for t in texts)
    assert [[c.text for c in r.cells] for r in doc.tables[0].rows] == [["环节", "企业数"], ["电池", "30"], ["整车", "5"]]
    findings = {f.rule: f for f in checker.check_docx(data)}
    assert findings["page.size"].ok and findings["page.text_area"].ok and findings["body.font"].ok
    assert findings["pagenum.place"].ok
    with pytest.raises(ValueError):
        report_docx(" ", "text")
