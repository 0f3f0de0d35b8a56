"""Chinese personal-information detection and masking (个人信息脱敏).

Structured identifiers are found on normalised text (full-width digits, invisible characters and
split groups such as "4201 0219 …" handled) and validated: resident ID numbers by checksum, birth
date and birth place (`stdnum.cn.ric`), unified social credit codes by checksum
(`stdnum.cn.uscc`), bank cards by Luhn (`stdnum.luhn`) and a plausible BIN. Names and addresses
count only where the context makes them someone's (我叫…, 姓名：…, 住在…). Document numbers,
order numbers, amounts, dates and digits inside longer runs are left alone.

    detect(text) -> list[Finding]
    mask(text, style="partial" | "full" | "token", vault=...) -> MaskResult
    reveal(masked_text, vault) -> str          # tokens back to the original values
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from aicity.security.findings import Finding, without_overlaps
from aicity.security.normalize import MAX_CHARS, Normalized, digit_runs, normalize

#: what each type is called in a fully masked text
LABELS = {
    "ric": "身份证号", "mobile": "手机号", "landline": "固定电话", "bank_card": "银行卡号",
    "uscc": "统一社会信用代码", "email": "电子邮箱", "passport": "护照号", "plate": "车牌号",
    "name": "姓名", "address": "地址",
}
#: types validated by a checksum or a strict format, as opposed to the contextual name/address
STRUCTURED = frozenset(LABELS) - {"name", "address"}

_WINDOW = 12  # characters of context read before a candidate
_MAX_GROUPS = 7  # digit groups one identifier may be split into

# The last cue before a digit run decides whether it is someone's number or a reference.
_CUE = re.compile(
    r"(?P<pos>手机|电话|联系|致电|拨打|号码|座机|固话|卡号|银行卡|账号|账户|储蓄卡|信用卡|借记卡|tel|phone)"
    r"|(?P<neg>订单|单号|编号|流水|工单|快递|运单|批次|发票|合同|文号|序列号|型号|验证码|交易号|凭证|案号|邮编|金额|票号|学号|工号)",
    re.IGNORECASE,
)
#: a number followed by a unit is an amount or a quantity, not someone's number
_UNIT_AFTER = re.compile(r" ?(?:元|块|万|亿|角|美元|%|个|次|人|件|吨|米|平方|千克|公斤|天|年)")
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9][0-9]{9})")
_LANDLINE = re.compile(r"0(?:10|2[0-9])[0-9]{8}|0[3-9][0-9]{2}[0-9]{7,8}")
_LOCAL = re.compile(r"[2-8][0-9]{6,7}")  # a landline without area code: only after a phone cue
_AREA_CODE = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})")
_BIN = re.compile(r"62|4|5[1-5]|2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)|35(?:2[89]|[3-8][0-9])|9")
_RIC_SHAPE = re.compile(r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]")

_USCC = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}+(?![0-9A-Za-z])")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}+@(?:[A-Za-z0-9\-]{1,63}+\.){1,8}+[A-Za-z]{2,24}+(?![A-Za-z0-9\-])")
_PASSPORT = re.compile(r"(?<![0-9A-Za-z])[EeGg](?:[0-9]{8}|[A-Za-z][0-9]{7})(?![0-9A-Za-z])")
_PASSPORT_CUE = re.compile(r"护照|passport", re.IGNORECASE)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"[{_PROVINCES}][A-HJ-NP-Z][ ·•.\-]?+"
    r"(?:[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳])"
    r"(?![0-9A-Za-z])"
)

# Names: a surname list (not a list of people), given names of one or two characters.
_COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯", "端木", "独孤", "南宫", "西门"]
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏"
    "席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_NOT_IN_NAME = frozenset("的了是在想要来去办问我你他她它们和与及或请把被给跟到从对也都就还又再会能可得着过吧呢吗啊呀嘛年月日岁号住家现今已先说")
_NAME_LABEL = re.compile(
    r"(?:姓名|名字|联系人|申请人|收件人|收货人|户主|法定代表人|经办人|监护人|委托人|代理人|当事人)"
    r"(?:是|叫|为)?[:：]?[ ]?(?=[\u4e00-\u9fff])"
)
_NAME_SELF = re.compile(r"(?:我叫|我的名字(?:是|叫)|本人(?:是|叫)|我是)(?=[\u4e00-\u9fff])")
_NAME_BODY = re.compile(r"[\u4e00-\u9fff]{2,4}+")
#: what follows a label when it is not a name (申请人身份证号码…)
_NOT_A_NAME = re.compile(r"身份|手机|电话|地址|住址|号码|证件|信息|材料|资格|条件|需要|应当|可以|提交|本人|单位|公司|姓名|名字")

_ADDRESS_CUE = re.compile(
    r"(?:住在|住址|家住|居住在|居住地|现住|家庭住址|户籍地址?|收货地址|联系地址|通讯地址|地址|我家在|寄到|送到|搬到)"
    r"(?:是|为|在)?[:：]?[ ]?"
)
_ADDRESS_PUBLIC = re.compile(r"办公|办理|受理|中心|大厅|窗口|机关|单位|公司|门店|网点|医院|学校")
_ADDRESS_BODY = re.compile(r"[\u4e00-\u9fff0-9A-Za-z#\-]{2,60}+")
_ADDRESS_STOP = re.compile(r"附近|旁边|对面|周边|那边|这边|一带|的|想|要|能|可以|怎么|请问|需要|办理|咨询|现在|目前|了|吗|呢")
_ADDRESS_UNIT = re.compile(r"[0-9A-Za-z\-]*(?:号楼|号院|号|室|栋|幢|单元|楼|层|户|村|组|小区|苑|园|院|弄|巷|路|街|道|里|区|县|镇|乡|市)")
_ADDRESS_STREET = re.compile(r"路|街|巷|弄|道|村|小区|号|栋|幢|室|苑|院|单元|组")


def _cue(text: str, end: int) -> str | None:
    """'pos' or 'neg' for the last cue in the few characters before `end`, else None."""
    last = None
    for m in _CUE.finditer(text, max(0, end - _WINDOW), end):
        last = m.lastgroup
    return last


def _ric_score(value: str) -> float | None:
    """A resident ID number's score when its check digit and birth date are valid, else None.
    A known birth place adds confidence; stdnum wants the county code to have existed in the
    birth year, but numbers issued later carry the codes of their day, so it is not required."""
    if not value[:17].isdigit() or value[-1] != ric.calc_check_digit(value):
        return None
    try:
        if ric.get_birth_date(value) > date.today():
            return None
    except ValidationError:
        return None
    try:
        ric.get_birth_place(value)
    except ValidationError:
        return 0.95
    return 0.99


def _classify_digits(value: str, cue: str | None, marked: bool) -> tuple[str, str, float] | None:
    """(type, rule, score) for a run of digits (separators removed), or None. `marked`: written
    the way phone numbers are (after "+" or "(", or split after an area code)."""
    n = len(value)
    if n == 18 and (score := _ric_score(value)):
        return "ric", "ric.checksum_birth_date", score
    if value.endswith(("X", "x")):
        return None
    if cue == "neg":
        return None
    if _MOBILE.fullmatch(value) and (n == 11 or value.startswith("0086") or cue == "pos" or marked):
        return "mobile", "mobile.cn", 0.95 if n == 11 else 0.9
    if _LANDLINE.fullmatch(value) and (marked or cue == "pos"):
        return "landline", "landline.area_code", 0.9
    if _LOCAL.fullmatch(value) and cue == "pos":
        return "landline", "landline.local", 0.75
    if 16 <= n <= 19 and _BIN.match(value) and luhn.is_valid(value):
        if _RIC_SHAPE.fullmatch(value):
            return None  # an ID number with a wrong check digit, not a card
        return "bank_card", "bank_card.luhn", 0.95 if cue == "pos" else 0.85
    return None


def _digit_findings(norm: Normalized) -> list[Finding]:
    text, found = norm.text, []
    for groups in digit_runs(text):
        lengths = [e - s for s, e in groups]
        i = 0
        while i < len(groups):
            for j in range(min(len(groups), i + _MAX_GROUPS), i, -1):
                size = sum(lengths[i:j])
                if not 7 <= size <= 19:
                    continue
                start, end = groups[i][0], groups[j - 1][1]
                value = "".join(text[s:e] for s, e in groups[i:j])
                marked = (j - i > 1 and _AREA_CODE.fullmatch(text[groups[i][0]:groups[i][1]]) is not None
                          or text[start - 1:start] in ("(", "+"))
                cue = "neg" if _UNIT_AFTER.match(text, end) else _cue(text, start)
                hit = _classify_digits(value.upper(), cue, marked)
                if hit:
                    if start and text[start - 1] in "+(":
                        start -= 1
                    found.append(Finding("pii", hit[0], *norm.span(start, end), hit[1], hit[2]))
                    i = j
                    break
            else:
                i += 1
    return found


def _pattern_findings(norm: Normalized) -> list[Finding]:
    text, found = norm.text, []
    for m in _USCC.finditer(text):
        if not m.group().isdigit() and uscc.is_valid(m.group().upper()):
            found.append(Finding("pii", "uscc", *norm.span(*m.span()), "uscc.checksum", 0.98))
    for m in _EMAIL.finditer(text):
        found.append(Finding("pii", "email", *norm.span(*m.span()), "email.rfc5322", 0.95))
    for m in _PASSPORT.finditer(text):
        if _PASSPORT_CUE.search(text, max(0, m.start() - 2 * _WINDOW), m.start()):
            found.append(Finding("pii", "passport", *norm.span(*m.span()), "passport.cn", 0.9))
    for m in _PLATE.finditer(text):
        if any(c.isdigit() for c in m.group()[2:]):
            found.append(Finding("pii", "plate", *norm.span(*m.span()), "plate.cn", 0.9))
    return found


def _name(body: str, needs_surname: bool) -> str | None:
    """The name at the start of `body` (2–4 CJK characters after a cue), or None."""
    surname = next((s for s in _COMPOUND_SURNAMES if body.startswith(s)), body[0])
    if needs_surname and surname not in _SURNAMES and surname not in _COMPOUND_SURNAMES:
        return None
    given = ""
    for ch in body[len(surname):len(surname) + 2]:
        if ch in _NOT_IN_NAME:
            break
        given += ch
    return surname + given if given else None


def _context_findings(norm: Normalized) -> list[Finding]:
    text, found = norm.text, []
    for cue, needs_surname, rule, score in ((_NAME_LABEL, False, "name.label", 0.9), (_NAME_SELF, True, "name.self", 0.8)):
        for m in cue.finditer(text):
            body = _NAME_BODY.match(text, m.end())
            if body and not _NOT_A_NAME.match(body.group()) and (name := _name(body.group(), needs_surname)):
                found.append(Finding("pii", "name", *norm.span(m.end(), m.end() + len(name)), rule, score))
    for m in _ADDRESS_CUE.finditer(text):
        if _ADDRESS_PUBLIC.search(text, max(0, m.start() - 4), m.start()):
            continue
        body = _ADDRESS_BODY.match(text, m.end())
        if not body:
            continue
        address = body.group()
        if stop := _ADDRESS_STOP.search(address):
            address = address[: stop.start()]
        units = list(_ADDRESS_UNIT.finditer(address))
        if units and _ADDRESS_STREET.search(address):
            end = m.end() + units[-1].end()
            found.append(Finding("pii", "address", *norm.span(m.end(), end), "address.cue", 0.85))
    return found


def detect(text: str, types: Collection[str] | None = None, limit: int = MAX_CHARS) -> list[Finding]:
    """Personal information in the first `limit` characters of `text`, in text order, without overlaps."""
    return _detect(normalize(text, limit), types)


def _detect(norm: Normalized, types: Collection[str] | None) -> list[Finding]:
    found = [*_digit_findings(norm), *_pattern_findings(norm), *_context_findings(norm)]
    return without_overlaps(f for f in found if types is None or f.type in types)


# ---- masking ---------------------------------------------------------------------------------

Style = Literal["partial", "full", "token"]
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015()+·•.]")


def _stars(value: str, keep_head: int, keep_tail: int) -> str:
    hidden = max(1, len(value) - keep_head - keep_tail)
    return value[:keep_head] + "*" * hidden + (value[-keep_tail:] if keep_tail else "")


def _partial(kind: str, original: str) -> str:
    """A partly hidden form of `original`: 4201**********1234, 138****5678, 张*."""
    value = normalize(original).text
    if kind in STRUCTURED and kind != "email":
        value = _SEPARATORS.sub("", value)
    match kind:
        case "mobile":
            return _stars(value[-11:], 3, 4)
        case "ric" | "bank_card" | "uscc":
            return _stars(value, 4, 4)
        case "landline":
            area = _AREA_CODE.match(value) if len(value) > 8 else None
            return _stars(value, len(area.group()) if area else 2, 2)
        case "email":
            local, _, domain = value.partition("@")
            return f"{local[:1]}***@{domain}"
        case "passport":
            return _stars(value, 1, 3)
        case "plate":
            return _stars(value, 2, 2)
        case "name":
            return _stars(value, 1, 0)
        case _:  # address: keep the region (…省…市…区), hide the rest
            region = re.match(r"(?:[^省市区县]{1,8}?[省市区县]){1,3}", value)
            return (region.group() if region else value[:2]) + "****"


class TokenVault(Protocol):
    """Keeps the values behind reversible tokens; a database-backed vault implements the same."""

    def put(self, kind: str, value: str) -> str:
        """The token text that stands for `value` (the same value gets the same token)."""

    def get(self, token: str) -> str | None:
        """The value behind a token text, or None when the vault does not know it."""


TOKEN = re.compile(r"⟦PII:([a-z_]+):([0-9a-f]{12})⟧")


@dataclass
class MemoryVault:
    """An in-process vault: tokens are keyed hashes of the value, so they reveal nothing."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _values: dict[str, str] = field(default_factory=dict)

    def put(self, kind: str, value: str) -> str:
        digest = hmac.new(self.key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:12]
        token = f"⟦PII:{kind}:{digest}⟧"
        self._values[token] = value
        return token

    def get(self, token: str) -> str | None:
        return self._values.get(token)


@dataclass(frozen=True, slots=True)
class MaskResult:
    """The masked text, what was masked (offsets in the original text) and whether the whole
    text was examined (False: it was longer than the limit and its tail was not read)."""

    text: str
    findings: list[Finding]
    complete: bool = True


def mask(text: str, style: Style = "partial", vault: TokenVault | None = None,
         types: Collection[str] | None = None, limit: int = MAX_CHARS) -> MaskResult:
    """`text` with its personal information replaced: partly hidden, by a label ([身份证号]) or by a
    reversible token kept in `vault` (required for style "token")."""
    if style == "token" and vault is None:
        raise ValueError("style 'token' needs a vault")

    def replace(f: Finding, original: str) -> str:
        if style == "partial":
            return _partial(f.type, original)
        if style == "full":
            return f"[{LABELS[f.type]}]"
        return vault.put(f.type, original)  # type: ignore[union-attr]

    norm = normalize(text, limit)
    findings = _detect(norm, types)
    parts, at = [], 0
    for f in findings:
        parts += [text[at:f.start], replace(f, text[f.start:f.end])]
        at = f.end
    parts.append(text[at:])
    return MaskResult("".join(parts), findings, norm.complete)


def reveal(text: str, vault: TokenVault) -> str:
    """`text` with every token the vault knows replaced by its original value (authorised reveal)."""
    return TOKEN.sub(lambda m: vault.get(m.group()) or m.group(), text)
