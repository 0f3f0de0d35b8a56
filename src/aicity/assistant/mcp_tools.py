"""The assistant's part of the MCP slice (hub/mcp_bridge): every agent's skills and the super
assistant's `ask` as tools of the city's MCP server at `/mcp`, and outside tools' approved calls.

It lives in the assistant layer because the hub may not import the agents, and the assistant slice
names `register` as its activation (`assistant/slice.py`, which depends on the MCP slice): no hub slice
names an upper layer.

A skill tool is named `<agent>__<skill>`; its input schema is the skill's typed input. A caller
sees the skills its role may use (`Skill.allowed`); an `actuate` skill only by the roles that may
ask for approvals, and a call of one only files an approval request (`queue_for_approval`), never
acts. A `write` skill's call is audited as the assistant's are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from aicity.agents.base import Agent, RiskLevel, Skill, SkillContext, SkillResult, SubTask, queue_for_approval
from aicity.assistant import service
from aicity.core import audit
from aicity.core.slices import Stop
from aicity.core.tracing import Tracer
from aicity.hub.mcp_bridge import client
from aicity.hub.mcp_bridge.server import Served, ServedTool, serve_tools
from aicity.identity.service import Principal
from aicity.security import approvals, guard

SEPARATOR = "__"
ASK = "ask"
_ASK_SCHEMA = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "description": "向城市超级助理提出的问题 the question for the super assistant"},
    "session_id": {"type": "string", "description": "继续之前的会话 continue an earlier session (its id)"}}}


def render(result: SkillResult) -> str:
    """A skill's result as Markdown: its sections, then the passages it quotes."""
    parts = [f"## {s.title}\n\n{s.body}" for s in result.sections]
    parts += [f"[^{n}]: {c.doc} {c.locator}：{c.text}" for n, c in enumerate(result.citations, 1)]
    sure, possible = _departments(result)
    if sure:
        parts.append("承办部门 departments：" + "、".join(sure))
    if possible:
        parts.append("视情况可能涉及的部门 possible departments：" + "、".join(possible))
    return "\n\n".join(parts) or "（无结果 no result）"


def _departments(result: SkillResult) -> tuple[list[str], list[str]]:
    """The departments that surely handle the result, and those it names only for steps that may not apply (a
    bundle still asking which case)."""
    possible = [d for d in result.data.get("possible_departments") or [] if d in result.departments]
    return [d for d in result.departments if d not in possible], possible


def _data(result: SkillResult) -> dict[str, Any]:
    """The structured result: `departments` those that surely handle it, `possible_departments` those that may."""
    sure, possible = _departments(result)
    data = result.model_dump(mode="json", include={"citations", "event", "next_actions"})
    return {**data, "departments": sure, "possible_departments": possible}


def _may_see(skill: Skill) -> Callable[[Principal], bool]:
    if skill.risk == RiskLevel.actuate:
        return lambda p: skill.allowed(p) and p.role.value in approvals.policy().request_roles
    return skill.allowed


def _skill_runner(agent: Agent, skill: Skill) -> Callable[[dict[str, Any], Principal, Tracer], Served]:
    def run(arguments: dict[str, Any], principal: Principal, tracer: Tracer) -> Served:
        text = str(arguments.get("text") or "")
        params = {k: str(v) for k, v in arguments.items() if k != "text" and v is not None}
        task = SubTask(agent=agent.id, skill=skill.id, params=params, text=text, score=1.0, confidence=1.0)
        ctx = SkillContext(principal=principal, tracer=tracer, may_ask=False)
        if skill.risk == RiskLevel.actuate:  # an approval request at most: the handler never runs here
            outcome, queued = queue_for_approval(task, skill, ctx)
            return Served(render(queued), {"decision": outcome.decision, "approval_id": outcome.approval_id},
                          is_error=outcome.approval_id is None)
        try:
            inp = skill.input_model.model_validate({**arguments, "text": text})
        except ValidationError as exc:
            return Served(f"参数不合法 invalid arguments: {exc.error_count()} 处错误\n{exc}", is_error=True)
        if skill.risk == RiskLevel.write:
            audit.record(principal.actor, "tool.call", f"{agent.id}.{skill.id}",
                         {"trace_id": tracer.id, "params": guard.redact(params), "interface": "mcp"})
        with tracer.step("skill", agent=agent.id, skill=skill.id, risk=skill.risk.value):
            result = skill.handler(inp, ctx)
        return Served(render(result), _data(result))

    return run


def _skill_tool(agent: Agent, skill: Skill) -> ServedTool:
    note = ("【作用于城市设施：调用只会提交审批申请，经另一位工作人员批准后才执行】 " if skill.risk == RiskLevel.actuate
            else "【写入：会在城市系统中登记】 " if skill.risk == RiskLevel.write else "")
    return ServedTool(name=f"{agent.id}{SEPARATOR}{skill.id}", title=f"{skill.name}（{agent.name}）",
                      description=note + skill.description, input_schema=skill.input_model.model_json_schema(),
                      run=_skill_runner(agent, skill), read_only=skill.risk == RiskLevel.read,
                      destructive=skill.risk == RiskLevel.actuate, allowed=_may_see(skill))


def _ask(arguments: dict[str, Any], principal: Principal, _tracer: Tracer) -> Served:
    text = str(arguments.get("text") or "")
    session_id = arguments.get("session_id")
    result = service.assistant().ask(text, principal, str(session_id) if session_id else None,
                                     session_token=None)
    footnotes = [f"[^{n}]: {c.get('doc', '')} {c.get('locator', '')}：{c.get('text', '')}"
                 for n, c in enumerate(result.citations, 1)]
    return Served("\n\n".join([result.answer, *footnotes]),
                  {"trace_id": result.trace_id, "session_id": result.session_id, "mode": result.mode,
                   "departments": result.departments, "citations": result.citations})


_ASK_TOOL = ServedTool(name=ASK, title="城市超级助理 the super assistant",
                       description="向城市超级助理提问（政务服务、政策法规、城市治理等），答案附引用 "
                                   "Ask the city's super assistant; answers cite their sources.",
                       input_schema=_ASK_SCHEMA, run=_ask, read_only=False, screens_itself=True)
_cache: dict[int, tuple[Any, list[ServedTool]]] = {}


def tools() -> list[ServedTool]:
    """`ask` and every agent's skills (built once per registry: the assistant is rebuilt on changes)."""
    registry = service.assistant().registry
    key = id(registry)
    if key not in _cache or _cache[key][0] is not registry:
        _cache.clear()
        _cache[key] = (registry, [_ASK_TOOL, *(_skill_tool(a, s) for a in registry.agents() for s in a.skills)])
    return _cache[key][1]


def run_approved(agent: str, skill: str, params: dict[str, str], text: str, principal: Principal,
                 tracer: Tracer) -> list[dict[str, Any]]:
    """The approval queue's executor: outside tools (`mcp.<server>`) by the MCP client, the rest as before."""
    if agent.startswith(client.APPROVAL_AGENT_PREFIX):
        return client.run_approved(agent, skill, params, text, principal, tracer)
    return service.run_approved(agent, skill, params, text, principal, tracer)


def register() -> Stop:
    """Activation (the assistant slice, after `service.serve_approvals`): serve the skills and `ask` at
    `/mcp`; run approved outside-tool calls, handing every other approved call to the assistant's executor."""
    remove_tools = serve_tools(tools)
    restore_executor = approvals.set_executor(run_approved)

    def stop() -> None:
        restore_executor()
        remove_tools()

    return stop
