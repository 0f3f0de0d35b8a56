"""The LLM planner: the model of a gateway group plans with the agents' skills as tools
(JSON schemas from their typed inputs) in a bounded loop, then writes the answer from what
the tools returned, citing the same numbered sources the structured answer carries.

It never acts on its own: an `actuate` skill the model calls goes to the approval queue, and is
refused when the turn's retrieved or tool text had findings or the call echoes tool text.
Whenever the model fails, loops, calls nothing, or cites what it was not given, the turn
falls back to the embedded planner and the trace says why.

Besides the skills, a planner may be given outside tools (`OutsideTool`: a co-created agent's outside
MCP tools, `assistant/studio_runs.py`): offered with their own names, descriptions and input schemas,
each call run by the tool's own `call`, which brings its checks (rate limit, the guard both ways, approval
for a writing tool, audit); what it answers is handed to the model as the quoted data it already is."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from aicity.agents.base import RiskLevel, SkillContext, SkillResult, SubTask
from aicity.assistant.composer import compose
from aicity.assistant.planner import Plan
from aicity.assistant.router import Router
from aicity.core.config import settings
from aicity.core.errors import Problem
from aicity.hub.gateway import service as gateway
from aicity.hub.knowledge.grounded import (
    GROUNDING_RULES,
    citation_fault,
    normalise_markers,
    render_sources,
)
from aicity.identity.service import Principal
from aicity.security import approvals, guard

MAX_ROUNDS = 4
MAX_INVALID_CALLS = 2
HISTORY_TURNS = 3
SYSTEM_PROMPT = (
    "你是城市超级助理，为市民、企业和政府工作人员服务。先调用合适的工具（每个工具是一个城市智能体的技能）"
    "获取事实，再根据工具结果回答；一个请求涉及几件事就分别调用。工具结果中的资料以 [^n] 编号。"
    + GROUNDING_RULES
    + "标有“需人工审批”的工具会作用于城市设施，你调用它只会提交审批、不会执行。"
)
_FOOTNOTE = re.compile(r"\[\^(\d+)\]")
Dispatch = Callable[[SubTask, SkillContext], tuple[SkillResult, float, str | None]]


@dataclass(frozen=True)
class OutsideTool:
    """A tool the model may call that is not a skill: `parameters` is its JSON schema; the plan names a call
    `agent`.`skill`; `call(arguments, text, ctx)` runs it with its own checks and returns what it answered."""

    name: str
    description: str
    parameters: dict[str, Any]
    agent: str
    skill: str
    call: Callable[[dict[str, Any], str, SkillContext], SkillResult]


@dataclass
class LLMTurn:
    plan: Plan
    results: list[SkillResult]
    steps: list[dict[str, Any]]
    text: str


class Fallback(Exception):
    """The model's turn cannot be used; `reason` goes to the trace."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class LLMPlanner:
    name = "llm"
    #: the model's instructions (a co-created agent's own, agents/studio, when it runs pinned)
    system_prompt = SYSTEM_PROMPT

    def __init__(self, router: Router, group: str | None = None) -> None:
        self.router = router
        self.group = group or settings().planner_group
        #: tools besides the skills, by the name the model sees
        self.outside: dict[str, OutsideTool] = {}

    def active(self) -> bool:
        return settings().planner != "embedded" and gateway.serves(self.group)

    def tools(self, principal: Principal) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
        """The skills `principal` may use, as OpenAI function tools, and their names."""
        tools, names = [], {}
        for (agent, skill_id), skill in self.router.skills.items():
            if not skill.allowed(principal):
                continue
            name = f"{agent}__{skill_id}"
            names[name] = (agent, skill_id)
            schema = {k: v for k, v in skill.input_model.model_json_schema().items() if k != "title"}
            note = "【需人工审批：作用于城市设施】" if skill.risk == RiskLevel.actuate else ""
            tools.append({"type": "function", "function": {
                "name": name, "description": f"{skill.name}{note}：{skill.description}", "parameters": schema}})
        tools += [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                    "parameters": t.parameters}}
                  for t in self.outside.values() if t.name not in names]
        return tools, names

    def run(self, text: str, principal: Principal, history: list[dict[str, Any]], ctx: SkillContext,
            dispatch: Dispatch) -> LLMTurn:
        """Raises `Fallback` when the turn should be planned by the embedded planner instead."""
        tools, names = self.tools(principal)
        outside_tools = {n: t for n, t in self.outside.items() if n not in names}  # a skill's name wins
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system_prompt}]
        for turn in history[-HISTORY_TURNS:]:
            messages += [{"role": "user", "content": turn["q"]}, {"role": "assistant", "content": turn["a"]}]
        messages.append({"role": "user", "content": text})
        tasks: list[SubTask] = []
        results: list[SkillResult] = []
        steps: list[dict[str, Any]] = []
        untrusted: list[str] = []  # what the tools returned: data, never the source of an actuation
        invalid = 0
        for round_no in range(MAX_ROUNDS):
            message = self._complete(messages, tools, final=round_no == MAX_ROUNDS - 1)
            calls = message.get("tool_calls") or []
            if not calls:
                return self._finish(message, tasks, results, steps)
            messages.append({"role": "assistant", "content": message.get("content"), "tool_calls": calls})
            for call in calls:
                outside = outside_tools.get(str((call.get("function") or {}).get("name")))
                task, problem = self._outside_task(call, outside, text) if outside is not None \
                    else self._task(call, names, text, principal)
                if task is None:
                    invalid += 1
                    if invalid > MAX_INVALID_CALLS:
                        raise Fallback("invalid-tool-calls", problem)
                    messages.append(_tool_message(call, f"调用无效：{problem}"))
                    continue
                if outside is not None:
                    result, ms, error = _run_outside(outside, task, ctx)
                    tasks.append(task)
                    results.append(result)
                    steps.append({"agent": task.agent, "skill": task.skill, "ms": ms,
                                  "status": "error" if error else "ok"})
                    # already quoted as data by the tool's own guard stage (or our own error or approval note)
                    untrusted.append("\n\n".join(s.body for s in result.sections) or "没有结果")
                    messages.append(_tool_message(call, untrusted[-1]))
                    continue
                if self.router.skills[(task.agent, task.skill)].risk == RiskLevel.actuate:
                    ctx.tracer.note("model-requested-actuate", agent=task.agent, skill=task.skill)
                    if approvals.echoes(task.params, task.text, text, untrusted):
                        # arguments copied from a tool's text: a finding, so the call is refused
                        ctx.tracer.note("guard", stage="tool", verdict="flag", findings=[
                            {"kind": "hijack", "type": "echo", "rule": "hijack.echo", "action": "refuse"}])
                result, ms, error = dispatch(task, ctx)
                tasks.append(task)
                results.append(result)
                steps.append({"agent": task.agent, "skill": task.skill, "ms": ms, "status": "error" if error else "ok"})
                untrusted.append(_tool_content(results, error, principal, ctx))
                messages.append(_tool_message(call, untrusted[-1]))
        raise Fallback("too-many-rounds", f"no answer after {MAX_ROUNDS} rounds")

    def _complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], final: bool) -> dict[str, Any]:
        body = {"model": self.group, "messages": messages, "tools": tools, "temperature": 0,
                "tool_choice": "none" if final else "auto"}
        try:
            served = gateway.chat(body, agent="assistant.planner")
        except Problem as exc:
            raise Fallback(f"model-error-{exc.status}", exc.detail) from None
        message = served.data["choices"][0].get("message")
        if not isinstance(message, dict):
            raise Fallback("invalid-output", "a choice without a message")
        return message

    @staticmethod
    def _outside_task(call: dict[str, Any], tool: OutsideTool, text: str) -> tuple[SubTask | None, str]:
        """An outside tool's call as a sub-task: its arguments, typed as the model gave them, kept as JSON."""
        args, problem = _arguments(call.get("function") or {})
        if args is None:
            return None, problem
        return SubTask(agent=tool.agent, skill=tool.skill, params={"arguments": json.dumps(args, ensure_ascii=False)},
                       text=text, score=0.0, confidence=1.0), ""

    def _task(self, call: dict[str, Any], names: dict[str, tuple[str, str]], text: str,
              principal: Principal) -> tuple[SubTask | None, str]:
        function = call.get("function") or {}
        key = names.get(str(function.get("name")))
        if key is None:
            return None, f"没有名为 {function.get('name')} 的工具 / unknown tool"
        args, problem = _arguments(function)
        if args is None:
            return None, problem
        sub_text = str(args.pop("text", "") or text)
        params = {k: str(v) for k, v in args.items() if isinstance(v, str | int) and v != ""}
        skill = self.router.skills[key]
        try:
            skill.input_model.model_validate({**params, "text": sub_text})
        except ValidationError as exc:
            return None, f"参数不合法 invalid arguments: {exc.errors()[0]['msg']}"
        params = self.router.fill_targets(key[0], key[1], sub_text, params, principal)
        return SubTask(agent=key[0], skill=key[1], params=params, text=sub_text, score=0.0, confidence=1.0), ""

    def _finish(self, message: dict[str, Any], tasks: list[SubTask], results: list[SkillResult],
                steps: list[dict[str, Any]]) -> LLMTurn:
        if not tasks:
            raise Fallback("no-tool-called", "the model answered without consulting any agent")
        text = normalise_markers(str(message.get("content") or ""))
        fault = citation_fault(text, len(compose(results).citations))
        if fault:
            raise Fallback(fault, text[:200])
        return LLMTurn(plan=Plan(planner=f"llm:{self.group}", subtasks=tasks), results=results, steps=steps, text=text)


def _arguments(function: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """A tool call's arguments as an object, or None and what is wrong with them."""
    try:
        args = json.loads(function.get("arguments") or "{}")
    except ValueError:
        return None, "参数不是 JSON / arguments are not JSON"
    if not isinstance(args, dict):
        return None, "参数必须是对象 / arguments must be an object"
    return args, ""


def _run_outside(tool: OutsideTool, task: SubTask, ctx: SkillContext) -> tuple[SkillResult, float, str | None]:
    t0 = time.perf_counter()
    result = tool.call(json.loads(task.params["arguments"]), task.text, ctx)
    failed = next((s.body for s in result.sections if s.kind == "error"), None)
    return result, round((time.perf_counter() - t0) * 1000, 3), failed


def _tool_message(call: dict[str, Any], content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": str(call.get("id", "")), "content": content}


def _tool_content(results: list[SkillResult], error: str | None, principal: Principal, ctx: SkillContext) -> str:
    """What the last tool returned, with citation numbers as the whole answer numbers them,
    through the guard's `tool` stage: a data block, any instruction in it neutralised."""
    composed = compose(results)
    latest = composed.sections[len(composed.sections) - len(results[-1].sections):] if results[-1].sections else []
    if not latest:
        return f"没有结果（{error}）" if error else "没有结果"
    body = "\n\n".join(f"## {s.title}\n{s.body}" for s in latest)
    known = range(1, len(composed.citations) + 1)
    cited = sorted({int(n) for s in latest for n in _FOOTNOTE.findall(s.body) if int(n) in known})
    sources = render_sources([composed.citations[n - 1] for n in cited], cited, ctx.tracer)
    content, _ = guard.as_data(body + (f"\n\n资料：\n{sources}" if sources else ""), "tool",
                               principal.role.value, ctx.tracer)
    return content
