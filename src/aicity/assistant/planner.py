"""Planning: turn a request into sub-tasks for skills.

`Planner` is the interface; `EmbeddedPlanner` is the deterministic one that needs no model.
An LLM planner (through the model gateway) implements the same interface.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from aicity.agents.base import SubTask
from aicity.assistant.router import Candidate, Router, instructed, pasted, split_clauses
from aicity.identity.service import Principal

#: a later clause with no cue still starts its own sub-task when it matches a route this well
STRONG_ROUTE = 9.0
#: modes whose skills each report one side of the same question (a briefing: the safety picture, the hotspots), so
#: every one the request cues is planned
SIDE_BY_SIDE_MODES = frozenset({"briefing"})


class Plan(BaseModel):
    planner: str
    subtasks: list[SubTask]
    #: clauses that routed nowhere confidently (kept for the trace and the evaluation)
    unrouted: list[str] = []
    #: the kind of help asked (assistant mode) and the classifier's confidence in it
    mode: str | None = None
    mode_confidence: float | None = None
    #: how the assistant answers itself when no skill does: "clarify" (which reading is meant),
    #: "scope" (what it can and cannot do), "staff_only", "gap" (no catalog item for the service)
    reply: str | None = None
    #: the readings a clarifying question offers (modes, likeliest first)
    options: list[str] = []
    #: the request planned, when not the message just sent (a reading chosen for an earlier request)
    request: str | None = None


class Planner(Protocol):
    name: str

    def plan(self, text: str, principal: Principal, only: frozenset[tuple[str, str]] | None = None,
             mode: str | None = None) -> Plan: ...


def _subtask(c: Candidate, text: str) -> SubTask:
    return SubTask(agent=c.agent, skill=c.skill, params=c.params, text=text, score=round(c.score, 3),
                   confidence=c.confidence)


class EmbeddedPlanner:
    """Multi-intent: each clause is routed on its own. A clause starts a new sub-task only
    when it asks something in its own words (a cue: 怎么办, 要办哪些证, 怎么处罚 …) for a
    skill and target not already planned; otherwise it adds detail to the sub-task before it
    ("公司不做了，注销要走哪些流程？税务社保是不是要先清" is one request). When no clause
    stands on its own the whole request is routed as one.

    With `only` (the skills of the request's mode) the whole request is routed among those; clauses
    may still add sub-tasks of other skills in their own words, as long as one sub-task serves the mode.
    A request that hands over a text ("给这份文件写个摘要：" and the document, `router.pasted`; or a shorter one
    after a colon, `router.instructed`) whose instruction names its skill in its own words (a cue, or a route of
    STRONG_ROUTE) is one sub-task on the whole text, of the instruction's skill, its target read from the whole text.
    In a briefing every report the request cues is planned (`_side_by_side`)."""

    name = "embedded"

    def __init__(self, router: Router) -> None:
        self.router = router

    def plan(self, text: str, principal: Principal, only: frozenset[tuple[str, str]] | None = None,
             mode: str | None = None) -> Plan:
        carried = pasted(text) or instructed(text)
        cand = self.router.route(carried[0], principal, only, mode) if carried is not None else None
        if cand is not None and (cand.by == "cue" or cand.score >= STRONG_ROUTE):
            # a text handed over with an instruction in its own words: one sub-task of the instruction's skill on the
            # whole text, whose target may follow the colon ("暴雨内涝模拟：南湖区", "帮我预审一下：个体户设立登记，我有…")
            if self.router.skills[(cand.agent, cand.skill)].targets_for(mode):
                cand = self.router.route(text, principal, frozenset({(cand.agent, cand.skill)}), mode) or cand
            return Plan(planner=self.name, subtasks=[_subtask(cand, text)])
        clauses = split_clauses(text) or [text]
        tasks: list[SubTask] = []
        unrouted: list[str] = []
        for clause in clauses:
            cand = self.router.route(clause, principal) if len(clauses) > 1 else None
            key = (cand.agent, cand.skill, tuple(sorted(cand.params.items()))) if cand else None
            seen = {(t.agent, t.skill, tuple(sorted(t.params.items()))) for t in tasks}
            own_words = cand is not None and (cand.by == "cue" or cand.score >= STRONG_ROUTE)
            if cand is None or key in seen or (tasks and not own_words):
                if tasks:
                    tasks[-1].text += "，" + clause
                else:
                    unrouted.append(clause)
                continue
            if unrouted:  # words before the first routed clause belong to it
                clause = "，".join([*unrouted, clause])
                unrouted = []
            tasks.append(_subtask(cand, clause))
        if len(tasks) <= 1 or (only is not None and not any((t.agent, t.skill) in only for t in tasks)):
            whole = self.router.route(text, principal, only, mode)
            if whole is None:
                return Plan(planner=self.name, subtasks=[], unrouted=[text])
            return Plan(planner=self.name, subtasks=[_subtask(c, text) for c in self._side_by_side(whole, text, principal,
                                                                                                 only, mode)])
        return Plan(planner=self.name, subtasks=tasks, unrouted=unrouted)

    def _side_by_side(self, whole: Candidate, text: str, principal: Principal,
                      only: frozenset[tuple[str, str]] | None, mode: str | None) -> list[Candidate]:
        """`whole`, and in a mode whose skills report side by side (SIDE_BY_SIDE_MODES) every other skill of the mode
        that the request asks for in its own words (a cue): "今天的安全态势和热点问题" is both reports in one clause."""
        if mode not in SIDE_BY_SIDE_MODES or only is None:
            return [whole]
        others = [self.router.route(text, principal, frozenset({key}), mode)
                  for key in self.router.cued_skills(text, principal, only) if key != (whole.agent, whole.skill)]
        return [whole, *(c for c in others if c is not None)]
