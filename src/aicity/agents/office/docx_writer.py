"""Official documents as DOCX laid out to GB/T 9704-2012 《党政机关公文格式》 (python-docx, plus raw
WordprocessingML where python-docx has no API: the document grid, East Asian fonts, borders,
fields, character-unit indents).

What is laid out (clause numbers of GB/T 9704-2012):
- 5.2 / 5.2.1: A4; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm (right margin 26 mm, bottom 35 mm);
  6: 22 lines × 28 characters of 3号 (16 pt) text (`w:docGrid` linePitch 579, charSpace −849).
- 7.2 版头: 份号, 密级和保密期限, 紧急程度 (3号黑体, flush left, one a line); the red 发文机关标志
  (小标宋, centred, its top 35 mm below the 版心's; joint issuances stacked, 文件 centred on their
  right); 发文字号 two lines below (centred; for 上行文 left of 签发人 on one line, each 1 character
  in); 签发人 (仿宋 label, 楷体 name); the red separator 4 mm below the number, as wide as the 版心.
- 7.3 主体: 标题 2号小标宋 centred, two lines below the separator; 主送机关 a line below; 正文 3号仿宋,
  paragraphs indented 2 characters, the four heading levels 一、 黑体 / （一） 楷体 / 1. and （1） 仿宋;
  附件说明; 署名 and 成文日期 (Arabic numerals, month and day without leading zeros; 7.3.5.2, a document
  without a seal); 附注 in parentheses.
- 7.4 版记: 抄送 and 印发机关/印发日期 in 4号仿宋 between full-width rules (thick first and last,
  thin between), at the foot of the last page.
- 7.5 页码: "— 1 —" in 4号 half-width digits, odd pages right and even pages left, 1 character
  in (separate odd and even footers, a PAGE field), 7 mm below the 版心.
- 10.1 信函格式 (函): the issuer's name in red 30 mm from the top (the first page's header), a red
  double rule below it (thick over thin) and
  one 20 mm above the foot (thin over thick), both 170 mm long; 发文字号 flush right; no page number
  on the first page; 版记 without 印发 and rules.
- 10.2 纪要格式: the 纪要 mark in red; 出席/请假/列席 in 黑体 labels at the end.

Fonts are named as GB/T 9704 names them (w:eastAsia): 方正小标宋简体, 仿宋_GB2312, 黑体,
楷体_GB2312, 宋体 for page numbers; Western characters in Times New Roman. Where those fonts are
not installed (every free system), `render.py` maps them to free ones (see there).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import rjieba
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from aicity.agents.office.kinds import OfficeInputError

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEI_FONT = "黑体"
KAI_FONT = "楷体_GB2312"
SONG_FONT = "宋体"
WESTERN_FONT = "Times New Roman"
RED = RGBColor(0xFF, 0x00, 0x00)
RED_HEX = "FF0000"

#: sizes (pt): 初号 42, 一号 26, 二号 22, 三号 16, 四号 14
SIZE_TITLE = 22.0
SIZE_BODY = 16.0
SIZE_NOTE = 14.0
#: 225 mm / 22 lines, in twentieths of a point
LINE_PITCH_TWIPS = 579
#: 28 characters of 16 pt across 156 mm (442.2 pt): each character 0.25 pt narrower (w:spacing, in
#: twentieths of a point). A `linesAndChars` grid (charSpace −849) would say the same to Word, but
#: LibreOffice then gives every 16 pt character two 15.8 pt cells; condensing works in both.
CHAR_CONDENSE_TWIPS = -5
#: one character of text across (15.75 pt), in twentieths of a point; 28 to a line
CHAR_TWIPS = int(16 * 20) + CHAR_CONDENSE_TWIPS
LINE_CHARS = 28
PAGE_W_MM, PAGE_H_MM = 210, 297
TOP_MM, LEFT_MM, TEXT_W_MM, TEXT_H_MM = 37, 28, 156, 225
RIGHT_MM, BOTTOM_MM = PAGE_W_MM - LEFT_MM - TEXT_W_MM, PAGE_H_MM - TOP_MM - TEXT_H_MM
#: the footer's bottom edge above the page's: the page number's dashes 7 mm below the 版心
FOOTER_MM = 25
#: 发文机关标志: its top this far below the 版心's top (7.2.2)
MARK_TOP_MM = 35
#: 信函格式: the rules are 170 mm long, the upper one 4 mm under the mark, the lower 20 mm above the foot
LETTER_RULE_MM = 170
#: 信函格式: the mark's top edge this far below the page's top edge
LETTER_MARK_TOP_MM = 30
LETTER_FOOTER_MM = 20

HEADING_1 = re.compile(r"^[一二三四五六七八九十]+、")
HEADING_2 = re.compile(r"^（[一二三四五六七八九十]+）")
HEADING_3 = re.compile(r"^\d+[.．]")
HEADING_4 = re.compile(r"^（\d+）")


class DocumentLayoutError(OfficeInputError):
    """A document that cannot be laid out as given (no title, no issuer, an unknown layout)."""


@dataclass
class OfficialDoc:
    """What a document shows, element by element (GB/T 9704 names in the comments)."""

    kind: str
    title: str                                   # 标题
    issuers: list[str]                           # 发文机关 (full names; several: a joint issuance)
    body: list[str]                              # 正文, one paragraph each; headings by their numbering
    doc_number: str | None = None                # 发文字号
    recipients: list[str] = field(default_factory=list)   # 主送机关
    date: str | None = None                      # 成文日期 YYYY-MM-DD
    signature: list[str] | None = None           # 署名 (default: the issuers)
    copy_no: str | None = None                   # 份号
    classification: str | None = None            # 密级 (and 保密期限: "机密★1年")
    urgency: str | None = None                   # 紧急程度
    signers: list[str] = field(default_factory=list)      # 签发人 (上行文)
    attachments: list[str] = field(default_factory=list)  # 附件说明
    note: str | None = None                      # 附注
    cc: list[str] = field(default_factory=list)  # 抄送机关
    printer: str | None = None                   # 印发机关
    print_date: str | None = None                # 印发日期 YYYY-MM-DD
    layout: str = "file"                         # file | letter | minutes
    mark: str | None = None                      # 发文机关标志 (default from the issuers and layout)
    attendance: list[tuple[str, str]] = field(default_factory=list)  # 纪要: (出席|请假|列席, names)


# --- small pieces of WordprocessingML ----------------------------------------------------------

def _set(el: OxmlElement, **attrs: str) -> OxmlElement:
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


#: the schema's order of children (ECMA-376 part 1, 17.3 and 17.6): Word refuses files out of order
_ORDER = {name: tuple(tags.split()) for name, tags in {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
           "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
           "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
           "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
           "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
           "vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
             "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders "
              "lnNumType pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid",
    "pBdr": "top left bottom right between bar",
    "tblBorders": "top left start bottom right end insideH insideV",
}.items()}


def _child(parent: OxmlElement, tag: str, **attrs: str) -> OxmlElement:
    """The first `w:tag` child of `parent` (created in its place in the schema's order), with `attrs` set."""
    found = parent.find(qn(f"w:{tag}"))
    if found is None:
        found = OxmlElement(f"w:{tag}")
        order = _ORDER.get(parent.tag.rsplit("}", 1)[-1], ())
        later = set(order[order.index(tag) + 1:]) if tag in order else set()
        for i, existing in enumerate(parent):
            if existing.tag.rsplit("}", 1)[-1] in later:
                parent.insert(i, found)
                break
        else:
            parent.append(found)
    return _set(found, **attrs)


def fonts(rpr: OxmlElement, east: str, western: str = WESTERN_FONT) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    _set(rfonts, ascii=western, hAnsi=western, eastAsia=east, cs=western)


def add_run(p: Paragraph, text: str, east: str = BODY_FONT, size: float = SIZE_BODY, *, bold: bool = False,
            color: RGBColor | None = None, western: str = WESTERN_FONT) -> None:
    run = p.add_run(text)
    fonts(run._r.get_or_add_rPr(), east, western)
    run.font.size = Pt(size)
    if size == SIZE_BODY:
        _child(run._r.get_or_add_rPr(), "spacing", val=str(CHAR_CONDENSE_TWIPS))
    if bold:
        run.font.bold = True
    if color is not None:
        run.font.color.rgb = color


def _spacing(p: Paragraph, exact_twips: int | None = LINE_PITCH_TWIPS, before_twips: int = 0) -> None:
    pf = p.paragraph_format
    pf.space_before = Pt(before_twips / 20)
    pf.space_after = Pt(0)
    if exact_twips is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        _child(p._p.get_or_add_pPr(), "snapToGrid", val="0")
    else:
        pf.line_spacing = Pt(exact_twips / 20)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY


def indent(p: Paragraph, *, first: float = 0, left: float = 0, right: float = 0, hanging: float = 0,
           size: float = SIZE_BODY) -> None:
    """Indents in characters of `size` (w:…Chars, hundredths, with twips beside for other readers)."""
    ind = _child(p._p.get_or_add_pPr(), "ind")
    tw = int(size * 20)
    if first:
        _set(ind, firstLine=str(round(first * tw)), firstLineChars=str(round(first * 100)))
    if hanging:
        _set(ind, hanging=str(round(hanging * tw)), hangingChars=str(round(hanging * 100)))
    if left:
        _set(ind, left=str(round(left * tw)), leftChars=str(round(left * 100)))
    if right:
        _set(ind, right=str(round(right * tw)), rightChars=str(round(right * 100)))


def border(p: Paragraph, side: str, val: str = "single", size_eighths: int = 8, color: str = RED_HEX,
           space: int = 0) -> None:
    bdr = _child(p._p.get_or_add_pPr(), "pBdr")
    _child(bdr, side, val=val, sz=str(size_eighths), space=str(space), color=color)


def _field(p: Paragraph, instr: str, shown: str, east: str, size: float, western: str) -> None:
    """A field (PAGE …) as begin/instr/separate/result/end runs, which Word and LibreOffice update."""
    for kind, text in (("begin", None), ("instr", instr), ("separate", None), ("result", shown), ("end", None)):
        run = p.add_run()
        fonts(run._r.get_or_add_rPr(), east, western)
        run.font.size = Pt(size)
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
            run._r.append(el)
        elif kind == "result":
            run.text = text or ""
        else:
            run._r.append(_set(OxmlElement("w:fldChar"), fldCharType=kind))


def no_autospace(p: Paragraph) -> None:
    """No extra space between CJK and digits, so a date is as wide as its characters."""
    ppr = p._p.get_or_add_pPr()
    _child(ppr, "autoSpaceDE", val="0")
    _child(ppr, "autoSpaceDN", val="0")


def width(text: str) -> float:
    """Width in characters: CJK and full-width count 1, ASCII half."""
    return sum(0.5 if ord(ch) < 0x2E80 and ch not in "—" else 1.0 for ch in text)


def chinese_date(iso: str) -> str:
    """成文日期 in Arabic numerals, no leading zeros (7.3.5.1): 2026年12月6日."""
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


# --- the page ---------------------------------------------------------------------------------

def _page(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    section.top_margin, section.bottom_margin = Mm(TOP_MM), Mm(BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(LEFT_MM), Mm(RIGHT_MM)
    section.header_distance, section.footer_distance = Mm(15), Mm(FOOTER_MM)
    section.gutter = Mm(0)
    grid = _child(section._sectPr, "docGrid")
    _set(grid, type="lines", linePitch=str(LINE_PITCH_TWIPS))
    # the default font size is 3号; characters are condensed in runs of that size (28 a line)
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = _child(_child(defaults, "rPrDefault"), "rPr")
    fonts(rpr_default, BODY_FONT)
    _child(rpr_default, "sz", val=str(int(SIZE_BODY * 2)))
    _child(rpr_default, "szCs", val=str(int(SIZE_BODY * 2)))
    _child(rpr_default, "lang", val="en-US", eastAsia="zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(SIZE_BODY)
    fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = Pt(LINE_PITCH_TWIPS / 20)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    _child(normal.element.get_or_add_pPr(), "jc", val="both")


def _page_numbers(doc: DocxDocument, first_page_blank: bool) -> None:
    """"— 1 —", 4号宋体 half-width digits; odd right, even left, one character in (7.5)."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        _spacing(p, None)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            indent(p, right=1, size=SIZE_NOTE)
        else:
            indent(p, left=1, size=SIZE_NOTE)
        add_run(p, "— ", SONG_FONT, SIZE_NOTE, western=SONG_FONT)
        _field(p, " PAGE ", "1", SONG_FONT, SIZE_NOTE, SONG_FONT)
        add_run(p, " —", SONG_FONT, SIZE_NOTE, western=SONG_FONT)
    if first_page_blank:
        section.different_first_page_header_footer = True


# --- elements ---------------------------------------------------------------------------------

def _para(doc: DocxDocument, align: WD_ALIGN_PARAGRAPH | None = None, exact: int | None = LINE_PITCH_TWIPS,
          before_twips: int = 0) -> Paragraph:
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    _spacing(p, exact, before_twips)
    return p


def _blank(doc: DocxDocument, lines: int = 1) -> None:
    for _ in range(lines):
        _para(doc)


def _head_marks(doc: DocxDocument, d: OfficialDoc) -> int:
    """份号, 密级和保密期限, 紧急程度: one a line, flush left; returns the lines used."""
    lines = 0
    if d.copy_no:
        add_run(_para(doc), d.copy_no, HEI_FONT)
        lines += 1
    if d.classification:
        add_run(_para(doc), d.classification, HEI_FONT)
        lines += 1
    if d.urgency:
        add_run(_para(doc), d.urgency, HEI_FONT)
        lines += 1
    return lines


def _mark_size(text: str, limit_pt: float = 58.0) -> float:
    """The mark's size: as tall as the standard allows (22 mm ≈ 62 pt) and within the 版心's width."""
    return min(limit_pt, (TEXT_W_MM / 25.4 * 72 - 4) / max(width(text), 1))


def _mark(doc: DocxDocument, d: OfficialDoc, used_lines: int) -> None:
    """The red 发文机关标志, its top 35 mm below the 版心's (joint: names stacked, 文件 on the right)."""
    before = max(0, round(MARK_TOP_MM / 25.4 * 1440) - used_lines * LINE_PITCH_TWIPS)
    suffix = "文件" if d.layout == "file" else ""
    if d.mark or len(d.issuers) == 1 or d.layout != "file":
        text = d.mark or (d.issuers[0] + suffix)
        p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, None, before)
        add_run(p, text, TITLE_FONT, _mark_size(text), color=RED)
        return
    _para(doc, exact=None, before_twips=before).paragraph_format.line_spacing = Pt(1)
    # the longest name and 文件 side by side within the 版心, with a character's gap and the cells' margins
    text_pt = TEXT_W_MM / 25.4 * 72
    size = min(44.0, (text_pt - 24) / (max(width(i) for i in d.issuers) + width(suffix) + 1))
    word_tw = round((width(suffix) + 1) * size * 20 + 240)
    text_tw = round(text_pt * 20)
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    _child(tbl_pr, "tblW", w=str(text_tw), type="dxa")
    _child(tbl_pr, "tblLayout", type="fixed")
    names, word = table.rows[0].cells
    for column, cell, twips in ((table.columns[0], names, text_tw - word_tw), (table.columns[1], word, word_tw)):
        column.width = Pt(twips / 20)
        cell.width = Pt(twips / 20)
    for i, issuer in enumerate(d.issuers):
        p = names.paragraphs[0] if i == 0 else names.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
        _spacing(p, None)
        add_run(p, issuer, TITLE_FONT, size, color=RED)
    word.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = word.paragraphs[0]
    _spacing(p, None)
    add_run(p, suffix, TITLE_FONT, size, color=RED)
    _no_borders(table)


def _no_borders(table: object) -> None:
    tbl_pr = table._tbl.tblPr  # type: ignore[attr-defined]
    borders = _child(tbl_pr, "tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        _child(borders, side, val="nil")


def _number_line(doc: DocxDocument, d: OfficialDoc) -> None:
    """发文字号 (centred; 上行文: left, with 签发人 right on the same line) and the red rule 4 mm below."""
    _blank(doc, 2)
    if d.signers:
        for extra in d.signers[:-1]:
            p = _para(doc, WD_ALIGN_PARAGRAPH.RIGHT)
            indent(p, right=1)
            add_run(p, "签发人：", BODY_FONT)
            add_run(p, extra, KAI_FONT)
        p = _para(doc)
        indent(p, left=1, right=1)
        tab_at = round((TEXT_W_MM / 25.4 * 1440) - 2 * SIZE_BODY * 20)
        tabs = _child(p._p.get_or_add_pPr(), "tabs")
        _child(tabs, "tab", val="right", pos=str(tab_at))
        add_run(p, d.doc_number or "", BODY_FONT)
        add_run(p, "\t签发人：", BODY_FONT)
        add_run(p, d.signers[-1], KAI_FONT)
    else:
        p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER)
        add_run(p, d.doc_number or "", BODY_FONT)
    rule = _para(doc, exact=80)  # 4 mm ≈ 11.3 pt
    rule.paragraph_format.line_spacing = Pt(11.3)
    border(rule, "bottom", "single", 12, RED_HEX)


def _letter_head(doc: DocxDocument, d: OfficialDoc) -> None:
    """信函格式: the red name, the double rule (thick over thin, 170 mm), then marks left and the
    number right on one line, the title two lines below."""
    text = d.mark or d.issuers[0]
    # in the first page's header, 30 mm below the page's top edge (10.1); the text starts below it
    section = doc.sections[0]
    section.header_distance = Mm(LETTER_MARK_TOP_MM)
    section.different_first_page_header_footer = True
    header = section.first_page_header
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _spacing(p, None)
    p.paragraph_format.space_after = Pt(SIZE_BODY * 7 / 8)  # the first element 7/8 of a 3号 character below
    add_run(p, text, TITLE_FONT, _mark_size(text, 36.0), color=RED)
    over = (LETTER_RULE_MM - TEXT_W_MM) / 2
    ind = _child(p._p.get_or_add_pPr(), "ind")
    _set(ind, left=str(-round(over / 25.4 * 1440)), right=str(-round(over / 25.4 * 1440)))
    border(p, "bottom", "thickThinMediumGap", 24, RED_HEX, space=4)
    marks = [m for m in (d.copy_no, d.classification, d.urgency) if m]
    p = _para(doc)
    tabs = _child(p._p.get_or_add_pPr(), "tabs")
    _child(tabs, "tab", val="right", pos=str(round(TEXT_W_MM / 25.4 * 1440)))
    add_run(p, "　".join(marks), HEI_FONT)
    add_run(p, "\t" + (d.doc_number or ""), BODY_FONT)
    _blank(doc, 1)


def _letter_footer(doc: DocxDocument) -> None:
    """The lower double rule of the 信函格式 (thin over thick), 20 mm above the page's foot, first page only."""
    section = doc.sections[0]
    footer = section.first_page_footer
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    _spacing(p, 20)
    over = (LETTER_RULE_MM - TEXT_W_MM) / 2
    _set(_child(p._p.get_or_add_pPr(), "ind"), left=str(-round(over / 25.4 * 1440)),
         right=str(-round(over / 25.4 * 1440)))
    border(p, "top", "thickThinMediumGap", 24, RED_HEX)


#: 2号 characters on a line of the 版心 (442 pt / 22 pt)
TITLE_LINE_CHARS = 20


def title_lines(title: str, per_line: int = TITLE_LINE_CHARS) -> list[str]:
    """A long title broken between words into lines of even length (7.3.1: 词意完整, 排列对称; with
    an upper line no longer than the lower ones, a 梯形), as few lines as fit."""
    if width(title) <= per_line:
        return [title]
    words = list(rjieba.cut(title))
    cuts = [0]
    for w in words:
        cuts.append(cuts[-1] + len(w))
    n = -(-int(width(title)) // per_line)
    best: tuple[float, list[str]] | None = None

    def place(start: int, left: int, lines: list[str]) -> None:
        nonlocal best
        if left == 1:
            last = title[start:]
            if width(last) > per_line:
                return
            done = [*lines, last]
            lengths = [width(x) for x in done]
            mean = sum(lengths) / len(lengths)
            cost = sum((x - mean) ** 2 for x in lengths) + (0.5 if lengths[0] > lengths[-1] else 0)
            if best is None or cost < best[0]:
                best = (cost, done)
            return
        for end in cuts:
            if end > start and width(title[start:end]) <= per_line:
                place(end, left - 1, [*lines, title[start:end]])

    place(0, n, [])
    if best is None:  # a word longer than a line: break anywhere
        return [title[i:i + per_line] for i in range(0, len(title), per_line)]
    return best[1]


def _title(doc: DocxDocument, d: OfficialDoc) -> None:
    p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, round(SIZE_TITLE * 20 * 1.5))
    for i, line in enumerate(title_lines(d.title)):
        if i:
            p.add_run().add_break()
        add_run(p, line, TITLE_FONT, SIZE_TITLE)
    _blank(doc, 1)


def _recipients(doc: DocxDocument, d: OfficialDoc) -> None:
    if d.recipients:
        add_run(_para(doc), "，".join(d.recipients) + "：", BODY_FONT)


def heading_level(text: str) -> int:
    """0 for a plain paragraph; 1–4 for 一、 （一） 1. （1）."""
    for level, pattern in enumerate((HEADING_1, HEADING_2, HEADING_3, HEADING_4), start=1):
        if pattern.match(text):
            return level
    return 0


def body_paragraph(doc: DocxDocument, text: str, size: float = SIZE_BODY) -> None:
    """A 正文 paragraph, indented 2 characters; a heading's words (to the first 。) in its font."""
    p = _para(doc)
    indent(p, first=2, size=size)
    level = heading_level(text)
    font = {1: HEI_FONT, 2: KAI_FONT}.get(level)
    if font is None:
        add_run(p, text, BODY_FONT, size)
        return
    cut = text.find("。")
    head, rest = (text, "") if cut < 0 else (text[:cut + 1], text[cut + 1:])
    add_run(p, head, font, size)
    if rest:
        add_run(p, rest, BODY_FONT, size)


def _attachments(doc: DocxDocument, d: OfficialDoc) -> None:
    """附件说明: a line below the text, 2 characters in; several are numbered and aligned."""
    if not d.attachments:
        return
    _blank(doc, 1)
    many = len(d.attachments) > 1
    for i, name in enumerate(d.attachments, start=1):
        p = _para(doc)
        if i == 1:
            indent(p, left=2)
            add_run(p, "附件：" + (f"{i}. " if many else "") + name.rstrip("。.，,；;"), BODY_FONT)
        else:
            indent(p, left=5)
            add_run(p, f"{i}. " + name.rstrip("。.，,；;"), BODY_FONT)


def _signature(doc: DocxDocument, d: OfficialDoc) -> None:
    """署名 and 成文日期 without a seal (7.3.5.2): the name 2 characters from the right, the date a line
    below, its first character 2 to the right of the name's; a longer date moves the name right."""
    names = d.signature if d.signature is not None else d.issuers
    when = chinese_date(d.date) if d.date else None
    _blank(doc, 1)
    if when is None:
        for name in names:
            p = _para(doc, WD_ALIGN_PARAGRAPH.RIGHT)
            indent(p, right=2)
            add_run(p, name, BODY_FONT)
        return
    # placed by left indents on the 28-character line, so that only the names' (CJK) widths count:
    # the date's first character lands 2 to the right of the name's, however wide its digits are set
    date_w = width(when)
    longest = max(width(n) for n in names)
    name_left = LINE_CHARS - 2 - max(longest, date_w + 2)
    for name in names:
        p = _para(doc)
        _set(_child(p._p.get_or_add_pPr(), "ind"), left=str(round((name_left + longest - width(name)) * CHAR_TWIPS)))
        add_run(p, name, BODY_FONT)
    p = _para(doc)
    _set(_child(p._p.get_or_add_pPr(), "ind"), left=str(round((name_left + 2) * CHAR_TWIPS)))
    no_autospace(p)
    add_run(p, when, BODY_FONT)


def _note(doc: DocxDocument, d: OfficialDoc) -> None:
    if d.note:
        p = _para(doc)
        indent(p, left=2)
        note = d.note.strip()
        add_run(p, note if note.startswith("（") else f"（{note}）", BODY_FONT)


def _attendance(doc: DocxDocument, d: OfficialDoc) -> None:
    """纪要: 出席 / 请假 / 列席 — 黑体 label, 仿宋 names, 2 characters in, wrapped under the names."""
    if not d.attendance:
        return
    _blank(doc, 1)
    for label, names in d.attendance:
        p = _para(doc)
        indent(p, left=2 + width(label) + 1, hanging=width(label) + 1)
        add_run(p, f"{label}：", HEI_FONT)
        add_run(p, names, BODY_FONT)


def _colophon(doc: DocxDocument, d: OfficialDoc) -> None:
    """版记: 抄送 and 印发 between full-width rules (thick, thin, thick; 7.4), a table of one column
    floated to the foot of the 版心 on the last page (`w:tblpPr` vertAnchor margin, tblpYSpec bottom),
    its last rule on the 版心's lower edge; the text flows above it, and a 版记 that does not fit
    under the text goes to a page of its own. The table is placed from the page's left edge
    (horzAnchor page, at the 订口): LibreOffice only floats a table as wide as the 版心 when it is
    placed relative to the page, and it lays a full-width table relative to the margin inline after
    the text. Cell margins are 0, so the rules are exactly the 版心's width in Word and LibreOffice."""
    rows: list[tuple[str, str]] = []
    if d.cc:
        rows.append(("cc", "，".join(d.cc) + "。"))
    if d.printer and d.layout != "letter":
        rows.append(("print", d.printer))
    if not rows:
        return
    _blank(doc, 1)
    text_w = round(TEXT_W_MM / 25.4 * 1440)
    table = doc.add_table(rows=len(rows), cols=1)
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    _child(tbl_pr, "tblW", w=str(text_w), type="dxa")
    _child(tbl_pr, "tblLayout", type="fixed")
    _child(tbl_pr, "tblpPr", leftFromText="0", rightFromText="0", topFromText="0", bottomFromText="0",
           vertAnchor="margin", horzAnchor="page", tblpX=str(round(LEFT_MM / 25.4 * 1440)), tblpYSpec="bottom")
    _child(tbl_pr, "tblOverlap", val="never")
    margins = _child(tbl_pr, "tblCellMar")
    for side in ("left", "right"):
        _child(margins, side, w="0", type="dxa")
    borders = _child(tbl_pr, "tblBorders")
    ruled = d.layout != "letter"
    for side, size in (("top", 8), ("bottom", 8), ("insideH", 4)):
        _child(borders, side, val="single" if ruled else "nil", sz=str(size), space="0", color="000000")
    for side in ("left", "right", "insideV"):
        _child(borders, side, val="nil")
    for row, (what, text) in zip(table.rows, rows, strict=True):
        cell: _Cell = row.cells[0]
        cell.width = Mm(TEXT_W_MM)
        p = cell.paragraphs[0]
        _spacing(p, round(SIZE_NOTE * 20 * 1.45))
        p.paragraph_format.keep_with_next = True  # the 版记 stays on one page
        if what == "cc":
            indent(p, left=1 + 3, right=1, hanging=3, size=SIZE_NOTE)
            add_run(p, "抄送：", BODY_FONT, SIZE_NOTE)
            add_run(p, text, BODY_FONT, SIZE_NOTE)
        else:
            indent(p, left=1, right=1, size=SIZE_NOTE)
            no_autospace(p)
            tabs = _child(p._p.get_or_add_pPr(), "tabs")
            _child(tabs, "tab", val="right", pos=str(round(text_w - 2 * SIZE_NOTE * 20)))
            add_run(p, text, BODY_FONT, SIZE_NOTE)
            printed = chinese_date(d.print_date or d.date or date.today().isoformat())
            add_run(p, f"\t{printed}印发", BODY_FONT, SIZE_NOTE)
    # Word requires a paragraph after a table at the end of the body: a hair's height
    tail = _para(doc, exact=20)
    tail.paragraph_format.line_spacing = Pt(1)


def write_docx(d: OfficialDoc) -> bytes:
    """The document as DOCX bytes, laid out to GB/T 9704-2012 (see the module docstring)."""
    if not d.title.strip():
        raise DocumentLayoutError("公文缺少标题 a document needs a title")
    if not d.issuers or not all(i.strip() for i in d.issuers):
        raise DocumentLayoutError("公文缺少发文机关 a document needs an issuer")
    if d.layout not in ("file", "letter", "minutes"):
        raise DocumentLayoutError(f"未知版式 unknown layout {d.layout!r}")
    if d.date:
        chinese_date(d.date)  # a bad date is an error here, not a blank in the document
    doc = Document()
    _page(doc)
    doc.core_properties.title = d.title
    doc.core_properties.author = d.issuers[0]
    doc.core_properties.subject = d.kind
    doc.core_properties.keywords = d.doc_number or ""
    first = doc.paragraphs[0] if doc.paragraphs else None
    if d.layout == "letter":
        _letter_head(doc, d)
        _letter_footer(doc)
    else:
        used = _head_marks(doc, d)
        _mark(doc, d, used)
        _number_line(doc, d)
        _blank(doc, 1)
    _title(doc, d)
    _recipients(doc, d)
    for text in d.body:
        if text.strip():
            body_paragraph(doc, text.strip())
    _attachments(doc, d)
    if d.layout == "minutes":
        _attendance(doc, d)
        if d.date:
            p = _para(doc, WD_ALIGN_PARAGRAPH.RIGHT)
            indent(p, right=2)
            add_run(p, chinese_date(d.date), BODY_FONT)
    else:
        _signature(doc, d)
    _note(doc, d)
    _colophon(doc, d)
    _page_numbers(doc, first_page_blank=d.layout == "letter")
    if first is not None and not first.text:
        first._p.getparent().remove(first._p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- plain reports ------------------------------------------------------------------------------

_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_INLINE = re.compile(r"\*\*(.+?)\*\*|\[([^\]]+)\]\([^)]+\)|`([^`]+)`")


def _inline_runs(p: Paragraph, text: str, size: float, east: str = BODY_FONT) -> None:
    """**bold**, [link](url) → its words, `code` → its words."""
    at = 0
    for m in _INLINE.finditer(text):
        if m.start() > at:
            add_run(p, text[at:m.start()], east, size)
        if m.group(1) is not None:
            add_run(p, m.group(1), east, size, bold=True)
        else:
            add_run(p, m.group(2) or m.group(3) or "", east, size)
        at = m.end()
    if at < len(text):
        add_run(p, text[at:], east, size)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _report_table(doc: DocxDocument, lines: list[str]) -> None:
    header, rows = _cells(lines[0]), [_cells(x) for x in lines[2:]]
    cols = max(len(header), *(len(r) for r in rows)) if rows else len(header)
    table = doc.add_table(rows=1 + len(rows), cols=cols)
    table.style = doc.styles["Table Grid"]
    for r, values in enumerate([header, *rows]):
        for c in range(cols):
            p = table.cell(r, c).paragraphs[0]
            _spacing(p, 440)  # 22 pt lines for 12 pt (小四) type
            _inline_runs(p, values[c] if c < len(values) else "", SIZE_NOTE - 2, HEI_FONT if r == 0 else BODY_FONT)


def _blocks(markdown: str) -> Iterable[tuple[str, list[str]]]:
    """(kind, lines): heading1..6, table, bullet, number, para."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if m := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            yield f"heading{len(m.group(1))}", [m.group(2).strip()]
            i += 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].strip()):
            block = [stripped, lines[i + 1].strip()]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i].strip())
                i += 1
            yield "table", block
            continue
        if m := re.match(r"^[-*+]\s+(.*)$", stripped):
            yield "bullet", [m.group(1)]
            i += 1
            continue
        if re.match(r"^\d+[.)]\s+", stripped):
            yield "number", [stripped]
            i += 1
            continue
        para = [stripped]
        i += 1
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#|\||[-*+]\s|\d+[.)]\s)", lines[i].strip()):
            para.append(lines[i].strip())
            i += 1
        yield "para", ["".join(para) if all(ord(x[-1]) > 0x2E80 for x in para[:-1]) else " ".join(para)]


def report_docx(title: str, markdown: str) -> bytes:
    """A plain report in the documents' body style: A4 and the 版心 of GB/T 9704, the title in
    2号小标宋, headings by depth in 黑体 / 楷体 / 仿宋 bold (or by their numbering 一、 / （一））, paragraphs in 3号仿宋
    indented 2 characters, '-' lists, pipe tables, page numbers "— 1 —". Markdown's own first
    '# title' is skipped when it repeats `title`."""
    if not title.strip():
        raise DocumentLayoutError("报告缺少标题 a report needs a title")
    doc = Document()
    _page(doc)
    doc.core_properties.title = title
    first = doc.paragraphs[0] if doc.paragraphs else None
    p = _para(doc, WD_ALIGN_PARAGRAPH.CENTER, round(SIZE_TITLE * 20 * 1.5))
    add_run(p, title.strip(), TITLE_FONT, SIZE_TITLE)
    _blank(doc, 1)
    blocks = [(k, ls) for k, ls in _blocks(markdown) if not (k == "heading1" and ls[0] == title.strip())]
    # heading depths ranked as used: the shallowest in 黑体, then 楷体, then 仿宋 bold; a heading's own
    # numbering (一、 / （一）) decides where it has one
    depths = sorted({int(k[7:]) for k, _ in blocks if k.startswith("heading")})
    for kind, lines in blocks:
        text = lines[0]
        if kind.startswith("heading"):
            p = _para(doc)
            indent(p, first=2)
            p.paragraph_format.keep_with_next = True
            rank = heading_level(text) if heading_level(text) in (1, 2) else depths.index(int(kind[7:])) + 1
            _inline_runs(p, text, SIZE_BODY, {1: HEI_FONT, 2: KAI_FONT}.get(rank, BODY_FONT))
            if rank >= 3:
                for run in p.runs:
                    run.font.bold = True
        elif kind == "table":
            _report_table(doc, lines)
        elif kind == "bullet":
            p = _para(doc)
            indent(p, left=2, hanging=1)
            _inline_runs(p, "· " + text, SIZE_BODY)
        else:
            p = _para(doc)
            indent(p, first=2)
            _inline_runs(p, text, SIZE_BODY)
    _page_numbers(doc, first_page_blank=False)
    if first is not None and not first.text:
        first._p.getparent().remove(first._p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
