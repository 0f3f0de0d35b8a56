"""Real documents of every supported format, built in the tests (no fixtures to download)."""

from __future__ import annotations

import io

import docx
import openpyxl

LAW_LINES = ["第一章 总则", "第一条 为了规范示范城市夜市摊点管理，制定本办法。",
             "第二条 夜市摊点应当在划定区域内经营。", "第三条 摊主应当保持摊点周边清洁。",
             "第二章 罚则", "第四条 违反本办法第二条规定的，由城市管理部门责令改正。"]


def make_docx(title: str, paragraphs: list[str], headings: dict[int, str] | None = None) -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    for i, text in enumerate(paragraphs):
        if headings and i in headings:
            document.add_heading(headings[i], level=1)
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "收费标准"
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def make_pdf(lines: list[str]) -> bytes:
    """A minimal valid PDF; lines are ASCII (the built-in Helvetica font). No lines = no text layer."""
    content = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({ln}) Tj 0 -16 Td" for ln in lines) + " ET" if lines \
        else "0 0 1 rg 72 600 200 100 re f"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
