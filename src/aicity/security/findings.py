"""The one result every detector returns: what was found, where in the caller's original text,
by which rule and how sure. The same model serves input and output checks (it knows no stage)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["pii", "attack"]
#: a prompt-attack verdict flags text whose score reaches this (the guard's default `attack_threshold`)
ATTACK_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Finding:
    """`text[start:end]` of the original (not normalised) text is what `rule` found.

    `type` names the thing: for personal information `ric`, `mobile`, `landline`, `bank_card`,
    `uscc`, `email`, `passport`, `plate`, `name`, `address`; for prompt attacks `override`,
    `roleplay`, `extraction`, `role_marker`, `indirect`, `hidden_text`, `classifier`.
    `score` is a confidence in [0, 1].
    """

    kind: Kind
    type: str
    start: int
    end: int
    rule: str
    score: float

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end


def without_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep, among findings that overlap, the most confident (then the longest); in text order."""
    starts: list[int] = []
    kept: list[Finding] = []  # in text order, parallel to `starts`
    for f in sorted(findings, key=lambda f: (-f.score, f.start - f.end, f.start)):
        i = bisect_right(starts, f.start)
        if (i and kept[i - 1].overlaps(f)) or (i < len(kept) and kept[i].overlaps(f)):
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept
