"""Understanding a request before routing it: safety first, then the mode, then the target.

1. An emergency (the mode classifier with the events hub's urgency rules, `modes.decide`) goes
   to `city_safety.emergency` whatever else the request says.
2. Below `modes.ABSTAIN_BELOW` (`modes.abstains`) the assistant asks which of the likeliest readings
   is meant (`modes.asks`: a request likeliest out of scope gets the scope statement instead) — unless a
   specialist (a co-created agent, `Router.nearest`) serving one of the likeliest is (about) the request's
   nearest route by meaning: then the specialist answers in that mode. A request read confidently as a
   service, a report or a department's duty goes to a specialist too when the specialist's reading is not
   unlikely and its topic is clearly the request's nearest (`SPECIALIST_AGAINST`).
3. A mode no skill serves (industry, simulation, small talk, out of scope) is answered
   with the mode's scope statement; a mode whose skills are all for staff, asked by the public,
   says so.
4. Otherwise the planner routes among the skills that declare the mode (`Skill.modes`); a service
   question whose item the catalog does not have is an honest gap: the answer says so, names the
   department and law when found, and the request is kept for the operations team (`unserved`). Before that,
   near and agreeing labelled requests may name the item the routes missed (`Router.voted`).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from aicity.agents.base import Clarification, NextAction, Option, Section, SkillResult, SubTask
from aicity.agents.registry import AgentRegistry
from aicity.assistant import modes as mode_data
from aicity.assistant import unserved
from aicity.assistant.modes import ModeClassifier, ModeGuess
from aicity.assistant.planner import Plan, Planner
from aicity.assistant.router import Router, pasted, split_clauses
from aicity.core.text import is_mostly_latin, normalize
from aicity.hub.catalog import service as catalog
from aicity.hub.knowledge import service as knowledge
from aicity.identity import service as identity
from aicity.identity.service import Principal

EMERGENCY_SKILL = ("city_safety", "emergency")
#: modes whose answer is one catalog item: without one, the catalog lacks the service
ITEM_MODES = frozenset({"service_guide"})
#: a token in at least this share of the catalog items' names and keywords is generic (5 %: 1.6 % of the
#: training rows' own targets would look uncovered, against 8 % at 3 %)
GENERIC_SHARE = 0.05
#: a word of an item's labelled requests speaks for the item when at least this share of the labelled requests (of any
#: target) that use it are about the item
OWN_WORD_SHARE = 0.5
#: and at least this many of the item's own labelled requests use it (one request's word may be incidental)
OWN_WORD_MIN = 2
#: a token in at least this share of the training requests is common parlance
COMMON_SHARE = 0.01
#: a governing law is named for a gap when knowledge search finds one at least this relevant
GAP_LAW_MIN_SCORE = 0.5
#: an unsure request goes to a specialist only when its mode is one of this many likeliest readings, and one of
#: its routes is within SPECIALIST_SLACK (e5 cosine) of the other skills' nearest (`Router.nearest`); a request read
#: confidently as one of SPECIALIST_AGAINST (built-in kinds of help) goes to a specialist instead when the
#: specialist's own reading is at least SPECIALIST_MIN_P likely and within the same slack. A report is never
#: taken: a citizen's report must be filed as an event, whatever its topic (nor an emergency). Chosen with
#: benchmarks/studio_routing.py on its development sets (dev2, PROBES) beside the mode development sets (wider
#: slacks, a third reading or a lower SPECIALIST_MIN_P answered unsure requests of other modes wrongly or took dev2's
#: near-misses), never its held-apart set.
SPECIALIST_OPTIONS = 2
SPECIALIST_SLACK = 0.005
SPECIALIST_AGAINST = frozenset({"service_guide", "duty", "bundle", "precheck"})
SPECIALIST_MIN_P = 0.2
CLARIFY_QUESTION = "我不太确定您想要哪一种帮助，请选择最接近的一项（也可以换个说法再问）："
STAFF_ONLY = ("这项功能面向城市管理和运行的工作人员（需要工作人员身份）。"
              "我可以帮您：查询办事指南、反映城市问题并跟踪进度、查询扶持政策和法规。")


def item_topics(phrasings: dict[str, list[str]] | None = None) -> dict[str, frozenset[str]]:
    """Per catalog item, the tokens of its names and keywords that fewer than GENERIC_SHARE of the
    items share (登记, 许可证, 变更 … say what kind of act, not what it is about), and the words of its labelled
    requests (`phrasings`: people's words for it, 电驴 or 砍掉) of two or more characters, not Latin letters or digits,
    that at least OWN_WORD_MIN of its requests use and at least OWN_WORD_SHARE of the labelled requests using them are
    about it (我要, 证去哪 are everyone's; a word of one request may be incidental)."""
    items = catalog.catalog().items
    tokens = {key: set(knowledge.query_tokens(f"{i.name} {i.name_en or ''} {' '.join(i.keywords)}".lower()))
              for key, i in items.items()}
    df = Counter(t for found in tokens.values() for t in found)
    generic = {t for t, n in df.items() if n >= GENERIC_SHARE * len(items)}
    topics = {key: found - generic for key, found in tokens.items()}
    said = {key: Counter(t for text in texts for t in set(_tokens(text)) if len(t) >= 2 and not t.isascii())
            for key, texts in (phrasings or {}).items()}
    everyone = Counter[str]()
    for counts in said.values():
        everyone.update(counts)
    for key, counts in said.items():
        if key in topics:
            topics[key] |= {t for t, n in counts.items() if n >= OWN_WORD_MIN and n >= OWN_WORD_SHARE * everyone[t]}
    return {key: frozenset(found) for key, found in topics.items()}


def catalog_vocabulary() -> frozenset[str]:
    """Every token of the catalog's items and bundles (names, keywords, summaries)."""
    cat = catalog.catalog()
    texts = [f"{i.name} {i.name_en or ''} {' '.join(i.keywords)} {i.summary}" for i in cat.items.values()]
    texts += [f"{b.name} {b.name_en or ''} {' '.join(b.keywords)} {b.summary}" for b in cat.bundles.values()]
    return frozenset(t for text in texts for t in knowledge.query_tokens(text.lower()))


def _tokens(text: str) -> list[str]:
    return knowledge.query_tokens(normalize(text).lower())


class Understanding:
    def __init__(self, registry: AgentRegistry, router: Router, rows: list[dict[str, str]]) -> None:
        self.router = router
        self.classifier = ModeClassifier(rows, router.embedder, router.query_vector if router.dense else None)
        #: mode → the skills that declare it (the agents' data, not a table here)
        self.skills_of: dict[str, frozenset[tuple[str, str]]] = {}
        by_mode: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for agent in registry.agents():
            for skill in agent.skills:
                for mode in skill.modes:
                    by_mode[mode].add((agent.id, skill.id))
        self.skills_of = {m: frozenset(s) for m, s in by_mode.items()}
        self.topics = item_topics(router.phrasings)
        self.vocabulary = catalog_vocabulary()
        # words people use in every kind of request (咋整, 想问): not a service's name
        df = Counter(t for r in rows for t in set(_tokens(r["text"])))
        self.common = frozenset(t for t, n in df.items() if n >= COMMON_SHARE * max(len(rows), 1))

    def guess(self, text: str) -> ModeGuess:
        """The mode; a request that hands over a document is read by its instruction when the instruction
        is clear on its own (the document's own words are not the request), unless the whole reads as
        an emergency."""
        whole = self.classifier.guess(text)
        carried = pasted(text)
        if carried is None or whole.emergency:
            return whole
        own = self.classifier.guess(carried[0])
        return own if not mode_data.abstains(own) and not own.emergency else whole

    def plan(self, text: str, principal: Principal, planner: Planner, guess: ModeGuess,
             forced: str | None = None) -> Plan:
        mode = forced or guess.mode
        confidence = 1.0 if forced else guess.confidence
        base = {"planner": planner.name, "mode": mode, "mode_confidence": round(confidence, 4), "request": text}
        if mode == mode_data.EMERGENCY and EMERGENCY_SKILL in self.router.skills:
            task = SubTask(agent=EMERGENCY_SKILL[0], skill=EMERGENCY_SKILL[1], text=text, score=confidence,
                           confidence=round(confidence, 3))
            return Plan(subtasks=[task], **base)
        if not forced and mode_data.abstains(guess):
            return self._clauses(text, principal, planner, guess) or self._specialist(text, principal, planner, guess) \
                or (Plan(subtasks=[], reply="clarify", options=guess.options(), **base) if mode_data.asks(guess)
                    else Plan(subtasks=[], reply="scope", **base))
        if not forced and mode in SPECIALIST_AGAINST and (taken := self._specialist(text, principal, planner, guess,
                                                                                    against=mode)):
            return taken
        serving = self.skills_of.get(mode, frozenset())
        usable = frozenset(k for k in serving if self.router.skills[k].allowed(principal))
        if not serving:
            return Plan(subtasks=[], reply="scope", **base)
        if not usable:
            return Plan(subtasks=[], reply="staff_only", **base)
        plan = planner.plan(text, principal, only=usable, mode=mode)
        plan = plan.model_copy(update=base)
        subsumed = set(mode_data.modes()[mode].subsumes) if mode in mode_data.modes() else set()
        if subsumed and len(plan.subtasks) > 1:  # clauses the mode's own answer covers
            kept = [t for t in plan.subtasks if (t.agent, t.skill) in serving
                    or not set(self.router.skills[(t.agent, t.skill)].modes) <= subsumed]
            plan = plan.model_copy(update={"subtasks": kept or plan.subtasks})
        if len(plan.subtasks) > 1:  # a clause of another kind of help is its own request only when it reads as one;
            # a later clause's guide to an item that is not what the clause is about is no answer to it
            kept = [t for t in plan.subtasks if ((t.agent, t.skill) in serving or self._asks_itself(t))
                    and (t is plan.subtasks[0] or self.covers(t.text, t.params.get("item")))]
            plan = plan.model_copy(update={"subtasks": kept or plan.subtasks})
        first = plan.subtasks[0] if plan.subtasks else None
        wanted = self.router.skills[(first.agent, first.skill)].targets_for(mode) if first else ()
        covered = first is not None and self.covers(text, first.params.get("item"))
        if mode in ITEM_MODES and first is not None and not covered:
            # the routes' item is not what the request is about: near, agreeing labelled requests name the item
            # (their words, 电驴 for 电动自行车, need not be the catalog's); else the most voted item that the request's
            # words cover, before the catalog is said to lack it
            key = (first.agent, first.skill)
            chosen = first.params.get("item")
            given, voted = self.router.voted(text, mode, key)
            item = given[1] if given is not None and given[0] == "item" else next(
                (target for kind, target in voted if kind == "item" and target != chosen and self.covers(text, target)),
                None)
            if item is not None and item != chosen:
                first = first.model_copy(update={"params": {**first.params, "item": item}})
                plan = plan.model_copy(update={"subtasks": [first, *plan.subtasks[1:]]})
                covered = True
        if mode in ITEM_MODES and (first is None or (wanted and not any(k in first.params for k in wanted))
                                   or not covered):
            return Plan(subtasks=[], reply="gap", **base)
        return plan

    def _asks_itself(self, task: SubTask) -> bool:
        """Whether a clause planned beside the request's own mode asks, read on its own, confidently for a kind of help
        its skill serves ("…要带哪些东西？另外婚假有几天" asks two things; "昨晚城里有啥大事？要份简报" one). A skill that
        serves no mode is reached by its cue phrases alone: its clause asks in its own words."""
        if not self.router.skills[(task.agent, task.skill)].modes:
            return True
        guess = self.guess(task.text)
        return not guess.emergency and not mode_data.abstains(guess) \
            and (task.agent, task.skill) in self.skills_of.get(guess.mode, frozenset())

    def _specialist(self, text: str, principal: Principal, planner: Planner, guess: ModeGuess,
                    against: str | None = None) -> Plan | None:
        """An unsure request answered by a specialist whose route is its nearest by meaning, when the specialist
        serves one of the likeliest readings (`SPECIALIST_OPTIONS`), in that reading; a request read confidently
        as `against` (a built-in service or report) when the specialist's reading is at least SPECIALIST_MIN_P
        likely; otherwise None."""
        probabilities = dict(guess.ranked)
        readings = [m for m, p in guess.ranked if m != against and p >= SPECIALIST_MIN_P] if against \
            else guess.options()[:SPECIALIST_OPTIONS]
        for mode in readings:
            near = self.router.nearest(text, principal, mode, slack=SPECIALIST_SLACK)
            if near is not None:
                task = SubTask(agent=near.agent, skill=near.skill, params=near.params, text=text, score=near.score,
                               confidence=near.confidence)
                return Plan(planner=planner.name, subtasks=[task], mode=mode, request=text,
                            mode_confidence=round(probabilities.get(mode, 0.0), 4))
        return None

    def _clauses(self, text: str, principal: Principal, planner: Planner, guess: ModeGuess) -> Plan | None:
        """A request unsure as a whole (`guess`) may be several requests, each sure of itself ("孩子刚出生要办什么？
        另外，公积金怎么提取？"): when two or more clauses each have a confident mode that skills serve,
        each is planned in its own mode; otherwise None."""
        clauses = split_clauses(text)
        if len(clauses) < 2:
            return None
        tasks: list[SubTask] = []
        modes_seen: list[str] = []
        for clause in clauses:
            own = self.guess(clause)
            usable = frozenset(k for k in self.skills_of.get(own.mode, ())
                               if self.router.skills[k].allowed(principal))
            if own.emergency or mode_data.abstains(own) or not usable:
                continue
            sub = planner.plan(clause, principal, only=usable, mode=own.mode)
            tasks += sub.subtasks[:1]
            modes_seen += [own.mode] if sub.subtasks else []
        if len(tasks) < 2:
            return None
        return Plan(planner=planner.name, subtasks=tasks, mode=modes_seen[0],
                    mode_confidence=round(guess.confidence, 4))

    def covers(self, text: str, item: str | None) -> bool:
        """False when the request is about something the catalog does not know: it shares no word with
        what the item is about (its name, keywords and labelled requests' own words, less the words many items
        share) and it has a word that no item or bundle uses and requests do not commonly use (宠物殡葬). Requests
        in Latin letters are left to the dense signal. On the training rows' own targets 1.3 % look uncovered (in
        sample: their own words count; 2.3 % with the catalog's words alone)."""
        if item is None or item not in self.topics or is_mostly_latin(text):
            return True
        tokens = _tokens(text)
        if set(tokens) & self.topics[item]:
            return True
        return not [t for t in tokens if len(t) >= 2 and t not in self.vocabulary and t not in self.common]

    def reply(self, plan: Plan, text: str, principal: Principal) -> SkillResult:
        """The assistant's own answer when no skill answers (see `Plan.reply`)."""
        known = mode_data.modes()
        if plan.reply == "clarify":
            options = [Option(value=f"mode={m}", label=known[m].option) for m in plan.options if m in known]
            listed = " ".join(f"{mark} {o.label}" for mark, o in zip("①②③", options, strict=False))
            return SkillResult(clarification=Clarification(slot="mode", question=f"{CLARIFY_QUESTION}{listed}",
                                                           options=options),
                               data={"mode_options": plan.options})
        if plan.reply == "gap":
            return self._gap(text, principal, plan)
        mode = known.get(plan.mode or "out_of_scope") or known["out_of_scope"]
        body = STAFF_ONLY if plan.reply == "staff_only" else (mode.scope or known["out_of_scope"].scope or "")
        title = "您好" if mode.id == "smalltalk" else "我能做什么"
        return SkillResult(sections=[Section(title=title, body=body, kind="scope")])

    def _gap(self, text: str, principal: Principal, plan: Plan) -> SkillResult:
        """No catalog item for the service asked: say so, name who is responsible and the law, file the gap."""
        scores = self.router._scores(text, principal)
        params, _ = self.router._best_target(scores, ("department",), principal, 0.0)
        department = params.get("department")
        hits = knowledge.search(text, principal, top_k=1)
        law = hits[0].doc if hits and hits[0].score >= GAP_LAW_MIN_SCORE else None
        lines = ["本市政务服务事项目录中暂时没有与您的问题对应的事项，我不能给出办理指南。"]
        if department:
            lines.append(f"可能负责的部门：**{identity.department_name(department)}**（可拨打 12345 转办核实）。")
        if law:
            lines.append(f"可能适用的法规：《{law}》。")
        lines.append("您的问题已记录，运营团队会据此补充服务目录。")
        record = unserved.record(text, principal.role.value, plan.mode or "", department, law)
        return SkillResult(
            sections=[Section(title="目录中暂无该事项", body="\n\n".join(lines), kind="gap")],
            departments=[department] if department else [],
            data={"unserved": record},
            next_actions=[NextAction(label="这件事归哪个部门管", value=f"{text}，归哪个部门管？")],
        )
