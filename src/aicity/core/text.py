"""Chinese-first text processing shared by routing and retrieval: normalisation,
tokenisation (rjieba, search mode) and a BM25 index (bm25s)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import bm25s
import numpy as np
import rjieba
import snowballstemmer

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_LATIN = re.compile(r"^[a-z]+$")
_english = snowballstemmer.stemmer("english")
#: British and American spellings that the stemmer keeps apart
_SPELLING = {"licence": "license", "centre": "center"}
#: function words that carry no routing or retrieval signal
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 么 我 你 他 她 它 我们 你们 他们 是 在 有 和 与 及 或 就 都 也 还 要 想 "
    "请问 请 一下 一个 个 这个 那个 这 那 哪些 什么 怎么 怎样 如何 需要 可以 能 能不能 么样 该 应该 "
    "去 到 给 把 被 让 对 从 向 于 为 为了 以 之 其 中 上 下 里 办理 办 the a an of to for in on is are "
    "i my me we you how what do does can please".split()
)


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), no zero-width characters, trimmed."""
    return unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).strip()


@lru_cache(maxsize=4096)
def _cut(text: str) -> tuple[str, ...]:
    return tuple(rjieba.cut_for_search(text))


def is_mostly_latin(text: str) -> bool:
    """True for a request written in English (or another Latin-script language)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) > 0.7


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
            tok = _english.stemWord(_SPELLING.get(tok, tok))
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


class Bm25Index:
    """A BM25 index over pre-tokenised documents; scores are raw BM25 (higher is better)."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.size = len(docs)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if self.size:
            self._bm25.index([list(d) or ["\u0000"] for d in docs], show_progress=False)

    def scores(self, query: Iterable[str]) -> np.ndarray:
        tokens = list(query)
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return self._bm25.get_scores(tokens)

    def top(self, query: Iterable[str], k: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        if not len(scores):
            return []
        k = min(k, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((int(i), float(scores[i])) for i in idx), key=lambda p: -p[1])
        return [(i, s) for i, s in ranked if s > 0]
