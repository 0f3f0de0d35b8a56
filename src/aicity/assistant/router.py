"""Semantic routing over skill examples and data routes (service items, bundles, laws, duties).

Routing answers two questions: what kind of help is asked for (the *intent*: a guide to one
service, a one-thing bundle, a pre-check, a legal answer, who is responsible …) and what it
is about (the *target*: an item, a bundle, a life event, a department).

- Targets are found with BM25 over rjieba search-mode tokens (with the city's synonyms)
  against every route: a skill's examples and the routes its data provides.
- The intent comes from cue phrases, the way a question is asked (还缺什么 → pre-check,
  归谁管 → duties, 哪些手续 → bundle); when cues of several skills appear, the skill with the
  highest `cue_priority` whose target can be found decides.
- With no cue, the best route decides: its skill and its params.
- Within a decided mode, the labelled requests of that mode nearest by meaning vote for the target beside the
  routes' scores (`_Votes`): a request like one already labelled gets the same item, bundle or department; where no
  route has a target, near and agreeing votes give it. A request whose best route's target leads clearly is not
  embedded for the votes alone.
- A request in Latin letters is nearer every text in Latin letters by language alone: its dense signal compares
  the routes of each script among themselves, and only labelled requests not in Latin letters vote for its target
  (English bundle requests all went to the one English restaurant example).
- A bundle the request names outright (its name, English name or a long keyword: "internet cafe", 网吧手续) is the
  bundle asked for, whatever the votes say (`_named_bundle`).

Skills the caller's role may not use are never candidates; routes meant for the other
public audience (an enterprise item asked by a citizen) weigh less.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from aicity.agents.base import Route, Skill
from aicity.agents.registry import AgentRegistry
from aicity.assistant.siblings import Siblings
from aicity.assistant.targets import Devices, fits, is_named, named_targets, type_named
from aicity.core.embeddings import AsQueries, BackgroundVectors, Embedder, query_cache, vote_shares
from aicity.core.errors import Problem
from aicity.core.text import Bm25Index, is_mostly_latin, normalize, tokenize
from aicity.hub.catalog import service as catalog
from aicity.hub.gateway.embedder import retrieval_embedder
from aicity.hub.knowledge import service as knowledge
from aicity.identity.service import Principal

log = logging.getLogger(__name__)

#: a route meant for the other public audience counts this much
OTHER_AUDIENCE_WEIGHT = 0.8
#: weight of the dense signal (standard deviations above the mean, past DENSE_FROM_Z) beside BM25
DENSE_WEIGHT = 4.0
DENSE_FROM_Z = 2.0
#: (a Latin request's routes stand out among their own script, `_dense`, and only labelled requests not in Latin
#: letters vote for its target: skills and target right with the mode forced on dev4 … dev9, 679 → 689 of 745,
#: the English ones 60 → 69 of 73)
ENGLISH_DENSE_BOOST = 2.0
#: below this raw BM25 score nothing is routed on its own
MIN_SCORE = 2.5
#: a target is taken only from a route that shares something with the request (a weight-0 skill's floor)
MIN_TARGET_SCORE = 1e-6
#: a target must reach this share of the request's best route to be taken by a cue
TARGET_SHARE = 0.25
#: the cascade: BM25 decides alone (no query embedding) when its best choice (`Router.sure`) scores at least
#: SURE_SCORE and leads every other by SURE_MARGIN; a closer call, a weak one or a request in Latin letters
#: adds the dense signal. Chosen on plans of the two mode development sets (600) and every third training
#: request (1,525, with their skills and targets), never the evaluation sets: plans equal to always-dense
#: routing on 99.7 % / 99.6 % / 99.8 %, training end to end 0.7908 (always dense 0.7895); requests embedded
#: for planning 55 % / 49 % / 41 % (3 / 1.5: 98.9 % of dev3 plans equal; 8 / 4: 100 % but 68 % embedded).
SURE_SCORE = 4.0
SURE_MARGIN = 2.0
#: within a decided advice mode a specialist (a co-created agent) takes a request when one of its routes is within
#: this much (e5 cosine) of the other skills' nearest route (`Router.nearest`; chosen with
#: benchmarks/studio_routing.py on its development sets, never its held-apart set)
NEAREST_SLACK = 0.0
#: a skill that takes an item or a bundle takes the item whose name the request says at least this much of
#: (`Siblings.said`): of the pre-check rows of the training and development sets 225 are about an item, 5 a bundle
NAMED_ITEM = 0.8
#: within a decided mode, the labelled requests of that mode and skill (`training/modes.jsonl` rows with a target) vote
#: for the target: the VOTERS nearest by their query vectors, weighted by softmax(cosine / VOTE_TEMPERATURE); a target's
#: share of the votes adds VOTE_WEIGHT times the best route's score to its own (`_Votes`). Skills and target right with
#: the expected mode forced, on the 745 cases with a target of the development sets dev4 … dev9, with the 3,037 labelled
#: rows of 5 per catalog item, weight 0.5 / 1: 0.913 / 0.925; 1 lowers no set (dev4 115 → 116 of 117, dev7 118 → 120
#: of 133, dev8 117 → 120 of 136, dev9 119 → 122 of 136)
VOTERS = 10
VOTE_TEMPERATURE = 0.05
VOTE_WEIGHT = 1.0
#: where the routes found no target, the votes give theirs when the nearest labelled request is at least
#: VOTE_GIVES_COSINE like the request and its target has at least VOTE_GIVES_SHARE of the votes: such votes name the
#: expected target of 453 of 465 development requests (dev4 … dev9, mode forced)
VOTE_GIVES_COSINE = 0.9
VOTE_GIVES_SHARE = 0.5
#: where the votes rank departments (a duty question), the catalog's routes of an item count at this share of their
#: score for the item's department (`_voted`). Duty questions of dev4 … dev10 with their department right, 126 → 128
#: of 139 at 0.8 and 0.9 (none lower per set), 127 at 0.6; at 1.0 one set lost one and a shop's 烧烤油烟 went to market
ITEM_DEPARTMENT_WEIGHT = 0.8
#: a bundle whose name, English name or a keyword of at least this many characters the request says outright is the
#: bundle asked for, whatever the routes and votes rank (the longest said wins): of the bundle rows of the training
#: and development sets that say one, 144 say the expected bundle's and none another's (at 2 or 3 characters, 社保卡
#: and 退休 name the wrong bundle); English requests saying "internet cafe" had gone to the restaurant by the votes
NAMED_BUNDLE_CHARS = 4

_CLAUSE_SPLIT = re.compile(r"[。！？!?；;\n]+|(?:另外|此外|还有就是|顺便问一下|顺便问下|顺便|同时我还想|同时还想|以及|and also|also,)")


@dataclass(frozen=True)
class Candidate:
    agent: str
    skill: str
    params: dict[str, str]
    score: float
    route: str
    #: how the skill was chosen: "cue", "route", "nearest" (a specialist's, `Router.nearest`) or "named" (the
    #: device the request names, `targets`)
    by: str = "route"

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
    def __init__(self, registry: AgentRegistry, examples: list[dict] | None = None) -> None:
        self.registry = registry
        self.entries: list[_Entry] = []
        self.skills: dict[tuple[str, str], Skill] = {}
        for agent in registry.agents():
            for skill in agent.skills:
                self.skills[(agent.id, skill.id)] = skill
                routes = [Route(e) for e in skill.examples] + (skill.routes() if skill.routes else [])
                self.entries += [_Entry(agent.id, skill.id, r.params, r.text, r.audience) for r in routes]
        #: the skills' own routes (the catalog's among them) come before the labelled requests' (`_example_entries`)
        self._own_routes = len(self.entries)
        self.entries += self._example_entries([ex for ex in examples or [] if not ex.get("votes")])
        self.index = Bm25Index([tokenize(e.text) for e in self.entries])
        self.embedder = retrieval_embedder("assistant.router")
        #: dense vectors of the routes, computed in the background (keyword-only until then)
        self.dense = BackgroundVectors(self.embedder, [e.text for e in self.entries], "routes") \
            if self.embedder and self.entries else None
        self._weights = {
            role: np.array([(1.0 if not e.audience or role in e.audience else OTHER_AUDIENCE_WEIGHT)
                            * self.skills[(e.agent, e.skill)].route_weight for e in self.entries], dtype=np.float32)
            for role in ("citizen", "enterprise", "staff")
        }
        # for the cascade: each entry's outcome (skill and params), skill, target (params) and target kind
        self._outcome = _ids([(e.agent, e.skill, e.params) for e in self.entries])
        self._skill_ids = {key: i for i, key in enumerate(self.skills)}
        self._skill_of = np.array([self._skill_ids[(e.agent, e.skill)] for e in self.entries], dtype=np.int64)
        self._target_of = _ids([e.params for e in self.entries])
        self._kind_ids = {kind: i for i, kind in enumerate(sorted({e.params[0][0] for e in self.entries if e.params}))}
        self._kind_of = np.array([self._kind_ids[e.params[0][0]] if e.params else -1 for e in self.entries],
                                 dtype=np.int64)
        self._allowed: dict[str, np.ndarray] = {}
        #: districts and devices a request names outright (`targets`)
        self.devices = Devices()
        # for `nearest`: the specialists' routes, and the routes in Latin letters
        self._specialist = np.array([bool(self.skills[(e.agent, e.skill)].nearest_modes) for e in self.entries], dtype=bool)
        self._latin = np.array([is_mostly_latin(e.text) for e in self.entries], dtype=bool)
        # for `_sibling`: the catalog item each route names (else -1)
        self._item_ids = sorted({v for e in self.entries for k, v in e.params if k == "item"})
        positions = {item: i for i, item in enumerate(self._item_ids)}
        self._item_of = np.array([positions.get(dict(e.params).get("item", ""), -1) for e in self.entries],
                                 dtype=np.int64)
        items = catalog.catalog().items
        self._item_department = {item: items[item].department for item in self._item_ids if item in items}
        self.siblings = Siblings(items)
        #: (phrase, bundle) for `_named_bundle`, the longest phrase first
        self._bundle_phrases = sorted(
            ((phrase, b.id) for b in catalog.catalog().bundles.values()
             for phrase in {normalize(p).lower() for p in (b.name, b.name_en or "", *b.keywords)}
             if len(phrase) >= NAMED_BUNDLE_CHARS), key=lambda pair: (-len(pair[0]), pair))
        voting = [ex for ex in examples or [] if ex.get("votes")]
        self.votes = _Votes(self.embedder, voting, self.skills) if self.embedder else None
        #: each target's labelled requests, in their own words (what a request about it may say beside the catalog)
        labelled = {normalize(ex["q"]): str(ex["target"]) for ex in voting if ex.get("target") and ex.get("mode")}
        self.phrasings: dict[str, list[str]] = {}
        for text, target in labelled.items():
            self.phrasings.setdefault(target, []).append(text)

    @property
    def vectors(self) -> np.ndarray | None:
        return self.dense.get() if self.dense else None

    def wait_dense(self, timeout: float | None = None) -> bool:
        """Block until the route vectors are ready (one-shot commands, tests); True if dense."""
        return self.dense is not None and self.dense.wait(timeout) is not None

    def _example_entries(self, examples: list[dict]) -> list[_Entry]:
        """Labelled requests (a city's history, its operators' corrections) become routes for
        their skill and target, so a request like one already answered goes the same way."""
        entries = []
        # the cue phrases say what kind of help was asked (接下来该办啥, 还缺什么); only the rest
        # says what it was about, and only that should make a new request resemble an example; cues of one length
        # are stripped in a fixed order (a set's order follows per-process string hashing: 还缺/缺啥 overlap)
        cues = sorted({c for skill in self.skills.values() for c in skill.cues}, key=lambda c: (-len(c), c))
        for ex in examples:
            agent, _, skill = ex["skills"][0].partition(".")
            key = (agent, skill)
            if key not in self.skills:
                continue
            target = ex.get("target")
            kinds = self.skills[key].target_params
            params: tuple[tuple[str, str], ...] = ()
            if target and kinds:
                kind = _target_kind(target, kinds)
                params = ((kind, target),) if kind else ()
            text = normalize(ex["q"]).lower()
            for cue in cues:
                text = text.replace(cue, " ")
            entries.append(_Entry(agent, skill, params, text, ()))
        return entries

    def _scores(self, text: str, principal: Principal, only: frozenset[tuple[str, str]] | None = None,
                mode: str | None = None) -> np.ndarray:
        """Each route's score for `text`: BM25, plus the dense signal unless BM25 alone decides (`sure`)."""
        role = principal.role.value if principal.role.value in ("citizen", "enterprise") else "staff"
        weights = self._weights[role]
        scores = self.index.scores(knowledge.query_tokens(text))
        vectors = self.vectors
        latin = is_mostly_latin(text)
        if vectors is None or (not latin and self.sure(scores * weights, principal, only, mode)):
            return scores * weights
        query_vector = self.query_vector(text)
        if query_vector is not None:
            # the catalog is written in Chinese: an English request leans on the cross-lingual model
            weight = DENSE_WEIGHT * (ENGLISH_DENSE_BOOST if latin else 1.0)
            scores = scores + weight * self._dense(vectors, query_vector, latin)
        return scores * weights

    def sure(self, scores: np.ndarray, principal: Principal, only: frozenset[tuple[str, str]] | None = None,
             mode: str | None = None) -> bool:
        """Whether BM25 `scores` decide on their own what the dense signal would otherwise weigh in on:
        among the skills of `only` (the request's mode) that scores may choose (not `Skill.cue_only`), which one;
        and the target those skills look for in `mode`. Without `only`, the outcome (skill and target) of every
        route the caller may use. A decision is sure when its best route scores at least SURE_SCORE and SURE_MARGIN
        more than the best route of any other choice."""
        usable = self._allowed_mask(principal)
        if only is None:
            return _leads(np.where(usable, scores, 0.0), self._outcome)
        skills = [k for k in only if k in self._skill_ids and self.skills[k].allowed(principal)]
        # a skill chosen only by its cues is never chosen by scores (`candidates`): only the others compete
        chosen_by_scores = [k for k in skills if not self.skills[k].cue_only]
        if len(chosen_by_scores) > 1:
            serving = usable & np.isin(self._skill_of, [self._skill_ids[k] for k in chosen_by_scores])
            if not _leads(np.where(serving, scores, 0.0), self._skill_of):
                return False
        kinds = [self._kind_ids[kind] for k in skills for kind in self.skills[k].targets_for(mode)
                 if kind in self._kind_ids]
        if not kinds:
            return True
        return _leads(np.where(usable & np.isin(self._kind_of, kinds), scores, 0.0), self._target_of)

    def _allowed_mask(self, principal: Principal) -> np.ndarray:
        role = principal.role.value
        if role not in self._allowed:
            allowed = [skill.allowed(principal) for skill in self.skills.values()]
            self._allowed[role] = np.array([allowed[i] for i in self._skill_of], dtype=bool)
        return self._allowed[role]

    def query_vector(self, text: str) -> np.ndarray | None:
        """None (keyword routing) when the embedding group fails; a text is embedded once however many parts
        of the request ask for it (the embedder's `query_cache`); failures are not cached."""
        if self.embedder is None:
            return None
        try:
            return self.embedder.query(text)
        except Problem as exc:
            log.warning("route embedding failed, routing by keyword: %s", exc.detail)
            return None

    def _dense(self, vectors: np.ndarray, query_vector: np.ndarray, latin: bool = False) -> np.ndarray:
        """How far above the typical route each route is, in standard deviations (≥ 0): e5 similarities crowd
        together, so only the standouts carry signal. A request in Latin letters is nearer every route in Latin
        letters by language alone: routes of each script stand out among their own script only."""
        cos = vectors @ query_vector
        if not latin:
            return _standouts(cos)
        dense = np.zeros_like(cos)
        for script in (self._latin, ~self._latin):
            if script.any():
                dense[script] = _standouts(cos[script])
        return dense

    def candidates(self, text: str, principal: Principal, scores: np.ndarray | None = None,
                   only: frozenset[tuple[str, str]] | None = None) -> list[Candidate]:
        """Best route per skill for `text`, best first; only skills `principal` may use (and, when
        given, only those in `only`: the skills serving the request's mode); never a skill chosen only by its cues
        (`Skill.cue_only`)."""
        scores = self._scores(text, principal) if scores is None else scores
        best: dict[tuple[str, str], Candidate] = {}
        for entry, score in zip(self.entries, scores, strict=True):
            key = (entry.agent, entry.skill)
            if (only is not None and key not in only) or self.skills[key].cue_only:
                continue
            if score > 0 and (key not in best or score > best[key].score) and self.skills[key].allowed(principal):
                best[key] = Candidate(entry.agent, entry.skill, dict(entry.params), float(score), entry.text)
        return sorted(best.values(), key=lambda c: -c.score)

    def _best_target(self, scores: np.ndarray, kinds: tuple[str, ...], principal: Principal,
                     floor: float) -> tuple[dict[str, str], float]:
        """Params and score of the best route that carries one of `kinds` (at least `floor`)."""
        best, params = floor, {}
        for entry, score in zip(self.entries, scores, strict=True):
            if score >= best and entry.params and entry.params[0][0] in kinds \
                    and self.skills[(entry.agent, entry.skill)].allowed(principal):
                best, params = float(score), dict(entry.params)
        return params, (best if params else 0.0)

    def fill_targets(self, agent: str, skill: str, text: str, params: dict[str, str],
                     principal: Principal) -> dict[str, str]:
        """The params a skill needs, for a caller (an LLM) that named the skill but maybe not
        a valid target: known targets are kept, the rest is found from `text` like a route."""
        wanted = self.skills[(agent, skill)].target_params
        known = {p for e in self.entries for p in e.params}
        kept = {k: v for k, v in params.items() if k not in wanted or (k, v) in known}
        if not wanted or any(k in kept for k in wanted):
            return kept
        target_text = self.skills[(agent, skill)].target_text
        scores = self._scores(target_text(text) if target_text else text, principal)
        found, _ = self._best_target(scores, wanted, principal, MIN_SCORE)
        return {**kept, **found}

    def cued_skills(self, text: str, principal: Principal,
                    only: frozenset[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        """Skills whose cue phrases appear in `text`, highest priority first."""
        lowered = normalize(text).lower()
        hits = [key for key, skill in self.skills.items()
                if (only is None or key in only)
                and skill.allowed(principal) and any(cue in lowered for cue in skill.cues)
                and (not skill.cue_requires or any(word in lowered for word in skill.cue_requires))]
        return sorted(hits, key=lambda k: -self.skills[k].cue_priority)

    def route(self, text: str, principal: Principal, only: frozenset[tuple[str, str]] | None = None,
              mode: str | None = None) -> Candidate | None:
        """The skill and target for `text`; with `only` (the skills of the request's mode, decided
        before) the skill is one of those, and one is always chosen when any may be used: the
        mode is decided, only the target may still be missing."""
        # the mode is decided: a device named outright goes to the skill that works on its type (before any
        # scores: they play no part in it, and the dense signal costs a query embedding)
        named = self._device_skill(text, principal, only, mode) if only is not None else None
        if named is not None:
            return named
        scores = self._scores(text, principal, only, mode)
        cands = self.candidates(text, principal, scores, only)
        top_score = cands[0].score if cands else 0.0
        floor = max(MIN_SCORE, top_score * TARGET_SHARE)
        # the mode is decided: a specialist nearest by meaning outranks the mode's generic cues (违法吗, 怎么处罚)
        near = self.nearest(text, principal, mode, only, NEAREST_SLACK) if only is not None and mode is not None \
            else None
        if near is not None:
            return near
        for key in self.cued_skills(text, principal, only):
            skill = self.skills[key]
            if not [kind for kind in skill.targets_for(mode) if not is_named(kind)]:  # no target, or one named outright
                return self._resolve(Candidate(key[0], key[1], {}, max(top_score, MIN_SCORE), "cue", by="cue"), scores,
                                     principal, mode, text)
            target_scores = self._scores(skill.target_text(text), principal, frozenset({key}), mode) \
                if skill.target_text else scores
            params, score = self._best_target(target_scores, skill.targets_for(mode), principal, floor)
            if params:
                return self._resolve(Candidate(key[0], key[1], params, score, "cue", by="cue"), scores, principal,
                                     mode, text)
        if only is not None:
            allowed = sorted((k for k in self.skills if k in only and self.skills[k].allowed(principal)),
                             key=lambda k: self.skills[k].cue_only)
            if not cands and not allowed:
                return None
            # within a decided mode the best route names the skill even when it is weak: the
            # target is then taken from the best route that carries one, above MIN_SCORE
            first = cands[0] if cands else Candidate(allowed[0][0], allowed[0][1], {}, 0.0, "mode", by="mode")
            skill = self.skills[(first.agent, first.skill)]
            if skill.target_text and skill.targets_for(mode):
                # the skill's target is in the part of the request that names it (a pre-check's list of documents
                # is not what it is about), as when its cue chose it
                target_scores = self._scores(skill.target_text(text), principal, frozenset({(first.agent, first.skill)}),
                                             mode)
                params, _ = self._best_target(target_scores, skill.targets_for(mode), principal, MIN_SCORE)
                if params:
                    first = Candidate(first.agent, first.skill, params, first.score, first.route, first.by)
            return self._resolve(first, scores, principal, mode, text)
        if not cands or top_score < MIN_SCORE:
            return None
        return self._resolve(cands[0], scores, principal, text=text)

    def nearest(self, text: str, principal: Principal, mode: str,
                only: frozenset[tuple[str, str]] | None = None, slack: float = 0.0) -> Candidate | None:
        """A specialist (`Skill.nearest_modes`: a co-created agent) for a request of `mode` when one of its own routes
        (an example, its name or description) is within `slack` (e5 cosine) of the request's nearest route among the
        other skills' — the one that leads them most — and the caller may use it (and it is one of `only`, when
        given); else None, also while the route vectors are not ready. A few examples cannot outweigh a catalog's
        BM25 routes by keyword, but a request whose closest written neighbour is one of them is about the
        specialist's topic. Like is compared with like: a route not in Latin letters is measured against the
        other skills' routes not in Latin letters (an English request is nearer every English route by language)."""
        keys = {k for k in (only if only is not None else self.skills)
                if mode in self.skills[k].nearest_modes and self.skills[k].allowed(principal)}
        if not keys:
            return None
        vectors = self.vectors
        query_vector = self.query_vector(text) if vectors is not None else None
        if vectors is None or query_vector is None or not len(vectors):
            return None
        cos = vectors @ query_vector
        mine = np.isin(self._skill_of, [self._skill_ids[k] for k in keys])
        if not mine.any():
            return None
        # every other route is a rival, specialists this caller may not use included: a request about one of
        # them is not handed to another specialist that merely leads the built-in routes
        rivals = ~mine
        rival_any = float(np.max(np.where(rivals, cos, -1.0)))
        rival_script = float(np.max(np.where(rivals & ~self._latin, cos, -1.0)))
        lead = cos - np.where(self._latin, rival_any, rival_script)
        best = int(np.argmax(np.where(mine, lead, -np.inf)))
        if lead[best] < -slack:
            return None
        entry = self.entries[best]
        return Candidate(entry.agent, entry.skill, dict(entry.params), MIN_SCORE, entry.text, by="nearest")

    def _device_skill(self, text: str, principal: Principal, only: frozenset[tuple[str, str]] | None,
                      mode: str | None) -> Candidate | None:
        """The skill of `only` whose device param takes the device `text` names outright (its own type before
        any type), with that device as its target; or, when it names a kind of device but none of them ("把解放大道的
        路灯关掉"), the skill for that kind, with no target; None when neither is named or no such skill serves."""
        device = self.devices.named(text) or type_named(text)
        if device is None:
            return None
        best: tuple[int, tuple[str, str], str] | None = None
        for key, skill in self.skills.items():
            if (only is not None and key not in only) or not skill.allowed(principal):
                continue
            for param in skill.targets_for(mode):
                if fits(param, device) > (best[0] if best else 0):
                    best = (fits(param, device), key, param)
        if best is None:
            return None
        _, key, param = best
        cand = Candidate(key[0], key[1], {param: device.id} if device.id else {}, MIN_SCORE, device.name or device.type,
                         by="named")
        return self._resolve(cand, np.zeros(len(self.entries)), principal, mode, text)

    def _resolve(self, cand: Candidate, scores: np.ndarray, principal: Principal,
                 mode: str | None = None, text: str = "") -> Candidate:
        """Fill a skill's target: what `text` names outright (a district, a device: `targets`), else the best
        route that has one, when its own route had none, else strong votes (`_votes`); the votes rank again the target
        the routes found."""
        skill = self.skills[(cand.agent, cand.skill)]
        wanted = skill.targets_for(mode)
        if mode in skill.mode_targets:  # a target of another mode's kind is not this request's
            cand = Candidate(cand.agent, cand.skill, {k: v for k, v in cand.params.items() if k in wanted},
                             cand.score, cand.route, cand.by)
        named = {k: v for k, v in named_targets(text, wanted, self.devices).items() if k not in cand.params}
        if named:
            cand = Candidate(cand.agent, cand.skill, {**cand.params, **named}, cand.score, cand.route, cand.by)
        if wanted and not any(k in cand.params for k in wanted) and cand.by != "named":
            # the floor is on the raw score: a skill's weight ranks it among skills, not its own targets
            floor = max(MIN_SCORE * min(skill.route_weight, 1.0), MIN_TARGET_SCORE)
            params, _ = self._best_target(scores, wanted, principal, floor)
            cand = Candidate(cand.agent, cand.skill, {**cand.params, **params}, cand.score, cand.route, cand.by)
        # the votes rank again the targets the routes found; where the routes found none, strong votes give one
        votes: dict[tuple[str, str], float] = {}
        nearest = 0.0
        routed = bool(set(cand.params) & set(wanted))  # the routes found a target
        # a department is always weighed with the votes and the catalog's items (`_voted`): one route sharing a word
        # with the request (扰民) can lead the department routes clearly and still be the wrong one
        if cand.by != "named" and not (routed and "department" not in wanted
                                       and self._route_clear(text, cand, scores, principal, mode)):
            votes, nearest = self._votes(text, mode, (cand.agent, cand.skill), wanted)
        if votes and routed:
            cand = self._voted(cand, scores, votes, principal)
        elif (given := _given(votes, nearest)) is not None:
            cand = Candidate(cand.agent, cand.skill, {**cand.params, given[0]: given[1]}, cand.score, cand.route,
                             cand.by)
        if "bundle" in cand.params and cand.by != "named" and (bundle := self._named_bundle(text)) is not None:
            cand = Candidate(cand.agent, cand.skill, {**cand.params, "bundle": bundle}, cand.score, cand.route, cand.by)
        if "item" in wanted and cand.by != "named" and ("item" in cand.params or "bundle" in cand.params):
            # a skill that reads its target from part of the request (a pre-check's list of documents is not what it
            # is about) ranks its items there
            said = skill.target_text(text) if skill.target_text else text
            target_scores = self._scores(said, principal, frozenset({(cand.agent, cand.skill)}), mode) \
                if skill.target_text else scores
            if "bundle" in cand.params and "item" not in cand.params:
                # a skill that takes an item or a bundle (a pre-check) is about the item whose name the request says
                # ("开餐馆办食品经营许可，我有…还缺啥"), not the bundle that item belongs to
                item = self._named_item(target_scores, said, principal)
                if item is not None:
                    params = {k: v for k, v in cand.params.items() if k != "bundle"}
                    cand = Candidate(cand.agent, cand.skill, {**params, "item": item}, cand.score, cand.route,
                                     cand.by)
            if "item" in cand.params:
                # the item among its siblings that the request's own words ask for (`siblings`)
                item = self._sibling(target_scores, said, principal, cand.params["item"], votes)
                cand = Candidate(cand.agent, cand.skill, {**cand.params, "item": item}, cand.score, cand.route,
                                 cand.by)
        if skill.fill is not None:  # what the request asks done to its target (关掉 → off)
            filled = {k: v for k, v in skill.fill(text, cand.params).items() if k not in cand.params}
            cand = Candidate(cand.agent, cand.skill, {**cand.params, **filled}, cand.score, cand.route, cand.by)
        return cand

    def _named_bundle(self, text: str) -> str | None:
        """The bundle whose name or keyword `text` says outright (`NAMED_BUNDLE_CHARS`), the longest said; else None."""
        lowered = normalize(text).lower()
        return next((bundle for phrase, bundle in self._bundle_phrases if phrase in lowered), None)

    def _item_scores(self, scores: np.ndarray, principal: Principal) -> dict[str, float]:
        """Each catalog item with a route the caller may use that scores above 0: its best route's score."""
        usable = self._allowed_mask(principal) & (self._item_of >= 0) & (scores > 0)
        scored: dict[str, float] = {}
        for i in np.nonzero(usable)[0]:
            item = self._item_ids[self._item_of[i]]
            scored[item] = max(scored.get(item, 0.0), float(scores[i]))
        return scored

    def _route_clear(self, text: str, cand: Candidate, scores: np.ndarray, principal: Principal,
                     mode: str | None) -> bool:
        """Whether the votes would cost a query embedding for a request whose best route's target leads clearly
        (`sure`): the request has no query vector yet (the embedder's `query_cache`, read without computing)."""
        if self.embedder is None or query_cache.peek(self.embedder.name, text) is not None:
            return False
        return self.sure(scores, principal, frozenset({(cand.agent, cand.skill)}), mode)

    def voted(self, text: str, mode: str, key: tuple[str, str]) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
        """What the labelled requests of `mode` and skill `key` nearest to `text` say, from one count of their votes
        (`_votes`): the (kind, target) they give on their own (`_given`, whatever the routes found; None when they are
        not near or do not agree), and every (kind, target) they vote for, the most voted first."""
        votes, nearest = self._votes(text, mode, key, self.skills[key].targets_for(mode))
        return _given(votes, nearest), sorted(votes, key=lambda target: -votes[target])

    def _votes(self, text: str, mode: str | None, key: tuple[str, str],
               wanted: tuple[str, ...]) -> tuple[dict[tuple[str, str], float], float]:
        """(kind, target) → its share of the votes of the labelled requests of `mode` and skill `key` nearest to `text`
        (`_Votes`), and the nearest one's cosine; empty without a decided mode, labelled requests or their vectors."""
        if self.votes is None or mode is None or not wanted:
            return {}, 0.0
        vectors = self.votes.vectors.get()
        rows = self.votes.rows(mode, key)
        if is_mostly_latin(text):
            # a request in Latin letters is nearest the labelled requests in Latin letters by language alone
            rows = rows[~self.votes.latin[rows]]
        if vectors is None or not len(rows):
            return {}, 0.0
        query_vector = self.query_vector(text)
        if query_vector is None:
            return {}, 0.0
        shares, nearest = self.votes.shares(vectors, rows, query_vector)
        return {key: share for key, share in shares.items() if key[0] in wanted}, nearest

    def _voted(self, cand: Candidate, scores: np.ndarray, votes: dict[tuple[str, str], float],
               principal: Principal) -> Candidate:
        """The target whose best route's score, plus VOTE_WEIGHT times the best target's score for each share of the
        votes (`_votes`), is highest among the targets of the voted kinds. A department's routes include the catalog's
        own routes of its items: the city's services say who handles a matter (社会生活噪声扰民投诉 is the police's,
        餐饮油烟污染投诉 ecology's) where one labelled request sharing a word (扰民) names another department."""
        kinds = {kind for kind, _ in votes}
        usable = self._allowed_mask(principal)
        scored: dict[tuple[str, str], float] = {}
        for i in np.nonzero(usable & (scores > 0))[0]:
            params = self.entries[i].params
            if params and params[0][0] in kinds:
                scored[params[0]] = max(scored.get(params[0], 0.0), float(scores[i]))
        top = max([*scored.values(), MIN_SCORE])
        # the catalog's own item routes (not labelled requests) speak for their departments; the votes still weigh
        # against the best route of the voted kinds themselves (`top`)
        if "department" in kinds:
            catalog_routes = usable & (self._item_of >= 0) & (scores > 0)
            catalog_routes[self._own_routes:] = False
            for i in np.nonzero(catalog_routes)[0]:
                if (department := self._item_department.get(self._item_ids[self._item_of[i]])) is not None:
                    key = ("department", department)
                    scored[key] = max(scored.get(key, 0.0), ITEM_DEPARTMENT_WEIGHT * float(scores[i]))
        blended = {key: scored.get(key, 0.0) + VOTE_WEIGHT * top * votes.get(key, 0.0) for key in {*scored, *votes}}
        kind, target = max(blended, key=lambda key: blended[key])
        params = {k: v for k, v in cand.params.items() if k not in kinds}
        return Candidate(cand.agent, cand.skill, {**params, kind: target}, cand.score, cand.route, cand.by)

    def _named_item(self, scores: np.ndarray, text: str, principal: Principal) -> str | None:
        """The item whose name `text` says (at least NAMED_ITEM of it, `Siblings.said`) among those its routes score,
        the most said first; None when no item's name is said."""
        named = [(said, score, item) for item, score in self._item_scores(scores, principal).items()
                 if (said := self.siblings.said(text, item)) >= NAMED_ITEM]
        return max(named)[2] if named else None

    def _sibling(self, scores: np.ndarray, text: str, principal: Principal, chosen: str,
                 votes: dict[tuple[str, str], float] | None = None) -> str:
        """The catalog item `text` asks for among those its routes score near the best (`siblings`), `chosen`
        included; each item counts with its best route that the caller may use, and its share of the `votes`
        (`_voted`)."""
        scored = self._item_scores(scores, principal)
        if votes:
            top = max([*scored.values(), MIN_SCORE])
            for (kind, item), share in votes.items():
                if kind == "item":
                    scored[item] = scored.get(item, 0.0) + VOTE_WEIGHT * top * share
        scored.setdefault(chosen, 0.0)
        return self.siblings.rank(text, scored) or chosen


class _Votes:
    """Labelled requests that vote for the target of a request like them (`Router._votes`): the rows of
    `training/modes.jsonl` (and a city's own) with a mode, a skill and a target, embedded as queries (the vectors the
    mode classifier's votes use, shipped for the bundled rows)."""

    def __init__(self, embedder: Embedder, examples: list[dict], skills: dict[tuple[str, str], Skill]) -> None:
        texts: dict[str, tuple[str, tuple[str, str], tuple[str, str]]] = {}
        for ex in examples:
            agent, _, skill = (ex.get("skills") or [""])[0].partition(".")
            target, mode = ex.get("target"), ex.get("mode")
            if (agent, skill) not in skills or not target or not mode:
                continue
            kind = _target_kind(target, skills[(agent, skill)].targets_for(mode))
            if kind is not None and not is_named(kind):
                texts.setdefault(normalize(ex["q"]), (mode, (agent, skill), (kind, target)))
        self.labels = list(texts.values())
        self.latin = np.array([is_mostly_latin(text) for text in texts], dtype=bool)
        grouped: dict[tuple[str, tuple[str, str]], list[int]] = {}
        for i, (mode, key, _) in enumerate(self.labels):
            grouped.setdefault((mode, key), []).append(i)
        self._rows = {group: np.array(rows, dtype=np.int64) for group, rows in grouped.items()}
        self.vectors = BackgroundVectors(AsQueries(embedder), list(texts), "target votes")

    def rows(self, mode: str, key: tuple[str, str]) -> np.ndarray:
        """The positions of the labelled requests of `mode` for skill `key`."""
        return self._rows.get((mode, key), np.zeros(0, dtype=np.int64))

    def shares(self, vectors: np.ndarray, rows: np.ndarray,
               query_vector: np.ndarray) -> tuple[dict[tuple[str, str], float], float]:
        """(kind, target) → its share of the votes of the VOTERS of `rows` nearest to `query_vector`, and the nearest
        one's cosine."""
        sims = vectors[rows] @ query_vector
        return vote_shares(sims, lambda i: self.labels[rows[i]][2], VOTERS, VOTE_TEMPERATURE), float(sims.max())


def _standouts(cos: np.ndarray) -> np.ndarray:
    """Each similarity's standard deviations above the mean of `cos`, past DENSE_FROM_Z (≥ 0)."""
    return np.clip((cos - cos.mean()) / max(float(cos.std()), 1e-6) - DENSE_FROM_Z, 0.0, None)


def _given(votes: dict[tuple[str, str], float], nearest: float) -> tuple[str, str] | None:
    """The target strong votes give: the nearest labelled request is at least VOTE_GIVES_COSINE like the request and
    the target has at least VOTE_GIVES_SHARE of the votes; else None."""
    if not votes or nearest < VOTE_GIVES_COSINE:
        return None
    target, share = max(votes.items(), key=lambda vote: vote[1])
    return target if share >= VOTE_GIVES_SHARE else None


def _ids(keys: list) -> np.ndarray:
    """The same id for equal keys, in order of first appearance."""
    seen: dict = {}
    return np.array([seen.setdefault(key, len(seen)) for key in keys], dtype=np.int64)


def _leads(masked: np.ndarray, groups: np.ndarray) -> bool:
    """Whether the best score reaches SURE_SCORE and leads the best of every other group by SURE_MARGIN."""
    if not len(masked):
        return False
    best = int(np.argmax(masked))
    if masked[best] < SURE_SCORE:
        return False
    rival = float(np.max(np.where(groups != groups[best], masked, 0.0)))
    return float(masked[best]) - rival >= SURE_MARGIN


def _target_kind(target: str, kinds: tuple[str, ...]) -> str | None:
    """Which param a labelled target fills: catalog item ids have a department prefix."""
    if "item" in kinds and "." in target:
        return "item"
    for kind in kinds:
        if kind != "item":
            return kind
    return None


#: a request that carries a text to work on ("给这份文件写个摘要：" and a pasted document): an instruction of at
#: most INSTRUCTION_CHARS characters before a colon or line break, and at least PASTED_CHARS after it
INSTRUCTION_CHARS = 60
PASTED_CHARS = 120
_CARRIER = re.compile(r"[：:\n]")


def pasted(text: str) -> tuple[str, str] | None:
    """(instruction, pasted text) of a request that carries a text to work on, else None: what the
    request asks is in the instruction, not in the text it hands over."""
    m = _CARRIER.search(text)
    if m is None or m.start() > INSTRUCTION_CHARS or not text[:m.start()].strip():
        return None
    rest = text[m.end():].strip()
    return (text[:m.start()].strip(), rest) if len(rest) >= PASTED_CHARS else None


def instructed(text: str) -> tuple[str, str] | None:
    """(instruction, text) of a request that hands over a text of any length after a colon ("把这段话改正式一点：…",
    "登记收文：…"): the instruction of at most INSTRUCTION_CHARS characters before it; else None."""
    m = re.search(r"[：:]", text)
    if m is None or m.start() > INSTRUCTION_CHARS or not text[:m.start()].strip() or not text[m.end():].strip():
        return None
    return text[:m.start()].strip(), text[m.end():].strip()


def split_clauses(text: str) -> list[str]:
    """Split a request into clauses that may each carry an intent."""
    return [c.strip(" ，,、") for c in _CLAUSE_SPLIT.split(text) if c and c.strip(" ，,、")]
