"""Checking a DOCX against GB/T 9704-2012 《党政机关公文格式》: every rule that can be read from the
file itself (page, margins, line and character grid, fonts and sizes of the mark, title, text and
headings, the red mark and separator, the form of 发文字号, 成文日期 and page numbers, odd/even page
number placement, the order of the 版记 and whether it is held at the foot of the 版心, 签发人 on
上行文). Works on documents written elsewhere: fonts and sizes are resolved through run, paragraph
style, its bases and the document defaults.

What a file cannot show (how a page breaks, the seal) is not checked; a 版记 pushed down by blank
lines is reported as not held at the foot, since where it lands depends on the lines before it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from aicity.agents.office.kinds import OfficeInputError, kind_of

MM_PER_TWIP = 25.4 / 1440
TOLERANCE_MM = 1.0
TEXT_W_PT = 156 / 25.4 * 72
TEXT_H_PT = 225 / 25.4 * 72
NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,12}〔\d{4}〕[1-9]\d*号")
BAD_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,12}\s*[\[\(（【〈［{〖]\s*\d{2,4}\s*[\]\)）】〉］}〗]\s*第?\s*\d+\s*号"
                        r"|[\u4e00-\u9fa5]{1,12}〔\d{4}〕(?:0\d*|第\d+)号")
DATE = re.compile(r"^\s*([0-9〇○零一二三四五六七八九]{4})\s*年\s*([0-9一二三四五六七八九十]{1,3})\s*月"
                  r"\s*([0-9一二三四五六七八九十]{1,3})\s*日\s*$")
HEADINGS = {1: re.compile(r"^[一二三四五六七八九十]+、"), 2: re.compile(r"^（[一二三四五六七八九十]+）"),
            3: re.compile(r"^\d+[.．]"), 4: re.compile(r"^（\d+）")}
HEADING_FONTS = {1: ("黑体",), 2: ("楷体",), 3: ("仿宋",), 4: ("仿宋",)}
HEADING_NAMES = {1: "一级标题（一、）", 2: "二级标题（（一））", 3: "三级标题（1.）", 4: "四级标题（（1））"}


class NotADocx(OfficeInputError):
    """The bytes are not a Word document (DOCX)."""


@dataclass(frozen=True)
class Finding:
    rule: str
    ok: bool
    message: str
    where: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# --- reading the file -------------------------------------------------------------------------

def _open(data: bytes) -> DocxDocument:
    if not data:
        raise NotADocx("文件为空，不是 DOCX 文档 the file is empty")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise NotADocx("不是 DOCX 文档（Word 2007 及以后的 .docx 格式）not a DOCX file")
    try:
        return Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise NotADocx(f"无法作为 DOCX 文档读取 not a readable DOCX file: {exc}") from None


class _Styles:
    """Resolves a run's East Asian font, size and colour through run → paragraph style chain → defaults."""

    def __init__(self, doc: DocxDocument) -> None:
        root = doc.styles.element
        self.by_id = {s.get(qn("w:styleId")): s for s in root.findall(qn("w:style"))}
        self.default_para = next((s.get(qn("w:styleId")) for s in root.findall(qn("w:style"))
                                  if s.get(qn("w:type")) == "paragraph" and s.get(qn("w:default")) == "1"), None)
        defaults = root.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr")) if defaults is not None else None
        self.defaults = rpr

    def _chain(self, style_id: str | None) -> list[Any]:
        out, seen = [], set()
        while style_id and style_id not in seen and style_id in self.by_id:
            seen.add(style_id)
            style = self.by_id[style_id]
            rpr = style.find(qn("w:rPr"))
            if rpr is not None:
                out.append(rpr)
            based = style.find(qn("w:basedOn"))
            style_id = based.get(qn("w:val")) if based is not None else None
        return out

    def rprs(self, run: Any, paragraph: Paragraph) -> list[Any]:
        """The rPr elements that apply to a run, nearest first."""
        out = []
        own = run._r.find(qn("w:rPr"))
        if own is not None:
            out.append(own)
            rstyle = own.find(qn("w:rStyle"))
            if rstyle is not None:
                out += self._chain(rstyle.get(qn("w:val")))
        ppr = paragraph._p.find(qn("w:pPr"))
        pstyle = ppr.find(qn("w:pStyle")) if ppr is not None else None
        out += self._chain(pstyle.get(qn("w:val")) if pstyle is not None else self.default_para)
        if self.defaults is not None:
            out.append(self.defaults)
        return out

    def _value(self, run: Any, paragraph: Paragraph, tag: str, attr: str = "val") -> str | None:
        """The nearest `w:tag/@w:attr` among the run properties that apply."""
        for rpr in self.rprs(run, paragraph):
            found = rpr.find(qn(f"w:{tag}"))
            if found is not None and found.get(qn(f"w:{attr}")):
                return str(found.get(qn(f"w:{attr}")))
        return None

    def font(self, run: Any, paragraph: Paragraph) -> str:
        return self._value(run, paragraph, "rFonts", "eastAsia") or ""

    def size(self, run: Any, paragraph: Paragraph) -> float | None:
        value = self._value(run, paragraph, "sz")
        return int(value) / 2 if value else None

    def color(self, run: Any, paragraph: Paragraph) -> str:
        return self._value(run, paragraph, "color") or "auto"

    def spacing(self, run: Any, paragraph: Paragraph) -> float:
        """Character spacing in points (w:spacing in run properties; negative: condensed)."""
        value = self._value(run, paragraph, "spacing")
        return int(value) / 20 if value else 0.0


def _is_red(color: str) -> bool:
    if color.lower() == "red":
        return True
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", color):
        return False
    r, g, b = int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)
    return r >= 0xC0 and g <= 0x60 and b <= 0x60


def _paragraphs(doc: DocxDocument) -> list[Paragraph]:
    """Body paragraphs in order, those inside tables too (joint marks and 版记 are often tables)."""
    out: list[Paragraph] = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            out.append(Paragraph(child, doc._body))
        elif child.tag == qn("w:tbl"):
            out += [Paragraph(p, doc._body) for p in child.iter(qn("w:p"))]
    return out


def _in_table(p: Paragraph) -> bool:
    return any(a.tag == qn("w:tbl") for a in p._p.iterancestors())


def _runs(p: Paragraph) -> list[Any]:
    return [r for r in p.runs if r.text.strip()]


def _alignment(p: Paragraph) -> str:
    ppr = p._p.find(qn("w:pPr"))
    jc = ppr.find(qn("w:jc")) if ppr is not None else None
    return str(jc.get(qn("w:val"))) if jc is not None else "left"


# --- the rules --------------------------------------------------------------------------------

def _mm(twips: Any) -> float:
    return round(float(twips) * MM_PER_TWIP, 1) if twips is not None else 0.0


def _page(doc: DocxDocument) -> list[Finding]:
    sect = doc.sections[0]._sectPr
    size = sect.find(qn("w:pgSz"))
    mar = sect.find(qn("w:pgMar"))
    w = _mm(size.get(qn("w:w"))) if size is not None else 0
    h = _mm(size.get(qn("w:h"))) if size is not None else 0
    out = [Finding("page.size", abs(w - 210) <= TOLERANCE_MM and abs(h - 297) <= TOLERANCE_MM,
                   f"纸张应为 A4（210 mm × 297 mm），实为 {w} mm × {h} mm", "页面设置")]
    if mar is None:
        return [*out, Finding("page.margins", False, "未设置页边距", "页面设置")]
    top, left = _mm(mar.get(qn("w:top"))), _mm(mar.get(qn("w:left")))
    right, bottom = _mm(mar.get(qn("w:right"))), _mm(mar.get(qn("w:bottom")))
    out.append(Finding("page.margin_top", abs(top - 37) <= TOLERANCE_MM, f"天头（上白边）应为 37 mm，实为 {top} mm",
                       "页面设置"))
    out.append(Finding("page.margin_left", abs(left - 28) <= TOLERANCE_MM, f"订口（左白边）应为 28 mm，实为 {left} mm",
                       "页面设置"))
    tw, th = round(w - left - right, 1), round(h - top - bottom, 1)
    out.append(Finding("page.text_area", abs(tw - 156) <= TOLERANCE_MM and abs(th - 225) <= TOLERANCE_MM,
                       f"版心应为 156 mm × 225 mm，实为 {tw} mm × {th} mm", "页面设置"))
    return out


def _body_paragraphs(paragraphs: list[Paragraph], start: int, end: int) -> list[Paragraph]:
    return [p for p in paragraphs[start:end] if p.text.strip()]


def _grid(doc: DocxDocument, styles: _Styles, body: list[Paragraph]) -> list[Finding]:
    """22 lines × 28 characters: from the document grid, else from the text's line spacing and size."""
    sect = doc.sections[0]._sectPr
    grid = sect.find(qn("w:docGrid"))
    pitch = int(grid.get(qn("w:linePitch"))) / 20 if grid is not None and grid.get(qn("w:linePitch")) else None
    exact = []
    for p in body:
        pf = p.paragraph_format
        if pf.line_spacing is not None and hasattr(pf.line_spacing, "pt") and pf.line_spacing_rule is not None \
                and "EXACTLY" in str(pf.line_spacing_rule):
            exact.append(pf.line_spacing.pt)
    line_pt = max(set(exact), key=exact.count) if exact else pitch
    lines = TEXT_H_PT / line_pt if line_pt else 0
    out = [Finding("page.lines", 21.5 <= lines <= 22.99, f"每面应排 22 行，按行距 {line_pt or 0:.2f} 磅约为 {lines:.1f} 行",
                   "文档网格/行距")]
    gtype = grid.get(qn("w:type")) if grid is not None else None
    sizes = [styles.size(r, p) for p in body for r in _runs(p)]
    size = max(set(s for s in sizes if s), key=sizes.count) if any(sizes) else 16.0
    if gtype in ("linesAndChars", "snapToChars") and grid.get(qn("w:charSpace")):
        char_pt = size + int(grid.get(qn("w:charSpace"))) / 4096
    else:
        spacings = [styles.spacing(r, p) for p in body for r in _runs(p)]
        char_pt = size + (max(set(spacings), key=spacings.count) if spacings else 0.0)
    chars = int(TEXT_W_PT / char_pt + 1e-6) if char_pt > 0 else 0
    out.append(Finding("page.chars", chars == 28, f"每行应排 28 个字，按字号 {size:g} 磅、字距计为 {chars} 个",
                       "文档网格/字距"))
    return out


def _find_title(paragraphs: list[Paragraph], styles: _Styles, after: int) -> int | None:
    """The title: the first centred paragraph after the head, in the largest non-red type."""
    best, best_size = None, 0.0
    for i in range(after, min(len(paragraphs), after + 12)):
        p = paragraphs[i]
        runs = _runs(p)
        if not runs or any(_is_red(styles.color(r, p)) for r in runs):
            continue
        size = styles.size(runs[0], p) or 0
        text = p.text.strip()
        if _alignment(p) == "center" and (size > best_size or text.startswith("关于") or kind_of(text)):
            if best is None or size > best_size:
                best, best_size = i, size
        elif best is not None:
            break
    return best


def check_docx(data: bytes) -> list[Finding]:
    """Every readable GB/T 9704-2012 rule, passed or failed (`NotADocx` for a file that is not one)."""
    doc = _open(data)
    styles = _Styles(doc)
    paragraphs = _paragraphs(doc)
    out = _page(doc)
    texts = [p.text.strip() for p in paragraphs]

    # the red mark (发文机关标志) and the red separator line
    mark = [i for i, p in enumerate(paragraphs[:15]) if any(_is_red(styles.color(r, p)) for r in _runs(p))]
    # the 信函格式 may set the mark in the first page's header
    section = doc.sections[0]
    first_header = [p for p in section.first_page_header.paragraphs if _runs(p)] \
        if section.different_first_page_header_footer else []
    in_header = [p for p in first_header if any(_is_red(styles.color(r, p)) for r in _runs(p))]
    if mark or in_header:
        p = paragraphs[mark[0]] if mark else in_header[0]
        fonts = {styles.font(r, p) for r in _runs(p)}
        out.append(Finding("mark.red", True, f"发文机关标志为红色：{p.text.strip()}", "版头"))
        out.append(Finding("mark.font", all("标宋" in f for f in fonts),
                           f"发文机关标志宜用小标宋体，实为 {'、'.join(sorted(fonts)) or '未指定'}", "版头"))
    else:
        out.append(Finding("mark.red", False, "未找到红色的发文机关标志", "版头"))
    xml = doc.element.xml + "".join(p._p.xml for p in first_header)
    borders = [*doc.element.body.iter(), *(e for p in first_header for e in p._p.iter())]
    red_line = any(_is_red(b.get(qn("w:color")) or "") for b in borders
                   if b.tag in (qn("w:top"), qn("w:bottom")) and b.getparent() is not None
                   and b.getparent().tag == qn("w:pBdr")) or bool(
        re.search(r'strokecolor="(#?FF0000|red)"|<a:ln[^>]*>.*?<a:srgbClr val="FF0000"', xml, re.DOTALL))
    out.append(Finding("separator.red", red_line,
                       "版头有红色分隔线" if red_line else "未找到版头中的红色分隔线", "版头"))

    # 发文字号
    head = " ".join(texts[:25])
    good = NUMBER.search(head)
    bad = BAD_NUMBER.search(head)
    if bad:
        out.append(Finding("number.form", False,
                           f"发文字号「{bad.group(0)}」不规范：年份用六角括号〔〕、序号不编虚位（不加“0”）、不加“第”字",
                           "版头"))
    elif good:
        out.append(Finding("number.form", True, f"发文字号为「{good.group(0)}」", "版头"))
    else:
        out.append(Finding("number.form", False, "未找到发文字号（如 江政办发〔2026〕12号）", "版头"))

    # the title and 签发人
    after = (mark[-1] + 1) if mark else 0
    number_at = next((i for i, t in enumerate(texts) if NUMBER.search(t) or BAD_NUMBER.search(t)), None)
    if number_at is not None:
        after = max(after, number_at + 1)
    t_at = _find_title(paragraphs, styles, after)
    kind = None
    if t_at is None:
        out.append(Finding("title.present", False, "未找到居中排布的公文标题", "主体"))
    else:
        title = paragraphs[t_at]
        kind = kind_of(title.text)
        runs = _runs(title)
        sizes = {styles.size(r, title) for r in runs}
        fonts = {styles.font(r, title) for r in runs}
        out.append(Finding("title.size", sizes == {22.0}, f"标题应为 2 号字（22 磅），实为 {_sizes(sizes)}",
                           f"标题「{title.text.strip()[:20]}」"))
        out.append(Finding("title.font", all("标宋" in f for f in fonts),
                           f"标题应为小标宋体，实为 {'、'.join(sorted(fonts)) or '未指定'}", "标题"))
    if kind in ("请示", "报告"):
        has = any("签发人" in t for t in texts[: (t_at or 20)])
        out.append(Finding("signer.upward", has, f"上行文（{kind}）应在版头标注签发人" + ("" if has else "，未找到"), "版头"))

    # the text: from after the title (and 主送机关) to the signature/date
    start = (t_at + 1) if t_at is not None else after
    date_at = next((i for i in range(start, len(texts)) if DATE.match(texts[i])), None)
    end = date_at if date_at is not None else len(paragraphs)
    body = [p for p in _body_paragraphs(paragraphs, start, end)  # tables may use smaller type (GB/T 9704 9)
            if not p.text.strip().endswith("：") and not p.text.strip().startswith("附件") and not _in_table(p)]
    # the signature lines just above the date are not text
    if date_at is not None:
        body = [p for p in body if _alignment(p) != "right"]
    out += _text_rules(styles, body)
    out += _grid(doc, styles, body)

    # 成文日期
    dates = [t for t in texts if DATE.match(t)]
    if not dates:
        out.append(Finding("date.form", False, "未找到成文日期（如 2026年12月6日）", "主体"))
    else:
        y, m, d = DATE.match(dates[0]).groups()  # type: ignore[union-attr]
        arabic = all(x.isdigit() for x in (y, m, d))
        padded = arabic and (m.startswith("0") or d.startswith("0"))
        ok = arabic and not padded
        why = "" if ok else ("：应使用阿拉伯数字" if not arabic else "：月、日不编虚位（如 1月5日，不写 01月05日）")
        out.append(Finding("date.form", ok, f"成文日期「{dates[0]}」" + ("符合要求" if ok else why), "主体"))

    # 版记: 抄送 before 印发, both after the date
    cc_at = next((i for i, t in enumerate(texts) if t.startswith("抄送")), None)
    printed_at = next((i for i, t in enumerate(texts) if re.search(r"\d+日\s*印发$", t)), None)
    if cc_at is None and printed_at is None:
        out.append(Finding("colophon.order", True, "无版记（抄送、印发机关和印发日期）", "版记"))
    else:
        ok = (cc_at is None or printed_at is None or cc_at < printed_at) and \
             (date_at is None or min(i for i in (cc_at, printed_at) if i is not None) > date_at)
        out.append(Finding("colophon.order", ok, "版记应位于成文日期之后，抄送在前，印发机关和印发日期在后"
                           + ("" if ok else "：顺序不符"), "版记"))
        last = paragraphs[max(i for i in (cc_at, printed_at) if i is not None)]
        pinned = _pinned_to_foot(last)
        out.append(Finding("colophon.position", pinned,
                           "版记固定在末页版心最下方" if pinned else
                           "版记应位于公文最后一页版心内最下方（7.4）：本文件中版记未固定在版心下端（如底端对齐"
                           "页边距的浮动表格或图文框），其位置随前文行数而变，须在打印页上核对", "版记"))
    out += _page_numbers(doc, styles)
    return out


def _pinned_to_foot(p: Paragraph) -> bool:
    """Whether a 版记 paragraph is held at the foot of the 版心 (the last line of the last page): in a
    table floated to the margin's bottom (w:tblpPr vertAnchor margin, tblpYSpec bottom) or in a frame
    aligned so (w:framePr vAnchor margin, yAlign bottom)."""
    for el in (p._p, *p._p.iterancestors(qn("w:tbl"))):
        if el.tag == qn("w:tbl"):
            pos = el.find(f"{qn('w:tblPr')}/{qn('w:tblpPr')}")
            anchor, align = ("vertAnchor", "tblpYSpec")
        else:
            pos = el.find(f"{qn('w:pPr')}/{qn('w:framePr')}")
            anchor, align = ("vAnchor", "yAlign")
        if pos is not None and pos.get(qn(f"w:{anchor}")) == "margin" and pos.get(qn(f"w:{align}")) == "bottom":
            return True
    return False


def _sizes(sizes: set[float | None]) -> str:
    return "、".join(f"{s:g} 磅" for s in sorted(s for s in sizes if s)) or "未指定"


def _text_rules(styles: _Styles, body: list[Paragraph]) -> list[Finding]:
    out: list[Finding] = []
    plain_bad: list[str] = []
    plain_sizes: set[float | None] = set()
    plain_fonts: set[str] = set()
    levels: dict[int, list[tuple[str, str]]] = {1: [], 2: [], 3: [], 4: []}
    for p in body:
        text = p.text.strip()
        runs = _runs(p)
        level = next((n for n, rx in HEADINGS.items() if rx.match(text)), 0)
        if re.match(r"^(出席|请假|列席|缺席)：", text) and len(runs) > 1:
            runs = runs[1:]  # 纪要格式: the label is in 黑体 (GB/T 9704 10.2)
        elif level:
            levels[level].append((text[:16], styles.font(runs[0], p)))
            runs = runs[1:] if level in (1, 2) and len(runs) > 1 else ([] if level in (1, 2) else runs)
        for r in runs:
            size, font = styles.size(r, p), styles.font(r, p)
            plain_sizes.add(size)
            plain_fonts.add(font)
            if size != 16.0 or "仿宋" not in font:
                plain_bad.append(text[:16])
    if not body:
        return [Finding("body.present", False, "未找到正文", "正文")]
    out.append(Finding("body.size", plain_sizes <= {16.0}, f"正文应为 3 号字（16 磅），实为 {_sizes(plain_sizes)}",
                       f"「{plain_bad[0]}」" if plain_bad else "正文"))
    out.append(Finding("body.font", all("仿宋" in f for f in plain_fonts),
                       f"正文应为仿宋体，实为 {'、'.join(sorted(f or '未指定' for f in plain_fonts))}",
                       f"「{plain_bad[0]}」" if plain_bad else "正文"))
    for level, found in levels.items():
        if not found:
            continue
        wrong = [(t, f) for t, f in found if not any(x in f for x in HEADING_FONTS[level])]
        out.append(Finding(f"heading.{level}", not wrong,
                           f"{HEADING_NAMES[level]}应为{HEADING_FONTS[level][0]}"
                           + (f"，「{wrong[0][0]}」为 {wrong[0][1] or '未指定'}" if wrong else ""), "正文"))
    return out


def _footer_info(footer: Any) -> tuple[str, bool, str, float | None]:
    """(text, has a PAGE field, alignment, size) of a footer."""
    xml = footer._element.xml
    has_field = bool(re.search(r'instr="\s*PAGE\b|<w:instrText[^>]*>\s*PAGE\b', xml))
    paragraphs = [p for p in footer.paragraphs if p.text.strip() or "PAGE" in p._p.xml]
    if not paragraphs:
        return "", has_field, "", None
    p = paragraphs[0]
    sizes = [int(s.get(qn("w:val"))) / 2 for s in p._p.iter(qn("w:sz"))]
    return p.text, has_field, _alignment(p), (sizes[0] if sizes else None)


def _page_numbers(doc: DocxDocument, styles: _Styles) -> list[Finding]:
    section = doc.sections[0]
    odd = _footer_info(section.footer)
    even = _footer_info(section.even_page_footer)
    out = [Finding("pagenum.field", odd[1], "页脚应有页码域（PAGE）" + ("" if odd[1] else "，未找到"), "页脚")]
    dash = bool(re.fullmatch(r"\s*[—－─-]\s*\d*\s*[—－─-]\s*", odd[0]))
    out.append(Finding("pagenum.form", dash, f"页码应为“— 1 —”式（数字两侧各一条一字线），实为「{odd[0].strip()}」",
                       "页脚"))
    out.append(Finding("pagenum.size", odd[3] == 14.0, f"页码应为 4 号字（14 磅），实为 {odd[3] or '未指定'}", "页脚"))
    odd_even = doc.settings.odd_and_even_pages_header_footer
    place = odd_even and odd[2] == "right" and even[2] == "left" and even[1]
    out.append(Finding("pagenum.place", bool(place), "单页码居右、双页码居左（奇偶页不同页脚）"
                       + ("" if place else f"：奇数页 {odd[2] or '无'}，偶数页 {even[2] or '无'}"
                          + ("" if odd_even else "，未设奇偶页不同")), "页脚"))
    return out


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok]
