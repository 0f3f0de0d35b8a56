"""Adversarial-text normalisation for the detectors, with a map back to the original offsets.

What a detector sees: NFKC per character (full-width １３８ → 138, ： → :), no invisible
characters (zero-width, bidi controls, soft hyphen, variation selectors), Unicode tag
characters turned into the ASCII they hide, and common Cyrillic/Greek look-alikes of Latin
letters folded. Only the first `limit` characters are examined, so the work per request is
bounded; every pattern here and in the detectors is anchored by a lookbehind and uses
possessive quantifiers, so matching stays linear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

#: characters examined per request; the rest is reported as not examined
MAX_CHARS = 100_000

#: look-alike letters used to dodge keyword rules (Cyrillic, Greek) → Latin
_CONFUSABLES = dict(zip("асеіјорхуԁѕАВСЕНІЈКМОРТХУοαεικνρτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
                        "aceijopxydsABCEHIJKMOPTXYoaeiknptuxABEHIKMNOPTYX", strict=True))
#: the look-alike letters folded, as one string (an obfuscation signal for the attack classifier)
CONFUSABLE_LETTERS = "".join(_CONFUSABLES)
_TAG_BASE = 0xE0000  # U+E0020..U+E007E mirror ASCII 0x20..0x7E and render as nothing
_TAG_FIRST, _TAG_LAST = chr(_TAG_BASE + 0x20), chr(_TAG_BASE + 0x7E)
_TAGS = re.compile(f"[{_TAG_FIRST}-{_TAG_LAST}]")
_SUSPECT = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                      "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff"
                      + "".join(_CONFUSABLES) + "]")


@lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    """What one character becomes ('' when it is invisible)."""
    if _TAG_FIRST <= ch <= _TAG_LAST:
        return chr(ord(ch) - _TAG_BASE)
    if ch in _CONFUSABLES:
        return _CONFUSABLES[ch]
    if _SUSPECT.match(ch) or unicodedata.category(ch) == "Cf":
        return ""
    return unicodedata.normalize("NFKC", ch)


@dataclass(frozen=True, slots=True)
class Normalized:
    """`text` is what detectors match; `source[i]` is the original offset of `text[i]`
    (None when they coincide). `examined` original characters were read, of `length`;
    `hidden` is true when they held Unicode tag characters (text invisible to a reader)."""

    text: str
    source: list[int] | None
    examined: int
    length: int
    hidden: bool = False

    @property
    def complete(self) -> bool:
        return self.examined == self.length

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised `text[start:end]` (end exclusive, end > start)."""
        if self.source is None:
            return start, end
        return self.source[start], self.source[end - 1] + 1


def normalize(text: str, limit: int = MAX_CHARS) -> Normalized:
    """Normalise the first `limit` characters of `text`, keeping the offset map."""
    raw = text[:limit]
    if raw.isascii() or (unicodedata.is_normalized("NFKC", raw) and not _SUSPECT.search(raw)):
        return Normalized(raw, None, len(raw), len(text))
    # per character in C (`str.translate` over the folds met so far): answers hold full-width punctuation,
    # so this path is the usual one
    out = raw.translate(_FOLDS)
    hidden = _TAGS.search(raw) is not None
    resized = _RESIZED.intersection(raw)
    if not resized:  # every character became one: the offsets coincide
        return Normalized(out, None, len(raw), len(text), hidden)
    source: list[int] = []
    start = 0
    for i in sorted(i for ch in resized for i in _positions(raw, ch)):  # the few that vanished or grew
        source.extend(range(start, i))
        source.extend([i] * len(_fold(raw[i])))
        start = i + 1
    source.extend(range(start, len(raw)))
    return Normalized(out, source, len(raw), len(text), hidden)


class _Folds(dict[int, str]):
    """Code point → what it becomes (`_fold`), filled as characters are met; those that do not become
    exactly one character are kept in `_RESIZED`."""

    def __missing__(self, code: int) -> str:
        if len(self) >= _FOLDS_KEPT:  # a text of every code point cannot grow it without bound
            self.clear()
        folded = _fold(chr(code))
        if len(folded) != 1:
            _RESIZED.add(chr(code))
        self[code] = folded
        return folded


#: code points whose folds are kept (`_RESIZED` is never cleared: the few thousand that decompose)
_FOLDS_KEPT = 65_536
_FOLDS = _Folds()
_RESIZED: set[str] = set()


def _positions(text: str, ch: str) -> Iterator[int]:
    i = text.find(ch)
    while i >= 0:
        yield i
        i = text.find(ch, i + 1)


#: a run of digit groups joined by one separator each (space, dash): "138 1234-5678"
_GROUPS = re.compile(r"(?<![0-9A-Za-z])[0-9]++(?:(?: ?[-\u2010-\u2015] ?| {1,2}|\) ?)[0-9]++)*+(?:[Xx](?![0-9A-Za-z]))?")
_GROUP = re.compile(r"[0-9]++[Xx]?")


def digit_runs(text: str) -> Iterator[list[tuple[int, int]]]:
    """Each run of digits in normalised `text`, as the spans of its groups: a split identifier
    ("4201 0219 …") is a run of several groups. A run glued to letters on either side is skipped."""
    for run in _GROUPS.finditer(text):
        if run.end() < len(text) and text[run.end()].isascii() and text[run.end()].isalnum():
            continue
        yield [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run.group())]
