"""The super assistant's run: plan → dispatch in parallel → compose, with a trace.

`run` yields progress events (`plan`, `step`, `answer`) so that the streaming API and the
console can show the plan as it executes; `ask` is the same run, collected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from aicity.agents.base import (
    RiskLevel,
    Section,
    SkillContext,
    SkillResult,
    SubTask,
    devices_reached,
    queue_for_approval,
)
from aicity.agents.gov_service import slots as slot_filling
from aicity.agents.registry import AgentRegistry
from aicity.agents.studio import service as studio
from aicity.assistant import sessions
from aicity.assistant.composer import compose, with_footnotes
from aicity.assistant.llm_planner import Fallback, LLMPlanner, LLMTurn
from aicity.assistant.modes import ModeGuess, labelled_rows, mode_rows_paths, modes
from aicity.assistant.planner import EmbeddedPlanner, Plan, Planner
from aicity.assistant.router import Router
from aicity.assistant.understanding import Understanding
from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import PerDatabase, database
from aicity.core.errors import Problem, bad_request
from aicity.core.text import normalize, read_jsonl
from aicity.core.tracing import Tracer
from aicity.hub.catalog import service as catalog
from aicity.identity.service import Principal
from aicity.security import approvals, content, guard, provenance

log = logging.getLogger(__name__)

MAX_PARALLEL_SKILLS = 4
#: what answers a request that routes nowhere: a search of the knowledge base
FALLBACK_SKILL = ("policy", "legal_qa")
#: one pool for the process: skills of concurrent requests share it
_skill_pool = ThreadPoolExecutor(max_workers=MAX_PARALLEL_SKILLS, thread_name_prefix="skill")


class SkillRef(BaseModel):
    agent: str
    skill: str
    score: float


class AskResult(BaseModel):
    answer: str
    skills: list[SkillRef]
    departments: list[str]
    citations: list[dict[str, Any]]
    event: dict[str, Any] | None = None
    trace_id: str
    session_id: str
    planner: str
    sections: list[dict[str, Any]]
    next_actions: list[dict[str, Any]]
    clarification: dict[str, Any] | None = None
    #: the kind of help understood (assistant mode) and the classifier's confidence in it
    mode: str | None = None
    mode_confidence: float | None = None
    #: the answer's provenance record (GET /api/v1/guard/provenance/{id}); its id is the trace id
    provenance: str | None = None
    #: a keyless caller's proof of ownership of the session and its traces (returned only to the
    #: requester, never stored): send it to continue the session or read them (X-Session-Token)
    session_token: str | None = None


class Assistant:
    def __init__(self, registry: AgentRegistry, planner: Planner | None = None,
                 examples: list[dict] | None = None) -> None:
        self.registry = registry
        self.router = Router(registry, examples)
        self.planner: Planner = planner or EmbeddedPlanner(self.router)
        self.llm = LLMPlanner(self.router)
        self._fallback = FALLBACK_SKILL if FALLBACK_SKILL in self.router.skills else None
        self.understanding = Understanding(registry, self.router, labelled_rows(registry))

    def run(self, text: str, principal: Principal, session_id: str | None = None,
            session_token: str | sessions.Local | None = sessions.LOCAL) -> Iterator[tuple[str, Any]]:
        """The run's events. `session_token`: what a remote keyless caller sent to continue its
        session (the HTTP APIs pass it, None when absent); in-process callers keep the default."""
        text = validate_text(text)
        role = principal.role.value
        # the run answers the person's own words; what is stored (trace, session) has PII masked
        tracer = Tracer("assistant", role, {"text": text}, session_id, redact=guard.redact, owner=principal.key_id)
        screened = _screen_input(text, role, tracer)
        session, returned_token = sessions.open_session(session_id, principal, session_token)
        tracer.session_id, tracer.owner = session.id, session.owner
        reply = self._reply_plan(text, session.pending, session.slots, principal)
        # safety first: an emergency is decided before any planner, the model's included
        guess = self.understanding.guess(text) if reply is None else None
        llm_may_plan = reply is None and guess is not None and not guess.emergency
        turn = self._llm_turn(text, principal, session.turns, session.slots, tracer) if llm_may_plan else None
        if turn is not None:
            plan, results = turn.plan, turn.results
            yield "plan", _plan_event(tracer, session.id, plan)
            for step in turn.steps:
                yield "step", step
        else:
            with tracer.step("plan", planner=self.planner.name) as step:
                plan, known_slots, may_ask = reply or (self._plan(text, principal, guess), session.slots, True)
                step["subtasks"] = [t.model_dump() for t in plan.subtasks]
                step["unrouted"] = plan.unrouted
                step["mode"] = {"mode": plan.mode, "confidence": plan.mode_confidence, "reply": plan.reply,
                                "options": plan.options,
                                "urgent_rules": list(guess.urgent_reasons) if guess is not None else []}
            yield "plan", _plan_event(tracer, session.id, plan)
            ctx = SkillContext(principal=principal, tracer=tracer, slots=known_slots, may_ask=may_ask, mode=plan.mode)
            futures = [_skill_pool.submit(self._dispatch, task, ctx) for task in plan.subtasks]
            results = []
            for task, fut in zip(plan.subtasks, futures, strict=True):
                result, ms, error = fut.result()
                results.append(result)
                yield "step", {"agent": task.agent, "skill": task.skill, "ms": ms, "status": "error" if error else "ok"}
            if plan.reply and not plan.subtasks:
                results.append(self.understanding.reply(plan, plan.request or text, principal))
        with tracer.step("compose", writer="llm" if turn else "embedded"):
            composed = compose(results)
            answer = with_footnotes(turn.text, composed.citations) if turn else composed.answer
        answer = _screen_output(answer, text, role, tracer)
        sections = [{**s.model_dump(), "body": _screen_output(s.body, text, role)} for s in composed.sections]
        new_pending = None
        if composed.clarification and plan.reply == "clarify":
            new_pending = {"mode_choice": {"text": text, "options": plan.options}}
        elif composed.clarification:
            asking = next(t for t, r in zip(plan.subtasks, results, strict=False) if r.clarification)
            # a question without options takes the next message as its answer (e.g. where a report happened)
            new_pending = {**asking.model_dump(), "free_text": not composed.clarification.options, "mode": plan.mode}
        slots_learnt = {k: v for r in results for k, v in r.data.get("slots", {}).items()}
        if guard.needs_help(screened):
            answer = f"{content.HELP_LINES}\n\n{answer}"
        # the session (stored now when new) with its turn, the provenance record and the trace: one commit
        with database().together():
            sessions.record_turn(session, screened.text, guard.redact(answer), guard.redact(new_pending),
                                 guard.redact({**session.slots, **slots_learnt}))
            citations = [c.model_dump() for c in composed.citations]
            result = AskResult(
                answer=answer,
                skills=[SkillRef(agent=t.agent, skill=t.skill, score=t.confidence)
                        for t, r in zip(plan.subtasks, results, strict=False) if not declined(r)],
                departments=composed.departments,
                citations=citations,
                trace_id=tracer.id,
                session_id=session.id,
                planner=plan.planner,
                sections=sections,
                next_actions=[a.model_dump() for a in composed.next_actions],
                clarification=composed.clarification.model_dump() if composed.clarification else None,
                event=next((r.event for r in results if r.event), None),
                provenance=provenance.record_answer(tracer.id, answer, plan.planner, citations),
                mode=plan.mode,
                mode_confidence=plan.mode_confidence,
                session_token=returned_token,
            )
            summary = {"skills": [f"{s.agent}.{s.skill}" for s in result.skills], "departments": result.departments,
                       "citations": len(result.citations), "clarification": bool(result.clarification),
                       "planner": plan.planner, "mode": plan.mode,
                       "abstained": bool(results) and all(abstained(r) for r in results)}
            tracer.save(summary)
        bus.publish("assistant.answered", {"trace_id": tracer.id, "role": principal.role.value, **summary})
        yield "answer", result

    def _llm_turn(self, text: str, principal: Principal, history: list[dict[str, Any]], slots: dict[str, str],
                  tracer: Tracer) -> LLMTurn | None:
        """The model's turn, or None (and a trace note saying why) for the embedded planner."""
        if not self.llm.active():
            return None
        ctx = SkillContext(principal=principal, tracer=tracer, slots=slots, may_ask=True)
        with tracer.step("plan", planner=self.llm.name, group=self.llm.group) as step:
            try:
                turn = self.llm.run(text, principal, history, ctx, self._dispatch)
            except Fallback as exc:
                step["fallback"] = {"reason": exc.reason, "detail": exc.detail[:300]}
                log.warning("LLM planner fell back to the embedded planner: %s", exc.reason)
                return None
            step["subtasks"] = [t.model_dump() for t in turn.plan.subtasks]
        return turn

    def ask(self, text: str, principal: Principal, session_id: str | None = None,
            session_token: str | sessions.Local | None = sessions.LOCAL) -> AskResult:
        result = None
        for kind, payload in self.run(text, principal, session_id, session_token):
            if kind == "answer":
                result = payload
        assert result is not None
        return result

    def _reply_plan(self, text: str, pending: dict | None, slots: dict[str, str],
                    principal: Principal) -> tuple[Plan, dict[str, str], bool] | None:
        """A reply to a clarifying question re-runs the sub-task that asked it, with the
        slots it filled and no second question; a reading chosen among those offered plans the
        first request in that mode."""
        if pending and (choice := pending.get("mode_choice")):
            mode = _chosen_mode(text, choice.get("options", []))
            if mode:
                guess = self.understanding.guess(choice["text"])
                plan = self.understanding.plan(choice["text"], principal, self.planner, guess, forced=mode)
                return plan, slots, True
            return None
        if pending and pending.get("free_text") and not self.understanding.guess(text).emergency:
            task = SubTask.model_validate({**pending, "text": pending["text"] + "。" + text})
            return Plan(planner=self.planner.name, subtasks=[task], mode=pending.get("mode")), slots, False
        if pending and pending.get("params", {}).get("bundle"):
            bundle = catalog.catalog().bundles.get(pending["params"]["bundle"])
            answered = {s.id: v for s in (bundle.slots if bundle else []) if (v := slot_filling.detect(s, text))}
            if answered or len(text) <= 12:
                task = SubTask.model_validate({**pending, "text": pending["text"] + "。" + text})
                return Plan(planner=self.planner.name, subtasks=[task]), {**slots, **answered}, False
        return None

    def _plan(self, text: str, principal: Principal, guess: ModeGuess | None = None) -> Plan:
        guess = guess or self.understanding.guess(text)
        plan = self.understanding.plan(text, principal, self.planner, guess)
        if not plan.subtasks and not plan.reply and self._fallback:  # nothing routed: let the knowledge base try
            plan.subtasks = [SubTask(agent=self._fallback[0], skill=self._fallback[1], text=text, score=0.0,
                                     confidence=0.0)]
        return plan

    def _dispatch(self, task: SubTask, ctx: SkillContext) -> tuple[SkillResult, float, str | None]:
        t0 = time.perf_counter()
        skill = self.registry.skill(task.agent, task.skill)
        with ctx.tracer.step("skill", agent=task.agent, skill=task.skill, params=task.params,
                             risk=skill.risk.value) as step:
            if not skill.allowed(ctx.principal):
                step["decision"] = "denied"
                return SkillResult(), 0.0, "denied"
            if skill.risk == RiskLevel.actuate:
                # acting on the physical city needs an authorised person and a second person's
                # approval: the request is queued (or refused), the handler never runs here
                outcome, queued = queue_for_approval(task, skill, ctx)
                step["decision"] = outcome.decision
                if outcome.approval_id:
                    step["approval"] = outcome.approval_id
                return queued, 0.0, outcome.error
            if skill.risk == RiskLevel.write:  # it records something in the city: audited (never the raw text)
                audit.record(ctx.principal.actor, "tool.call", f"{task.agent}.{task.skill}",
                             {"trace_id": ctx.tracer.id, "params": guard.redact(dict(task.params))})
            try:
                inp = skill.input_model.model_validate({**task.params, "text": task.text})
                result = skill.handler(inp, ctx)
            except (ValidationError, Problem) as exc:
                step["error"] = str(exc)
                return SkillResult(), round((time.perf_counter() - t0) * 1000, 3), str(exc)
            except Exception as exc:  # a faulty skill costs its own section, never the whole answer
                log.exception("skill %s.%s failed", task.agent, task.skill)
                step["error"] = f"{type(exc).__name__}: {exc}"
                return _skill_failed(skill.name), round((time.perf_counter() - t0) * 1000, 3), step["error"]
            step["departments"] = result.departments
            step["citations"] = len(result.citations)
            step["abstained"] = abstained(result)
        return result, round((time.perf_counter() - t0) * 1000, 3), None


#: sections that say the assistant did not answer the request (out of scope, not in the catalog, refused)
ABSTAIN_KINDS = frozenset({"scope", "gap", "refusal"})


def declined(result: SkillResult) -> bool:
    """Whether a skill did nothing for the request but say it cannot ("暂不支持的推演", an unknown district): every
    section a refusal, nothing found, filed or asked. The answer does not claim such a skill."""
    return bool(result.sections) and all(s.kind == "refusal" for s in result.sections) and not result.data \
        and result.event is None and result.clarification is None


def abstained(result: SkillResult) -> bool:
    """Whether a skill declined to answer (recorded on its trace step for the operations view)."""
    return bool(result.data.get("abstained")) or any(s.kind in ABSTAIN_KINDS for s in result.sections)


def _chosen_mode(text: str, options: list[str]) -> str | None:
    """Which offered reading a reply picks: the option's button label, its value or its mode id."""
    known = modes()
    reply = normalize(text).lower()
    for mode in options:
        if mode in known and reply in (normalize(known[mode].option).lower(), f"mode={mode}", mode):
            return mode
    return next((m for m in options if m in known and normalize(known[m].option).lower() in reply), None)


def _screen_input(text: str, role: str, tracer: Tracer) -> guard.GuardResult:
    """The guard's input stage (`.text` is the text as it may be stored). A blocked request is refused
    (400 `guard-blocked`, audited) and leaves a trace with status `blocked`."""
    try:
        result = guard.enforce(text, "input", role, "assistant")
    except Problem as exc:
        tracer.note("guard", stage="input", verdict="block", findings=exc.extra["findings"])
        tracer.status = "blocked"
        tracer.save({"blocked": True})
        exc.extra["trace_id"] = tracer.id
        raise
    guard.note(result, tracer)
    return result


def _screen_output(text: str, request: str, role: str, tracer: Tracer | None = None) -> str:
    """The guard's output stage: payloads and other people's personal information masked."""
    result = guard.check(text, "output", role, own=request)
    guard.note(result, tracer)
    return result.text or "〔回答未通过安全检查，已拦截 withheld by the guard〕"


def _plan_event(tracer: Tracer, session_id: str, plan: Plan) -> dict[str, Any]:
    return {"trace_id": tracer.id, "session_id": session_id, "planner": plan.planner,
            "subtasks": [t.model_dump() for t in plan.subtasks]}


def _skill_failed(skill_name: str) -> SkillResult:
    return SkillResult(sections=[Section(
        title=f"{skill_name}暂时无法回答", kind="error",
        body="这一部分处理出错，已记录在运行轨迹中。其余内容不受影响；也可稍后重试或拨打 12345。",
    )])


def validate_text(text: str | None) -> str:
    limit = settings().max_text_chars
    if text is None or not normalize(text):
        raise bad_request("问题不能为空 text must not be empty", "empty-text")
    if len(text) > limit:
        raise Problem(413, "内容过长 Text too long", f"问题长度 {len(text)} 超过上限 {limit} 字符", "text-too-long",
                      limit=limit)
    return text.strip()


def _build() -> Assistant:
    return Assistant(studio.city_registry(), examples=load_examples())


def load_examples() -> list[dict]:
    """Labelled requests: the demo city's (`demo/data/training/`) and the city's own
    (`<data dir>/training/*.jsonl`, e.g. operators' corrections). The mode-labelled requests
    (`modes.mode_rows_paths`) teach the mode classifier (`modes.labelled_rows`); they are not routes but vote for
    the target of a request of their mode ("votes": `router._Votes`; a duty row for its one department). The
    development sets beside them are neither."""
    builtin = Path(str(resources.files("aicity") / "demo" / "data" / "training"))
    rows = []
    for path in [*sorted(builtin.glob("*.jsonl")), *sorted((settings().data_dir / "training").glob("*.jsonl"))]:
        if "modes" in path.name:
            continue
        rows += [row for row in read_jsonl(path) if row.get("skills")]
    for path in mode_rows_paths():
        for row in read_jsonl(path):
            # a duty row ("油烟归谁管") names its one department, not a target: it votes for that department
            if row.get("skills") and (target := row.get("target") or _one_department(row)):
                rows.append({**row, "target": target, "votes": True})
    return rows


def _one_department(row: dict) -> str | None:
    """The department a duty row asks about, when it names exactly one."""
    departments = row.get("departments") or []
    return departments[0] if row.get("mode") == "duty" and len(departments) == 1 else None


_assistant = PerDatabase(_build)


def assistant() -> Assistant:
    """The assistant of the current database; rebuilt when the catalog or knowledge changes."""
    return _assistant.get()


def warm_up() -> None:
    """Build the indexes at server start; route vectors compute in the background."""
    assistant()


def reset(_topic: str, _payload: dict) -> None:
    """The catalog, the knowledge base or the embedding model changed: rebuild on next use
    (subscribed by the assistant slice, assistant/slice.py)."""
    _assistant.invalidate()


def run_approved(agent: str, skill: str, params: dict[str, str], text: str, principal: Principal,
                 tracer: Tracer) -> list[dict[str, Any]]:
    """The approval queue's executor: an approved call runs with the assistant's agents."""
    return assistant().registry.run(agent, skill, params, text, principal, tracer)


def devices_now(agent: str, skill: str, params: dict[str, str], text: str) -> int | None:
    """The approval queue's device count: how many devices a queued call would reach now."""
    try:
        found = assistant().registry.skill(agent, skill)
    except KeyError:
        return None
    return devices_reached(found, params, text)


def serve_approvals() -> Callable[[], None]:
    """Activation (the assistant slice): the approval queue, below the agents, runs approved calls
    with the assistant's agents and counts their devices with them; returns the function that unregisters both."""
    restore_run, restore_count = approvals.set_executor(run_approved), approvals.set_device_count(devices_now)

    def restore() -> None:
        restore_count()
        restore_run()

    return restore

