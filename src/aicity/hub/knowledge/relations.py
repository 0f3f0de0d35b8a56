"""Which provision governs: each document's level, dates and what it replaces (`laws.yaml`), and
the provisions a later or higher text overrides (`law_relations.yaml`).

Conflicts are resolved by the three rules of the Legislation Law: 上位法优于下位法 (level),
特别法优于一般法 (a special rule, for its own matters) and 新法优于旧法 (date). The data files are
read from the city's data dir when it has them, else from the demo city's package data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import rjieba
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aicity.core.config import settings
from aicity.core.text import normalize, pinyin

#: higher rank, higher level (立法法第九十九条); 部门规章 and 地方性法规 rank alike
LEVEL_RANK = {"宪法": 5, "法律": 4, "行政法规": 3, "党内法规": 3, "地方性法规": 2, "部门规章": 2, "地方政府规章": 1,
              "规范性文件": 0}
HIGHER = "上位法优于下位法"
NEWER = "新法优于旧法"
SPECIAL = "特别法优于一般法"
_LAW_TITLE = re.compile(r"(?<!办)法$|法典·.+$")
_HAN = re.compile(r"[\u4e00-\u9fff]+")
#: a phrase this long or longer also matches written with homophones (two characters: 网巴 → 网吧)
HOMOPHONE_MIN_CHARS = 2
#: a phrase ending in a particle (砍了) is matched only as written: by sound it is any verb (看了)
_PARTICLE_END = tuple("了着的过")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentMeta(_Strict):
    level: str
    authority: str | None = None
    effective: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    replaces: list[str] = []
    implements: str | None = None
    #: higher texts on the same matters besides the one it implements (its 上位法: the law a regulation
    #: predating it details); where both state a rule, the higher provision governs
    under: list[str] = []
    #: older texts of the same level whose matters it rules too (the same authority's later regulation):
    #: where both state a rule, it governs — 新法优于旧法
    covers: list[str] = []
    newer: str | None = None
    source: str | None = None


class ProvisionRef(_Strict):
    doc: str
    article: str
    paragraph: int | None = Field(default=None, ge=1)

    def label(self) -> str:
        return f"《{self.doc}》{self.article}"


class Override(_Strict):
    provision: ProvisionRef
    governed_by: ProvisionRef
    principles: list[str] = Field(min_length=1)
    reason: str
    source: str
    #: the override holds only for questions naming one of these (a special rule's own matters)
    when: list[str] = []

    def applies(self, question: str) -> bool:
        return not self.when or any(term in question for term in self.when)


class RelationsError(ValueError):
    """The relations data is invalid (an unknown principle or level, a malformed entry)."""


@dataclass
class Relations:
    documents: dict[str, DocumentMeta] = field(default_factory=dict)
    superseded: dict[str, str] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)

    def level(self, key: str) -> str:
        meta = self.documents.get(key)
        return meta.level if meta else infer_level(key)

    def rank(self, key: str) -> int:
        return LEVEL_RANK.get(self.level(key), 0)

    def is_superior(self, higher: str, lower: str) -> bool:
        """Whether `higher` governs `lower`'s matters: a higher-level text on them (the law it implements,
        or one named in `under`) or a later one of the same level that `covers` them."""
        return self.superior_by(higher, lower) is not None

    def superior_by(self, higher: str, lower: str) -> str | None:
        """The principle by which `higher` governs a rule that both it and `lower` state, or None."""
        meta, over = self.documents.get(lower), self.documents.get(higher)
        if meta is not None and (meta.implements == higher or higher in meta.under) and self.rank(higher) > self.rank(lower):
            return HIGHER
        if over is not None and lower in over.covers and self.rank(higher) == self.rank(lower):
            return NEWER
        return None

    def outranks(self, higher: str, lower: str) -> str | None:
        """The principle by which `higher` governs where both it and `lower` state a rule alike: a declared
        relation (`superior_by`), else a text of a higher level (上位法优于下位法, 立法法第九十九条), whether or
        not it names the lower one."""
        declared = self.superior_by(higher, lower)
        if declared is not None or higher == lower:
            return declared
        # a text of no rank (a 规范性文件, a level the table lacks) is outranked by no level alone
        return HIGHER if self.rank(higher) > self.rank(lower) > 0 else None

    def override_for(self, doc: str, article: str, question: str) -> Override | None:
        """The override that takes `article` of `doc` out of force for this question, if any."""
        return next((o for o in self.overrides if o.provision.doc == doc and o.provision.article == article
                     and o.applies(question)), None)

    def is_overridden(self, doc: str, article: str, question: str = "") -> bool:
        """Whether the provision is not the rule: its document was replaced, or a later or higher
        provision overrides it (for this question)."""
        return doc in self.superseded or self.override_for(doc, article, question) is not None

    def effective(self, key: str) -> str | None:
        meta = self.documents.get(key)
        return meta.effective if meta else None

    def prevails(self, doc: str, over: str, defers_to: frozenset[str] | None = None) -> str | None:
        """The principle by which `doc` governs a matter that `over` rules otherwise, or None:
        `over` leaves it to texts of the levels `defers_to` (法律、行政法规另有规定的除外) and `doc` is one
        → 特别法优于一般法; `doc` ranks higher → 上位法优于下位法; the same organ's later text on the same
        level (立法法第一百零三条; or one whose `covers` names `over`) → 新法优于旧法."""
        if doc == over:
            return None
        if defers_to and self.level(doc) in defers_to:
            return SPECIAL
        if self.rank(doc) > self.rank(over):
            return HIGHER
        if self.rank(doc) != self.rank(over) or not self.same_organ(doc, over):
            return None
        new, old = self.effective(doc), self.effective(over)
        return NEWER if new and old and new > old else None

    def same_organ(self, doc: str, other: str) -> bool:
        """Whether both texts were made by the same authority (as recorded), or `doc` covers `other`."""
        meta, theirs = self.documents.get(doc), self.documents.get(other)
        if meta is not None and other in meta.covers:
            return True
        return bool(meta and theirs and meta.authority and meta.authority == theirs.authority)

    def describe(self, key: str, date: str | None = None) -> str:
        """`行政法规，2022年11月1日施行` — what an answer says about a document."""
        meta = self.documents.get(key)
        parts = [self.level(key)]
        effective = meta.effective if meta and meta.effective else None
        if effective:
            parts.append(f"{_cn_date(effective)}施行")
        elif date:
            parts.append(f"{_cn_date(date)}版本")
        return "，".join(parts)


#: the texts a deferral names (法律、行政法规另有规定) → their levels; bare 法规 is 行政法规 and 地方性法规
#: (立法法第二条), bare 规章 both kinds of 规章; a 规章 only where a deferral names it
_DEFERRED = {"法律": ("法律",), "行政法规": ("行政法规",), "地方性法规": ("地方性法规",), "法规": ("行政法规", "地方性法规"),
             "部门规章": ("部门规章",), "地方政府规章": ("地方政府规章",), "规章": ("部门规章", "地方政府规章")}
_DEFERRED_NAME = re.compile("|".join(sorted(_DEFERRED, key=len, reverse=True)))


def deferred_levels(deferral: str) -> frozenset[str]:
    """The levels of the texts a provision leaves a matter to: 法律、行政法规另有规定 → {法律, 行政法规}."""
    return frozenset(level for name in _DEFERRED_NAME.findall(deferral) for level in _DEFERRED[name])


def infer_level(title: str) -> str:
    """A document's level from its title when no metadata names it."""
    if _LAW_TITLE.search(title):
        return "法律"
    if title.endswith("条例") or re.search(r"法实施(细则|条例)$", title):
        return "行政法规"
    return "部门规章"


def _cn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def _data_file(name: str) -> Path:
    path = settings().data_dir / name
    return path if path.is_file() else Path(str(resources.files("aicity") / "demo" / "data" / name))


def parse_relations(laws: dict, relations: dict) -> Relations:
    """Validate both files' contents; a bad entry raises RelationsError naming it."""
    try:
        documents = {k: DocumentMeta.model_validate(v) for k, v in (laws.get("documents") or {}).items()}
        overrides = [Override.model_validate(o) for o in (relations.get("overrides") or [])]
    except ValidationError as exc:
        raise RelationsError(f"法规关系数据无效 invalid law relations: {exc}") from exc
    problems = [f"{k}: unknown level {m.level}" for k, m in documents.items() if m.level not in LEVEL_RANK]
    problems += [f"{o.provision.label()}: unknown principle {p}" for o in overrides for p in o.principles
                 if p not in (HIGHER, NEWER, SPECIAL)]
    if problems:
        raise RelationsError("法规关系数据无效 invalid law relations: " + "; ".join(problems))
    return Relations(documents=documents, superseded=dict(laws.get("superseded") or {}), overrides=overrides)


@lru_cache(maxsize=4)
def _load(laws_path: Path, relations_path: Path, stamp: tuple[float, float]) -> Relations:
    read = lambda p: yaml.safe_load(p.read_text(encoding="utf-8")) or {}  # noqa: E731
    return parse_relations(read(laws_path), read(relations_path))


class LegalTerms:
    """Everyday and English phrases → the statutes' own terms (`legal_terms.yaml`): 裁员 is 裁减人员,
    "work injury" is 工伤. A phrase of Latin letters matches whole words only (list its inflections)."""

    def __init__(self, entries: dict[str, list[str]]) -> None:
        self.patterns: list[tuple[str, re.Pattern[str]]] = []
        #: each Chinese phrase (and term) by its sounds: (syllables, phrase, term), under its first syllable
        self.sounds: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for term, phrases in entries.items():
            if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
                raise RelationsError(f"法律用语表无效 invalid legal terms: {term}")
            # whole words: ASCII word boundaries, so 我被laid off了 matches and "card" is not "car"
            alternatives = [rf"\b{re.escape(p.lower())}\b" if p.isascii() else re.escape(normalize(p).lower())
                            for p in phrases]
            self.patterns.append((str(term), re.compile("|".join(alternatives), re.ASCII)))
            for phrase in (normalize(p) for p in [str(term), *phrases]):
                if _HAN.fullmatch(phrase) and len(phrase) >= HOMOPHONE_MIN_CHARS and not phrase.endswith(_PARTICLE_END):
                    said = tuple(pinyin(phrase))
                    self.sounds.setdefault(said[0], []).append((said, phrase, str(term)))

    def statute_terms(self, question: str) -> list[str]:
        """The statutes' terms for what the question says in other words (not those it already uses),
        also where it writes a phrase with characters of the same sound (网巴 for 网吧, 栽员 for 裁员:
        a slip of pinyin input)."""
        text = normalize(question).lower()
        found = [term for term, pattern in self.patterns if term not in text and pattern.search(text)]
        return found + [term for term in self.homophones(text) if term not in text and term not in found]

    def homophones(self, text: str) -> list[str]:
        """The terms whose phrase `text` writes with other characters of the same sound: at most one
        character in three differs, at least one is the phrase's own (no match from sound alone), and
        the characters written are neither a word of the dictionary's nor part of one beyond them (工商,
        发钱, 工商 in 个体工商户, 底保 in 到底保 are words of their own, not a slip for 工伤, 罚钱 or 低保)."""
        said = [pinyin(ch)[0] if _HAN.fullmatch(ch) else ch for ch in text]
        bounds, at = {0}, 0
        for token in rjieba.cut(text, False):  # dictionary words only: a slip falls apart into characters
            at += len(token)
            bounds.add(at)
        found: list[str] = []
        for i, first in enumerate(said):
            for sounds, phrase, term in self.sounds.get(first, []):
                written = text[i:i + len(phrase)]
                if (len(written) < len(phrase) or tuple(said[i:i + len(phrase)]) != sounds or written == phrase
                        or i not in bounds or i + len(phrase) not in bounds or rjieba.has_word(written)):
                    continue
                differ = sum(a != b for a, b in zip(written, phrase, strict=True))
                if differ <= max(1, len(phrase) // 3) and differ < len(phrase) and term not in found:
                    found.append(term)
        return found


@lru_cache(maxsize=4)
def _load_terms(path: Path, stamp: float) -> LegalTerms:
    return LegalTerms(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def legal_terms() -> LegalTerms:
    """The city's legal vocabulary (re-read when the file changes)."""
    path = _data_file("legal_terms.yaml")
    return _load_terms(path, path.stat().st_mtime)


def relations() -> Relations:
    """The city's law metadata and provision overrides (re-read when a file changes)."""
    laws, rel = _data_file("laws.yaml"), _data_file("law_relations.yaml")
    return _load(laws, rel, (laws.stat().st_mtime, rel.stat().st_mtime))
