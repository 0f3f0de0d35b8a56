"""Content risk (内容风险): toxic, violent and illegal content, self-harm, malicious URLs.

The lexicon is package data (`data/content_lexicon.yaml`, Chinese and English; English terms
match whole words only) with exceptions (跳楼价 is a price) and context words: a clause about
fighting a thing (禁毒宣传, 打击电信诈骗, 举报) is never a request for it. A term with an intent
word close by in its clause (哪里能买到冰毒, how to make a bomb) is a `request`: the guard's
input stage blocks those. Self-harm is never blocked: the answer starts with help lines.

URLs are risky when their scheme is `data:` or `file:` (`javascript:` is the guard's payload
detector's), their host is an IP literal or punycode, looks like a government domain without
being one (gov-cn.com, g0v.cn, gov.cn.example.com), or is on `data/url_blocklist.txt`.

    scan(text, limit) -> list[Finding]   # kind "content"; type toxic, violence, drugs, weapons,
                                         # gambling, fraud, self_harm, url; rule says which
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from aicity.security.normalize import MAX_CHARS, normalize

#: an intent word counts within this many characters of the term, in the same clause
_NEAR = 10
_CLAUSE = re.compile(r"[。！？!?；;，,\n]")
_URL = re.compile(
    r"(?<![\w@.])(?:(?:https?|ftp)://[^\s<>\"'，。）)]{1,500}+|(?:data|file):[^\s<>\"'，。）)]{1,500}+"
    r"|(?:[a-z0-9-]{1,63}+\.){1,10}+[a-z]{2,24}+(?::\d{1,5}+)?(?:/[^\s<>\"'，。）)]{0,500}+)?)", re.IGNORECASE)
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "3": "e", "5": "s", "_": "-"})
_GOV_TOKEN = re.compile(r"(?:^|[.-])gov(?:[.-]|cn|$)")

#: help lines the city should check and keep current
HELP_LINES = ("如果您正在经历困难或有伤害自己的想法，请立即寻求帮助：希望24热线 400-161-9995，"
              "北京心理危机研究与干预中心 010-82951332；紧急情况请拨打 120 或 110。"
              "您并不孤单，我们愿意帮您联系身边的支持。")


@dataclass(frozen=True, slots=True)
class Finding:
    """`text[start:end]` (original offsets) is risky content of `type` in `category`;
    `request` is true when the text asks for it (an intent word next to the term)."""

    kind: str
    type: str
    category: str
    start: int
    end: int
    rule: str
    score: float
    request: bool = False


@dataclass(frozen=True)
class _Lexicon:
    terms: re.Pattern[str]
    type_of: dict[str, str]
    category: dict[str, str]
    exceptions: re.Pattern[str]
    context: re.Pattern[str]
    intent: re.Pattern[str]
    gov_suffixes: tuple[str, ...]
    blocklist: frozenset[str]


def _alternation(words: list[str], english: bool) -> str:
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return rf"(?<![a-z])(?:{body})(?![a-z])" if english else f"(?:{body})"


@cache
def lexicon() -> _Lexicon:
    data: dict[str, Any] = yaml.safe_load((files("aicity.security") / "data" / "content_lexicon.yaml")
                                          .read_text(encoding="utf-8"))
    type_of = {w.lower(): kind for kind, langs in data["terms"].items() for ws in langs.values() for w in ws}
    zh = [w for w in type_of if not w.isascii()]
    en = [w for w in type_of if w.isascii()]
    blocklist = (files("aicity.security") / "data" / "url_blocklist.txt").read_text(encoding="utf-8")
    return _Lexicon(
        terms=re.compile(f"{_alternation(zh, False)}|{_alternation(en, True)}", re.IGNORECASE),
        type_of=type_of,
        category={kind: spec["category"] for kind, spec in data["types"].items()},
        exceptions=re.compile(_alternation(data["exceptions"], False), re.IGNORECASE),
        context=re.compile(_alternation([w for w in data["context"] if not w.isascii()], False) + "|"
                           + _alternation([w for w in data["context"] if w.isascii()], True), re.IGNORECASE),
        intent=re.compile(_alternation(data["intent"]["zh"], False) + "|" + _alternation(data["intent"]["en"], True),
                          re.IGNORECASE),
        gov_suffixes=tuple(data["gov_suffixes"]),
        blocklist=frozenset(line.strip().lower() for line in blocklist.splitlines()
                            if line.strip() and not line.startswith("#")),
    )


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _CLAUSE.finditer(text, max(0, start - 200), start)]
    after = _CLAUSE.search(text, end, end + 200)
    return (before[-1] if before else max(0, start - 200)), (after.start() if after else min(len(text), end + 200))


def _terms(text: str, lex: _Lexicon) -> list[tuple[int, int, str, bool]]:
    excepted = [m.span() for m in lex.exceptions.finditer(text)]
    found = []
    for m in lex.terms.finditer(text):
        if any(s <= m.start() and m.end() <= e for s, e in excepted):
            continue
        kind = lex.type_of[m.group().lower()]
        first, last = _clause(text, m.start(), m.end())
        near = text[max(first, m.start() - _NEAR):m.start()] + " " + text[m.end():min(last, m.end() + _NEAR)]
        request = (lex.category[kind] in ("illegal", "violence") and bool(lex.intent.search(near))
                   and not lex.context.search(text, first, last))
        found.append((m.start(), m.end(), kind, request))
    return found


def url_risk(url: str) -> str | None:
    """Why a URL is risky (the rule's last part), or None."""
    lex = lexicon()
    scheme = url.split(":", 1)[0].lower() if re.match(r"[a-z]+:", url, re.IGNORECASE) else ""
    if scheme in ("data", "file"):
        return f"scheme.{scheme}"
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].lower()
    host = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.split(":")[0]
    host = host.rstrip(".")
    try:
        ipaddress.ip_address(host)
        return "ip_literal"
    except ValueError:
        if host.isdigit() or re.fullmatch(r"0x[0-9a-f]{1,8}", host):
            return "ip_literal"
    if any(label.startswith("xn--") for label in host.split(".")):
        return "punycode"
    if any(host == d or host.endswith("." + d) for d in lex.blocklist):
        return "blocklist"
    if _GOV_TOKEN.search(host.translate(_LOOKALIKE)) and not any(
            host == s or host.endswith("." + s) for s in lex.gov_suffixes):
        return "gov_lookalike"
    return None


def scan(text: str, limit: int = MAX_CHARS) -> list[Finding]:
    """Content-risk findings in the first `limit` characters of `text`, in text order."""
    lex = lexicon()
    norm = normalize(text, limit)
    findings = []
    for start, end, kind, request in _terms(norm.text, lex):
        s, e = norm.span(start, end)
        category = lex.category[kind]
        findings.append(Finding("content", kind, category, s, e, f"content.{kind}.{'request' if request else 'term'}",
                                0.9 if request else 0.6, request))
    for m in _URL.finditer(norm.text):
        if why := url_risk(m.group()):
            s, e = norm.span(*m.span())
            findings.append(Finding("content", "url", "url", s, e, f"content.url.{why}", 0.9))
    return sorted(findings, key=lambda f: (f.start, f.end))
