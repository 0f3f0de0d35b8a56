"""A definition becomes an `Agent`: one skill, `ask`, with the definition's examples, cues and modes
(so the assistant's router and mode classifier learn it like any built-in skill), whose handler runs
the workflow — by default: search the agent's knowledge bases and answer with exact quotes.

How a published agent competes for the super assistant's requests: its examples, its name and its
description are its routes (BM25 and e5 like every skill's; e5 is multilingual, so an English request can
match the Chinese examples); in its advice modes (`NEAREST_MODES`) it is a specialist (`Skill.nearest_modes`):
a request of such a mode whose nearest route by meaning is (about) one of its own, measured against the other
skills' nearest route (`Router.nearest`), goes to it — and so does a request whose mode is unsure when one of
the likeliest readings is its mode (instead of a clarifying question), and a request read confidently as a
built-in service, report or duty question when its own reading is not unlikely and its route clearly leads
(`understanding.SPECIALIST_AGAINST`). An emergency is never taken.

Without a model this is the whole answer (the embedded planner routes to `ask` or to one of the
agent's tools); with a gateway model the assistant lets the model plan with the instructions and the
same skills as tools (`assistant/studio_runs.py`). Every tool call goes through the same checks as
the assistant's dispatcher: the caller's role, `write` audited, `actuate` only to the approval queue.

The assistant runs agents (it owns guards, sessions and traces): it registers a `Runner` when its
slice is activated (`set_runner`), as it registers the approval queue's executor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ValidationError

from aicity.agents.base import (
    Agent,
    Clarification,
    RiskLevel,
    Route,
    Section,
    Skill,
    SkillContext,
    SkillResult,
    SubTask,
    queue_for_approval,
)
from aicity.agents.policy.agent import LegalQuestion, answer_from_kb
from aicity.agents.studio.spec import AgentDefinition, Condition, Step
from aicity.core import audit
from aicity.core.errors import Problem, unavailable
from aicity.hub.knowledge import service as knowledge
from aicity.hub.mcp_bridge import client as mcp
from aicity.security import guard

ASK_SKILL = "ask"
#: a co-created agent's cues name its domain (公积金, 噪声): above the generic legal cues (处罚, 怎么规定: 70)
#: and below the assistant's own intent cues (pre-check, duties, emergencies, actions: 80+)
CUE_PRIORITY = 75
#: its examples are few and a creator's own words: they win a request only on a clear match
#: (chosen with benchmarks/studio_routing.py on the development sets, never the held-out set)
ROUTE_WEIGHT = 0.7
#: the modes in which a co-created agent is a specialist (`Skill.nearest_modes`): advice, never the built-in
#: services, reports, events or actions (chosen with benchmarks/studio_routing.py on the development sets and
#: its PROBES; its held-apart set was run once, after)
NEAREST_MODES = frozenset({"legal", "policy"})
MAX_VISITS = 40
_MARKER = re.compile(r"\[\^(\d+)\]")
_SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
#: what a tool reference resolves to (None: unknown)
Resolve = Callable[[str], Skill | None]


class Runner(Protocol):
    def __call__(self, agent_id: str, text: str, principal: Any, session_id: str | None = None,
                 draft: AgentDefinition | None = None) -> dict[str, Any]: ...


class RouteCheck(Protocol):
    def __call__(self, definition: AgentDefinition, principal: Any,
                 texts: list[str] | None = None) -> list[dict[str, Any]]: ...


_runner: tuple[Runner, RouteCheck] | None = None


def set_runner(runner: Runner, route_check: RouteCheck) -> Callable[[], None]:
    """The assistant registers what runs an agent and what tells where requests route (its activation);
    returns what unregisters them."""
    global _runner
    _runner = (runner, route_check)

    def unset() -> None:
        global _runner
        _runner = None

    return unset


def run(agent_id: str, text: str, principal: Any, session_id: str | None = None,
        draft: AgentDefinition | None = None) -> dict[str, Any]:
    """Run an agent through the assistant (guards, traces, sessions); 503 when no assistant is active."""
    if _runner is None:
        raise unavailable("城市超级助理 the assistant")
    return _runner[0](agent_id, text, principal, session_id, draft)


def routes(definition: AgentDefinition, principal: Any, texts: list[str] | None = None) -> list[dict[str, Any]]:
    """Where the super assistant sends the definition's examples (or `texts`) now."""
    if _runner is None:
        raise unavailable("城市超级助理 the assistant")
    return _runner[1](definition, principal, texts)


def build(definition: AgentDefinition, resolve: Resolve, version: int | None = None,
          used: Callable[[str], None] | None = None) -> Agent:
    """The agent a definition describes; its tools are looked up when called (`resolve`); `used` counts
    each answer of a published agent."""
    roles = frozenset(definition.serves.roles) or None

    def handler(inp: LegalQuestion, ctx: SkillContext) -> SkillResult:
        if used is not None:
            used(definition.id)
        return execute(definition, inp.text, ctx, resolve)

    skill = Skill(id=ASK_SKILL, name=definition.name, description=definition.description,
                  examples=list(definition.examples), input_model=LegalQuestion, handler=handler, roles=roles,
                  cues=tuple(definition.cues), cue_priority=CUE_PRIORITY if definition.cues else 0,
                  modes=tuple(definition.modes), route_weight=ROUTE_WEIGHT,
                  routes=lambda: [Route(definition.name), Route(definition.description)],
                  nearest_modes=tuple(m for m in definition.modes if m in NEAREST_MODES))
    return Agent(id=definition.id, name=definition.name, department=definition.department,
                 description=definition.description, skills=[skill],
                 source=f"studio:v{version}" if version else "studio:draft")


def tool_keys(definition: AgentDefinition) -> list[tuple[str, str]]:
    """The (agent, skill) of each tool that is another agent's skill."""
    return [tuple(t.id.split(".", 1)) for t in definition.tools if not t.id.startswith("mcp:")]  # type: ignore[misc]


def default_steps(definition: AgentDefinition) -> list[Step]:
    """Without a workflow: search the knowledge bases, else call the first tool."""
    if definition.knowledge.kbs:
        return [Step(id="retrieve", kind="retrieve")]
    return [Step(id="tool", kind="tool", tool=definition.tools[0].id)]


def execute(definition: AgentDefinition, text: str, ctx: SkillContext, resolve: Resolve) -> SkillResult:
    """Walk the workflow from its first step; each step's result joins the answer."""
    steps = definition.workflow or default_steps(definition)
    by_id = {s.id: n for n, s in enumerate(steps)}
    slots = dict(ctx.slots)
    results: list[SkillResult] = []
    hits: dict[str, int] = {}
    trail: list[str] = []
    n: int | None = 0
    while n is not None and n < len(steps) and len(trail) < MAX_VISITS:
        step = steps[n]
        trail.append(step.id)
        following = step.next or (steps[n + 1].id if n + 1 < len(steps) else None)
        if step.kind == "retrieve":
            result = retrieve(definition, step, text, ctx)
            hits[step.id] = len(result.citations)
            results.append(result)
        elif step.kind == "tool":
            result = call_tool(definition, step, text, slots, ctx, resolve)
            hits[step.id] = len(result.citations)
            results.append(result)
        elif step.kind == "ask" and step.slot and step.slot not in slots:
            answer = _answer_in(text, step) if not ctx.may_ask else None
            if answer is None and ctx.may_ask:
                options = f"（可选：{' / '.join(step.options)}）" if step.options else ""
                ctx.tracer.note("workflow", agent=definition.id, steps=trail, asked=step.slot)
                # no options on the clarification: the next message is taken as the answer (free text)
                return SkillResult(clarification=Clarification(slot=step.slot, question=f"{step.question}{options}"))
            slots[step.slot] = answer or ""
        elif step.kind == "branch" and step.condition is not None:
            following = step.then if holds(step.condition, text, slots, hits) else \
                (step.otherwise or following)
        elif step.kind == "compose":
            body = _SLOT.sub(lambda m: slots.get(m.group(1), ""), step.template or "")
            if body.strip():
                results.append(SkillResult(sections=[Section(title=definition.name, body=body)]))
        n = by_id.get(following) if following else None
    ctx.tracer.note("workflow", agent=definition.id, steps=trail, slots=guard.redact(slots))
    merged = merge(results)
    merged.departments = merged.departments or [definition.department]
    merged.data = {**merged.data, "slots": slots, "workflow": trail}
    return merged


def _answer_in(text: str, step: Step) -> str | None:
    """The user's reply to a step's question: the clause after the last 。 (a reply is appended so);
    an option it names, when the step has options."""
    reply = text.rsplit("。", 1)[-1].strip() if "。" in text else ""
    if not reply:
        return None
    return next((o for o in step.options if o in reply), reply)


def holds(cond: Condition, text: str, slots: dict[str, str], hits: dict[str, int]) -> bool:
    kind, _, name = cond.subject.partition(":")
    if kind == "hits":
        count = hits.get(name, 0)
        return count == 0 if cond.op == "empty" else count > int(cond.value) if cond.op == "gt" else \
            str(count) == str(cond.value)
    value = text if kind == "text" else slots.get(name, "")
    if cond.op == "empty":
        return not value.strip()
    if cond.op == "equals":
        return value.strip() == str(cond.value)
    if cond.op == "in":
        return value.strip() in (cond.value if isinstance(cond.value, list) else [str(cond.value)])
    if cond.op == "gt":
        try:
            return float(value) > float(cond.value)  # type: ignore[arg-type]
        except ValueError:
            return False
    words = cond.value if isinstance(cond.value, list) else [str(cond.value)]
    return any(w and w in value for w in words)


def retrieve(definition: AgentDefinition, step: Step, text: str, ctx: SkillContext) -> SkillResult:
    """Exact quotes from the agent's knowledge bases that the *caller* may read (retrieval filters by
    the caller, so an agent never shows a person what that person could not read)."""
    kbs = step.kbs or definition.knowledge.kbs
    docs = set(step.docs or definition.knowledge.docs) or None
    inp = LegalQuestion(text=text, top_k=definition.knowledge.top_k)
    results = []
    readable = knowledge.readable_kbs(ctx.principal)
    for kb in kbs:
        if kb not in readable:
            continue
        if kb == knowledge.GLOBAL_KB:
            results.append(answer_from_kb(inp, ctx, docs, definition.name))
            continue
        found = knowledge.answer(text, ctx.principal, top_k=definition.knowledge.top_k, kb=kb, docs=docs)
        if found.citations:
            results.append(SkillResult(sections=[Section(title=definition.name, body=found.answer, kind="legal")],
                                       citations=list(found.citations)))
    found_any = [r for r in results if r.citations]
    if found_any:
        return merge(found_any)
    return SkillResult(sections=[Section(title=definition.name, kind="legal",
                                         body="知识库中没有找到相关内容，建议咨询12345政务服务热线。")])


def call_tool(definition: AgentDefinition, step: Step, text: str, slots: dict[str, str], ctx: SkillContext,
              resolve: Resolve) -> SkillResult:
    """One tool call, with the dispatcher's checks: the caller's role, `write` audited, `actuate` queued."""
    tool_id = step.tool or ""
    declared = next((t for t in definition.tools if t.id == tool_id), None)
    if declared is not None and tool_id.startswith("mcp:"):
        return call_mcp(definition, step, text, slots, ctx)
    skill = resolve(tool_id) if declared else None
    title = f"{definition.name} · {tool_id}"
    if skill is None or declared is None:
        return SkillResult(sections=[Section(title=title, kind="error", body=f"工具 {tool_id} 不可用 unavailable")])
    agent_id, skill_id = tool_id.split(".", 1)
    params = {k: _SLOT.sub(lambda m: slots.get(m.group(1), ""), v) for k, v in step.params.items()}
    with ctx.tracer.step("skill", agent=agent_id, skill=skill_id, params=params, risk=skill.risk.value,
                         via=definition.id) as trace:
        if not skill.allowed(ctx.principal):
            trace["decision"] = "denied"
            return SkillResult(sections=[Section(title=title, kind="error", body="您的角色无权使用该工具 not allowed")])
        if skill.risk == RiskLevel.actuate:
            task = SubTask(agent=agent_id, skill=skill_id, params=params, text=text, score=0.0, confidence=1.0)
            outcome, queued = queue_for_approval(task, skill, ctx)
            trace["decision"] = outcome.decision
            return queued
        if skill.risk == RiskLevel.write:
            audit.record(ctx.principal.actor, "tool.call", tool_id,
                         {"trace_id": ctx.tracer.id, "via": definition.id, "params": guard.redact(params)})
        try:
            inp = skill.input_model.model_validate({**params, "text": text})
            return skill.handler(inp, SkillContext(principal=ctx.principal, tracer=ctx.tracer, slots=slots,
                                                   may_ask=ctx.may_ask, mode=ctx.mode))
        except (ValidationError, Problem) as exc:
            trace["error"] = str(exc)[:300]
            return SkillResult(sections=[Section(title=title, kind="error", body="工具调用失败，已记录在运行轨迹中")])


def merge(results: list[SkillResult]) -> SkillResult:
    """Several results as one: sections in order, citations renumbered ([^n] local to each part)."""
    if len(results) == 1:
        return results[0]
    out = SkillResult()
    for r in results:
        offset = len(out.citations)
        for s in r.sections:
            body = _MARKER.sub(lambda m, o=offset: f"[^{int(m.group(1)) + o}]", s.body)
            out.sections.append(s.model_copy(update={"body": body}))
        out.citations += r.citations
        out.departments += [d for d in r.departments if d not in out.departments]
        out.next_actions += r.next_actions
        out.clarification = out.clarification or r.clarification
        out.event = out.event or r.event
        out.data.update(r.data)
    return out


def call_mcp(definition: AgentDefinition, step: Step, text: str, slots: dict[str, str],
             ctx: SkillContext) -> SkillResult:
    """A workflow's tool step on an outside tool: the arguments its step names, slots filled in."""
    params = {k: _SLOT.sub(lambda m: slots.get(m.group(1), ""), v) for k, v in step.params.items()}
    return call_outside(definition, step.tool or "", params, text, ctx)


def outside_tool(tool_id: str) -> mcp.McpTool | None:
    """An outside tool named `mcp:<server>.<tool>` as its registered server lists it (hub/mcp_bridge), or None."""
    server, _, name = tool_id[len("mcp:"):].partition(".")
    try:
        tools = mcp.tools_for([server])
    except Problem:
        return None
    return next((t for t in tools if t.name == name), None)


def outside_tools(definition: AgentDefinition) -> list[tuple[str, mcp.McpTool]]:
    """The outside tools the definition is given, (its `mcp:` id, the tool: name, description and input schema
    from the server's listing); one whose server or tool is no longer registered is left out."""
    found = [(t.id, outside_tool(t.id)) for t in definition.tools if t.id.startswith("mcp:")]
    return [(tool_id, tool) for tool_id, tool in found if tool is not None]


def call_outside(definition: AgentDefinition, tool_id: str, arguments: dict[str, Any], text: str,
                 ctx: SkillContext) -> SkillResult:
    """One call of an outside tool (hub/mcp_bridge `call_tool`): its rate limit, the guard both ways (the answer
    comes back as quoted data, its findings on the trace), approval for a writing tool, audit; a trace step."""
    server, _, name = tool_id[len("mcp:"):].partition(".")
    title = f"{definition.name} · 外部工具 {server}.{name}"
    with ctx.tracer.step("mcp", server=server, tool=name, via=definition.id) as trace:
        try:
            answer = mcp.call_tool(server, name, arguments, ctx.principal, text=text, tracer=ctx.tracer)
        except Problem as exc:
            trace["error"] = exc.type_
            return SkillResult(sections=[Section(title=title, kind="error", body=f"外部工具调用失败：{exc.detail}")])
        trace["status"] = answer.status
    kind = "approval" if answer.status == "approval-required" else "error" if answer.status == "error" else "info"
    return SkillResult(sections=[Section(title=title, kind=kind, body=answer.text)])
