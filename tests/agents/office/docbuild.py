"""Shared builder of the office registration development sets (dev3, dev4): each set's build.py holds its documents
(written apart from the extractor by its own writer) and calls `build_set`, which renders them as DOCX (python-docx),
PDF (LibreOffice from the DOCX) or pasted text, reads every file back and checks that each expected value is printed.

Document markup, one line each, ``TAG|text``: H red masthead, S top-left marks (份号/密级/紧急程度), N number line,
X red rule, T title line, C centred, L flush left, P body paragraph, R right aligned, B 版记 line, G table row
(cells split by ``||``), PG page-number line (— 1 —), E an empty line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import yaml
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

ROOT = Path(__file__).resolve().parents[3]
_DEPT_FILES = [Path("/work/shared/city/departments.yaml"), ROOT / "src/aicity/demo/data/departments.yaml"]
DEPARTMENTS = {d["id"] for f in _DEPT_FILES if f.exists() for d in yaml.safe_load(f.read_text("utf-8"))}
KINDS = {"决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复", "议案", "函", "纪要"}


def E(kind, issuer, doc_number, title, recipients, date, depts, *, classification=None, urgency=None, signer=None,
      attachments=(), cc=(), deadline=None):
    return {"kind": kind, "issuer": list(issuer), "doc_number": doc_number, "title": title,
            "recipients": list(recipients), "date": date, "classification": classification, "urgency": urgency,
            "signer": signer, "attachments": list(attachments), "cc": list(cc),
            "suggested_departments": list(depts), "deadline": deadline}


def collector() -> tuple[list[dict], Callable[..., None]]:
    """A set's document list and the `doc(id, format, expect, notes, body, **opts)` that appends to it."""
    docs: list[dict] = []

    def doc(id_, fmt, expect, notes, body, **opts) -> None:
        docs.append({"id": id_, "format": fmt, "expect": expect, "notes": notes,
                     "body": textwrap.dedent(body).strip(), "opts": opts})

    return docs, doc


def parse(body: str) -> list[tuple[str, str]]:
    return [(tag, text) for tag, _, text in (raw.partition("|") for raw in body.splitlines())]


def _font(run, name: str, size: float, *, bold: bool = False, red: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
    if red:
        run.font.color.rgb = RGBColor(0xE6, 0, 0)


def _red_rule(paragraph) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "1"), ("w:color", "E60000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def build_docx(spec: dict, path: Path) -> None:
    opts = spec["opts"]
    font = opts.get("font", "仿宋_GB2312")
    document = Document()
    for tag, text in parse(spec["body"]):
        if tag == "G":
            cells = text.split("||")
            table = document.add_table(rows=1, cols=len(cells))
            if opts.get("banji") == "table":
                table.style = "Table Grid"
            for cell, value in zip(table.rows[0].cells, cells, strict=True):
                cell.paragraphs[0].text = ""
                _font(cell.paragraphs[0].add_run(value), font, 14)
            continue
        para = document.add_paragraph()
        if tag == "X":
            _red_rule(para)
            continue
        if tag == "E":
            continue
        size, bold, red, name = 16, False, False, font
        if tag == "H":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            size, bold, red, name = (24 if opts.get("letter") else 32), True, True, "方正小标宋简体"
        elif tag in ("C", "T", "PG"):
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if tag == "T":
                size, name = 22, "方正小标宋简体"
            elif tag == "PG":
                size, name = 14, "宋体"
        elif tag == "R":
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif tag == "N":
            para.alignment = WD_ALIGN_PARAGRAPH.LEFT if "签发人" in text else WD_ALIGN_PARAGRAPH.CENTER
        elif tag == "S":
            name = "黑体"
        elif tag == "P":
            para.paragraph_format.first_line_indent = Pt(32)
        elif tag == "B":
            size = 14
        _font(para.add_run(text), name, size, bold=bold, red=red)
    document.save(str(path))


def build_txt(spec: dict) -> bytes:
    opts = spec["opts"].get("txt", {})
    lines: list[str] = []
    for tag, text in parse(spec["body"]):
        if tag == "X":
            continue
        if tag == "E":
            lines.append("")
            continue
        if tag == "G":
            text = "    ".join(text.split("||"))
        if opts.get("tabs"):
            text = text.replace("　　　", "\t")
        if opts.get("spaced") and tag in ("H", "T", "R"):
            text = " ".join(text)
        if tag in ("H", "T", "C", "PG"):
            text = " " * 10 + text
        elif tag == "R":
            text = " " * 28 + text
        elif tag == "P":
            text = ("　　" if opts.get("fullwidth", True) else "    ") + text
        if opts.get("leading"):
            text = "  " + text
        width = opts.get("wrap")
        if width and tag == "P":
            lines.extend(textwrap.wrap(text, width, drop_whitespace=False) or [""])
        else:
            lines.append(text)
        if opts.get("blank"):
            lines.append("")
    text = ("\r\n" if opts.get("crlf") else "\n").join(lines) + "\n"
    if opts.get("gb18030"):
        return text.encode("gb18030")
    return text.encode("utf-8-sig" if opts.get("bom") else "utf-8")


# ---------------------------------------------------------------- checks

CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("十" if tens == 1 else CN_DIGITS[tens] + "十") + (CN_DIGITS[ones] if ones else "")


def date_forms(iso: str, *, with_year: bool = True) -> list[str]:
    y, m, d = (int(x) for x in iso.split("-"))
    arabic, chinese = f"{m}月{d}日", f"{_cn_number(m)}月{_cn_number(d)}日"
    if with_year:
        return [f"{y}年{arabic}", "".join(CN_DIGITS[int(c)] for c in str(y)) + "年" + chinese]
    return [arabic, chinese]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def read_back(path: Path, fmt: str) -> str:
    if fmt == "docx":
        document = Document(str(path))
        parts = [p.text for p in document.paragraphs]
        parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
        return "\n".join(parts)
    if fmt == "pdf":
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                              text=True).stdout
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def check(spec: dict, text: str) -> list[str]:
    flat = squash(text)
    exp = spec["expect"]
    problems = []
    if exp["kind"] not in KINDS:
        problems.append(f"unknown kind {exp['kind']}")
    wanted = list(exp["issuer"]) + list(exp["recipients"]) + list(exp["attachments"]) + list(exp["cc"])
    wanted += [v for v in (exp["doc_number"], exp["title"], exp["classification"], exp["urgency"], exp["signer"]) if v]
    problems += [f"missing {w!r}" for w in wanted if squash(w) not in flat]
    if not any(f in flat for f in date_forms(exp["date"])):
        problems.append(f"date {exp['date']} not printed")
    if exp["deadline"] and not any(f in flat for f in date_forms(exp["deadline"], with_year=False)):
        problems.append(f"deadline {exp['deadline']} not printed")
    if not 1 <= len(exp["suggested_departments"]) <= 2:
        problems.append("suggested_departments should name 1-2 departments")
    problems += [f"unknown department {d}" for d in exp["suggested_departments"] if d not in DEPARTMENTS]
    if "江州" in text:
        problems.append("mentions 江州")
    return problems


def build_set(here: Path, docs: list[dict], prefix: str) -> int:
    """Write the set's files and index.jsonl into `here`, reading every file back to check its expected values."""
    if shutil.which("soffice") is None:
        sys.exit("soffice (LibreOffice) is needed to build the PDF files")
    for old in here.glob(f"{prefix}-*"):
        old.unlink()
    ids = [spec["id"] for spec in docs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    pdf_sources: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in docs:
            if spec["format"] == "docx":
                build_docx(spec, here / f"{spec['id']}.docx")
            elif spec["format"] == "pdf":
                source = Path(tmp) / f"{spec['id']}.docx"
                build_docx(spec, source)
                pdf_sources.append(source)
            else:
                (here / f"{spec['id']}.txt").write_bytes(build_txt(spec))
        if pdf_sources:
            subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
                            "--outdir", str(here), *map(str, pdf_sources)], check=True, capture_output=True)
    failures = 0
    with (here / "index.jsonl").open("w", encoding="utf-8") as index:
        for spec in docs:
            path = here / f"{spec['id']}.{spec['format']}"
            problems = check(spec, read_back(path, spec["format"]))
            for problem in problems:
                print(f"{spec['id']}: {problem}", file=sys.stderr)
            failures += bool(problems)
            row = {"id": spec["id"], "path": path.name, "format": spec["format"], "expect": spec["expect"],
                   "notes": spec["notes"]}
            index.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(docs)} documents, {failures} with problems")
    return 1 if failures else 0
