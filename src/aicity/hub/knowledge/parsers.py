"""Document parsers: Markdown, plain text, HTML, PDF, DOCX and XLSX become one shape —
a title and a list of blocks (headings with a level, paragraphs) — that chunking reads.

Libraries: BeautifulSoup (HTML), pypdfium2 (PDF, BSD/Apache), python-docx, openpyxl
(all permissive). A parser failure is the file's fault and says so (422), never a 500.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from aicity.core.errors import Problem
from aicity.hub.knowledge.chunking import CHAPTER_RE

SUPPORTED = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html",
             ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}


@dataclass
class Block:
    text: str
    #: 0 for a paragraph, 1.. for a heading of that level
    level: int = 0


@dataclass
class ParsedDocument:
    title: str
    blocks: list[Block] = field(default_factory=list)
    #: lines before the body (issuing authority, dates) where the format has them
    preamble: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """The document in the corpus's Markdown shape, so legal text parses the same way
        whichever format it arrived in."""
        lines = [f"# {self.title}", ""]
        if self.preamble:
            lines += [*self.preamble, "", "<!-- INFO END -->", ""]
        for b in self.blocks:
            level = b.level or (1 if is_chapter_line(b.text) else 0)
            lines += [("#" * (level + 1) + " " + b.text) if level else b.text, ""]
        return "\n".join(lines)


def is_chapter_line(text: str) -> bool:
    """`第二章 罚则` typed as a plain paragraph (DOCX, PDF, TXT) is still a heading."""
    return len(text) < 40 and bool(CHAPTER_RE.match(text))


def unsupported(filename: str) -> Problem:
    allowed = "、".join(sorted(SUPPORTED))
    return Problem(415, "不支持的文件格式 Unsupported media type", f"'{filename}' 的格式不受支持；支持：{allowed}",
                   "unsupported-format")


def unreadable(filename: str, why: str) -> Problem:
    return Problem(422, "文件无法解析 Unreadable file", f"'{filename}'：{why}", "unreadable-file")


def parse(filename: str, data: bytes) -> ParsedDocument:
    kind = SUPPORTED.get(PurePath(filename).suffix.lower())
    if kind is None:
        raise unsupported(filename)
    if not data.strip():
        raise Problem(422, "文件为空 Empty file", f"'{filename}' 没有内容", "empty-file")
    try:
        doc = _PARSERS[kind](data, PurePath(filename).stem)
    except Problem:
        raise
    except Exception as exc:  # a corrupt file of a supported type
        raise unreadable(filename, f"{type(exc).__name__}: {exc}") from exc
    if not any(b.text.strip() for b in doc.blocks):
        raise Problem(422, "没有可用的文字 No text", f"'{filename}' 中没有识别到文字", "no-text")
    return doc


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("文本编码无法识别（支持 UTF-8 与 GB18030）")


def _markdown(data: bytes, stem: str) -> ParsedDocument:
    text = _decode(data)
    doc = ParsedDocument(title=stem)
    body_started = "<!-- INFO END -->" not in text
    for raw in text.splitlines():
        line = raw.replace("\u3000", " ").strip()
        if not line:
            continue
        if line == "<!-- INFO END -->":
            body_started = True
            continue
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        if match and len(match.group(1)) == 1 and doc.title == stem:
            doc.title = match.group(2).strip()
        elif not body_started:
            doc.preamble.append(line)
        elif match:
            doc.blocks.append(Block(match.group(2).strip(), len(match.group(1)) - 1 or 1))
        else:
            doc.blocks.append(Block(line))
    return doc


def _text(data: bytes, stem: str) -> ParsedDocument:
    lines = [ln.replace("\u3000", " ").strip() for ln in _decode(data).splitlines()]
    lines = [ln for ln in lines if ln]
    doc = ParsedDocument(title=lines[0] if lines else stem)
    for line in lines[1:]:
        doc.blocks.append(Block(line, 1 if is_chapter_line(line) else 0))
    return doc


def _html(data: bytes, stem: str) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "noscript"]):
        tag.decompose()
    h1 = soup.find("h1")
    title = (soup.title.string.strip() if soup.title and soup.title.string else "") or (
        h1.get_text(" ", strip=True) if h1 else stem)
    doc = ParsedDocument(title=title)
    headings = {f"h{n}": max(n - 1, 1) for n in range(1, 7)}  # h1 and h2 both sit under the title
    for el in soup.find_all([*headings, "p", "li", "tr", "pre"]):
        text = el.get_text(" ", strip=True) if el.name != "tr" else " | ".join(
            c.get_text(" ", strip=True) for c in el.find_all(["td", "th"]))
        if text and not (el.name == "h1" and text == title):
            doc.blocks.append(Block(text, headings.get(el.name, 0)))
    return doc


def _pdf(data: bytes, stem: str) -> ParsedDocument:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pages = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()
    if not "".join(pages).strip():
        raise Problem(422, "PDF 没有文本层 No text layer",
                      f"'{stem}.pdf' 是扫描件或图片，没有可提取的文字；请先做 OCR 再上传", "pdf-no-text")
    lines = [ln.strip() for page in pages for ln in page.splitlines() if ln.strip()]
    doc = ParsedDocument(title=lines[0] if lines else stem)
    buf = ""
    for line in lines[1:]:
        if is_chapter_line(line):
            if buf:
                doc.blocks.append(Block(buf))
                buf = ""
            doc.blocks.append(Block(line, 1))
            continue
        # a PDF breaks lines anywhere: a paragraph ends at a sentence end or where a new article starts
        if buf and re.match(r"^第[零〇一二三四五六七八九十百千]+条", line):
            doc.blocks.append(Block(buf))
            buf = ""
        buf += line
        if buf.endswith(("。", "！", "？", "：", ".", "!", "?")):
            doc.blocks.append(Block(buf))
            buf = ""
    if buf:
        doc.blocks.append(Block(buf))
    return doc


def _docx(data: bytes, stem: str) -> ParsedDocument:
    import docx

    document = docx.Document(io.BytesIO(data))
    title = (document.core_properties.title or "").strip()
    doc = ParsedDocument(title=title or stem)
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "") if para.style is not None else ""
        match = re.search(r"(?:Heading|标题)\s*(\d)", style)
        if style == "Title" and not title:
            doc.title = text
        elif match:
            doc.blocks.append(Block(text, int(match.group(1))))
        else:
            doc.blocks.append(Block(text))
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if any(cells):
                doc.blocks.append(Block(" | ".join(cells)))
    return doc


def _xlsx(data: bytes, stem: str) -> ParsedDocument:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    doc = ParsedDocument(title=stem)
    try:
        for sheet in book.worksheets:
            rows = [[("" if v is None else str(v)).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
            rows = [r for r in rows if any(r)]
            if not rows:
                continue
            doc.blocks.append(Block(sheet.title, 1))
            header = rows[0]
            for row in rows[1:]:
                doc.blocks.append(Block("；".join(f"{h or f'列{i + 1}'}：{v}" for i, (h, v) in
                                                   enumerate(zip(header, row, strict=False)) if v)))
    finally:
        book.close()
    return doc


_PARSERS = {"markdown": _markdown, "text": _text, "html": _html, "pdf": _pdf, "docx": _docx, "xlsx": _xlsx}
