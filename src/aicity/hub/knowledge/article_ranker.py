"""Which candidate article leads a legal answer: a learned article ranker (learning to rank).

The extractive answerer (`extractive.py`) scores every sentence of its candidate articles and, without a ranker,
leads with the best sentence after its article's retrieval discount. The ranker instead scores each candidate
article from what the answerer has computed anyway (its retrieval position and score, its best sentence's score,
whether a sentence matches the question's type, whether it is a definition or a penalty article, whether it took
an overridden provision's place), the law prior's probability of its law (`law_prior.probabilities`, a TF-IDF
product, no embedding) and its share of the article votes of the nearest article questions (`law_prior.article_votes`,
the search's own; the two most voted articles join the candidates when they are not among them, from the law texts
where the retrieved pool lacks them, `extractive.VOTED_SHARE` and `VOTED_ARTICLES`); the answer leads with the best
sentence of the article it ranks first.

The weights are a logistic regression's over standardised features, pointwise (is this candidate the governing
article) or pairwise (the governing article against each other candidate of its question), whichever the study finds
better, fitted on the legal development sets by
`scripts/legal_training/article_ranker.py` (which reports the study, leave-one-set-out) and kept in
`demo/data/training/article_ranker.json`; without that file (or with weights for other features) the answerer keeps
its own order. The answer lists the other candidates after the lead in the ranker's order too (`ranked`: the likeliest
to govern next), so where the ranker's first choice is wrong the governing provision is often the next one quoted.
Leave-one-set-out over the 942 questions of legal_rules_dev…dev10 (the law prior, the article votes and the ranker
each without the set answered; 11,723 article questions; the two most voted articles may join), no ranker → this
ranker: first provision governing 757 → 835, rule stated 854 → 900, superseded as the rule 0 → 0; per set dev10 104 →
126 of 150, dev9 99 → 116, dev8 86 → 105, dev7 105 → 117, dev6 76 → 83, dev4 70 → 74, dev5 73 → 73, dev 14 → 14, lower
on dev2 71 → 69, dev3 59 → 58. About 0.6 ms CPU per question. Offline (the governing article ranked first among the
candidates): 751 by the answerer's own order, 918 among them at all (913 with the most voted article alone joining);
pointwise 825–841 at C 0.01–10 (the weights shipped: C 10), pairwise 837–839. With one voted article joining: governs
831, rule stated 896 (886 with the other provisions in the search's order). On the held-out sets, this state against
the one before (governs 830): the rule stated rose on ten of eleven, the first provision governing fell on five and
rose on one (README). Earlier rounds: with 9,447 article
questions governs 830 and the rule stated 883 (the 2,276 added last, by four writers who read only the laws, each for
articles with none or one question: +1 and +3); with 7,326, 817 and 878; the voted article from the retrieved pool
only, 829 and 880; the ranker without the votes, over 5,358 questions, 790; gradient-boosted trees over the same
features (7,326 questions) 826–832 offline against the linear 823–825; interactions of the votes with the sentence and search shares, or each feature relative to the question's
best, 820–822. Not kept, offline on the recorded candidates (pairwise 831–839 against 831–837): how much of the
question's words the article, its best 款 or its best sentence covers (also relative to the best candidate's, and only
the words no other candidate has), whether a clause of its best sentence is headed by a question word (who acts),
whether another candidate's text is its higher, special or later text or it theirs (`relations`); nor, run
leave-one-set-out, the query's cosine with the article's chunks and with its article questions (governs 829 → 829,
rule stated 880 → 883); nor the nearest article questions by their characters (TF-IDF 1–3-grams, ten neighbours)
as a second vote (offline 834–835 against 831–837).
(公司违法把我辞退了，赔偿金按几个月工资算, which the ranker without the votes led with 劳动合同法第四十七条, the standard,
leads again with 第八十七条, the double the employer owes.)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from re import Pattern
from typing import Any

import numpy as np

from aicity.hub.knowledge import law_prior

#: the features, in the order of the weights' columns
FEATURES = ("position", "search_share", "best_share", "own_rank", "lead_share", "is_lead", "law_prior", "law_top",
            "same_law", "level", "typed", "definition", "liability", "liability_asked", "replaced", "penalty_extra", "superior_extra",
            "paragraphs", "named_law", "vote_share", "vote_top", "voted_extra")


@dataclass(frozen=True)
class Reading:
    """What the answerer read in the question, and its patterns for legal text (`extractive.ranker_reading`: passed in,
    so this module needs nothing of the answerer's)."""

    types: list[str]  # the kinds of answer asked for (duration, amount, penalty …)
    type_patterns: list[Pattern[str]]  # a sentence that answers one of them
    definition: Pattern[str]  # a definitions clause
    liability: Pattern[str]  # a penalty clause
    candidates: int  # how many candidate articles the search gives before any extra
    votes: dict[tuple[str, str], float]  # (law key, article): the nearest article questions' share of the vote


def weights_path() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "training" / "article_ranker.json"))


@lru_cache(maxsize=4)
def _load(path: Path, stamp: int) -> dict[str, Any] | None:
    model = json.loads(path.read_text(encoding="utf-8"))
    return model if list(model.get("features", [])) == list(FEATURES) else None


def model() -> dict[str, Any] | None:
    """The shipped weights ({"features", "mean", "scale", "coef"}), or None (no file, or another feature set)."""
    path = weights_path()
    return _load(path, path.stat().st_mtime_ns) if path.is_file() else None


def features(question: str, reading: Reading, articles: list[Any], found: list[Any]) -> np.ndarray:
    """One row of FEATURES per candidate article (`extractive._Article`s and their `Sentence`s)."""
    from aicity.hub.knowledge.relations import LEVEL_RANK, relations

    rel = relations()
    laws = [law_prior.law_key(a.hit.doc_key) for a in articles]

    prior = law_prior.probabilities(question)
    top_law = max(prior, key=prior.__getitem__) if prior else None
    best_own = [0.0] * len(articles)
    best = [0.0] * len(articles)
    typed = [False] * len(articles)
    defines = [False] * len(articles)
    patterns = reading.type_patterns
    for s in found:
        best_own[s.article] = max(best_own[s.article], s.own_score)
        best[s.article] = max(best[s.article], s.score)
        typed[s.article] = typed[s.article] or any(p.search(s.text) for p in patterns)
        defines[s.article] = defines[s.article] or bool(reading.definition.search(s.text))
    lead = max(range(len(articles)), key=lambda i: best[i]) if articles else 0
    top_own, top, top_search = max(best_own, default=0.0), max(best, default=0.0), \
        max((a.hit.score for a in articles), default=0.0)
    by_own = sorted(range(len(articles)), key=lambda i: -best_own[i])
    top_rank = max(LEVEL_RANK.values())
    votes = reading.votes
    top_vote = max(votes, key=votes.__getitem__) if votes else None
    rows = []
    for i, (a, law) in enumerate(zip(articles, laws, strict=True)):
        rows.append([
            math.log1p(i if a.rank is None else a.rank),
            a.hit.score / top_search if top_search > 0 else 0.0,
            best_own[i] / top_own if top_own > 0 else 0.0,
            math.log1p(by_own.index(i)),
            best[i] / top if top > 0 else 0.0,
            float(i == lead),
            prior.get(law, 0.0),
            float(law == top_law),
            laws.count(law) / len(laws),
            rel.rank(a.hit.doc_key) / top_rank,
            float(typed[i]),
            float(defines[i]),
            float(bool(reading.liability.search(a.text))),
            float(bool(reading.liability.search(a.text)) and "penalty" in reading.types),  # a penalty article for what happens
            float(a.override is not None),
            float(a.rank is not None),  # a penalty article found through the candidate duty it names
            float(i >= reading.candidates and a.rank is None and not a.voted),  # a higher text's article from further down
            math.log1p(sum(1 for line in a.text.split("\n") if line.strip())),
            float(len(law) > 2 and law in question),
            votes.get((law, a.hit.locator.split()[0]), 0.0),
            float((law, a.hit.locator.split()[0]) == top_vote),
            float(a.voted),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(articles), len(FEATURES))


def scores(x: np.ndarray, weights: dict[str, Any]) -> np.ndarray:
    """The ranker's score of each row (a logit, up to a constant shared by the rows)."""
    scale = np.asarray(weights["scale"])
    return np.asarray(((x - np.asarray(weights["mean"])) / np.where(scale > 0, scale, 1.0)) @ np.asarray(weights["coef"]))


def ranked(question: str, reading: Reading, articles: list[Any], found: list[Any]) -> list[int]:
    """The candidate articles' indices, the likeliest to govern first: the answer leads with the first that has a
    scored sentence (`lead_article`) and lists the next ones after it; [] without weights or with one candidate (the
    answerer's own order)."""
    weights = model()
    if weights is None or len(articles) < 2:
        return []
    score = scores(features(question, reading, articles, found), weights)
    return sorted(range(len(articles)), key=lambda i: -score[i])


def lead_article(order: list[int], found: list[Any]) -> int | None:
    """The first article of `order` with a scored sentence (one none of whose sentences scored never leads)."""
    speaking = {s.article for s in found}
    return next((i for i in order if i in speaking), None)
