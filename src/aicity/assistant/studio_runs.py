"""Co-created agents (`agents/studio`) run by the assistant, called by name: the console's test chat,
`POST /api/v1/agents/studio/{id}/chat`, `aicity agents test` and `/v1/chat/completions` with
`model` = the agent's id.

A pinned run is the assistant's own run (`Assistant.run`: the guard's input and output stages, the
session, the trace, the provenance record, the dispatcher's role checks, audit and approval queue)
over a small registry: the agent and the skills it names as tools. The embedded planner routes among
them (the agent's own `ask` skill when nothing else fits); with a gateway model, the model plans with
the agent's instructions and those skills as its tools, and the outside MCP tools it is given as they
are (their names, descriptions and input schemas from their servers' listings; each call through the MCP
client's rate limit, guard both ways, approval for writing tools and audit, `runtime.call_outside`).
Emergencies are never pinned: an emergency
goes to the whole assistant first, as every request does.

Published agents for the whole city join the assistant's registry itself (`studio.register_published`,
in `service._build`), so the super assistant routes to them too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from aicity.agents.base import Agent, SubTask
from aicity.agents.registry import AgentRegistry
from aicity.agents.studio import runtime
from aicity.agents.studio import service as studio
from aicity.agents.studio.spec import AgentDefinition
from aicity.assistant.llm_planner import SYSTEM_PROMPT, LLMPlanner, OutsideTool
from aicity.assistant.modes import ModeGuess
from aicity.assistant.openai_api import Completion, read_chat
from aicity.assistant.planner import EmbeddedPlanner, Plan, Planner
from aicity.assistant.router import Router
from aicity.assistant.service import Assistant, assistant, validate_text
from aicity.core.db import database
from aicity.core.tracing import get_trace
from aicity.hub.gateway import api as gateway_api
from aicity.hub.mcp_bridge import client as mcp
from aicity.identity.service import Principal

log = logging.getLogger(__name__)


class _PinnedUnderstanding:
    """The whole assistant's classifier decides emergencies; everything else is the agent's."""

    def __init__(self, main: Assistant, agent_id: str, mode: str) -> None:
        self.main, self.agent_id, self.mode = main, agent_id, mode

    def guess(self, text: str) -> ModeGuess:
        return self.main.understanding.guess(text)

    def plan(self, text: str, principal: Principal, planner: Planner, guess: ModeGuess,
             forced: str | None = None) -> Plan:
        plan = planner.plan(text, principal)
        if not plan.subtasks:
            plan.subtasks = [SubTask(agent=self.agent_id, skill=runtime.ASK_SKILL, text=text, score=0.0,
                                     confidence=0.0)]
        return plan.model_copy(update={"mode": self.mode, "mode_confidence": 1.0, "request": text})


class PinnedAssistant(Assistant):
    """The assistant's run over one agent and its tools (see the module's docstring)."""

    def __init__(self, main: Assistant, definition: AgentDefinition, version: int | None) -> None:
        registry = AgentRegistry()
        registry.register(runtime.build(definition, lambda t: _resolve(main.registry, t), version,
                                        studio.count_use if version else None))
        tools: dict[str, Agent] = {}
        for agent_id, skill_id in runtime.tool_keys(definition):
            try:
                owner, skill = main.registry.get(agent_id), main.registry.skill(agent_id, skill_id)
            except KeyError:
                continue
            tools.setdefault(agent_id, Agent(id=owner.id, name=owner.name, department=owner.department,
                                             description=owner.description, skills=[], source=owner.source))
            tools[agent_id].skills.append(skill)
        for agent in tools.values():
            registry.register(agent)
        self.registry = registry
        self.router = Router(registry)
        self.planner = EmbeddedPlanner(self.router)
        self.llm = LLMPlanner(self.router)
        self.llm.system_prompt = f"{definition.instructions}\n\n{SYSTEM_PROMPT}" if definition.instructions \
            else SYSTEM_PROMPT
        self.llm.outside = {t.name: t for t in outside_tools(definition)}
        self._fallback = None
        self.understanding = _PinnedUnderstanding(main, definition.id, definition.modes[0])  # type: ignore[assignment]


def outside_tools(definition: AgentDefinition) -> list[OutsideTool]:
    """The agent's outside MCP tools as its model sees them: `<server>__<tool>`, the server's description
    (a writing one marked as needing approval) and input schema."""
    out = []
    for tool_id, tool in runtime.outside_tools(definition):
        note = "【写入：调用只会提交审批，经工作人员批准后才执行】" if tool.writes else ""
        schema = {k: v for k, v in tool.input_schema.items() if k not in ("title", "$schema")}
        out.append(OutsideTool(
            name=tool.qualified, description=f"{tool.title or tool.name}（外部工具 {tool.server}）{note}：{tool.description}",
            parameters={"type": "object", "properties": {}, **schema}, agent=mcp.APPROVAL_AGENT_PREFIX + tool.server,
            skill=tool.name, call=lambda args, text, ctx, tool_id=tool_id: runtime.call_outside(
                definition, tool_id, args, text, ctx)))
    return out


def _resolve(registry: AgentRegistry, tool_id: str) -> Any:
    agent_id, _, skill_id = tool_id.partition(".")
    try:
        return registry.skill(agent_id, skill_id)
    except KeyError:
        return None


_pinned: dict[tuple[str, str, int], PinnedAssistant] = {}
_pinned_lock = threading.Lock()


def pinned(definition: AgentDefinition, version: int | None) -> PinnedAssistant:
    """A published version's pinned assistant is kept (until the agents change); a draft's is built per run."""
    main = assistant()
    if version is None:
        return PinnedAssistant(main, definition, None)
    key = (database().url, definition.id, version)
    with _pinned_lock:
        if key not in _pinned:
            _pinned[key] = PinnedAssistant(main, definition, version)
        return _pinned[key]


def run_agent(agent_id: str, text: str, principal: Principal, session_id: str | None = None,
              draft: AgentDefinition | None = None) -> dict[str, Any]:
    """One answer of an agent (a draft's when given: the console's test chat), with its trace's steps."""
    definition, version = (draft, None) if draft is not None else studio.usable(agent_id, principal)
    text = validate_text(text)
    main = assistant()
    bot: Assistant = main if main.understanding.guess(text).emergency else pinned(definition, version)
    result = bot.ask(text, principal, session_id)
    record = get_trace(result.trace_id)
    return {**result.model_dump(), "agent": definition.id, "version": version,
            "trace": record.steps if record is not None else []}


def routes_to(definition: AgentDefinition, principal: Principal, texts: list[str] | None = None) -> list[dict[str, Any]]:
    """Where the super assistant sends each of `texts` (default: the definition's examples) now: the mode,
    the skills, and whether it reaches this agent (only a city-published agent can be reached)."""
    main = assistant()
    out = []
    for text in (texts or definition.examples)[:60]:
        plan = main._plan(text, principal)
        skills = [f"{t.agent}.{t.skill}" for t in plan.subtasks]
        out.append({"text": text, "mode": plan.mode, "confidence": plan.mode_confidence, "skills": skills,
                    "reply": plan.reply, "here": any(s.split(".")[0] == definition.id for s in skills)})
    return out


# ---- the OpenAI-compatible endpoint: `model` = a published agent's id -----------------------------------


def _completion(agent_id: str) -> Callable[[dict[str, Any], Request], Any]:
    async def complete(raw: dict[str, Any], request: Request) -> Response:
        call = read_chat(raw, request)
        body, opts, principal, acting, text = call.body, call.opts, call.principal, call.acting, call.text
        definition, version = await run_in_threadpool(studio.usable, agent_id, principal)
        bot = await run_in_threadpool(pinned, definition, version)
        reply = Completion(agent_id)
        if not body.stream:
            return reply.whole(text, await run_in_threadpool(bot.ask, text, acting, opts.session_id,
                                                              opts.session_token))
        return reply.streamed(lambda: iter([bot.ask(text, acting, opts.session_id, opts.session_token)]))

    return complete


_served: set[str] = set()


def serve_models() -> Callable[[], None]:
    """Serve every published agent as a model of `/v1/chat/completions` (the assistant's start-up work;
    kept in step by `on_changed`); returns what takes them away."""
    sync_models()

    def stop() -> None:
        for agent_id in list(_served):
            gateway_api.unregister_local_model(agent_id)
        _served.clear()

    return stop


def sync_models() -> None:
    live = {d.id for d, _ in studio.published(None)}
    for agent_id in _served - live:
        gateway_api.unregister_local_model(agent_id)
    for agent_id in live - _served:
        gateway_api.register_local_model(agent_id, _completion(agent_id))
    _served.clear()
    _served.update(live)


def on_changed(_topic: str, _payload: dict[str, Any]) -> None:
    """An agent was published, withdrawn or restored (in any process: a `broadcast` subscription):
    drop the pinned assistants and serve the live agents as models."""
    with _pinned_lock:
        _pinned.clear()
    try:
        sync_models()
    except Exception:  # a process without the city's database (a CLI command that ended) has nothing to serve
        log.exception("could not refresh the co-created agents' models")


def register() -> Callable[[], None]:
    """Activation (the assistant slice): the studio runs agents, and checks their routing, with the assistant."""
    return runtime.set_runner(run_agent, routes_to)
