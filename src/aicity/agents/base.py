"""The agent framework: A2A-style cards, typed skills with risk levels, and what a skill returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from aicity.core.errors import Problem
from aicity.core.tracing import Tracer
from aicity.hub.knowledge.service import Citation
from aicity.identity.service import Principal
from aicity.security import approvals


class RiskLevel(StrEnum):
    read = "read"  # answers from data; no side effects
    write = "write"  # records something (files an event, submits an application)
    actuate = "actuate"  # acts on the physical city; needs an authorised user and approval


class Section(BaseModel):
    title: str
    body: str  # Markdown; citation markers look like [^n] with n local to the skill's citations
    kind: str = "info"
    #: a chart of the section's figures: SVG whose every text is escaped (`hub/data/chart.py`), shown as an image
    chart_svg: str | None = None


class Option(BaseModel):
    value: str
    label: str


class Clarification(BaseModel):
    """A question whose answer decides the result; asked at most once per request."""

    slot: str
    question: str
    options: list[Option] = []


class NextAction(BaseModel):
    label: str
    #: ask: a follow-up the user can send as is; fill: a template with "……" for the user to
    #: complete before sending; link: a page of the console or API
    kind: str = "ask"
    value: str


class SkillResult(BaseModel):
    sections: list[Section] = []
    citations: list[Citation] = []
    departments: list[str] = []
    next_actions: list[NextAction] = []
    clarification: Clarification | None = None
    event: dict[str, Any] | None = None
    data: dict[str, Any] = {}


class SubTask(BaseModel):
    """One call of a skill: which agent and skill, with what parameters, for which part of the
    request (`text`), and how well the request matched (`score`, `confidence`). A planner makes
    these; the dispatcher and agents that propose actions pass them on (`queue_for_approval`)."""

    agent: str
    skill: str
    params: dict[str, str] = {}
    text: str
    score: float
    confidence: float


class SkillInput(BaseModel):
    """Base of every skill's input: the text of the (sub-)request it was routed for."""

    text: str = Field(description="the user's request, or the part of it routed to this skill")


@dataclass
class SkillContext:
    principal: Principal
    tracer: Tracer
    #: slot values the session already knows (answers to an earlier clarifying question)
    slots: dict[str, str] = field(default_factory=dict)
    #: whether this run may still ask a clarifying question
    may_ask: bool = True
    #: the kind of help the request asks for (the assistant's mode), when known
    mode: str | None = None


Handler = Callable[[Any, SkillContext], SkillResult]


@dataclass(frozen=True)
class Route:
    """A text that, when a request resembles it, sends the request to a skill with `params`
    (e.g. a service item's name and keywords route to the guide skill with that item)."""

    text: str
    params: tuple[tuple[str, str], ...] = ()
    #: public roles the target is for (citizen, enterprise); empty = everyone
    audience: tuple[str, ...] = ()


@dataclass
class Skill:
    id: str
    name: str
    description: str
    examples: list[str]
    input_model: type[SkillInput]
    handler: Handler
    risk: RiskLevel = RiskLevel.read
    #: roles that may use the skill; None = everyone
    roles: frozenset[str] | None = None
    #: phrases that mark a request for this skill whatever its topic (e.g. 还缺什么 → pre-check)
    cues: tuple[str, ...] = ()
    #: when cues of several skills are in one request, the highest priority decides
    cue_priority: int = 0
    #: a cue counts only if one of these words is in the request too (empty = always)
    cue_requires: tuple[str, ...] = ()
    #: the part of a request that names the target (a pre-check drops the list of documents)
    target_text: Callable[[str], str] | None = None
    #: routes from data (catalog items, bundles, laws), in addition to the examples
    routes: Callable[[], list[Route]] | None = None
    #: params the skill works on (e.g. item/bundle); when its best route carries none, the
    #: router takes them from the best route that does (e.g. a pre-check of the item named)
    target_params: tuple[str, ...] = ()
    #: scales the skill's route scores: <1 for skills that should win only on clear signals
    route_weight: float = 1.0
    #: a specialist's modes (a co-created agent's, agents/studio): in these it takes a request whose nearest
    #: route by meaning (dense), among every skill's routes, is its own — and a request whose mode is unsure
    #: when one of the two likeliest readings is one of these (`Router.nearest`)
    nearest_modes: tuple[str, ...] = ()
    #: the kinds of help the skill serves (assistant modes: service_guide, report, data …); the
    #: assistant's mode classifier learns from the examples of each mode's skills, and a request of
    #: a mode is routed only among the skills that declare it
    modes: tuple[str, ...] = ()
    #: the params the skill's target is taken from in a given mode (default: `target_params`), e.g. a
    #: proactive-service skill looks for a life event in the bundle mode and a policy in the policy mode
    mode_targets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the departments whose work the skill does (an `actuate` skill's call queued for approval names them:
    #: the gas company's valve, the water authority's gate)
    departments: tuple[str, ...] = ()
    #: chosen only by its cue phrases, never by its routes alone (an action on an event needs the action asked:
    #: "evt_0042 受理"; "查一下 evt_0042" is a status question)
    cue_only: bool = False
    #: params read from the request's words once the target is known (a device command's `command`: 关掉 → off)
    fill: Callable[[str, dict[str, str]], dict[str, str]] | None = None
    #: an `actuate` skill's devices: those a call would act on, resolved from its input as its handler resolves
    #: them. The approval queue counts them (more than one needs two approvers); None: counted from the words
    #: (`intent.approvals_needed`)
    acts_on: Callable[[Any], list[Any]] | None = None

    def allowed(self, principal: Principal) -> bool:
        return self.roles is None or principal.role.value in self.roles

    def targets_for(self, mode: str | None) -> tuple[str, ...]:
        """The params the skill's target is found in for a request of `mode`."""
        return self.mode_targets.get(mode or "", self.target_params)

    def card(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "examples": self.examples,
            "risk": self.risk.value,
            "roles": sorted(self.roles) if self.roles else None,
            "modes": list(self.modes),
            "input_schema": self.input_model.model_json_schema(),
        }


@dataclass
class Agent:
    id: str
    name: str
    department: str
    description: str
    skills: list[Skill]
    source: str = "builtin"

    def card(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "department": self.department,
            "description": self.description,
            "source": self.source,
            "skills": [s.card() for s in self.skills],
        }

    def skill(self, skill_id: str) -> Skill:
        for s in self.skills:
            if s.id == skill_id:
                return s
        raise KeyError(skill_id)


def queue_for_approval(task: SubTask, skill: Skill, ctx: SkillContext) -> tuple[approvals.Outcome, SkillResult]:
    """Hand a call of an `actuate` skill to the approval queue (refused or queued, never run here);
    the decision, and the section the person sees."""
    outcome = approvals.submit(task.agent, task.skill, dict(task.params), task.text, skill.name, ctx.principal,
                               ctx.tracer, devices=devices_reached(skill, task.params, task.text))
    return outcome, SkillResult(sections=[Section(title=outcome.title, kind="approval", body=outcome.body)],
                                departments=list(skill.departments))


def devices_reached(skill: Skill, params: dict[str, str], text: str) -> int | None:
    """How many devices a call of `skill` would act on (`Skill.acts_on`); None when the skill does not say or the
    devices cannot be resolved yet (the approved run fails then with the same problem)."""
    if skill.acts_on is None:
        return None
    try:
        return len(skill.acts_on(skill.input_model.model_validate({**params, "text": text})))
    except (Problem, ValidationError):
        return None
