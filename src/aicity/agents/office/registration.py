"""收文登记: the elements of an incoming official document, read from a DOCX, a PDF with a text layer
or pasted text, without per-issuer templates.

What is read where follows the layout GB/T 9704-2012 prescribes for every 党政机关公文:

- 版头 (above the red separator line): 份号 (6 digits), 密级和保密期限 (秘密★1年), 紧急程度 (特急/加急),
  发文机关标志 (one or several organ names, "文件" after them for the 文件 layout; a joint issuance puts
  each organ on its own line or in a table), 发文字号 (机关代字〔年份〕序号号) and, for 上行文, 签发人 on the
  number's line. The 信函 layout (函) has the organ's name alone, the 纪要 layout "××纪要" and 第N期.
- 主体: 标题 (one to three lines, "……关于……的通知"; the kind is its last kind word), 主送机关 (the first
  line after the title ending in "：", organs separated by "，" and "、"), 正文, 附件说明 ("附件：1. …" and
  the numbered lines after it), 发文机关署名 + 成文日期 (a line of its own, 2026年3月5日 or
  二〇二六年三月五日), 附注.
- 版记 (at the end): 抄送 ("抄送：…。", wrapped lines until the full stop; a 纪要's "分送：" is its
  distribution list, not a 抄送), 印发机关和印发日期 (…印发).

A time limit the text sets (请于2026年4月10日前报送) is the registration's `deadline`; the demo city's
departments whose duties the subject names are its `suggested_departments` (their duties in
`demo/data/departments.yaml`, scored in the title and body).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import PurePath
from typing import Any

import docx
import pypdfium2 as pdfium
import yaml
from docx.oxml.ns import qn

from aicity.agents.office.kinds import kind_of
from aicity.core.text import cn_number, tokenize

#: the fields a registration has (the register's columns), in the order the CLI prints them
FIELDS = ("kind", "issuer", "doc_number", "title", "recipients", "date", "classification", "urgency", "signer",
          "attachments", "cc", "suggested_departments", "deadline")
#: most characters of text read (a document longer than this is cut)
MAX_CHARS = 200_000
#: kinds addressed to the public or to no one: what they date is no time limit for a 收文单位
PUBLIC_KINDS = frozenset({"公告", "通告", "公报", "决议", "命令（令）"})
#: at most this many departments are suggested
MAX_SUGGESTED = 3
#: the department that registers incoming documents and forwards them: suggested as a handler only for the subjects
#: of its own functions (政务公开, 督查督办 …: `demo/data/office/subjects.yaml`), never for issuing or receiving one
REGISTRAR = "gov_office"


class RegistrationError(ValueError):
    """Input that cannot be registered; `code` names why (empty, no-text-layer, not-a-document,
    unsupported-format)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Registration:
    kind: str | None = None
    issuer: list[str] = field(default_factory=list)
    doc_number: str | None = None
    title: str | None = None
    recipients: list[str] = field(default_factory=list)
    date: str | None = None
    classification: str | None = None
    urgency: str | None = None
    signer: str | None = None
    attachments: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    suggested_departments: list[str] = field(default_factory=list)
    deadline: str | None = None
    #: the document's text, one line per paragraph (what the fields were read from)
    text: str = ""
    #: how each field was found (zone and rule), for the register's notes
    notes: dict[str, str] = field(default_factory=dict)
    #: the 正文's lines (between 主送 and 署名; the summary reads these)
    body: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: data[k] for k in FIELDS}


# ---------------------------------------------------------------- reading the file


def read_file(name: str, data: bytes) -> list[str]:
    """The lines of a DOCX, a PDF (its text layer) or a text file; the format is told by the
    content (a CSV renamed .docx is refused), the name only tells text from the rest."""
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        raise RegistrationError("empty", f"「{name}」是空文件，没有可登记的内容")
    if data.startswith(b"%PDF"):
        return _pdf_lines(name, data)
    if data.startswith(b"PK\x03\x04"):
        return _docx_lines(name, data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RegistrationError("unsupported-format", f"「{name}」是旧版 Word（.doc）或其他 OLE 文件；请另存为 DOCX 或 PDF 后再登记")
    if suffix in (".docx", ".pdf"):
        raise RegistrationError("not-a-document", f"「{name}」的扩展名是 {suffix}，但内容不是 {suffix[1:].upper()} 文件"
                                                  "（可能是改了扩展名的表格或文本），无法登记")
    if suffix not in ("", ".txt", ".text", ".md"):
        raise RegistrationError("unsupported-format", f"「{name}」的格式不受支持；收文登记支持 DOCX、PDF（含文字层）和纯文本")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return split_lines(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise RegistrationError("not-a-document", f"「{name}」不是文本文件（编码无法识别，支持 UTF-8 与 GB18030）")


def split_lines(text: str) -> list[str]:
    if len(text) > MAX_CHARS:
        raise RegistrationError("too-large", f"文字有 {len(text)} 字，超过收文登记上限 {MAX_CHARS} 字；请只登记公文本身")
    lines = []
    for raw in text.splitlines():
        line = raw.replace("\u3000", " ").replace("\xa0", " ").strip()
        if line and not _PAGE_NUMBER.match(line):
            lines.append(line)
    return lines


_PAGE_NUMBER = re.compile(r"^[-—–－\s]*\d{1,3}[-—–－\s]*$|^第\s*\d+\s*页(?:\s*[，,/]?\s*共\s*\d+\s*页)?$")


def _docx_lines(name: str, data: bytes) -> list[str]:
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RegistrationError("not-a-document", f"「{name}」不是有效的 DOCX 文档（{type(exc).__name__}），无法登记") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors for other zips
        raise RegistrationError("not-a-document", f"「{name}」不是有效的 DOCX 文档（{type(exc).__name__}），无法登记") from exc
    lines: list[str] = []
    seen_header: set[str] = set()
    for section in document.sections:  # a 版头 typeset in the page header comes first
        for part in (section.first_page_header, section.header):
            if part.is_linked_to_previous:  # no header of its own (reading one would create it)
                continue
            for text in _block_texts(part._element):
                if text not in seen_header:
                    seen_header.add(text)
                    lines.append(text)
    lines.extend(_block_texts(document.element.body))
    for section in document.sections:  # footers: page numbers are dropped, anything else is kept
        if not section.footer.is_linked_to_previous:
            lines.extend(_block_texts(section.footer._element))
    return split_lines("\n".join(lines))


def _block_texts(element: Any) -> list[str]:
    """Paragraphs and table cells in document order (a merged cell once)."""
    out: list[str] = []
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            out.append(_paragraph_text(child))
        elif child.tag == qn("w:tbl"):
            for row in child.iterchildren(qn("w:tr")):
                for cell in row.iterchildren(qn("w:tc")):
                    props = cell.find(qn("w:tcPr"))
                    vmerge = props.find(qn("w:vMerge")) if props is not None else None
                    if vmerge is not None and vmerge.get(qn("w:val")) in (None, "continue"):
                        continue  # the continuation of a vertically merged cell
                    out.extend(_block_texts(cell))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                out.extend(_block_texts(content))
    return out


def _paragraph_text(p: Any) -> str:
    parts = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")):
        parts.append(node.text or "" if node.tag == qn("w:t") else (" " if node.tag == qn("w:tab") else "\n"))
    return "".join(parts)


def _pdf_lines(name: str, data: bytes) -> list[str]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise RegistrationError("not-a-document", f"「{name}」不是有效的 PDF 文件（{exc}），无法登记") from exc
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            pages.append(_page_text(textpage))
            textpage.close()
            page.close()
    finally:
        pdf.close()
    text = "\n".join(pages)
    if not text.strip():
        raise RegistrationError("no-text-layer", f"「{name}」是没有文字层的 PDF（扫描件或图片）；本系统离线运行，没有 OCR，"
                                                 "无法识别其中的文字。请上传原始 DOCX、带文字层的 PDF，或粘贴文字后登记")
    return split_lines(text)


def _page_text(textpage: pdfium.PdfTextPage) -> str:
    """A page's text line by line in reading order, from each character's box: characters whose
    vertical extents overlap form a line, read left to right (pdfium's own order puts a glyph from a
    fallback font, such as Ⅳ, at the end of its line); a gap of about a character's width is a space."""
    chars = []
    for i in range(textpage.count_chars()):
        c = textpage.get_text_range(i, 1)
        if not c.strip():
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        if right <= left or top <= bottom:
            continue
        chars.append((c, left, bottom, right, top))
    chars.sort(key=lambda ch: -ch[4])
    lines: list[list[tuple[str, float, float, float, float]]] = []
    band = (0.0, 0.0)
    for ch in chars:
        middle = (ch[2] + ch[4]) / 2
        if lines and band[0] <= middle <= band[1]:
            lines[-1].append(ch)
        else:
            lines.append([ch])
            band = (ch[2], ch[4])
    out = []
    for line in lines:
        line.sort(key=lambda ch: ch[1])
        text, prev_right = "", None
        for c, left, _, right, top in line:
            if prev_right is not None and left - prev_right > 0.9 * (right - left):
                text += " "
            text += c
            prev_right = right
        out.append(text)
    return "\n".join(out)


# ---------------------------------------------------------------- patterns

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
_YEAR = r"(?:\d\s*){4}|[〇○零Ｏ一二三四五六七八九](?:\s*[〇○零ＯOo一二三四五六七八九]){3}"
_MD = r"\d(?:\s*\d)?|[一二三四五六七八九十]{1,3}"  # 2 4 日: digits spaced out for width
DATE = re.compile(rf"({_YEAR})\s*年\s*({_MD})\s*月\s*({_MD})\s*日")
_MONTH_DAY = re.compile(rf"(?<![年\d])({_MD})\s*月\s*({_MD})\s*日")
#: 发文字号: 机关代字〔年份〕序号号 (brackets of any width; spaces anywhere inside)
DOC_NUMBER = re.compile(r"((?:[\u4e00-\u9fa5](?:\s*[\u4e00-\u9fa5A-Za-z]){0,14})?)\s*[〔\[［(（【]\s*((?:\d\s*){4})[〕\]］)）】]"
                        r"\s*(第?)\s*((?:\d\s*){1,5})\s*号")
#: 纪要 and 公告/令 numbering: 第5期, （第3号）
PERIOD_NUMBER = re.compile(r"^[（(]?\s*(?:[〔\[［]\s*(?:\d\s*){4}[〕\]］]\s*|(?:\d\s*){4}年\s*)?第\s*((?:\d\s*){1,4}|[一二三四五六七八九十百]+)\s*([期号次])\s*[）)]?$")
CLASSIFICATION = re.compile(r"(?<![涉保解])(绝\s*密|机\s*密|秘\s*密)(?:\s*[★☆*]\s*(\d{1,2}\s*(?:年|个\s*月)|长\s*期))?")
URGENCY = re.compile(r"(特\s*急|加\s*急|特\s*提|平\s*急)")
SIGNER = re.compile(r"签\s*发\s*人\s*[：:]\s*(.*)$")
COPY_NUMBER = re.compile(r"^\d{6}$")
SEPARATOR = re.compile(r"^[-—–‐─━═\u2500-\u257f_＿=＝~～★☆·•*＊#＃.…。\s]{3,}$")
#: a line that names an organ (发文机关 in the 版头 or the 署名)
#: (a body's 会 is a word of its own: 委员会, 联合会, 协会, 商会 …; a bare 会 ends a meeting's name: ……工作推进会, ……协调会)
ORGAN_SUFFIX = re.compile(r"(人民政府|政府|办公室|办公厅|委员会|管委会|常委会|领导小组|指挥部|工作组|局|厅|部|署|院|委|中心|支队|大队|"
                          r"总队|公司|集团|银行|分行|支行|处|所|站|办|联合会|协会|商会|学会|工会|总会|分会|基金会|促进会|研究会|"
                          r"红十字会|理事会|代表大会|学校|大学|街道|镇|乡|分局|海关|政协|气象台|电视台|档案馆|报社|"
                          r"研究室|调研室|党组|馆|社|队|工商联|文联|侨联|残联|社科联|协|委会|军分区|警备区)$")
#: how an organ's name begins (a new organ on a line of the 版头 or 署名, not the rest of a wrapped one): a party,
#: national or 共青团 prefix, or a place name (湘南省, 临川市, 碧湖区, 青山县, 湘西土家族苗族自治州, 白石镇, 清水街道)
ORGAN_START = re.compile(r"^(?:中共|中国|国家|共青团|中华人民共和国|国务院)|^[\u4e00-\u9fa5]{1,10}?(?:省|市|自治区|自治州|州|县|区|旗|盟|镇|乡|街道)")
#: the words an organ's name ends with that a line may break inside (……管理委 / 员会, ……人民政 / 府)
_SUFFIX_WORDS = ("人民政府", "委员会", "管委会", "常委会", "办公室", "办公厅", "办事处", "联合会", "指挥部", "领导小组", "工作组",
                 "研究室", "管理局", "管理处", "监管局", "分局", "总局", "支队", "大队", "总队", "分行", "支行", "中心", "党组", "党委",
                 "工委")
#: a seal's note after a 署名 (临川市教育局（盖章）)
_SEAL_NOTE = re.compile(r"[（(]\s*(?:盖章|印章|公章|代章|印|章)\s*[）)]")
ATTACHMENT_HEAD = re.compile(r"^附\s*件\s*[：:]\s*(.*)$")
ITEM_MARK = re.compile(r"^(?:\d{1,2}\s*[.．、]|[（(]\s*\d{1,2}\s*[）)]|[一二三四五六七八九十]+\s*、)\s*")
CC_HEAD = re.compile(r"^(抄\s*送|抄\s*报|分\s*送|发\s*送)\s*[：:]\s*(.*)$")
PRINTED = re.compile(r"印\s*发\s*$")
LIST_SPLIT = re.compile(r"\s*[，,、；;]\s*")
#: a line this long (of the 版心's 28 characters) may have been wrapped: its text can go on below
WRAPPED_LINE_CHARS = 24
ENDS_SENTENCE = ("。", "；", "！", "？", ";", "!", "?")
#: a time limit the text sets: 请于2026年4月10日前报送, 4月10日（星期五）之前, 截止时间为…
#: (a weekday in brackets or an hour may stand between: 4月10日（星期五）下午5时前, 4月10日17:00前)
_DEADLINE_AFTER = re.compile(r"^\s*(?:[（(][^）)]{0,8}[）)])?\s*(?:(?:上午|下午|中午|晚上)?\s*\d{1,2}\s*(?:[:：]\s*\d{2}|时|点)"
                             r"(?:\s*(?:\d{1,2}\s*分|半|整))?|下班)?\s*(?:前|之前|以前)")
_DEADLINE_BEFORE = re.compile(r"(?:截止(?:时间|日期)?(?:为|是)?|截至|最迟|不晚于|务必于|须于|请于|应于|于)\s*$")


_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "［": "〔", "］": "〕", "【": "〔", "】": "〕"})


def iso_date(year: str, month: str, day: str) -> str | None:
    y = int("".join(str(_CN_DIGIT.get(c, c)) for c in re.sub(r"\s", "", year)))
    m, d = _cn_number(month), _cn_number(day)
    if not (1 <= m <= 12 and 1 <= d <= 31 and 1900 <= y <= 2200):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _cn_number(text: str) -> int:
    return cn_number(text) or 0


def _squeeze(text: str) -> str:
    """Whitespace removed between Chinese characters and digits (typesetting spaces: 东 府 发 〔2026〕 5 号)."""
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"(?<=[^\x00-\x7f\d]) | (?=[^\x00-\x7f])|(?<=\d) (?=\d)", "", text)


def _standalone_date(line: str) -> str | None:
    """The date of a line that is only a date (成文日期 on a line of its own), brackets allowed."""
    m = DATE.search(line)
    if not m:
        return None
    rest = (line[:m.start()] + line[m.end():]).strip()
    if rest.strip("（）() ") == "":
        return iso_date(*m.groups())
    return None


def _organ_like(line: str) -> bool:
    s = _squeeze(line)
    return (2 <= len(s) <= 40 and not any(p in s for p in "。，：:；、！？“”《》") and not ATTACHMENT_HEAD.match(s)
            and bool(ORGAN_SUFFIX.search(s)) and not s.startswith(("附", "联系人", "关于")) and not _site_line(s))


def _split_organs(text: str) -> list[str]:
    """One line of the 版头 or 署名 naming one or several organs (separated by spaces or 、). A line spaced
    out character by character (字间空格) is read squeezed, a new organ starting where the first one's
    place name repeats (江州市教育局江州市财政局); a seal's note (（盖章）) is no part of a name."""
    text = re.sub(r"\s*文\s*件\s*$", "", _SEAL_NOTE.sub(" ", text).strip())
    tokens = [p for p in re.split(r"\s+|、", text) if p]
    if len(tokens) >= 4 and sum(len(t) == 1 for t in tokens) >= 0.7 * len(tokens):
        return _split_run("".join(tokens))
    parts = tokens
    organs: list[str] = []
    for part in parts:
        # a name spaced out for width (东 湖 市 人 民 政 府, 临川市人民政府  办公室) is one organ
        if organs and _continues(organs[-1], part):
            organs[-1] += part
        else:
            organs.append(part)
    return [x for o in organs if o for x in _split_run(o)]


def _split_run(text: str) -> list[str]:
    """Organs written one after another with no separator (临川市教育局临川市财政局, 中共临川市委办公室临川市人民政府办公室,
    临川市教育局国家税务总局临川市税务局): a new organ begins after an organ's ending where the first one's place name
    comes again or a party or national prefix (中共, 国家 …), not inside a national body's local branch (国家税务总局 /
    临川市税务局); every part a name."""
    m = re.match(r"^(?:中共|中国共产党|共青团)?(.{2,6}?[省市区县州])", text)
    starts = (*_NATIONAL, m.group(1)) if m else _NATIONAL
    cuts: list[int] = []
    begin = 0
    for i in range(2, len(text) - 1):
        if not ORGAN_SUFFIX.search(text[begin:i]) or not text.startswith(starts, i):
            continue
        if text.startswith(("国家", "中国"), begin) and not text.startswith(_NATIONAL, i):
            continue  # a national body's local branch goes on
        cuts.append(i)
        begin = i
    parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    if len(parts) > 1 and all(ORGAN_SUFFIX.search(x) and len(x) > 3 for x in parts):
        return parts
    return [text] if text else []


#: the prefixes a party, national or youth-league body's name begins with
_NATIONAL = ("中共", "中国共产党", "共青团", "国家", "中国")


def _items(text: str) -> list[str]:
    out = []
    for part in LIST_SPLIT.split(text.strip().rstrip("。.")):
        part = _squeeze(part).strip("。. ")
        if part:
            out.append(part)
    return out


# ---------------------------------------------------------------- extraction


def extract(lines: list[str]) -> Registration:
    """The elements of a document given as its lines (see the module's docstring)."""
    if not lines:
        raise RegistrationError("empty", "没有文字，无法登记")
    reg = Registration(text="\n".join(lines))  # the text as given; the page's furniture is left out of the fields only
    lines, chrome = without_chrome(lines)
    if not lines:
        raise RegistrationError("not-a-document", "只有网页的栏目、来源等文字，没有公文正文，无法登记")
    if chrome:
        reg.notes["chrome"] = f"略去网页内容 {len(chrome)} 行（来源、发布时间、浏览次数、导航等）"
        hint = next((v for v in (_chrome_value(x) for x in chrome) if v), None)
        if hint:
            reg.notes["source_hint"] = f"网页标注的来源/发布机构：{hint}（仅供参考，不作发文机关）"
    lines = _rejoin_marks(lines)
    n = len(lines)
    # ---- the 版记 at the end: 抄送 and the 印发 line
    end = n
    cc_at = None
    for i in range(n - 1, max(-1, n - 15), -1):
        s = _squeeze(lines[i])
        if PRINTED.search(s) and DATE.search(s):
            end = min(end, i)
        m = CC_HEAD.match(s)
        if m:  # 分送 / 发送 (a 纪要's distribution list) close the text too, but are no 抄送
            end = min(end, i)
            cc_at = i if re.sub(r"\s", "", m.group(1)) in ("抄送", "抄报") else cc_at
    if cc_at is not None:
        text = CC_HEAD.match(_squeeze(lines[cc_at])).group(2)  # type: ignore[union-attr]
        j = cc_at + 1
        while not text.rstrip().endswith(("。", ".")) and j < n and not PRINTED.search(_squeeze(lines[j])) \
                and not CC_HEAD.match(_squeeze(lines[j])):
            text += lines[j]
            j += 1
        reg.cc = _items(text)
        reg.notes["cc"] = "版记：抄送"
    # ---- the 版头 and the title
    title_at, title_end, number_at = _front(lines, reg)
    head = lines[:title_at]
    title = reg.title or ""
    mark_lines = 2 if title_end == title_at + 2 and _squeeze(lines[title_at + 1]) in ("纪要", "会议纪要") else 1
    if _squeeze("".join(lines[title_at:title_at + mark_lines])) == title and re.search(r"(纪要|令)$", title) \
            and "关于" not in title:
        # a 纪要 / 令 mark: the 期号 and the office's name with the date under it belong to the 版头
        head.append(title)
        k = title_at + mark_lines
        while k < min(len(lines), title_at + 6) and (PERIOD_NUMBER.match(_squeeze(lines[k])) or SEPARATOR.match(lines[k])
                                                     or _number_line(lines[k]) or _organ_date(lines[k])
                                                     or _standalone_date(lines[k])
                                                     or _organ_like(lines[k]) and k + 1 < len(lines)
                                                     and _standalone_date(lines[k + 1])):
            head.append(lines[k])
            k += 1
        title_end = max(title_end, k)
    elif number_at is not None and title_end <= number_at <= title_end + 1:
        title_end = number_at + 1  # a number set under the title (a pasted text's layout)
    # ---- the issuer(s) from the 版头's 发文机关标志 (or the 纪要 / 令 mark)
    head_organs = _head_organs(head)
    # ---- 主送机关: the first line after the title ending in "："
    body_at = title_end
    # kinds addressed to the public or to no one (公告, 通告, 公报, 决议, 令, 纪要) have no 主送机关
    addressed = kind_of(title) not in (*PUBLIC_KINDS, "纪要")
    for j in range(title_end, min(title_end + 6, end) if addressed else title_end):
        joined = "".join(_squeeze(x) for x in lines[title_end:j + 1])
        # a sentence ending in a colon (现就有关事项通告如下：) opens the 正文
        if any(p in joined for p in ENDS_SENTENCE) or ATTACHMENT_HEAD.match(joined) or len(joined) > 200 \
                or "如下" in joined or ITEM_MARK.match(joined):
            break
        labelled = re.match(r"^主送(?:机关|单位)?[：:](.+)$", joined)  # a pasted text's "主送：……" line
        if labelled and j == title_end:
            reg.recipients = _items(labelled.group(1))
            reg.notes["recipients"] = "主体：主送行"
            body_at = j + 1
            break
        if joined.endswith(("：", ":")) and not joined.startswith(("时间", "地点", "出席", "列席", "主持", "记录", "参加")):
            reg.recipients = _items(joined[:-1])
            reg.notes["recipients"] = "主体：标题后以冒号结尾的主送行"
            body_at = j + 1
            break
    # ---- 公报 / 决议: the date in brackets under the title (（2026年3月5日……会议通过）)
    bracketed = None
    under_title = []  # a 公报's organ printed under its title (and date)
    if body_at < end and re.match(r"^\s*[（(]", lines[body_at]) and len(_squeeze(lines[body_at])) <= 80 \
            and (DATE.search(lines[body_at]) or kind_of(title) in ("公报", "决议") and _bracketed_organs(lines[body_at])):
        date_m = DATE.search(lines[body_at])
        bracketed = iso_date(*date_m.groups()) if date_m else None
        # （临川市统计局  二〇二六年五月十日）, （临川市统计局发布）: the organ in the brackets
        under_title += _bracketed_organs(lines[body_at]) if kind_of(title) in ("公报", "决议") else []
        body_at += 1
    while body_at < end and len(under_title) < 4 and _organ_like(lines[body_at]) and not head_organs:
        under_title += _split_organs(lines[body_at])  # one organ a line or several on one (统计局 / 调查队)
        body_at += 1
    # ---- the date block (署名 + 成文日期), the 附件说明 above it
    sign_at = None
    for j in range(body_at, end):
        if _standalone_date(lines[j]):
            sign_at = j
            break
        m = DATE.search(lines[j])
        if m and _organ_like(lines[j][:m.start()]) and not lines[j][m.end():].strip() and j > body_at + 1:
            sign_at = j
            break
    if sign_at is not None:
        m = DATE.search(lines[sign_at])
        reg.date = iso_date(*m.groups()) if m else None
        reg.notes["date"] = "主体：署名下的成文日期"
        executive = None if reg.signer else _executive(lines, sign_at)
        if executive:
            reg.signer = executive
            reg.notes["signer"] = "署名：签署的行政首长"
        signed = _reconcile(head_organs, _sign_organs(lines, body_at, sign_at))
        # a 纪要 is the body's in its mark (……常务会议纪要), not the office's that signs it
        if signed and not (head_organs and any(_squeeze(x).endswith("纪要") for x in head)):
            reg.issuer = signed
            reg.notes["issuer"] = "主体：发文机关署名"
    if not reg.issuer and head_organs:
        reg.issuer = head_organs
        reg.notes["issuer"] = "版头：发文机关标志"
    if reg.date is None:
        for line in head:  # 纪要: the office and the date under the 纪要 mark
            m = DATE.search(line)
            if m and not PRINTED.search(line):
                reg.date = iso_date(*m.groups())
                reg.notes["date"] = "版头：纪要标志下的日期"
                break
    if bracketed:
        reg.date = bracketed
        reg.notes["date"] = "主体：标题下括号内的日期"
    if not reg.issuer and under_title:
        reg.issuer = under_title
        reg.notes["issuer"] = "主体：标题下的机关名称"
    if not reg.issuer and sign_at is None and kind_of(title) in ("公报", "决议") and end > body_at + 1:
        # a 公报 without a letterhead or a date under its 署名: the organs closing the text
        reg.issuer = _sign_organs([*lines[:end], ""], body_at + 1, end)
        if reg.issuer:
            reg.notes["issuer"] = "主体：文末署名"
    if not reg.issuer and reg.title:
        # the organ the title names: before 关于, or before the session (……委员会第五次全体会议决议, 中共临川市委十三届五次全会决议)
        # (or before 转发 / 批转 / 印发: 临川市人民政府办公室转发市教育局关于……)
        before = re.split(r"关于|转发|批转|印发|第[一二三四五六七八九十\d]+次|[一二三四五六七八九十\d]+届[一二三四五六七八九十\d]+次",
                          reg.title, maxsplit=1)
        if len(before) == 2 and before[0]:
            reg.issuer = _split_organs(before[0])
            reg.notes["issuer"] = "标题：机关名称"
    if len(reg.issuer) > 1 or head_organs or under_title:
        reg.issuer = _one_per_organ(reg.issuer, [*head_organs, *under_title])
    _attachments(lines, body_at, sign_at if sign_at is not None else end, reg)
    reg.kind = _kind(reg, lines[:title_at])
    if reg.kind == "命令（令）" and reg.title and _is_order_mark(reg.title):
        reg.title = None  # a 令 has no title, only its mark (江城市人民政府令); a titled 命令 (……征兵命令) keeps it
    if reg.kind not in ("命令（令）", "议案") and reg.notes.get("signer") == "署名：签署的行政首长":
        reg.signer = None  # a head's signature names the signer of a 令 or a 议案 only
    # a time limit is set for the units a document is sent to: documents to the public set none
    reg.deadline = None if reg.kind in PUBLIC_KINDS else _deadline(lines[body_at:end], reg.date)
    if not ((reg.title or reg.kind) and (reg.kind or reg.doc_number or reg.recipients or reg.date)):
        raise RegistrationError("not-a-document", "没有识别出公文的结构（标题与文种、发文字号、主送机关或成文日期），"
                                                  "这不像一份公文，无法登记")
    body = lines[body_at:sign_at if sign_at is not None else end]
    while body and _organ_like(body[-1]):
        body.pop()  # the 署名 above the date
    reg.body = [ln for ln in body if not ATTACHMENT_HEAD.match(_squeeze(ln))]
    reg.suggested_departments = suggest_departments(reg.title or "", "\n".join(reg.body), reg.issuer, reg.recipients,
                                                    kind=reg.kind)
    return reg


# ---------------------------------------------------------------- a web page's furniture

def _longest_first(words: Iterable[str]) -> str:
    """Regex alternatives, the longest first (a name is matched whole, not its shorter part)."""
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


#: labels of a government website's page furniture, always chrome (来源：……网站, 发布时间：……, 浏览次数：123, 责任编辑：……,
#: the 政府信息公开 block's 索引号 / 发布机构 / 主题分类, 上一篇 / 下一篇, the footer's 主办单位 / 网站标识码 …)
_CHROME_LABELS = ("来源", "信息来源", "文章来源", "稿件来源", "发布时间", "发布日期", "更新时间", "更新日期", "浏览次数", "浏览量",
                  "访问次数", "访问量", "阅读次数", "阅读量", "点击数", "点击量", "点击次数", "责任编辑", "编辑", "审核", "校对", "发布机构",
                  "索引号", "主题分类", "体裁分类", "组配分类", "服务对象", "信息分类", "分享到", "上一篇", "下一篇", "上一条", "下一条",
                  "当前位置", "您的位置", "您当前的位置", "您现在的位置", "当前页面", "运行维护", "网站维护", "网站标识码", "备案号",
                  "字体", "字号")
#: the 政府信息公开 block's labels: two such lines in a row are the block (发文机关：…… / 文号：…… / 成文日期：……)
_DISCLOSURE_LABELS = ("文号", "发文字号", "成文日期", "生成日期", "印发日期", "标题", "名称", "发文机关", "主题词", "关键词", "有效性",
                      "时效", "公开方式", "公开范围", "所属机构")
#: labels that are chrome only beside other chrome (the 信息公开 block's 文号 / 成文日期 / 标题 / 发文机关 repeat the document's
#: own elements; on their own they may be a pasted text's)
_CHROME_NEAR_LABELS = (*_DISCLOSURE_LABELS, "公开时限", "作者", "日期", "时间", "分类", "主办单位", "承办单位", "主办", "承办",
                       "技术支持", "维护单位")
_LABEL = re.compile(r"^[【\[〔（(]?\s*(" + _longest_first(_CHROME_LABELS) + r")\s*[：:]")
_DISCLOSURE = re.compile(r"^[【\[〔（(]?\s*(?:" + _longest_first(_DISCLOSURE_LABELS) + r")\s*[：:]")
_NEAR_LABEL = re.compile(r"^[【\[〔（(]?\s*(" + _longest_first(_CHROME_NEAR_LABELS) + r")\s*[：:]?")
#: a label after other text on a line of the page's furniture (2026-05-12 09:30  来源：市政府办公室  浏览次数：12)
_INNER_LABEL = re.compile(r"(?:\s|[|｜丨])\s*[【\[]?(?:" + _longest_first(_CHROME_LABELS) + r")\s*[：:]")
#: a label at a line's start or after a space or bar (to count a line's labels)
_ANY_LABEL = re.compile(r"(?:^|\s|[|｜丨])\s*[【\[〔（(]?(?:" + _longest_first(_CHROME_LABELS) + r")\s*[：:]")
#: what a page's furniture says without a label: buttons, the font switch, the QR code, copyright and filing numbers
_CHROME_PHRASE = re.compile(r"打印本页|打印此页|打印文章|关闭窗口|关闭本页|返回顶部|回到顶部|收藏本页|加入收藏|设为首页|扫一扫|手机打开|"
                            r"当前页面|在手机|视力保护色|网站地图|版权所有(?![者人])|Copyright|©|ICP\s*备|ICP\s*证|公网安备|网安备|网站标识码|"
                            r"字体\s*[：:]?\s*[【\[]?\s*大|(?:^|\s)(?:网站首页|首页)\s*[>＞»›]")
#: a copyright or filing line, chrome even as a sentence (版权所有 © …。)
_COPYRIGHT = re.compile(r"版权所有(?![者人])|Copyright|©|ICP\s*备|公网安备|网站标识码")
#: a website's name on a line of its own (枫川市人民政府门户网站, 中国松溪政府网)
_WEBSITE = re.compile(r"[\u4e00-\u9fa5A-Za-z]{2,30}(?:网站|门户网|政务网|政府网|门户)")
#: a website's (or app's, account's) name heading a line, other page words after it at most (枫川市人民政府门户网站 | 政务公开,
#: 枫川市人民政府网, 枫川发布客户端): an organ's name followed by 网站 / 网 / 官网 / 客户端 / 公众号 is no organ
_SITE_NAME = re.compile(r"^([\u4e00-\u9fa5A-Za-z]{2,30}?)(门户网站|网站|门户网|官方网站|官网|客户端|公众号|微信公众号|政务新媒体|网)"
                        r"(?:$|\s*[|｜丨/·•]|\s+\S)")
_BUTTONS = frozenset(("打印", "关闭", "收藏", "分享", "返回", "顶部", "保存", "纠错", "默认", "大", "中", "小", "微信", "微博", "新浪微博",
                      "腾讯微博", "QQ空间", "QQ", "人人网", "豆瓣", "朋友圈", "二维码", "无障碍", "无障碍浏览", "长者模式", "适老化", "适老版",
                      "相关链接", "相关文章", "相关阅读", "相关新闻", "相关文件", "联系我们", "网站声明", "隐私声明"))
_BUTTON_SPLIT = re.compile(r"[\s|｜丨/【】\[\]]+")


def _buttons_line(line: str) -> bool:
    """A line that is only buttons and switches (【打印】【关闭】, 大 中 小, 微信 微博 QQ空间): every token a button."""
    tokens = [t for t in _BUTTON_SPLIT.split(line) if t]
    return bool(tokens) and all(t in _BUTTONS for t in tokens)


#: a breadcrumb: 首页 > 政务公开 > 通知公告 (short parts between > or »)
#: (read on the line with the spaces around its arrows taken out: `_ARROW_SPACES`, so no part can end in either of two ways)
_BREADCRUMB = re.compile(r"^(?:(?:首页|主页|网站首页|当前位置|您的位置|您当前的位置|您现在的位置)[：:]?\s*[>＞»›]?"
                         r"(?:[^>＞»›。；！？]{1,16}+[>＞»›])*+[^>＞»›。；！？]{1,16}+"
                         r"|(?:[^>＞»›。；！？\d]{1,10}+[>＞»›]){2,}+[^>＞»›。；！？]{1,16}+)$")
_ARROW_SPACES = re.compile(r"\s*([>＞»›])\s*")


def _chrome(line: str) -> bool:
    """A line of a web page's furniture wherever it stands (a labelled line, a button, a breadcrumb, a copyright line);
    a sentence of the document (one that ends a sentence, an item of a list, a label whose value is a sentence:
    审核：各区民政部门负责初审，市民政局负责复审) is never chrome but for a copyright line."""
    s = line.strip()
    clause = any(p in s for p in "，、；")
    if s.endswith(("。", "！", "？", "；", "，")) or ITEM_MARK.match(s):
        return len(s) <= 120 and not ITEM_MARK.match(s) and bool(_COPYRIGHT.search(s))
    if _LABEL.match(s) and not clause or _buttons_line(s) \
            or re.search(r"[>＞»›]", s) and _BREADCRUMB.match(_ARROW_SPACES.sub(r"\1", s)) \
            or _squeeze(s).rstrip("：:") in _CHROME_LABELS or _WEBSITE.fullmatch(_squeeze(s)) or _site_line(s):
        return True
    if clause or len(s) > 120:
        return False
    return bool(_CHROME_PHRASE.search(s) or not any(p in s for p in "。！？") and _INNER_LABEL.search(s))


def _labels_only(line: str) -> bool:
    """A line that is chrome by one label alone (来源：市级财政专项资金, 发布时间：每周一上午9时, 联系人：张三  审核：李四):
    within the document's body such a line is the document's own."""
    s = line.strip()
    found = len(_ANY_LABEL.findall(s))
    return found == 1 and not (_buttons_line(s) or _CHROME_PHRASE.search(s) or _WEBSITE.fullmatch(_squeeze(s))
                               or _site_line(s) or re.search(r"[>＞»›]", s))


def _site_line(line: str) -> bool:
    """A line headed by a website's name (枫川市人民政府门户网站 | 政务公开, 枫川市人民政府网): a bare 网 only after an organ's
    name, and what follows the name a few page words, no sentence."""
    m = _SITE_NAME.match(line.strip())
    if m is None or len(line.strip()) > 60 or any(p in line for p in "。；！？，"):
        return False
    return m.group(2) != "网" or bool(ORGAN_SUFFIX.search(m.group(1))) and not m.group(1).endswith(("联", "协"))


def _chrome_near(line: str) -> bool:
    """A line that is chrome beside other chrome: a 信息公开 block's other labels, a bare value under a label."""
    s = line.strip()
    return bool(_NEAR_LABEL.match(s)) and len(s) <= 80 and not s.endswith(("。", "；", "："))


def without_chrome(lines: list[str]) -> tuple[list[str], list[str]]:
    """The lines of an official document copied from a government website, its page's furniture left out (来源,
    发布时间, 浏览次数, 【字体：大 中 小】, 打印本页, 关闭窗口, breadcrumbs, 上一篇/下一篇, 索引号/发布机构 blocks,
    copyright and ICP lines), and the lines left out. A label alone on its line (发布机构 / its value in a table's next
    cell) takes its value's line with it; the 信息公开 block's labels that repeat the document's elements (文号, 成文日期,
    标题) go when they stand beside chrome."""
    chrome = [_chrome(x) for x in lines]
    # the document's body runs from its first sentence (or line ending in a colon) to its last: a line labelled once
    # there (来源：市级财政专项资金) is its own; a page's furniture stands before or after the document
    said = [i for i, x in enumerate(lines) if not chrome[i] and x.strip().endswith((*ENDS_SENTENCE, "：", ":"))]
    for i in range(said[0] + 1, said[-1]) if said else ():
        if chrome[i] and _labels_only(lines[i]):
            chrome[i] = False
    block = [bool(_DISCLOSURE.match(x.strip())) and len(x) <= 80 for x in lines]
    for i in range(len(lines) - 1):
        if block[i] and block[i + 1]:
            chrome[i] = chrome[i + 1] = True
    changed = any(chrome)
    while changed:
        changed = False
        for i, line in enumerate(lines):
            if chrome[i]:
                continue
            beside = (i > 0 and chrome[i - 1]) or (i + 1 < len(lines) and chrome[i + 1])
            label_above = i > 0 and chrome[i - 1] and _bare_label(lines[i - 1]) and len(_squeeze(line)) <= 60 \
                and (not _is_title_line(line) or _squeeze(lines[i - 1]).rstrip("：:") in ("标题", "名称"))
            if beside and _chrome_near(line) or label_above:
                chrome[i] = changed = True
    return [x for x, c in zip(lines, chrome, strict=True) if not c], [x for x, c in zip(lines, chrome, strict=True) if c]


def _bare_label(line: str) -> bool:
    """A label with no value on its line (a table's label cell: 发布机构 | 临川市教育局)."""
    s = _squeeze(line).rstrip("：:")
    return s in _CHROME_LABELS or s in _CHROME_NEAR_LABELS


def _chrome_value(line: str) -> str | None:
    """The body a web page names as its source or publisher (来源：临川市教育局), not its website: a hint only."""
    m = re.match(r"^(?:来源|信息来源|文章来源|发布机构)\s*[：:]\s*(\S+)", line.strip())
    value = _squeeze(m.group(1)) if m else ""
    return value if value and ORGAN_SUFFIX.search(value) and not re.search(r"网站?$|门户|平台|客户端", value) else None


def _rejoin_marks(lines: list[str]) -> list[str]:
    """The 版头's mark wrapped before its last character (……会议纪 / 要, ……人民政府文 / 件: a wide mark in a
    narrow column) put back on one line; not a title wrapped there (……精简会议文 / 件 / 和……的通知)."""
    out = list(lines)
    for i in range(min(len(out), 8) - 1, 0, -1):
        tail, above = _squeeze(out[i]), _squeeze(out[i - 1])
        if (tail, above[-1:]) in (("要", "纪"), ("件", "文")) and not (tail == "件" and "关于" in above):
            out[i - 1:i + 1] = [out[i - 1].rstrip() + tail]
    return out


def _number_line(line: str) -> re.Match[str] | None:
    """A 发文字号 on a line of its own (with 签发人 beside it at most), not one cited in the body."""
    m = DOC_NUMBER.search(line)
    if m is None:
        return None
    rest = SIGNER.sub("", line[:m.start()] + line[m.end():])
    return m if len(_squeeze(rest)) <= 4 else None


def _front(lines: list[str], reg: Registration) -> tuple[int, int, int | None]:
    """Read the 版头 (份号, 密级, 紧急程度, 发文字号, 签发人) and find the title: (title's first line,
    the line after it, the number's line)."""
    limit = min(len(lines), 16)
    number_at = None
    title_at = None
    mark_at = None
    taken: set[int] = set()  # the 版头's lines read as its elements (number, 签发人, 密级, 紧急程度, lines)
    for i in range(limit):
        s = lines[i]
        sq = _squeeze(s)
        m = _number_line(s)
        if m and reg.doc_number is None:
            code, year, di, seq = (re.sub(r"\s", "", g) for g in m.groups())
            # GB/T 9704-2012 7.2.3: a 发文字号's 序号 takes no 第 (a number without 机关代字, as a 公告's, keeps it)
            reg.doc_number = f"{code}〔{year}〕{'' if code else di}{seq}号"
            reg.notes["doc_number"] = "版头：发文字号"
            number_at = i
        elif PERIOD_NUMBER.match(sq) and reg.doc_number is None:
            reg.doc_number = re.sub(r"^[（(]|[）)]$", "", sq).translate(_BRACKETS)
            reg.notes["doc_number"] = "版头：期号/令号"
            number_at = i
        sm = SIGNER.search(s)
        if sm:
            names = _names(sm.group(1))
            k = i + 1
            while k < limit and re.fullmatch(r"[\u4e00-\u9fa5](?:\s*[\u4e00-\u9fa5]){1,3}", lines[k].strip()) \
                    and not ORGAN_SUFFIX.search(_squeeze(lines[k])) and kind_of(lines[k]) is None:
                names += _names(lines[k])
                taken.add(k)
                k += 1
            reg.signer = "、".join(names) or None
            reg.notes["signer"] = "版头：签发人"
        if m or sm or title_at is not None or SEPARATOR.match(s) or COPY_NUMBER.match(sq) or PERIOD_NUMBER.match(sq):
            if title_at is None:
                taken.add(i)
            continue
        cm = CLASSIFICATION.search(sq)
        if cm and len(sq) <= 20 and reg.classification is None:
            # 密级和保密期限 as printed (秘密★1年), whitespace removed
            period = re.sub(r"\s", "", cm.group(2) or "")
            reg.classification = re.sub(r"\s", "", cm.group(1)) + (f"★{period}" if period else "")
            reg.notes["classification"] = "版头：密级"
        um = URGENCY.search(sq)
        if um and len(sq) <= 20 and reg.urgency is None:
            reg.urgency = re.sub(r"\s", "", um.group(1))
            reg.notes["urgency"] = "版头：紧急程度"
        if cm or um:
            taken.add(i)
            continue
        if (sq.endswith("纪要") or _order_mark(sq) or _notice_mark(sq)) and "关于" not in sq:
            if mark_at is None:  # the 纪要 / 令 / 公告 mark (its organ may stand on the line above): a title may follow
                mark_at = i - 1 if sq in ("纪要", "会议纪要") and i > 0 and (_organ_like(lines[i - 1])
                                                                           or _meeting_name(lines[i - 1])) else i
            elif sq.endswith("纪要") and sq not in ("纪要", "会议纪要") and i > mark_at + 1:
                title_at = i  # a 纪要's own title under its mark (……推进会议纪要)
            continue
        if sq in ("公告", "通告") and any(_is_title_line(x) for x in lines[i + 1:min(limit, i + 3)]):
            taken.add(i)  # the kind word printed alone above the title (通告 / 关于……的通告): a mark, not the title
            continue
        if _is_title_line(s) and not sq.endswith("文件"):
            title_at = i
            continue
        if sq.endswith(ENDS_SENTENCE) or sq.endswith(("：", ":")) or len(sq) > 60:
            break
    if title_at is None:
        if mark_at is None:
            raise RegistrationError("not-a-document", "没有找到公文标题（如“……关于……的通知”），这不像一份公文，无法登记")
        title_at = mark_at
    n = len(lines)
    found_at = title_at  # the line with 关于 or the kind word: the lines above it are the title's for sure
    if number_at is not None and number_at < title_at and title_at != mark_at:
        # GB/T 9704: the title comes right under the 发文字号 (and the red line); the lines between are its
        # first lines (a joint issuance's organs, a title wrapped before 关于)
        while title_at - 1 > number_at and title_at - 1 not in taken and _title_fragment(lines[title_at - 1]):
            title_at -= 1
    while title_at != mark_at and title_at > 0 and (title_at < found_at or _squeeze(lines[title_at]).startswith("关于")) \
            and title_at - 1 not in taken and _organ_like(lines[title_at - 1]) and not _squeeze(lines[title_at - 1]).endswith("文件") \
            and not _named_already(lines[title_at - 1], lines[title_at:found_at + 1]):
        title_at -= 1  # the organs' names are the title's first lines (……\n……\n关于……的通知)
    parts = [_squeeze(lines[title_at])]
    j = title_at + 1
    while j < n and len(parts) < max(6, found_at - title_at + 3) and title_at != mark_at:
        s = _squeeze(lines[j])
        current = "".join(parts)
        if j > found_at and (_KIND_END.search(current) and not _title_open(current, s) or s.endswith(("：", ":")) or s.endswith(ENDS_SENTENCE) or len(s) > 40 \
                or DATE.search(s) or SEPARATOR.match(lines[j]) or PERIOD_NUMBER.match(s) or _number_line(lines[j]) \
                or (_organ_like(s) and "关于" not in current)):
            break
        parts.append(s)
        j += 1
    if title_at == mark_at and title_at + 1 < n and _squeeze(lines[title_at + 1]) in ("纪要", "会议纪要"):
        parts.append(_squeeze(lines[title_at + 1]))
        j = title_at + 2
    reg.title = "".join(parts)
    reg.notes["title"] = "主体：红线下的标题"
    return title_at, j, number_at


def _named_already(line: str, below: list[str]) -> bool:
    """Whether every organ a line names is named in the lines under it: the 发文机关标志's lines above a
    title that begins with the same organs (a title names each organ once)."""
    organs = _split_organs(line)
    text = "".join(_squeeze(x) for x in below)
    return bool(organs) and all(_squeeze(o) in text for o in organs)


def _notice_mark(sq: str) -> bool:
    """An organ's 公告 / 通告 mark (江城市自然资源和规划局公告), which a title of its own may follow."""
    m = re.fullmatch(r"(.+?)(公告|通告)", sq)
    return bool(m) and bool(ORGAN_SUFFIX.search(m.group(1))) and _organ_like(m.group(1))


#: whose 令 a mark is when no organ's name comes before it: a head of state or government (中华人民共和国主席令)
_ORDER_HEAD = re.compile(r"(?:主席|总理|省长|市长|州长|县长|区长|部长|局长|署长|主任)令$")


def _is_order_mark(title: str) -> bool:
    """A 令's mark read as the title (×××令, 中华人民共和国主席令): an organ or a head before 令, no 关于; not a titled
    命令 (……关于……的征兵命令, ……嘉奖令)."""
    sq = _squeeze(title)
    return "关于" not in sq and not sq.endswith("命令") and (_order_mark(sq) or bool(_ORDER_HEAD.search(sq)))


def _names(text: str) -> list[str]:
    """签发人 names: 张三 李四; a name spaced out for width (张  三) is one name."""
    tokens = [t for t in re.split(r"[\s、，,]+", text.strip()) if t]
    names: list[str] = []
    pending = ""
    for tok in tokens:
        if len(tok) == 1:
            pending += tok
            if len(pending) >= 2 and (len(pending) == 3 or not tokens or tok == tokens[-1]):
                names.append(pending)
                pending = ""
            continue
        if pending:
            names.append(pending + tok if len(pending) == 1 else pending)
            pending = ""
            if len(names[-1]) > len(tok):
                continue
        names.append(tok)
    if pending:
        names.append(pending)
    return names


def _title_open(current: str, following: str) -> bool:
    """Whether a title ending in a kind word goes on (……的意见（试行）\n》的通知, ……的通知\n的通知): a
    bracket or quote left open, or a next line that only a title's tail starts with."""
    unclosed = any(current.count(a) > current.count(b) for a, b in ("《》", "“”", "（）", "()"))
    return unclosed or following.startswith(("的", "》", "”", "）", ")"))


def _title_fragment(s: str) -> bool:
    """A line that can be a part of a wrapped title (no sentence, no date, no 版头 element)."""
    sq = _squeeze(s)
    han = len(re.findall(r"[\u4e00-\u9fa5]", sq))
    return 1 <= han and 2 * han >= len(sq) and len(sq) <= 40 and not sq.endswith((*ENDS_SENTENCE, "文件")) \
        and "：" not in sq and ":" not in sq \
        and not DATE.search(sq) \
        and not SEPARATOR.match(s) and not DOC_NUMBER.search(s) and not SIGNER.search(s)


def _is_title_line(s: str) -> bool:
    sq = _squeeze(s)
    return ("关于" in sq or kind_of(sq) is not None or sq.endswith("纪要")) and not sq.endswith(ENDS_SENTENCE) \
        and len(sq) <= 120 and not sq.endswith(("：", ":")) and not DOC_NUMBER.search(s)


_KIND_ENDINGS = ("决议", "决定", "命令", "令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复", "议案", "函",
                 "纪要", "复函", "（令）")
#: a title's end: its kind word, a note in brackets after it at most (……实施意见（试行）)
_KIND_END = re.compile("(?:" + "|".join(map(re.escape, _KIND_ENDINGS)) + r")(?:[（(][^（()）]{1,12}[）)])?$")


def _organ_date(line: str) -> bool:
    """An organ's name and a date on one line (the 纪要's office and date; a 署名 beside its date)."""
    m = DATE.search(line)
    return bool(m) and not line[m.end():].strip() and _organ_like(line[:m.start()])


def _head_organs(head: list[str]) -> list[str]:
    """The 发文机关标志: the 版头's lines naming organs ("文件" dropped); a 纪要 mark names its organ
    (江城市人民政府常务会议纪要 → 江城市人民政府; the office's line under it is the fallback), a 令 mark
    its organ."""
    organs: list[str] = []
    from_mark: list[str] = []
    for s in _rejoin_organs(head):
        sq = _squeeze(s)
        if _number_line(s) or SIGNER.search(s) or SEPARATOR.match(s) or COPY_NUMBER.match(sq) \
                or PERIOD_NUMBER.match(sq) or CLASSIFICATION.fullmatch(sq) or URGENCY.fullmatch(sq):
            continue
        line = CLASSIFICATION.sub("", URGENCY.sub("", s)).strip()
        date = DATE.search(line)
        if date:
            line = line[:date.start()].strip()
        if _squeeze(line) in ("文件", ""):
            continue
        if _squeeze(line).endswith("纪要"):
            meeting = _MEETING_MARK.fullmatch(_squeeze(line))
            m = _LEADING_ORGAN.match(_squeeze(line))
            if meeting and ORGAN_SUFFIX.search(meeting.group(1)):
                from_mark.append(meeting.group(1))
            elif m:
                from_mark.append(m.group(1))
            elif not from_mark:
                from_mark += organs  # the mark's organ on the line above it (临川市人民政府 / 专题会议纪要)
            continue
        if _meeting_name(line):  # a meeting's name (……工作推进会) is no organ; the organ it begins with is
            m = _LEADING_ORGAN.match(_squeeze(line))
            if m and m.group(1) not in organs:
                organs.append(m.group(1))
            continue
        if _order_mark(_squeeze(line)):
            from_mark.append(_squeeze(line)[:-1])
            continue
        if _notice_mark(_squeeze(line)):
            from_mark.append(_squeeze(line)[:-2])
            continue
        for organ in _split_organs(line):
            if ORGAN_SUFFIX.search(organ) and organ not in organs:
                organs.append(organ)
    return _one_per_organ(from_mark or organs, organs)  # 临川市人民政府 / 市政府常务会议纪要: one organ, in full


#: a 纪要 mark: the organ and its meeting (临川市人民政府常务会议纪要, 临川市教育局局务会议纪要, 中共临川市委常委会会议纪要,
#: 江城市食品安全委员会办公室会议纪要)
_MEETING_MARK = re.compile(r"(.+?)(?:第[一二三四五六七八九十百\d]+次)?(?:常务|专题|全体|主任办公|办公|局务|厅务|部务|委务|署务|党组|"
                           r"党委|常委会|常委|联席|工作|协调|推进|调度|现场|专项)?(?:会议)?纪要")


#: the organ a meeting's name or a 纪要 mark begins with (临川市交通运输局城市更新协调会 → 临川市交通运输局)
_LEADING_ORGAN = re.compile(r"(.+?(?:人民政府|政府|委员会|管委会|指挥部|局|厅|部|办公室|办公厅))")
#: a meeting (……工作推进会, ……协调会议, ……专题会, 第三次联席会议): its name ends in 会 or 会议 that no organ word ends in
_MEETING_END = re.compile(r"会议?$")


def _meeting_name(line: str) -> bool:
    """A line naming a meeting, not a body (a 纪要's mark above 会议纪要): 临川市城市更新工作推进会, ……安全生产协调会议."""
    sq = _squeeze(line)
    return 3 <= len(sq) <= 40 and bool(_MEETING_END.search(sq)) and not ORGAN_SUFFIX.search(sq) \
        and not any(p in sq for p in "。，：:；！？") and "关于" not in sq


def _order_mark(sq: str) -> bool:
    """An organ's 令 mark (临川市人民政府令, 国家市场监督管理总局令, 中华人民共和国国务院令)."""
    return sq.endswith("令") and "关于" not in sq and _organ_like(sq[:-1])


def _rejoin_organs(head: list[str]) -> list[str]:
    """A 发文机关标志 wrapped inside an organ's name put back on one line (江城市光谷经济开发区管理委 / 员会文件, 湘南省人民政府
    国有资产监督 / 管理委员会文件, 临川市人力资源和社会保障局 临川 / 市财政局): a line of the mark goes on the line above
    when that line's last name is not complete (no organ's ending), or the break is inside the ending's word
    (委 / 员会, 人民政 / 府), or the line is only such a word (办公室); a line that begins an organ's name (a place, 中共,
    国家 …: `ORGAN_START`) or a complete name of its own (教育部 / 财政部) starts a new organ."""
    out: list[str] = []
    for s in head:
        if out and _mark_text(s) and _mark_text(out[-1]) and not _squeeze(out[-1]).endswith("文件") \
                and _continues(re.split(r"\s+", out[-1].strip())[-1], re.split(r"\s+", s.strip())[0]):
            out[-1] = out[-1].rstrip() + s.strip()
        else:
            out.append(s)
    return out


def _mark_text(line: str) -> bool:
    """A line that may be (a part of) the 发文机关标志: Chinese characters only, no 密级, 紧急程度, 纪要 or 令 mark."""
    sq = _squeeze(line)
    return bool(re.fullmatch(r"[\u4e00-\u9fa5\s]{1,60}", line.strip())) and not CLASSIFICATION.search(sq) \
        and not URGENCY.search(sq) and not sq.endswith(("纪要", "令"))


def _continues(above: str, below: str) -> bool:
    """Whether `below` (the first name on a line) goes on the name `above` ends the line above with."""
    below = re.sub(r"文件$", "", below)
    if not below:
        return False
    if not ORGAN_SUFFIX.search(above):  # a name cut short goes on (one that is no name, 明传电报, only onto no name)
        return bool(ORGAN_START.match(above)) or not ORGAN_START.match(below)
    inside = any(above.endswith(w[:k]) and below.startswith(w[k:]) for w in _SUFFIX_WORDS for k in range(1, len(w)))
    return inside or below in _SUFFIX_WORDS


def _same_organ(a: str, b: str) -> bool:
    """The same organ, one name fuller than the other: the place left out (东湖区沙湖街道办事处 / 江城市东湖区沙湖街道办事处,
    市教育局) or a short name (临川市科协 / 临川市科学技术协会, 临川市政府 / 临川市人民政府): the shorter one's characters in
    the longer one in order, ending within the longer one's last three (临川市科协); not an organ and its own part
    (临川市教育局 / 临川市教育局党组)."""
    short, full = sorted((a, b), key=len)
    if not short or short[-1] not in full[-3:] or short != full and full.startswith(short):
        return False
    short_places, full_places = _places(short), _places(full)
    if short_places and full_places and short_places != full_places:
        # a city's organ is not its district's (临川市人民政府 / 临川市东湖区人民政府): the shorter name may leave out
        # only the fuller one's leading higher places
        if full_places[-len(short_places):] != short_places:
            return False
        full = full[sum(map(len, full_places[:-len(short_places)])):]
    rest = iter(full)
    return all(c in rest for c in short)


#: a place name heading an organ's name (临川市, 东湖区, 湘西土家族苗族自治州): two characters at least before its level
_PLACE_HEAD = re.compile(r"^[\u4e00-\u9fa5]{2,10}?(?:省|市|自治区|自治州|州|县|区|旗|盟)")


def _places(name: str) -> list[str]:
    """The place names an organ's name begins with, highest first (临川市东湖区教育局: 临川市, 东湖区)."""
    places = []
    while (m := _PLACE_HEAD.match(name)) and len(places) < 4:
        places.append(m.group(0))
        name = name[m.end():]
    return places


def _bracketed_organs(line: str) -> list[str]:
    """The organs a 公报's or 决议's bracketed line under its title names (（临川市统计局  2026年3月1日）, （临川市统计局发布）);
    none for a session's line (（2026年1月9日临川市第十届人民代表大会第三次会议通过）)."""
    inner = re.sub(r"^\s*[（(]|[）)]\s*$", "", line.strip())
    inner = re.sub(r"(?:发布|印发|公布|编制|编)$", "", DATE.sub(" ", inner).strip()).strip()
    organs = _split_organs(inner) if _organ_like(inner) or all(_organ_like(x) for x in inner.split()) and inner else []
    return [o for o in organs if ORGAN_SUFFIX.search(o) and _organ_like(o)]


def _one_per_organ(issuers: list[str], known: list[str]) -> list[str]:
    """The issuers, each organ once: a short form (市政府, 市应急局, 市委办) of an organ named in full among them or in
    `known` (the 版头's and 署名's names: 临川市人民政府, 临川市应急管理局) is that organ, in its fullest form."""
    out: list[str] = []
    for name in issuers:
        full = max((x for x in [*issuers, *known] if _same_organ(x, name)), key=len, default=name)
        full = max(name, full, key=len)
        if not any(_same_organ(full, x) for x in out):
            out.append(full)
    return out


def _reconcile(head: list[str], signed: list[str]) -> list[str]:
    """The issuers by the 署名 when it names at least as many organs as the 发文机关标志 (a joint issuance's mark may
    show its 主办机关 alone; empty otherwise): a name in both in its fuller form, and the organ lines above the mark's
    first organ in the 署名 left out (a body's line that only looks like a name)."""
    if not signed or len(signed) < len(head):
        return []
    if head:
        first = next((i for i, x in enumerate(signed) if _same_organ(x, head[0])), 0)
        if len(signed) - first >= len(head):
            signed = signed[first:]
    out: list[str] = []
    for name in signed:
        fuller = max((h for h in head if _same_organ(h, name)), key=len, default=name)
        out.append(max(name, fuller, key=len))
    return list(dict.fromkeys(out))


_EXECUTIVE = re.compile(r"^(?:代理)?(?:省长|市长|区长|县长|州长|镇长|乡长|主任|局长|厅长|部长|署长|主席|书记|总理)\s*(\S.*)$")


def _executive(lines: list[str], sign_at: int) -> str | None:
    """The head who signs a 令 or a 议案 (市长  赵立新 above the date, or on its line)."""
    m = DATE.search(lines[sign_at])
    for text in (lines[sign_at][:m.start()] if m else "", lines[sign_at - 1] if sign_at else ""):
        found = _EXECUTIVE.match(text.strip())
        if found:
            return _squeeze(found.group(1)).replace(" ", "") or None
    return None


def _sign_organs(lines: list[str], body_at: int, sign_at: int) -> list[str]:
    """The 署名 above the 成文日期: organ lines, several organs side by side on a line at most (a numbered line is an
    attachment's), then organs on the date's own line."""
    organs: list[str] = []
    j = sign_at - 1
    block: list[str] = []
    while j >= body_at and len(block) < 6 and (_organ_like(_SEAL_NOTE.sub("", lines[j])) or _organs_line(lines[j])) \
            and not ITEM_MARK.match(_squeeze(lines[j])):
        block.insert(0, lines[j])
        j -= 1
    for line in block:
        organs = [*organs, *_split_organs(line)]
    m = DATE.search(lines[sign_at])
    if m and lines[sign_at][:m.start()].strip():
        organs = [*organs, *_split_organs(lines[sign_at][:m.start()])]
    return [o for o in organs if ORGAN_SUFFIX.search(o)]


def _organs_line(line: str) -> bool:
    """A line of several organs side by side (a joint 署名 longer than one name may be; a few names, not a paragraph)."""
    if len(_squeeze(line)) > 80:
        return False
    names = _split_organs(line)
    return len(names) > 1 and all(_organ_like(n) for n in names)


def _attachments(lines: list[str], start: int, stop: int, reg: Registration) -> None:
    """附件说明: "附件：" and, for several, the numbered lines under it."""
    for i in range(start, stop):
        m = ATTACHMENT_HEAD.match(_squeeze(lines[i]))
        if not m:
            continue
        first = m.group(1).strip()
        items: list[str] = [ITEM_MARK.sub("", first)] if first else []
        numbered = bool(ITEM_MARK.match(first)) or not first
        # one attachment whose name fills the line (a PDF's or a pasted text's wrapped line) goes on below
        wrapped = not numbered and len(_squeeze(lines[i])) >= WRAPPED_LINE_CHARS
        j = i + 1
        while j < stop and (numbered or wrapped):
            s = _squeeze(lines[j])
            if numbered and ITEM_MARK.match(s):
                items.append(ITEM_MARK.sub("", s))
            elif items and len(s) <= 30 and not s.endswith(ENDS_SENTENCE) and not _organ_like(s) and not DATE.search(s):
                items[-1] += s  # a wrapped attachment name
            else:
                break
            wrapped = wrapped and len(s) >= WRAPPED_LINE_CHARS
            j += 1
        reg.attachments = [x.strip("。. ") for x in items if x.strip("。. ")]
        reg.notes["attachments"] = "主体：附件说明"
        return


def _kind(reg: Registration, head: list[str]) -> str | None:
    title = reg.title or ""
    kind = kind_of(title)
    if kind is None:
        for line in head:
            kind = kind_of(_squeeze(line).removesuffix("文件"))
            if kind:
                break
    if kind is None and reg.doc_number and "函" in reg.doc_number.split("〔")[0]:
        kind = "函"
    return kind


def _deadline(lines: list[str], doc_date: str | None) -> str | None:
    """The first time limit the body sets: a date followed by 前/之前 (or after 截止/于…前); the lines are
    read joined, a date or its 前 may be wrapped onto the next line."""
    # a paragraph's end stays a boundary (\x00): a date ending one and a 前 opening the next are no time limit
    text = "".join(line + "\x00" if line.endswith((*ENDS_SENTENCE, "：", ":")) else line for line in lines)
    limit = re.compile(r"(?:截止(?:时间|日期)?(?:为|是)?|最迟|不晚于)\s*$")
    found: list[tuple[bool, int, str | None]] = []  # (not a time to report by, where, date)
    for m, after, before in _dates_in(DATE, text):
        if _DEADLINE_AFTER.match(after) or limit.search(before):
            found.append((not _REPORT_BY.search(_sentence_after(text, m.end())), m.start(), iso_date(*m.groups())))
    for m, after, before in _dates_in(_MONTH_DAY, text):
        if doc_date and (_DEADLINE_AFTER.match(after) and _DEADLINE_BEFORE.search(before) or limit.search(before)):
            year = int(doc_date[:4])
            if _cn_number(m.group(1)) < int(doc_date[5:7]):
                year += 1
            found.append((not _REPORT_BY.search(_sentence_after(text, m.end())), m.start(),
                          iso_date(str(year), m.group(1), m.group(2))))
    # the units' own time limit: the first date to report (报送, 反馈 …) by, else the first time limit
    return min(found)[2] if found else None


def _dates_in(pattern: re.Pattern[str], text: str) -> Iterator[tuple[re.Match[str], str, str]]:
    """Each date the pattern finds with the text just after and before it, skipping the ends of residents'
    own periods (not a time limit for the receiving units)."""
    for m in pattern.finditer(text):
        if not _PUBLIC_PERIOD.search(text[max(0, m.start() - 14):m.start()]):
            yield m, text[m.end():m.end() + 16], text[max(0, m.start() - 8):m.start()]


#: the end of what residents do in a period (申领截止时间为11月30日, 缴费截止至…): their time limit, not the units'
#: (not 报名: units may be the ones to sign up)
_PUBLIC_PERIOD = re.compile(r"(?:申领|缴费|缴纳|领取|预约)(?:的)?(?:截止|结束)(?:时间|日期)?(?:为|是|至|到)?\s*$")
#: what a 收文单位 is asked to do by a date: send something back (the registration's time limit)
_REPORT_BY = re.compile(r"报送|上报|报至|报给|报市|报区|报县|报省|报我|报本|反馈|提交|函告|回复|报告|报来|报备|寄送|送达")


def _sentence_after(text: str, at: int) -> str:
    """The words after a date to the end of its sentence (at most 60 characters)."""
    end = re.search(r"[。；;！!？?\x00]", text[at:at + 60])
    return text[at:at + (end.start() if end else 60)]


# ---------------------------------------------------------------- who handles it


@lru_cache(maxsize=1)
def departments() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(id, name, duties) of the demo city's departments."""
    path = resources.files("aicity") / "demo" / "data" / "departments.yaml"
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple((r["id"], r["name"], tuple(r.get("duties") or ())) for r in rows)


@dataclass(frozen=True)
class Vocabulary:
    """How documents speak of one department: what an organ's name contains when it is (a level of) the
    department, how a text names it (its names, and its organ words + 部门: 生态环境部门), its duties (departments.yaml; matched also with their words apart) and
    the subjects of its functions (`demo/data/office/subjects.yaml`; matched as written, "设立…街道" with up
    to 12 characters between the parts)."""

    organs: tuple[str, ...]
    names: tuple[str, ...]
    duties: tuple[str, ...]
    subjects: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Vocabulary]:
    """The demo city's departments (by id) as documents speak of them."""
    path = resources.files("aicity") / "demo" / "data" / "office" / "subjects.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for dep_id, name, duties in departments():
        row = data.get(dep_id) or {}
        base = re.sub(r"[（(].*?[）)]", "", name).removeprefix("市")
        subjects = [str(x) for x in row.get("subjects") or () if str(x) not in duties]
        out[dep_id] = Vocabulary(
            organs=tuple(dict.fromkeys([base, *(row.get("organs") or ())])),
            names=tuple(dict.fromkeys(x for x in [base, *(row.get("names") or ()),
                                                  *(f"{o}部门" for o in row.get("organs") or () if len(o) >= 2)]
                                      if len(x) >= 2)),
            duties=duties,
            subjects=tuple(re.compile(".{0,12}".join(map(re.escape, x.split("…")))) for x in dict.fromkeys(subjects)))
    return out


@lru_cache(maxsize=4096)
def _duty_tokens(duty: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """A duty's words (the longest the tokenizer gives: 公共场所卫生 → 公共场所, 卫生), each with the shorter words
    it is made of (安全检查 → 安全, 检查)."""
    words = set(tokenize(duty))
    return tuple((w, frozenset(x for x in words if x != w and x in w)) for w in sorted(words)
                 if not any(w != x and w in x for x in words))


def _apart(words: tuple[tuple[str, frozenset[str]], ...], tokens: set[str]) -> bool:
    """A duty of several words whose words (three in four at least) are in the text, a word also as the words
    it is made of (燃气安全检查 in 燃气安全专项检查; not 公共场所卫生 in 公共场所健身)."""
    found = sum(1 for w, parts in words if w in tokens or parts and parts <= tokens)
    return len(words) >= 2 and found >= 0.75 * len(words)


def _organ_departments(organs: list[str] | tuple[str, ...]) -> list[str]:
    """The demo city's departments the organs are (at any level: 楚江省住房和城乡建设厅, 各区教育局), in
    the organs' order: for each organ, the department whose organ word in it is the longest
    (江城市公安局交通管理支队 is the traffic police, not public security)."""
    found: list[str] = []
    for organ in organs:
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", organ))
        best = max(((len(word), dep_id) for dep_id, words in vocabulary().items()
                    for word in words.organs if word in text), default=None)
        if best and best[1] not in found:
            found.append(best[1])
    return found


def suggest_departments(title: str, body: str, issuer: list[str] | tuple[str, ...] = (),
                        recipients: list[str] | tuple[str, ...] = (), registrar: str = REGISTRAR,
                        kind: str | None = None) -> list[str]:
    """The departments (ids) whose subjects the document names: a duty or subject (`Vocabulary`) in the
    title counts 3, in the body 1 a mention (at most 3); a department the text names (市水务局要……) 2 a
    mention in the body (at most 2), 3 in the title; the issuing department 2. The departments the document is addressed to (主送) come first, the best
    scored first: they are the ones to handle it. The registering office itself (`registrar`, the
    general office that forwards incoming documents) counts for the subjects of its own functions only (政府信息公开,
    督查督办), after any department whose field the title names too. Departments within a third of the best
    score are kept, at most MAX_SUGGESTED; a joint issuance's first organ (its 主办机关) adds SPONSOR. What is only
    mentioned in passing does not count: the place a thing is done at in the title (关于在区政务服务中心增设……) and
    places listed as examples (广场、公园等公共场所), a 纪要's attendance lines (出席、列席：……), contact and
    publication lines, the laws cited as the basis (根据《……法》), a department that led what the text reports on
    (市交通运输局牵头的……项目滞后), the places a thing is done near (学校周边信号灯配时: 学校 is where). A 公告 or 通告 to
    the public (no 主送) is acted on by the departments that issue it in a field of theirs the title names: they
    share what being addressed adds. On an
    equal score, a department whose field the title names comes first."""
    scores, in_title = department_scores(title, body, issuer, recipients, registrar, kind)
    if not scores:
        return []
    best = max(scores.values())
    # the registrar handles the subjects of its functions in general; a department whose subject the title also
    # names handles them in its own field (医保领域政务公开, 安全生产督查), and it comes after an equal score
    ranked = sorted(scores.items(), key=lambda kv: (kv[0] == registrar and bool(in_title - {registrar}), -kv[1],
                                                    kv[0] not in in_title, kv[0] == registrar, kv[0]))
    return [d for d, s in ranked if s >= best / 3][:MAX_SUGGESTED]


def department_scores(title: str, body: str, issuer: list[str] | tuple[str, ...] = (),
                      recipients: list[str] | tuple[str, ...] = (),
                      registrar: str = REGISTRAR, kind: str | None = None) -> tuple[dict[str, float], set[str]]:
    """Each department's score (`suggest_departments`) and the departments the title names (a subject or a name)."""
    body = unicodedata.normalize("NFKC", "\n".join(_in_passing_removed(body.split("\n"))))
    body = _in_passing_blanked(body)
    # in passing in the body: the titles of the laws and documents it cites (根据《…噪声污染防治法》), the places an
    # action is done at, listed as examples (在广场、公园等公共场所); the title's examples are its subject (学校、幼儿园等
    # 重点场所安全管理)
    body = _EXAMPLE_PLACES.sub(r"\1", _CITED.sub("《》", body))
    # the title's subject: the issuers' names before 关于 are who writes, not what it is about
    title = unicodedata.normalize("NFKC", title)
    title = _PLACE.sub("", title.split("关于", 1)[1] if "关于" in title else title)
    title = _near_pattern().sub(_blank, title) if "周边" in title else title
    title_tokens, body_tokens = set(tokenize(title)), set(tokenize(body))
    issuing, addressed = set(_organ_departments(issuer)), set(_organ_departments(recipients))
    # a joint issuance names its 主办机关 first (GB/T 9704-2012 7.2.1) and bears its 发文字号 (公文处理工作条例 art. 9)
    sponsor = set(_organ_departments(issuer[:1])) if len(issuer) > 1 else set()
    leading = _leading(body)
    scores: dict[str, float] = {}
    in_title: set[str] = set()  # the departments whose subject or name the title has
    for dep_id, words in vocabulary().items():
        own = dep_id == registrar
        score = 0.0 if own else 2.0 * (dep_id in issuing) + SPONSOR * (dep_id in sponsor) + LEADS * (dep_id in leading)
        if dep_id in addressed and not own:
            score += ADDRESSED / len(addressed)
        title_score = 0.0
        # the registrar's duties (公文, 会议 …) are the form of every document, its name is on many: only the
        # subjects of its own functions count for it (政务公开, 督查督办 …)
        for duty in () if own else words.duties:
            tokens = _duty_tokens(duty)
            # the duty's words, also apart (燃气安全检查 in 燃气安全专项检查)
            title_score += 3 * (duty in title or _apart(tokens, title_tokens))
            score += min(body.count(duty), 3) or float(_apart(tokens, body_tokens))
        for subject in words.subjects:
            title_score += 3 * bool(subject.search(title))
            score += min(len(subject.findall(body)), 3)
        for short in () if own else words.names:
            score += 2 * min(body.count(short), 2)
            title_score += 3 * (short in title)
        score += title_score
        if title_score:
            in_title.add(dep_id)
        if score:
            scores[dep_id] = score
    # a 公告/通告 to the public announces what its issuing departments do in their own fields (the title names them)
    announcing = issuing & in_title - {registrar} if not recipients and kind in PUBLIC_KINDS else set()
    for dep_id in announcing:
        scores[dep_id] += ADDRESSED / len(announcing)
    return scores, in_title


#: what being addressed (主送) adds to a department's score, shared among the departments addressed (the one
#: department a document is sent to acts on it; a circular to many is decided by its subject), and what being
#: named the lead (牵头) adds
ADDRESSED = 8.0
LEADS = 4.0
#: what the 主办机关 of a joint issuance (its first issuer) adds beside being an issuer
SPONSOR = 1.0
#: (not "X牵头的Y事项": which department led a thing the text reports on)
_LEAD = re.compile(r"([\u4e00-\u9fa5]{2,16}?)(?:部门|机构)?(?:要|负责|继续)?牵头(?!的)")
#: the place a title's action is done at (关于在各区政务服务中心开通……, 在中心城区推行……): where, not what
_PLACE = re.compile(r"^在[\u4e00-\u9fa5A-Za-z0-9]{0,14}?(?:中心|大厅|城区|市区|辖区|全市|全区|全省|全县|全国)")
#: the places an action is done at (在……), listed as examples before their kind (在广场、公园等公共场所 → 在公共场所),
#: or before 公共场所 (a list before 重点场所 may be the subject: 学校、幼儿园等重点场所安全管理)
_EXAMPLE_PLACES = re.compile(r"(在)[\u4e00-\u9fa5]{1,8}?(?:、[\u4e00-\u9fa5]{1,8}?)+等(?=(?:公共|人员密集|重点|经营)?(?:场所|区域|地点|部位))"
                             r"|()[\u4e00-\u9fa5]{1,8}(?:、[\u4e00-\u9fa5]{1,8})+等(?=公共场所)")
#: the laws and documents the body cites as the basis of what it says (根据《…法》第六十四条和《…条例》, 依照《…》处罚)
_CITED = re.compile(r"(?<=根据|依据|依照|按照|参照|违反)《[^《》\n]{1,60}》(?:(?:第[一二三四五六七八九十百零\d]+条)?(?:[、和及与]|以及)?《[^《》\n]{1,60}》)*")
#: a 纪要's attendance lines (出席：……；列席：市公安局……): who came, not who handles it
_ATTENDANCE = re.compile(r"^(?:出席|列席|参加|参会|缺席|请假|记录)(?:人员|单位|同志)?(?:[：:]|$)")
#: a line about the document, not its subject: who to call (联系人：市水务局 张三), how it is published (此件主动公开,
#: 信息公开选项：主动公开)
_ABOUT_LINE = re.compile(r"^[（(]?(?:联系人|联系电话|联系方式|咨询电话|传真|电子邮箱|邮箱|通讯地址|地址|此件|本件|信息公开选项|公开方式|"
                         r"公开属性|公开选项)")


@lru_cache(maxsize=1)
def _near_pattern() -> re.Pattern[str]:
    """The departments' subjects and duties written as the place a thing is done near (学校周边, 中小学校、幼儿园周边,
    农贸市场及周边): where, not what."""
    words = {w for v in vocabulary().values() for w in (*map(re.escape, v.duties), *(s.pattern for s in v.subjects))
             if "." not in w}
    return re.compile(rf"(?:{_longest_first(words)})(?=[\u4e00-\u9fa5]{{0,2}}\s*(?:[、和与及]\s*[\u4e00-\u9fa5]{{1,6}}?\s*)*"
                      r"(?:及其?)?\s*周边)")


@lru_cache(maxsize=1)
def _supporting_pattern() -> re.Pattern[str]:
    """A department named as a body that takes part or helps (市消防救援支队派员参加, 由市政务服务和数据管理局提供技术保障,
    公安机关配合): in passing, the one who handles it is who it helps."""
    words = {re.escape(w) for v in vocabulary().values() for w in (*v.names, *v.organs) if len(w) >= 2}
    return re.compile(rf"(?:{_longest_first(words)})(?:部门|机关)?(?=\s*(?:要|应|应当|负责|积极)?\s*"
                      r"(?:派员参加|派员|参加|参与|配合|协助|提供技术保障|提供技术支持|予以支持|作为[^，。；]{1,8}参与))")


#: the words after which a department named is one that takes part or helps (`_supporting_pattern`)
_SUPPORTING = re.compile(r"派员|参加|参与|配合|协助|提供技术|予以支持")


def _in_passing_blanked(body: str) -> str:
    """The body with the places a thing is done near and the bodies that take part blanked out (the patterns are
    long: tried only where their key words are)."""
    if "周边" in body:
        body = _near_pattern().sub(_blank, body)
    return _supporting_pattern().sub(_blank, body) if _SUPPORTING.search(body) else body


def _blank(m: re.Match[str]) -> str:
    return "□" * len(m.group())


def _in_passing_removed(lines: list[str]) -> list[str]:
    """The body without a 纪要's attendance lines (a label line and the lines it wraps onto, up to a line that
    ends a sentence or opens an item) and the lines about the document itself (`_ABOUT_LINE`)."""
    out: list[str] = []
    listing = False
    for line in lines:
        sq = _squeeze(line)
        if _ATTENDANCE.match(sq):
            listing = True
        elif listing and (any(p in sq for p in ENDS_SENTENCE) or ITEM_MARK.match(sq)):
            listing = False
        if not listing and not _ABOUT_LINE.match(sq):
            out.append(line)
    return out


def _leading(body: str) -> set[str]:
    """The departments the text names as the lead (市住房城乡建设局牵头, 由市应急管理局牵头, 住建部门牵头)."""
    found: set[str] = set()
    for m in _LEAD.finditer(body):
        named = m.group(1)
        best = max(((named.rfind(word) + len(word), len(word), dep_id) for dep_id, words in vocabulary().items()
                    for word in (*words.organs, *words.names) if word in named), default=None)
        if best:
            found.add(best[2])
    return found


# ---------------------------------------------------------------- entry points


def register_bytes(name: str, data: bytes) -> Registration:
    """Read a file (DOCX, PDF with a text layer, text) and extract its elements."""
    return extract(read_file(name, data))


def register_text(text: str) -> Registration:
    """Extract the elements of pasted text."""
    if not text or not text.strip():
        raise RegistrationError("empty", "文字为空，没有可登记的内容")
    return extract(split_lines(text))
