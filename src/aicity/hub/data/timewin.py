"""Time windows named in a question (Chinese and English), resolved against `as_of` (the pack's
snapshot date unless told): years, 上半年/下半年, quarters, months, 上个月/本月, 近N个月/近N天/最近一周,
explicit dates and ranges. A window is [start, end) in days; `previous()` is the window a
同比 (same window a year earlier) or 环比 (the window just before) compares with.

Conventions (documented for officials): 近N个月 = the N calendar months ending with `as_of`'s month;
近N天 = the N days ending with `as_of`; 今年/本月 run to `as_of`; a month or quarter without a year is the
latest one that has begun by `as_of`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from aicity.core.text import cn_number

_MONTHS_EN = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
_MONTHS_EN.update({k[:3]: v for k, v in list(_MONTHS_EN.items())})
_MONTHS_EN["sept"] = 9


_CN_NUM = re.compile(r"(?<=[前近第过去最top])([零〇一二两三四五六七八九十百]+)|"
                     r"(?<=的)([一二两三四五六七八九十]+)(?=(?:个|家|条|位|名|类|项|种|所|座)(?![月天日]))|"
                     r"(?<![哪那这的某每])([零〇一二两三四五六七八九十百]+)"
                     r"(?=个?(?:月|季度|天|日|周|星期|年|名|家|条|位|小时|号|倍|成|区|户|人|件|起))")


def digits(text: str) -> str:
    """Chinese numerals before a unit or after 前/近/第 written as digits (三个月 → 3个月, 第二季度 → 第2季度)."""
    def sub(m: re.Match[str]) -> str:
        raw = m.group(1) or m.group(2) or m.group(3)
        n = cn_number(raw)
        return str(n) if n is not None else raw
    return _CN_NUM.sub(sub, text)


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive
    label: str
    grain: str  # year | half | quarter | month | day | days | range
    span: tuple[int, int] = (0, 0)
    #: periods named one by one with gaps between them (3月和5月): [start, end) each; empty = the whole span
    parts: tuple[tuple[date, date], ...] = ()

    def previous(self, kind: str) -> Window:
        """The window 同比 (`yoy`: a year earlier) or 环比 (`mom`: the one just before) compares with."""
        if kind == "yoy":
            return Window(_shift_years(self.start, -1), _shift_years(self.end, -1), _year_earlier(self.label),
                          self.grain, parts=tuple((_shift_years(a, -1), _shift_years(b, -1)) for a, b in self.parts))
        months = {"year": 12, "half": 6, "quarter": 3, "month": 1}.get(self.grain)
        if months:
            return Window(_add_months(self.start, -months), _add_months(self.end, -months), "上一期", self.grain)
        days = (self.end - self.start).days
        return Window(self.start - timedelta(days=days), self.start, "上一期", self.grain)

    @property
    def years(self) -> list[int]:
        if self.parts:
            return sorted({y for a, b in self.parts for y in range(a.year, (b - timedelta(days=1)).year + 1)})
        return list(range(self.start.year, (self.end - timedelta(days=1)).year + 1))


def _year_earlier(label: str) -> str:
    return re.sub(r"(\d{4})年", lambda m: f"{int(m.group(1)) - 1}年", label) if re.search(r"\d{4}年", label) \
        else f"上年同期（{label}）"


def _shift_years(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + n, day=28)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1) if d.day == 1 else date(d.year + y, m + 1, min(d.day, 28))


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), _add_months(date(year, month, 1), 1)


def _year_of(text_year: str | None, as_of: date) -> int | None:
    if not text_year:
        return None
    y = int(text_year)
    return y + 2000 if y < 100 else y


_YEAR = r"(?:(\d{4}|\d{2})\s*年|(今年|本年|去年|上年|前年|明年))"
_REL_YEARS = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1}


def _rel_year(word: str | None, num: str | None, as_of: date) -> int | None:
    if num:
        return _year_of(num, as_of)
    if word:
        return as_of.year + _REL_YEARS[word]
    return None


def _latest_month(month: int, as_of: date) -> int:
    return as_of.year if month <= as_of.month else as_of.year - 1


def _ymd(y: str | None, m: str, d: str, as_of: date) -> date | None:
    year = _year_of(y, as_of) if y else as_of.year
    try:
        day = date(year, int(m), int(d))
    except ValueError:
        return None
    if not y and day > as_of:
        day = day.replace(year=year - 1)
    return day


_EN_MONTH_NAMES = (r"january|february|march|april|june|july|august|september|sept|october|november|december|"
                   r"jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec|may")
_EN_MONTH_NAMES_Y = (r"january|february|march|april|june|july|august|september|october|november|december|may")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso_range", re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\s*(?:到|至|~|-|—|to|and|until)\s*(\d{4})-(\d{1,2})-(\d{1,2})")),
    ("iso", re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")),
    ("since", re.compile(r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月(?:份)?)?\s*(?:以来|起|开始|及以后|及之后|(?:（|\()含(?:）|\))以后)"
                         r"|\b(since|after|from)\s+(20\d{2}|19\d{2})\b(?!\s*(?:to|until|-|–))")),
    ("until", re.compile(r"(\d{4})\s*年\s*(及以前|及之前|及其以前|以前|之前)|\b(before|until|through|in or before)\s+(20\d{2}|19\d{2})\b")),
    ("ytd", re.compile(r"(?:今年|本年)?年初(?:至今|到现在|到目前|以来|迄今)|(?:今年|本年)(?:以来|截至目前|到目前为止|迄今)|"
                       r"\byear[- ]to[- ]date\b|\bytd\b|so far this year")),
    ("to_month_end", re.compile(r"(?:截至|截止到?|截至到|年初\s*(?:至|到|-|—|~))\s*" + _YEAR
                                + r"?\s*(\d{1,2})\s*月(?:份)?\s*(?:底|末|为止)?(?![\d日号])")),
    ("to_month_end", re.compile(r"(?<![\d月日号])(?:到|至)\s*" + _YEAR + r"?\s*(\d{1,2})\s*月(?:份)?\s*(?:底|末|为止)")),
    ("first_months_en", re.compile(r"(?:first|initial)\s+(\d+|two|three|four|five|six|seven|eight|nine|ten|eleven)\s+"
                                   r"months(?:\s+of)?(?:\s+(\d{4}))?")),
    ("through_en", re.compile(r"\b(?:through|until|up to|to) the end of (" + _EN_MONTH_NAMES_Y + r")\b(?:\s+(\d{4}))?")),
    ("month_week", re.compile(_YEAR + r"?\s*(\d{1,2})\s*月(?:份)?的?\s*第\s*([1-5])\s*(?:周|个星期|星期)")),
    ("md_to_end", re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?\s*(?:到|至|~|-|—)\s*(?:(\d{1,2})月)?(?:底|末)")),
    ("md_range", re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?\s*(?:到|至|~|-|—)\s*(?:(\d{1,2})月)?(\d{1,2})[日号]")),
    ("md", re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")),
    ("month_range", re.compile(_YEAR + r"?\s*(\d{1,2})\s*(?:月份|月)?\s*(?:到|至|~|-|—)\s*(\d{1,2})\s*(?:月份|月)")),
    ("first_months", re.compile(_YEAR + r"?\s*前\s*(\d+)\s*个月")),
    ("recent", re.compile(r"(?:最近|近|过去)\s*(\d+)\s*(个月|个季度|天|日|周|个星期|星期|年)")),
    ("recent_en", re.compile(r"(?:last|past|previous)\s+(\d+|two|three|four|five|six|seven|ten|twelve)\s+"
                             r"(months?|days?|weeks?|quarters?|years?)")),
    ("recent_half", re.compile(r"(?:最近|近|过去)\s*半年|(?:last|past) (?:six|6) months|past half year")),
    ("recent_one", re.compile(r"(?:最近|近|过去)一?(?:个)?(周|星期|个月|月|年|季度)|this past week|the last week|past week")),
    ("half", re.compile(_YEAR + r"?\s*(上半年|下半年)")),
    ("half_en", re.compile(r"(first|second)\s+half(?:\s+of)?(?:\s+(\d{4}))?")),
    ("half_h", re.compile(r"(?:(\d{4})\s*年?\s*)?(?<![a-z0-9])h([12])(?![0-9])(?:\s*(\d{4}))?")),
    ("first_quarters", re.compile(_YEAR + r"?\s*前\s*([234])\s*(?:个)?季度")),
    ("quarter", re.compile(_YEAR + r"?\s*(?:第\s*)?(\d)\s*季度")),
    ("quarter_q", re.compile(r"(?:(\d{4})\s*年?\s*)?(?<![a-z])q([1-4])(?![0-9])(?:\s*(\d{4}))?")),
    ("quarter_en", re.compile(r"(first|second|third|fourth)\s+quarter(?:\s+of)?(?:\s+(\d{4}))?")),
    ("rel_quarter", re.compile(r"(上个?季度|本季度|这个?季度|last quarter|this quarter)")),
    ("month", re.compile(_YEAR + r"?\s*(\d{1,2})\s*(?:月份|月)(?!\d)")),
    ("md_en", re.compile(r"\b(?P<m>" + _EN_MONTH_NAMES + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?!\s*(?:am|pm|:))"
                         r"(?:,?\s+(?P<y>\d{4}))?|\b(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>"
                         + _EN_MONTH_NAMES + r")\b(?:,?\s+(?P<y2>\d{4}))?")),
    ("month_en", re.compile(r"\b(january|february|march|april|june|july|august|september|sept|october|november|"
                            r"december|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec|may)\b(?:\s+(\d{4}))?")),
    ("rel_month", re.compile(r"(上上个月|上个月|上月|本月|这个月|当月|last month|this month)")),
    ("rel_day", re.compile(r"(今天|今日|昨天|昨日|today|yesterday)")),
    ("week", re.compile(r"(本周|这周|上周|上个星期|this week|last week)")),
    ("year", re.compile(_YEAR)),
    ("whole_year", re.compile(r"全年|整年|whole year|full year")),
    ("year_en", re.compile(r"\b(?:in\s+)?(20\d{2})\b|(this year|last year)")),
]
_EN_NUM = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
           "eleven": 11, "twelve": 12}
_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def _quarter(year: int, q: int) -> tuple[date, date]:
    start = date(year, 3 * (q - 1) + 1, 1)
    return start, _add_months(start, 3)


def _latest_quarter(q: int, as_of: date) -> int:
    return as_of.year if 3 * (q - 1) + 1 <= as_of.month else as_of.year - 1


def _match(kind: str, m: re.Match[str], as_of: date) -> Window | None:  # noqa: C901 — one branch per pattern
    g = m.groups()
    end_of_day = as_of + timedelta(days=1)
    if kind == "iso_range":
        a, b = date(int(g[0]), int(g[1]), int(g[2])), date(int(g[3]), int(g[4]), int(g[5]))
        return Window(a, b + timedelta(days=1), f"{a.isoformat()}至{b.isoformat()}", "range")
    if kind == "iso":
        d = date(int(g[0]), int(g[1]), int(g[2]))
        return Window(d, d + timedelta(days=1), f"{d.year}年{d.month}月{d.day}日", "day")
    if kind == "ytd":  # 年初至今, 今年以来: from the year's first day to as_of
        return Window(date(as_of.year, 1, 1), end_of_day, f"{as_of.year}年初至今", "range")
    if kind in ("to_month_end", "first_months_en", "through_en"):  # 截至9月底, 1至9月, first nine months: cumulative
        if kind == "to_month_end":
            month, y = int(g[2]), _rel_year(g[1], g[0], as_of)
        elif kind == "first_months_en":
            month, y = (int(g[0]) if g[0].isdigit() else _EN_NUM[g[0]]), (int(g[1]) if g[1] else None)
        else:
            month, y = _MONTHS_EN[g[0]], (int(g[1]) if g[1] else None)
        if not 1 <= month <= 12:
            return None
        y = y or _latest_month(month, as_of)
        return Window(date(y, 1, 1), _month(y, month)[1], f"{y}年1—{month}月", "range")
    if kind == "month_week":  # 12月第一周: days 1–7 of the month (the second: 8–14 …)
        month, k = int(g[2]), int(g[3])
        if not 1 <= month <= 12:
            return None
        y = _rel_year(g[1], g[0], as_of) or _latest_month(month, as_of)
        first, end = date(y, month, 1) + timedelta(days=7 * (k - 1)), _month(y, month)[1]
        if first >= end:
            return None
        return Window(first, min(first + timedelta(days=7), end), f"{y}年{month}月第{k}周（{first.day}日起7天）", "days")
    if kind == "md_to_end":  # 9月3日至9月底: to the month's last day
        a = _ymd(g[0], g[1], g[2], as_of)
        month = int(g[3] or g[1])
        if a is None or not 1 <= month <= 12 or month < a.month:
            return None
        end = _month(a.year, month)[1]
        return Window(a, end, f"{a.year}年{a.month}月{a.day}日至{month}月底", "range")
    if kind == "md_range":
        a = _ymd(g[0], g[1], g[2], as_of)
        b = _ymd(g[0] or (str(a.year) if a else None), g[3] or g[1], g[4], as_of)
        if a and b and b >= a:
            return Window(a, b + timedelta(days=1), f"{a.year}年{a.month}月{a.day}日至{b.month}月{b.day}日", "range")
        return None
    if kind == "md":
        d = _ymd(g[0], g[1], g[2], as_of)
        return Window(d, d + timedelta(days=1), f"{d.year}年{d.month}月{d.day}日", "day") if d else None
    if kind == "month_range":
        y = _rel_year(g[1], g[0], as_of)
        a, b = int(g[2]), int(g[3])
        if not (1 <= a <= b <= 12):
            return None
        y = y or _latest_month(b, as_of)
        return Window(date(y, a, 1), _month(y, b)[1], f"{y}年{a}—{b}月", "range")
    if kind == "recent_half":
        start = _add_months(as_of.replace(day=1), -5)
        return Window(start, as_of + timedelta(days=1), f"近6个月（{start.year}年{start.month}月至{as_of.month}月）",
                      "range")
    if kind == "first_quarters":
        y, n = _rel_year(g[1], g[0], as_of) or as_of.year, int(g[2])
        return Window(date(y, 1, 1), _add_months(date(y, 1, 1), 3 * n), f"{y}年前{n}季度", "range")
    if kind == "first_months":
        y, n = _rel_year(g[1], g[0], as_of) or as_of.year, int(g[2])
        if not 1 <= n <= 12:
            return None
        return Window(date(y, 1, 1), _add_months(date(y, 1, 1), n), f"{y}年1—{n}月", "range")
    if kind in ("recent", "recent_en", "recent_one"):
        if kind == "recent_one":
            unit, n = (g[0] or "周"), 1
            unit = "周" if m.group(0).startswith(("this", "the", "past")) else unit
        else:
            n = int(g[0]) if g[0].isdigit() else _EN_NUM[g[0]]
            unit = g[1]
        if unit.startswith(("个月", "月", "month")):
            start = _add_months(as_of.replace(day=1), -(n - 1))
            return Window(start, end_of_day, f"近{n}个月（{start.year}年{start.month}月至{as_of.month}月）", "range")
        if unit.startswith(("个季度", "季度", "quarter")):
            start = _add_months(as_of.replace(day=1), -(3 * n - 1))
            return Window(start, end_of_day, f"近{n}个季度", "range")
        if unit.startswith(("年", "year")):
            return Window(date(as_of.year - n + 1, 1, 1), end_of_day, f"近{n}年", "range")
        days = n * (7 if unit.startswith(("周", "星期", "个星期", "week")) else 1)
        return Window(end_of_day - timedelta(days=days), end_of_day, f"近{days}天", "days")
    if kind == "half":
        y = _rel_year(g[1], g[0], as_of) or as_of.year
        first = g[2] == "上半年"
        if not g[0] and not g[1] and not first and as_of.month < 7:
            y -= 1
        start = date(y, 1 if first else 7, 1)
        return Window(start, _add_months(start, 6), f"{y}年{g[2]}", "half")
    if kind == "half_en":
        y = int(g[1]) if g[1] else as_of.year
        first = g[0] == "first"
        start = date(y, 1 if first else 7, 1)
        return Window(start, _add_months(start, 6), f"{y}年{'上' if first else '下'}半年", "half")
    if kind == "half_h":
        y = _year_of(g[0] or g[2], as_of) or as_of.year
        start = date(y, 1 if g[1] == "1" else 7, 1)
        return Window(start, _add_months(start, 6), f"{y}年{'上' if g[1] == '1' else '下'}半年", "half")
    if kind in ("quarter", "quarter_q", "quarter_en"):
        if kind == "quarter":
            q, y = int(g[2]), _rel_year(g[1], g[0], as_of)
        elif kind == "quarter_q":
            q, y = int(g[1]), _year_of(g[0] or g[2], as_of)
        else:
            q, y = _ORD[g[0]], _year_of(g[1], as_of)
        if not 1 <= q <= 4:
            return None
        y = y or _latest_quarter(q, as_of)
        a, b = _quarter(y, q)
        return Window(a, b, f"{y}年第{q}季度", "quarter")
    if kind == "rel_quarter":
        q = (as_of.month - 1) // 3 + 1
        y = as_of.year
        if g[0].startswith(("上", "last")):
            q, y = (q - 1, y) if q > 1 else (4, y - 1)
        a, b = _quarter(y, q)
        return Window(a, min(b, end_of_day), f"{y}年第{q}季度", "quarter")
    if kind == "month":
        month = int(g[2])
        if not 1 <= month <= 12:
            return None
        y = _rel_year(g[1], g[0], as_of) or _latest_month(month, as_of)
        a, b = _month(y, month)
        return Window(a, b, f"{y}年{month}月", "month")
    if kind == "since":  # 2023年以来, 2020年及以后, since 2020 (from its start), after 2020 (from the next year)
        year = int(g[0] or g[3])
        start = date(year + (1 if g[2] == "after" else 0), int(g[1]) if g[1] else 1, 1)
        return Window(start, end_of_day, f"{start.year}年{f'{start.month}月' if g[1] else ''}以来", "range")
    if kind == "until":  # 2015年及以前 (to its end), 2015年以前 / before 2015 (to its start)
        word, year = g[1] or g[2], int(g[0] or g[3])
        inclusive = word.startswith("及") or word in ("until", "through", "in or before")
        end = date(year + 1 if inclusive else year, 1, 1)
        return Window(date(1900, 1, 1), end, f"{year}年{'及以前' if inclusive else '以前'}", "range")
    if kind == "md_en":  # September 6, 6 September 2025: one day
        parts = m.groupdict()
        month_name, day, year = parts["m"] or parts["m2"], parts["d"] or parts["d2"], parts["y"] or parts["y2"]
        d = _ymd(year, str(_MONTHS_EN[month_name]), day, as_of)
        return Window(d, d + timedelta(days=1), f"{d.year}年{d.month}月{d.day}日", "day") if d else None
    if kind == "month_en":
        month = _MONTHS_EN[g[0]]
        y = int(g[1]) if g[1] else _latest_month(month, as_of)
        a, b = _month(y, month)
        return Window(a, b, f"{y}年{month}月", "month")
    if kind == "rel_month":
        back = {"上上个月": 2, "上个月": 1, "上月": 1, "last month": 1}.get(g[0], 0)
        start = _add_months(as_of.replace(day=1), -back)
        end = _add_months(start, 1) if back else end_of_day
        return Window(start, end, f"{start.year}年{start.month}月", "month")
    if kind == "rel_day":
        d = as_of - timedelta(days=1) if g[0] in ("昨天", "昨日", "yesterday") else as_of
        return Window(d, d + timedelta(days=1), f"{d.year}年{d.month}月{d.day}日", "day")
    if kind == "week":
        monday = as_of - timedelta(days=as_of.weekday())
        if g[0] in ("上周", "上个星期", "last week"):
            return Window(monday - timedelta(days=7), monday, "上周", "days")
        return Window(monday, end_of_day, "本周", "days")
    if kind == "year":
        y = _rel_year(g[1], g[0], as_of)
        return Window(date(y, 1, 1), date(y + 1, 1, 1), f"{y}年", "year") if y else None
    if kind == "whole_year":
        return Window(date(as_of.year, 1, 1), date(as_of.year + 1, 1, 1), f"{as_of.year}年", "year")
    if kind == "year_en":
        y = int(g[0]) if g[0] else as_of.year - (1 if g[1] == "last year" else 0)
        return Window(date(y, 1, 1), date(y + 1, 1, 1), f"{y}年", "year")
    return None


def find(text: str, as_of: date) -> list[Window]:
    """Every window `text` names, in order of appearance, without overlaps (longest pattern first)."""
    taken: list[tuple[int, int]] = []
    found: list[Window] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            a, b = m.span()
            if any(a < y and x < b for x, y in taken):
                continue
            w = _match(kind, m, as_of)
            if w is not None:
                taken.append((a, b))
                found.append(replace(w, span=(a, b)))
    return sorted(found, key=lambda w: w.span[0])


def merge(windows: list[Window]) -> Window | None:
    """One window from what a question names: windows that overlap → the narrowest (2025年 … 3月);
    apart → the span from the first to the last."""
    if not windows:
        return None
    if len(windows) == 1:
        return windows[0]
    ordered = sorted(windows, key=lambda w: w.start)
    start, end = max(w.start for w in ordered), min(w.end for w in ordered)
    if start < end:  # 2025年 … 3月: the narrowest window they all contain
        narrow = min(ordered, key=lambda w: w.end - w.start)
        return Window(start, end, narrow.label, narrow.grain, (min(w.span[0] for w in ordered),
                                                              max(w.span[1] for w in ordered)))
    a, b = ordered[0], ordered[-1]
    span = (min(w.span[0] for w in ordered), max(w.span[1] for w in ordered))
    parts = tuple((w.start, w.end) for w in ordered)  # 3月和5月: those months, not April
    gap = any(x.end < y.start for x, y in zip(ordered, ordered[1:], strict=False))
    return Window(a.start, max(w.end for w in ordered), "、".join(w.label for w in ordered) if gap else
                  f"{a.label}至{b.label}", "range", span, parts)
