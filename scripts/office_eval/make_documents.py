"""Build the held-out office-document (公文) evaluation set for 收文登记 from documents_data.py.

Writes DOCX (python-docx), PDF (LibreOffice converts our DOCX, so each PDF has a text layer) and plain text files,
two bad inputs, and index.jsonl into src/aicity/demo/data/eval/office_documents/, then checks that every file opens
and that every expected value is really printed in it.

    .venv/bin/python scripts/office_eval/make_documents.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from documents_data import DOCS, FAKE_DOCX_CSV, RANKING_TABLE, Doc
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src/aicity/demo/data/eval/office_documents"
RED = RGBColor(0xE6, 0x00, 0x12)
CN_DIGITS = "〇一二三四五六七八九"
SCAN_FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
RULE = "─" * 24


def cn_number(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def print_date(iso: str, style: str = "arabic") -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    if style == "chinese":
        return "".join(CN_DIGITS[int(c)] for c in str(y)) + f"年{cn_number(m)}月{cn_number(d)}日"
    return f"{y}年{m}月{d}日"


def blocks(d: Doc) -> list[tuple[str, str]]:
    """The document as an ordered list of (role, text); DOCX and text renderers lay the roles out differently."""
    out: list[tuple[str, str]] = []
    pre: list[tuple[str, str]] = []
    if d.copy_no and "copy_table" not in d.opts:
        pre.append(("copy", d.copy_no))
    secret = d.classification_text or d.classification
    urgent = d.urgency_text or d.urgency
    if secret and urgent and "secret_urgent_one_line" in d.opts:
        pre.append(("secret", f"{secret}　{urgent}"))
        urgent = None
    elif secret:
        pre.append(("secret", secret))
    if urgent:
        pre.append(("urgent", urgent))
    marks: list[tuple[str, str]] = []
    if d.mark and d.mark[-1].endswith("|文件"):
        marks.append(("mark_joint", "\n".join(d.mark)))
    else:
        marks += [("mark", m) for m in d.mark]
    if d.layout == "letter":
        out += marks + [("redline2", "")] + pre
        if d.number:
            out.append(("number_copy", f"{d.copy_no}|{d.number}") if "copy_table" in d.opts else ("number_right", d.number))
    else:
        out += pre + marks
        if d.number and d.signer and d.layout == "file":
            out.append(("number_signer", f"{d.number}|{d.signer}"))
        elif d.number:
            out.append(("number", d.number))
        if "minutes_date_top" in d.opts:
            out.append(("minutes_head", f"{d.printer}|{print_date(d.date, d.date_style)}"))
        if "party_star" in d.opts:
            out.append(("star", "★"))
        if d.mark:
            out.append(("redline", ""))
    for line in (d.title or "").split("\n"):
        if line:
            out.append(("title", line))
    under_title = "date_under_title" in d.opts
    if under_title:
        out.append(("subtitle", d.note or f"（{print_date(d.date, d.date_style)}）"))
    if d.recipients_text:
        out.append(("recipients", d.recipients_text))
    out += [("body", p) for p in d.body]
    if d.attachments:
        out.append(("attach", "附件：" + d.attachments[0]))
        out += [("attach_more", a) for a in d.attachments[1:]]
    out += [("people", p) for p in d.people]
    if len(d.sign) > 1 and "sign_table" in d.opts:
        out.append(("sign_table", "|".join(d.sign)))
    else:
        out += [("sign", s) for s in d.sign]
    if not under_title and "minutes_date_top" not in d.opts:
        out.append(("date", print_date(d.date, d.date_style)))
    if d.note and not under_title:
        out.append(("note", d.note))
    for i, text in enumerate(d.appendix):
        out.append(("table", "") if text == "TABLE" else ("appendix_title" if i == 0 else "body", text))
    if d.cc_text:
        out.append(("cc", "抄送：" + d.cc_text))
    if d.printer and d.print_date:
        out.append(("print", f"{d.printer}|{print_date(d.print_date)}印发"))
    return out


# ---------------------------------------------------------------- DOCX


def set_font(run, size: float, face: str = "仿宋_GB2312", bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.size = Pt(size)
    run.font.name = face
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), face)
    if color is not None:
        run.font.color.rgb = color


def para(container, text: str, size: float = 16, face: str = "仿宋_GB2312", align=None, bold: bool = False,
         color: RGBColor | None = None, indent: float | None = None):
    p = container.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent is not None:
        p.paragraph_format.first_line_indent = Pt(indent)
    p.paragraph_format.space_after = Pt(0)
    set_font(p.add_run(text), size, face, bold, color)
    return p


def border(p, edge: str, color: str = "E60012", size: int = 18, style: str = "single") -> None:
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    el = OxmlElement(f"w:{edge}")
    for key, value in (("val", style), ("sz", str(size)), ("space", "1"), ("color", color)):
        el.set(qn(f"w:{key}"), value)
    bdr.append(el)
    ppr.append(bdr)


def no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def cell_text(cell, text: str, size: float = 16, align=None, color: RGBColor | None = None,
              face: str = "仿宋_GB2312") -> None:
    p = cell.paragraphs[0]
    if align is not None:
        p.alignment = align
    set_font(p.add_run(text), size, face, color=color)


def two_cells(doc, left: str, right: str, size: float = 16):
    table = doc.add_table(rows=1, cols=2)
    no_borders(table)
    cell_text(table.rows[0].cells[0], left, size, WD_ALIGN_PARAGRAPH.LEFT)
    cell_text(table.rows[0].cells[1], right, size, WD_ALIGN_PARAGRAPH.RIGHT)
    return table


def mark_size(text: str) -> float:
    return 26 if len(text) <= 12 else 22 if len(text) <= 16 else 18


def render_docx(d: Doc, path: Path) -> None:
    doc = Document()
    stamp = datetime.fromisoformat(d.date).replace(hour=9)
    props = doc.core_properties
    props.author, props.title, props.created, props.modified = d.issuers[0], d.title or "", stamp, stamp
    props.last_modified_by, props.revision = d.issuers[0], 1
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    for role, text in blocks(d):
        if role in ("copy", "secret", "urgent"):
            para(doc, text, 16, "黑体")
        elif role == "mark":
            para(doc, text, mark_size(text), "方正小标宋简体", center, True, RED)
        elif role == "mark_joint":
            names = [n.removesuffix("|文件") for n in text.split("\n")]
            table = doc.add_table(rows=1, cols=2)
            no_borders(table)
            left, side = table.rows[0].cells
            for i, name in enumerate(names):
                p = left.paragraphs[0] if i == 0 else left.add_paragraph()
                p.alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
                set_font(p.add_run(name), 18, "方正小标宋简体", True, RED)
            side.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            cell_text(side, "文件", 30, center, RED, "方正小标宋简体")
        elif role == "number":
            para(doc, text, 16, align=center)
        elif role == "number_signer":
            number, signer = text.split("|")
            if "signer_table" in d.opts:
                two_cells(doc, number, f"签发人：{signer}")
            elif "signer_tab" in d.opts:
                para(doc, f"{number}\t\t\t签发人：{signer}")
            else:
                para(doc, f"    {number}              签发人：{signer}")
        elif role == "number_right":
            para(doc, text, 16, align=right)
        elif role == "number_copy":
            copy_no, number = text.split("|")
            two_cells(doc, copy_no, number)
        elif role == "minutes_head":
            office, date = text.split("|")
            two_cells(doc, office, date)
        elif role == "star":
            para(doc, text, 16, align=center, color=RED)
        elif role in ("redline", "redline2"):
            border(para(doc, "", 6), "bottom", style="single" if role == "redline" else "thinThickSmallGap",
                   size=18 if role == "redline" else 24)
        elif role == "title":
            para(doc, text, 22, "方正小标宋简体", center)
        elif role == "subtitle":
            para(doc, text, 16, "楷体_GB2312", center)
        elif role in ("recipients", "people"):
            para(doc, text)
        elif role == "body":
            para(doc, text, indent=32)
        elif role == "attach":
            para(doc, text, indent=32)
        elif role == "attach_more":
            para(doc, text, indent=112)
        elif role == "sign":
            para(doc, text, align=right)
        elif role == "sign_table":
            names = text.split("|")
            table = doc.add_table(rows=1, cols=len(names))
            no_borders(table)
            for cell, name in zip(table.rows[0].cells, names, strict=True):
                cell_text(cell, name, 14, center)
        elif role == "date":
            para(doc, text, align=right)
        elif role == "note":
            para(doc, text, indent=32)
        elif role == "appendix_title":
            p = para(doc, "", 16)
            p.runs[0].add_break(WD_BREAK.PAGE)
            para(doc, text, 20, "方正小标宋简体", center)
        elif role == "table":
            p = para(doc, "附件", 16, "黑体")
            p.runs[0].add_break(WD_BREAK.PAGE)
            para(doc, d.attachments[0], 20, "方正小标宋简体", center)
            table = doc.add_table(rows=len(RANKING_TABLE), cols=len(RANKING_TABLE[0]))
            table.style = "Table Grid"
            for row, values in zip(table.rows, RANKING_TABLE, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell_text(cell, value, 12, center)
        elif role == "cc":
            if "ban_table" in d.opts:
                continue
            border(para(doc, text, 14), "top", "000000", 8)
        elif role == "print":
            printer, date = text.split("|")
            if "ban_table" in d.opts:
                table = doc.add_table(rows=2 if d.cc_text else 1, cols=2)
                table.style = "Table Grid"
                rows = table.rows
                if d.cc_text:
                    merged = rows[0].cells[0].merge(rows[0].cells[1])
                    cell_text(merged, "抄送：" + d.cc_text, 14)
                cell_text(rows[-1].cells[0], printer, 14)
                cell_text(rows[-1].cells[1], date, 14, right)
            else:
                p = para(doc, f"{printer}          {date}", 14)
                border(p, "top", "000000", 4)
                border(p, "bottom", "000000", 8)
        else:
            raise ValueError(f"unknown role {role}")
    doc.save(str(path))


# ---------------------------------------------------------------- text


def wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]


def text_lines(d: Doc) -> list[str]:
    lines: list[str] = []
    body_prefix = "\t" if "tabs" in d.opts else "　　　　" if "ideographic_spaces" in d.opts else "　　"
    sign_pad = " " * 24
    previous = ""
    for role, text in blocks(d):
        if role == "title" and previous != "title":
            lines.append("")
        previous = role
        if role == "mark":
            lines.append(" ".join(text) if "spaced_mark" in d.opts else text)
        elif role == "mark_joint":
            lines += [n.removesuffix("|文件") for n in text.split("\n")] + ["文件"]
        elif role == "number_signer":
            number, signer = text.split("|")
            lines.append(f"{number}　　　　签发人：{signer}")
        elif role in ("minutes_head", "number_copy"):
            left, right = text.split("|")
            lines.append(f"{left}　　　　　　{right}")
        elif role in ("redline", "redline2"):
            lines.append(RULE)
        elif role == "body":
            chunks = wrap(text, 30) if "hard_wrap" in d.opts else [text]
            lines += [body_prefix + chunks[0]] + chunks[1:]
            if "ideographic_spaces" in d.opts:
                lines.append("")
        elif role == "attach":
            lines += ["", "　　" + text]
        elif role == "attach_more":
            lines.append("　　　　　" + text)
        elif role in ("sign", "date"):
            lines.append(sign_pad + text)
        elif role == "sign_table":
            lines.append(sign_pad + "　　".join(text.split("|")))
        elif role == "appendix_title":
            lines += ["", "", text]
        elif role == "cc":
            lines += [RULE, text]
        elif role == "print":
            printer, date = text.split("|")
            lines += [f"{printer}　　　　　　{date}", RULE]
        else:
            lines.append(text)
    return lines


def write_text(d: Doc, path: Path) -> None:
    newline = "\r\n" if "crlf" in d.opts else "\n"
    text = newline.join(text_lines(d)) + newline
    if "gb18030" in d.opts:
        path.write_bytes(text.encode("gb18030"))
    else:
        path.write_bytes(text.encode("utf-8-sig" if "bom" in d.opts else "utf-8"))


# ---------------------------------------------------------------- bad inputs and checks


def write_scanned_pdf(d: Doc, path: Path) -> None:
    """A page image only (no text layer), like a scan of a paper document."""
    image = Image.new("L", (827, 1169), 250)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(SCAN_FONT, 20)
    y = 90
    for line in text_lines(d):
        x = 440 if line.startswith("        ") else 80
        for chunk in wrap(line.strip(), 30) or [""]:
            draw.text((x, y), chunk, fill=30, font=font)
            y += 30
        if y > 1100:
            break
    image.rotate(0.6, fillcolor=250).save(path, "PDF", resolution=100)


def extracted_text(path: Path) -> str:
    if path.suffix == ".docx":
        doc = Document(str(path))
        parts = [p.text for p in doc.paragraphs]
        parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return "\n".join(parts)
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def expected(d: Doc) -> dict:
    return {
        "kind": d.kind,
        "issuer": d.issuers,
        "doc_number": d.doc_number or (squash(d.number) if d.number else None),
        "title": d.title.replace("\n", "") if d.title else None,
        "recipients": d.recipients,
        "date": d.date,
        "classification": d.classification,
        "urgency": d.urgency,
        "signer": d.signer,
        "attachments": d.attachments,
        "cc": d.cc,
        "suggested_departments": d.departments,
        "deadline": d.deadline,
    }


def check(d: Doc, path: Path, department_ids: set[str]) -> None:
    text = squash(extracted_text(path))
    exp = expected(d)
    wanted = [*exp["issuer"], *exp["recipients"], *exp["cc"], print_date(d.date, d.date_style)]
    wanted += [squash(a) for a in exp["attachments"]]
    wanted += [squash(v) for v in (exp["title"], exp["classification"], exp["urgency"], exp["signer"]) if v]
    if exp["doc_number"] and "ascii_brackets" not in d.opts:
        wanted.append(exp["doc_number"])
    missing = [w for w in wanted if w not in text]
    unknown = set(exp["suggested_departments"]) - department_ids
    if missing or unknown:
        raise SystemExit(f"{d.id}: not printed {missing}, unknown departments {unknown}")


def department_ids() -> set[str]:
    text = (ROOT / "src/aicity/demo/data/departments.yaml").read_text(encoding="utf-8")
    return set(re.findall(r"^- id: (\w+)", text, flags=re.M))


def main() -> None:
    if OUT.exists():
        for old in OUT.iterdir():
            if old.name != "README.md":
                old.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        to_convert = []
        for d in DOCS:
            target = OUT / f"{d.id}.{d.fmt}"
            if d.fmt == "docx":
                render_docx(d, target)
            elif d.fmt == "txt":
                write_text(d, target)
            else:
                source = tmp_dir / f"{d.id}.docx"
                render_docx(d, source)
                to_convert.append(str(source))
            rows.append({"id": d.id, "path": target.name, "format": d.fmt, "expect": expected(d), "notes": d.notes})
        profile = (tmp_dir / "lo-profile").as_uri()
        subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp_dir), *to_convert], check=True, capture_output=True, timeout=600)
        for source in to_convert:
            shutil.copy(Path(source).with_suffix(".pdf"), OUT / Path(source).with_suffix(".pdf").name)
    n = len(DOCS)
    scan, fake = f"doc-{n + 1:02d}", f"doc-{n + 2:02d}"
    write_scanned_pdf(next(d for d in DOCS if d.id == "doc-13"), OUT / f"{scan}.pdf")
    (OUT / f"{fake}.docx").write_text(FAKE_DOCX_CSV, encoding="utf-8")
    rows.append({"id": scan, "path": f"{scan}.pdf", "format": "pdf", "expect": "error",
                 "notes": "扫描件式PDF：只有页面图像，没有文字层（应报错，不得猜测字段）。"})
    rows.append({"id": fake, "path": f"{fake}.docx", "format": "docx", "expect": "error",
                 "notes": "不是公文：CSV表格改了.docx扩展名（不是ZIP包，应报错）。"})
    ids = department_ids()
    for d in DOCS:
        check(d, OUT / f"{d.id}.{d.fmt}", ids)
    if subprocess.run(["pdftotext", str(OUT / f"{scan}.pdf"), "-"], capture_output=True, text=True).stdout.strip():
        raise SystemExit(f"{scan}: has a text layer")
    with (OUT / "index.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    size = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(rows)} files to {OUT.relative_to(ROOT)} ({size / 1e6:.2f} MB), all checked")
    if size > 3_000_000:
        sys.exit("the set is over 3 MB")


if __name__ == "__main__":
    main()
