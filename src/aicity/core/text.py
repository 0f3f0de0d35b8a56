"""Chinese-first text processing shared by routing and retrieval: normalisation,
tokenisation (rjieba, search mode), an incremental BM25 index, and reading rows of requests (JSONL)."""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rjieba
import snowballstemmer

log = logging.getLogger(__name__)

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_LATIN = re.compile(r"^[a-z]+$")
#: snowballstemmer's stemmers keep the word being stemmed on themselves: one shared by threads (a request and a
#: background job tokenising at once) stems one thread's word with another's state, so each thread has its own
_stemmers = threading.local()
#: British and American spellings that the stemmer keeps apart
_SPELLING = {"licence": "license", "centre": "center"}
#: function words that carry no routing or retrieval signal
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 么 我 你 他 她 它 我们 你们 他们 是 在 有 和 与 及 或 就 都 也 还 要 想 "
    "请问 请 一下 一个 个 这个 那个 这 那 哪些 什么 怎么 怎样 如何 需要 可以 能 能不能 么样 该 应该 "
    "去 到 给 把 被 让 对 从 向 于 为 为了 以 之 其 中 上 下 里 办理 办 the a an of to for in on is are "
    "i my me we you how what do does can please".split()
)


_CN_DIGIT_VALUES = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                    "八": 8, "九": 9}
_CN_UNIT_VALUES = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def cn_number(text: str) -> int | None:
    """A whole number written in Chinese numerals, Arabic digits or both: 十二 → 12, 一百零五 → 105,
    三万五千 → 35000, 3万 → 30000, 万 → 10000, 两 → 2, full-width digits as ASCII; numerals without units are read digit by digit
    (二〇二六 → 2026). None when the text is not a number."""
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", text))
    if not text or any(c not in _CN_DIGIT_VALUES and c not in _CN_UNIT_VALUES and not c.isascii() or
                       c.isascii() and not c.isdigit() for c in text):
        return None
    if not any(c in _CN_UNIT_VALUES for c in text):
        return int("".join(str(_CN_DIGIT_VALUES.get(c, c)) for c in text))
    total = section = digit = 0
    for ch in text:
        if ch in _CN_DIGIT_VALUES:
            digit = _CN_DIGIT_VALUES[ch]
        elif ch in _CN_UNIT_VALUES:
            unit = _CN_UNIT_VALUES[ch]
            if unit == 10000:
                total, section, digit = ((total + section + digit) or 1) * unit, 0, 0
            else:
                section, digit = section + (digit or 1) * unit, 0
        else:
            digit = digit * 10 + int(ch)
    return total + section + digit


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), no zero-width characters, trimmed."""
    return unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).strip()


@lru_cache(maxsize=4096)
def _cut(text: str) -> tuple[str, ...]:
    return tuple(rjieba.cut_for_search(text))


def pinyin(text: str, errors: str = "default") -> list[str]:
    """Toneless pinyin syllables of `text` (pypinyin's `lazy_pinyin`; `errors` as there). pypinyin loads its phrase
    dictionary when first converting (about 0.3 s of CPU): a command that converts nothing (`aicity agents`, a
    `--help`) does not wait for it."""
    from pypinyin import lazy_pinyin

    syllables: list[str] = lazy_pinyin(text, errors=errors)
    return syllables


def is_mostly_latin(text: str) -> bool:
    """True for a request written in English (or another Latin-script language)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) > 0.7


def english_stem(word: str) -> str:
    """The English stem of a lower-case word (renewal and renew → renew), with this thread's stemmer."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """Search-mode tokens, lower-cased, without punctuation (and stopwords unless asked);
    English words are stemmed."""
    tokens = []
    for tok in _cut(normalize(text).lower()):
        tok = tok.strip()
        if not tok or _PUNCT.match(tok):
            continue
        if not keep_stopwords and tok in STOPWORDS:
            continue
        if _LATIN.match(tok):  # English words: one stem for renewal/renew, benefits/benefit
            tok = english_stem(_SPELLING.get(tok, tok))
        tokens.append(tok)
    return tokens


class Synonyms:
    """Groups of words that mean the same; `expand` adds the rest of a group to a query."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        self._expansions: dict[str, list[str]] = {}
        self.groups: list[list[str]] = []
        for group in groups:
            words = [normalize(w).lower() for w in group]
            self.groups.append(words)
            tokens = [t for w in words for t in tokenize(w)]
            for w in words:
                self._expansions[w] = tokens

    def expand(self, text: str, tokens: list[str]) -> list[str]:
        """`tokens` of `text` plus the tokens of every group with a word that occurs in `text`
        (as a substring: the tokeniser may cut 烧烤店 into 烧烤 and 店)."""
        lowered = normalize(text).lower()
        extra = [t for word, group in self._expansions.items() if word in lowered for t in group if t not in tokens]
        return tokens + list(dict.fromkeys(extra))


    def related(self, a: str, b: str) -> bool:
        """Whether `a` and `b` each contain a word of the same group (e.g. 身份证件 / 身份证)."""
        a, b = normalize(a).lower(), normalize(b).lower()
        return any(any(w in a for w in g) and any(w in b for w in g) for g in self.groups)


@dataclass(frozen=True)
class _Segment:
    """Postings of a run of rows, sorted by term (rows ascending within a term)."""

    terms: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray

    @classmethod
    def merged(cls, parts: Sequence[_Segment]) -> _Segment:
        terms = np.concatenate([p.terms for p in parts])
        order = np.argsort(terms, kind="stable")  # parts are in row order: rows stay ascending
        return cls(terms[order], np.concatenate([p.rows for p in parts])[order],
                   np.concatenate([p.tfs for p in parts])[order])

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.terms, (term, term + 1))
        return self.rows[lo:hi], self.tfs[lo:hi]


class Bm25Index:
    """BM25 (the Lucene variant, as in bm25s) over pre-tokenised documents that can be added
    and removed without re-indexing the rest; scores are raw BM25 (higher is better).

    Term frequencies are kept as postings in segments, and the corpus statistics (document
    count, frequencies, average length) are applied when a query is scored, so after any
    `add` or `remove` the scores are exactly those of an index built from the live rows.
    Adding costs the new documents (segments of similar size merge, as in Lucene);
    removed rows score 0 and stop counting until `compact` drops them.
    """

    def __init__(self, docs: Sequence[Sequence[str]] = (), k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.float64)
        self.alive = np.zeros(0, dtype=bool)
        self._segments: list[_Segment] = []
        self.add(docs)

    @property
    def size(self) -> int:
        """Rows, removed ones included (row numbers stay valid until `compact`)."""
        return len(self.alive)

    def add(self, docs: Sequence[Sequence[str]]) -> None:
        """Append `docs` as rows `size … size + len(docs) - 1`."""
        if not docs:
            return
        ids = [np.fromiter((self._vocab.setdefault(t, len(self._vocab)) for t in d), dtype=np.int64, count=len(d))
               for d in docs]
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        rows = np.repeat(np.arange(self.size, self.size + len(docs)), lengths.astype(np.int64))
        width = len(self._vocab)
        pairs, tfs = np.unique(rows * width + np.concatenate(ids), return_counts=True)
        segment = _Segment.merged([_Segment(pairs % width, pairs // width, tfs.astype(np.float64))])
        self._df = np.concatenate([self._df, np.zeros(width - len(self._df), dtype=np.int64)])
        np.add.at(self._df, segment.terms, 1)
        self._lengths = np.concatenate([self._lengths, lengths])
        self.alive = np.concatenate([self.alive, np.ones(len(docs), dtype=bool)])
        self._segments.append(segment)
        while len(self._segments) > 1 and len(self._segments[-2].terms) <= 2 * len(self._segments[-1].terms):
            self._segments[-2:] = [_Segment.merged(self._segments[-2:])]

    def remove(self, rows: Iterable[int]) -> None:
        """Rows that stop matching and stop counting in the corpus statistics."""
        gone = np.array([r for r in set(rows) if self.alive[r]], dtype=np.int64)
        if not len(gone):
            return
        self.alive[gone] = False
        for segment in self._segments:
            np.subtract.at(self._df, segment.terms[np.isin(segment.rows, gone)], 1)

    @property
    def removed(self) -> int:
        return self.size - int(self.alive.sum())

    def compact(self) -> np.ndarray:
        """Drop removed rows and renumber the rest in order; returns the old numbers kept."""
        keep = np.flatnonzero(self.alive)
        renumber = np.cumsum(self.alive) - 1
        if self._segments:
            whole = _Segment.merged(self._segments)
            live = self.alive[whole.rows]
            self._segments = [_Segment(whole.terms[live], renumber[whole.rows[live]], whole.tfs[live])]
        self._lengths, self.alive = self._lengths[keep], self.alive[keep]
        return keep

    def scores(self, query: Iterable[str]) -> np.ndarray:
        """BM25 of every row (0 for removed rows); a repeated query token counts again."""
        scores = np.zeros(self.size, dtype=np.float64)
        n = int(self.alive.sum())
        if not n:
            return scores
        avg_length = float(self._lengths[self.alive].sum()) / n or 1.0
        norm = self.k1 * (1 - self.b + self.b * self._lengths / avg_length)
        for token in query:
            term = self._vocab.get(token)
            if term is None or not self._df[term]:
                continue
            df = self._df[term]
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            for segment in self._segments:
                rows, tfs = segment.postings(term)
                scores[rows] += idf * tfs / (tfs + norm[rows])
        scores[~self.alive] = 0.0
        return scores

    def top(self, query: Iterable[str], k: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        if not len(scores):
            return []
        k = min(k, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((int(i), float(scores[i])) for i in idx), key=lambda p: -p[1])
        return [(i, s) for i, s in ranked if s > 0]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file of requests: the objects with a string `q`; no file, no rows. A line that is not
    JSON is skipped with a warning (a hand-edited training file must not stop the city)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            log.warning("%s: a line that is not JSON was skipped", path)
            continue
        if isinstance(row, dict) and isinstance(row.get("q"), str):
            rows.append(row)
    return rows
