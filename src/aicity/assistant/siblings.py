"""Choosing among sibling catalog items: the request's own words against each item's name and keywords.

BM25 over an item's whole route (name, keywords, summary) ranks the items of a topic well, but not always the
right one of a family: 燃气过户 loses to 机动车转移登记（二手车过户） when the city's synonyms add 转移登记, 户口迁出
to 出生登记（新生儿落户） when 户口 expands to 落户, a first licence to its change or renewal. The items whose
routes score within `SHARE` of the best are ranked again by

- how much of the item's name the request says: its character pairs, a pair that few names share weighing more
  (迁出 more than 登记), written as they are or with characters of the same sound (a slip of pinyin input such as
  户口签出 for 迁出 or 结昏 for 结婚 still counts);
- the act the request asks for (`ACTS`: a replacement, a correction, a change, a cancellation, a renewal, a transfer
  upon a death) against the acts the item's name is for (户口登记项目变更更正 is for a change and a correction): a
  request that names no act is for the first-time item of the family.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache

from aicity.core.text import is_mostly_latin, normalize, pinyin, tokenize
from aicity.hub.catalog.schemas import ServiceItem

#: items whose best route scores at least this share of the best item's are ranked again
SHARE = 0.4
#: weight of the share of an item's name that the request says
COVER_WEIGHT = 1.5
#: an item for the act the request asks counts this much more; one for another act (the first-time item included, or
#: an item for an act when the request asks none) this much less
ACT_BONUS = 1.3
ACT_PENALTY = 0.75
#: acts: (id, words in a request, words in an item's name); the first whose request words appear decides
ACTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("cancel", ("注销", "销户", "不做了", "不干了", "不开了", "关门", "关掉公司", "关公司", "停业", "歇业", "清税",
                "deregist", "cancel", "close down", "closing"), ("注销", "销户", "歇业", "清税", "停业")),
    ("replace", ("补办", "补领", "补一张", "补个", "补换", "换领", "换一张", "换张", "换新", "挂失", "丢了", "丢失",
                 "遗失", "弄丢", "掉了", "搞丢", "被偷", "烧了", "坏了", "损坏", "lost", "replac", "stolen", "damaged"),
     ("补领", "补换", "换领", "挂失")),
    ("renew", ("延续", "到期", "期满", "快过期", "过期", "续期", "续办", "续签", "签注", "换证", "换本", "复核", "renew",
               "expir"), ("延续", "期满", "复核", "签注")),
    # a slip in a record (打错, 写错) asks its correction, not a change of what the record says (改名)
    ("correct", ("打错", "写错", "弄错", "填错", "录错", "登错", "错了", "有误", "错字", "更正", "misspel", "typo",
                 "mistake"), ("更正",)),
    ("change", ("变更", "更改", "改名", "更名", "改地址", "换地址", "搬家", "搬到", "迁址", "换了法人", "换法人",
                "换场地", "换了场地", "换了个地址", "换了地址", "换地方", "换了地方", "加名", "加个名", "去掉名", "改扩建",
                "扩建", "change", "move to", "moved"), ("变更", "重新核发")),
    # what a person leaves at their death (去世, and said gently: 走了, 留下) passes by inheritance: the estate's own
    # items name 继承 or 死亡
    ("inherit", ("去世", "过世", "病故", "身故", "逝世", "离世", "死亡", "走了", "留下", "遗产", "继承", "遗嘱",
                 "passed away", "died", "inherit"), ("继承", "死亡")),
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _pairs(seq: list[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:], strict=False))


@dataclass(frozen=True)
class _Item:
    #: the name's character pairs, each with its sounds (brackets and punctuation dropped)
    pairs: tuple[tuple[tuple[str, str], tuple[str, str]], ...]
    english: frozenset[str]
    #: the acts (`ACTS`) the name is for: none for a first-time item
    acts: frozenset[str]


def _item(item: ServiceItem) -> _Item:
    name = normalize(item.name)
    pairs: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for run in _HAN_RUN.findall(name):
        sounds = pinyin(run)
        pairs += [((a, b), (sa, sb)) for a, b, sa, sb in zip(run, run[1:], sounds, sounds[1:], strict=False)]
    acts = frozenset(a for a, _, marks in ACTS if any(m in name for m in marks))
    return _Item(tuple(dict.fromkeys(pairs)), frozenset(tokenize(item.name_en or "")), acts)


@lru_cache(maxsize=4096)
def _written(text: str) -> tuple[bool, frozenset[str], frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """What `Siblings.said` compares each item's name with, once per request: whether it is in Latin letters, its
    words, its character pairs and the pairs of their sounds."""
    lowered = normalize(text).lower()
    if is_mostly_latin(lowered):
        return True, frozenset(tokenize(lowered)), frozenset(), frozenset()
    sounds = [x for run in _HAN_RUN.findall(lowered) for x in ["|", *pinyin(run)]]
    return False, frozenset(), frozenset(_pairs(list(lowered))), frozenset(_pairs(sounds))


@lru_cache(maxsize=4096)
def asked_act(text: str) -> str | None:
    """The act a request asks for (`ACTS`), else None (a first-time service, or not said)."""
    lowered = normalize(text).lower()
    return next((a for a, words, _ in ACTS if any(w in lowered for w in words)), None)


class Siblings:
    """Ranks again the items a request's routes found (see the module)."""

    def __init__(self, items: dict[str, ServiceItem]) -> None:
        self._catalog = items

    @cached_property
    def items(self) -> dict[str, _Item]:
        """Each item's name as `said` compares it: built on first need (the names' pinyin takes a while; a command
        that builds the router but ranks no siblings never waits for it)."""
        return {key: _item(i) for key, i in self._catalog.items()}

    @cached_property
    def weight(self) -> dict[tuple[str, str], float]:
        """A character pair many names share (登记, 许可) says less about which item than a rare one (迁出)."""
        df = Counter(p for i in self.items.values() for p, _ in i.pairs)
        return {p: 1.0 / math.log2(1 + n) for p, n in df.items()}

    def said(self, text: str, item: str) -> float:
        """How much of the item's name the request says (0..1): the weighted share of the name's character pairs it
        writes, as they are or by their sounds. English requests: the share of the English name's words."""
        known = self.items.get(item)
        if known is None:
            return 0.0
        latin, words, chars, sounds = _written(text)
        if latin:
            return len(known.english & words) / len(known.english) if known.english else 0.0
        total = sum(self.weight[p] for p, _ in known.pairs)
        return sum(self.weight[p] for p, sound in known.pairs if p in chars or sound in sounds) / total if total else 0.0

    def act_factor(self, act: str | None, item: str) -> float:
        """ACT_BONUS for an item for the act asked; ACT_PENALTY for one for other acts only, or for any item but the
        first-time one when no act is asked; else 1."""
        known = self.items.get(item)
        if known is None:
            return 1.0
        if act is not None and act in known.acts:
            return ACT_BONUS
        return ACT_PENALTY if known.acts or act is not None else 1.0

    def rank(self, text: str, scored: dict[str, float]) -> str | None:
        """The item of `scored` (item → its best route's score) that the request asks for, among those within SHARE
        of the best; None when `scored` is empty."""
        if not scored:
            return None
        top = max(scored.values())
        act = asked_act(text)
        near = {k: s for k, s in scored.items() if s >= SHARE * top}
        if len(near) == 1:  # nothing to rank again
            return next(iter(near))
        return max(near, key=lambda k: near[k] * (1 + COVER_WEIGHT * self.said(text, k)) * self.act_factor(act, k))
