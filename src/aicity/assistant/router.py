"""Semantic routing over skill examples and data routes (service items, bundles, laws, duties).

Every route is a short text; a request is scored against all of them with BM25 over
rjieba search-mode tokens, the best route per skill is kept, cue phrases add weight, and
skills the caller's role may not use are never candidates.
"""

from __future__ import annotations

import re

import numpy as np
from dataclasses import dataclass

from aicity.agents.base import Route, Skill
from aicity.agents.registry import AgentRegistry
from aicity.core.text import Bm25Index, normalize, tokenize
from aicity.hub.knowledge import service as knowledge
from aicity.identity.service import Principal

#: a cue phrase in the request adds this much to its skill's score
CUE_BONUS = 6.0
#: a route meant for the other public audience (an enterprise item asked by a citizen) counts this much
OTHER_AUDIENCE_WEIGHT = 0.8
#: below this raw score a clause is not routed on its own
MIN_SCORE = 2.5

_CLAUSE_SPLIT = re.compile(r"[。！？!?；;\n]+|(?:另外|此外|还有就是|顺便问一下|顺便问下|顺便|同时我还想|同时还想|以及|and also|also,)")


@dataclass(frozen=True)
class Candidate:
    agent: str
    skill: str
    params: dict[str, str]
    score: float
    route: str

    @property
    def confidence(self) -> float:
        """Raw BM25 mapped to 0..1 for display; routing decisions use the raw score."""
        return round(self.score / (self.score + 4.0), 3)


@dataclass(frozen=True)
class _Entry:
    agent: str
    skill: str
    params: tuple[tuple[str, str], ...]
    text: str
    audience: tuple[str, ...]


class Router:
    def __init__(self, registry: AgentRegistry) -> None:
        self.registry = registry
        self.entries: list[_Entry] = []
        self.skills: dict[tuple[str, str], Skill] = {}
        for agent in registry.agents():
            for skill in agent.skills:
                self.skills[(agent.id, skill.id)] = skill
                routes = [Route(e) for e in skill.examples] + (skill.routes() if skill.routes else [])
                self.entries += [_Entry(agent.id, skill.id, r.params, r.text, r.audience) for r in routes]
        self.index = Bm25Index([tokenize(e.text) for e in self.entries])
        self._audience_weights = {
            role: np.array([1.0 if not e.audience or role in e.audience else OTHER_AUDIENCE_WEIGHT
                            for e in self.entries], dtype=np.float32)
            for role in ("citizen", "enterprise")
        }

    def _scores(self, text: str, principal: Principal) -> np.ndarray:
        scores = self.index.scores(knowledge.query_tokens(text))
        role = principal.role.value
        if role in ("citizen", "enterprise"):
            scores = scores * self._audience_weights[role]
        return scores

    def candidates(self, text: str, principal: Principal, scores=None) -> list[Candidate]:
        """Best route per skill for `text`, best first; only skills `principal` may use."""
        scores = self._scores(text, principal) if scores is None else scores
        best: dict[tuple[str, str], tuple[float, _Entry]] = {}
        for entry, score in zip(self.entries, scores, strict=True):
            key = (entry.agent, entry.skill)
            if score > 0 and (key not in best or score > best[key][0]):
                best[key] = (float(score), entry)
        lowered = normalize(text).lower()
        out: list[Candidate] = []
        for key, skill in self.skills.items():
            if not skill.allowed(principal):
                continue
            score, entry = best.get(key, (0.0, None))
            score *= skill.route_weight
            if any(cue in lowered for cue in skill.cues):
                score += CUE_BONUS
            if score <= 0:
                continue
            out.append(Candidate(key[0], key[1], dict(entry.params) if entry else {}, score, entry.text if entry else ""))
        out.sort(key=lambda c: -c.score)
        return out

    def _best_params(self, scores, wanted: tuple[str, ...], principal: Principal) -> dict[str, str]:
        """Params of the best-scoring route that carries any of `wanted` ({} when none)."""
        best, params = MIN_SCORE, {}
        for entry, score in zip(self.entries, scores, strict=True):
            keys = dict(entry.params)
            if score >= best and any(k in keys for k in wanted) and self.skills[(entry.agent, entry.skill)].allowed(principal):
                best, params = float(score), {k: v for k, v in keys.items() if k in wanted}
        return params

    def route(self, text: str, principal: Principal) -> Candidate | None:
        scores = self._scores(text, principal)
        cands = self.candidates(text, principal, scores)
        if not cands or cands[0].score < MIN_SCORE:
            return None
        top = cands[0]
        wanted = self.skills[(top.agent, top.skill)].target_params
        if wanted and not any(k in top.params for k in wanted):
            top = Candidate(top.agent, top.skill, {**top.params, **self._best_params(scores, wanted, principal)},
                            top.score, top.route)
        return top

def split_clauses(text: str) -> list[str]:
    """Split a request into clauses that may each carry an intent."""
    return [c.strip(" ，,、") for c in _CLAUSE_SPLIT.split(text) if c and c.strip(" ，,、")]
