"""An event's lifecycle in chat: a reporter asks how their report is going (in the session
they reported in), staff ask about any event by its id; staff move events along
(派单、受理、开始处理、办结、退回、结案、重新打开) and a reporter confirms (结案) or reopens
their own resolved event. Every step goes through the events service and its permission
checks; what it refuses is answered in words, never as a failure."""

from __future__ import annotations

import re
from typing import Any

from aicity.agents.base import (
    NextAction,
    Section,
    SkillContext,
    SkillInput,
    SkillResult,
)
from aicity.core.errors import Problem
from aicity.core.text import normalize
from aicity.hub.events import insights
from aicity.hub.events import service as events
from aicity.hub.events.lifecycle import OPEN_STATES, as_utc
from aicity.hub.events.models import Event, EventHistory
from aicity.identity import service as identity
from aicity.identity.service import Principal

#: how each action is named to people
ACTION_NAMES = {"report": "上报", "dispatch": "派单", "accept": "受理", "start": "开始处理", "resolve": "办结（已处置）",
                "close": "结案", "reopen": "重新打开", "reject": "退回", "merge": "合并", "correct": "更正类别",
                "escalate": "超时督办"}
#: how to ask for each action in chat (the next steps an answer offers)
ACTION_PHRASES = {"dispatch": "派单", "accept": "受理", "start": "开始处理", "resolve": "已处理", "close": "结案",
                  "reopen": "重新打开", "reject": "退回"}
#: the action a request asks for: the first pattern that matches decides (negations first)
_ACTION_WORDS: tuple[tuple[str, str], ...] = (
    ("reopen", r"重新打开|重新处理|重新办理|重办|没修好|没有修好|没解决|没有解决|没处理好|还是不行|又坏了"),
    ("reject", r"退回|派错|不归我们|不属于我们|不是我们"),
    ("close", r"结案|确认办结|可以关闭|关闭事件"),
    ("dispatch", r"派单|派给|派到|派往|转派|改派|派发|分派"),
    ("start", r"开始处理|开始处置|着手处理|正在处理|开始办理|开始维修"),
    ("resolve", r"已处理|已处置|处理完|处置完|办结|已修复|修复完|已完成|修好了|已解决|已经解决|问题解决了"),
    ("accept", r"受理|接单|签收"),
)
_EVENT_ID = re.compile(r"evt_[0-9a-z]+", re.IGNORECASE)
_REASON = re.compile(r"(?:原因|理由|因为)[:：是为]?\s*(.+)")
#: a timeline shows at most this many steps
MAX_STEPS = 30


def session_reporter(ctx: SkillContext) -> str:
    """The reporter reference of whoever asks: a citizen by their chat session, staff by their key."""
    if ctx.principal.is_staff:
        return events.staff_reporter(ctx.principal)
    return events.reporter_from_token(f"session:{ctx.tracer.session_id or ctx.tracer.id}")


def event_ref(event: Event) -> dict[str, Any]:
    """The answer's `event` field."""
    return {"id": event.id, "category": event.category, "department": event.department, "status": event.status,
            "allowed_actions": _allowed_for(event)}


def _allowed_for(event: Event) -> list[str]:
    return events.event_json(event)["allowed_actions"]


def _local(t: Any) -> str:
    return as_utc(t).astimezone(insights.CITY_TZ).strftime("%Y-%m-%d %H:%M") if t else "—"


_ROLE_NAMES = {"operator": "处置人员", "official": "指挥中心", "admin": "管理员", "citizen": "上报人",
               "enterprise": "上报企业", "assistant": "上报人（智能助手）", "open311": "上报人（Open311）"}


def actor_label(actor: str) -> str:
    """Who took a step, in words: role and department, never a reporter's reference."""
    role, _, rest = actor.partition(":")
    if actor.startswith("system:"):
        return {"dispatch": "系统自动派单", "sla": "系统时限督办"}.get(rest, "系统")
    if role in ("operator", "official", "admin"):
        department = rest.split(":")[0] if rest and role == "operator" else ""
        known = {d.id for d in identity.list_departments()}
        return f"{_ROLE_NAMES[role]}（{identity.department_name(department)}）" if department in known \
            else _ROLE_NAMES[role]
    return _ROLE_NAMES.get(role, "上报人")


def _timeline(rows: list[EventHistory]) -> str:
    lines = ["| 时间 | 环节 | 状态 | 经办 | 说明 |", "|---|---|---|---|---|"]
    for h in rows[-MAX_STEPS:]:
        lines.append(f"| {_local(h.at)} | {ACTION_NAMES.get(h.action, h.action)} | "
                     f"{insights.label('status', h.to_status)} | {actor_label(h.actor)} | {h.note or '—'} |")
    return "\n".join(lines)


def _steps(rows: list[EventHistory]) -> list[dict[str, Any]]:
    return [events.history_json(h) for h in rows]


def _sla_line(event: Event) -> str:
    if not event.sla_due_at:
        return "已处置，不再计时"
    due = _local(event.sla_due_at)
    return f"{due} 前（**已超时**，已督办）" if event.sla_breached_at else f"{due} 前"


def _describe(event: Event, rows: list[EventHistory]) -> str:
    e = events.event_json(event)
    return (f"- 事件编号：`{e['id']}`\n- 类别：{e['category_name']}\n- 地点：{e['address'] or e['district'] or '—'}\n"
            f"- 当前状态：**{insights.label('status', e['status'])}**\n- 责任部门：{e['department_name']}\n"
            f"- 处理时限：{_sla_line(event)}\n\n**办理过程**\n\n{_timeline(rows)}")


def _refusal(title: str, body: str) -> SkillResult:
    return SkillResult(sections=[Section(title=title, body=body, kind="event")])


def _problem_words(exc: Problem) -> str:
    """A refusal from the events service, in Chinese only (its details are bilingual)."""
    if exc.status == 404:
        return "没有找到这个事件编号，请核对后再试。"
    if exc.status == 403:
        return "您无权查看或办理这个事件：上报人只能查询和确认自己上报的事件，部门工作人员只能办理本部门的事件。"
    return exc.detail.split(" / ")[0]


def _next_actions(event: Event, principal: Principal) -> list[NextAction]:
    actions = [NextAction(label="查询处理进度", value=f"{event.id} 现在什么状态")]
    allowed = _allowed_for(event)
    if not principal.is_staff:
        allowed = [a for a in allowed if a in ("close", "reopen")]
    return actions + [NextAction(label=ACTION_PHRASES[a], kind="fill" if a in ("reject", "reopen") else "ask",
                                 value=f"{event.id} {ACTION_PHRASES[a]}" + ("，原因：……" if a in ("reject", "reopen") else ""))
                      for a in allowed if a in ACTION_PHRASES]


# --- event_status --------------------------------------------------------------------------------

#: a reporter's question lists this many of their latest events
MAX_OWN = 5


def event_status(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    principal, reporter = ctx.principal, session_reporter(ctx)
    named = _EVENT_ID.findall(normalize(inp.text))
    if not named and principal.is_staff:
        return _refusal("事件进度", "请告诉我要查询的事件编号（如 `evt_…`），或按区域、类别、状态查询事件清单。")
    try:
        found = [events.get(i.lower(), principal, reporter) for i in named] if named else \
            events.list_events(principal, reporter=reporter, limit=MAX_OWN)
        timelines = [events.history(e.id, principal, reporter) for e in found]
    except Problem as exc:
        return _refusal("事件进度", _problem_words(exc))
    if not found:
        return _refusal("事件进度", "本次对话中还没有您上报的事件。请在上报时的同一对话中查询，或说明要反映的问题，我帮您登记。")
    body = "\n\n---\n\n".join(_describe(e, rows) for e, rows in zip(found, timelines, strict=True))
    latest = found[0]
    return SkillResult(
        sections=[Section(title="事件处理进度", body=body, kind="event")],
        departments=sorted({e.department for e in found}),
        event=event_ref(latest),
        data={"events": [events.event_json(e) for e in found],
              "history": {e.id: _steps(rows) for e, rows in zip(found, timelines, strict=True)}},
        next_actions=_next_actions(latest, principal),
    )


# --- event_action --------------------------------------------------------------------------------

def parse_action(text: str) -> str | None:
    return next((action for action, words in _ACTION_WORDS if re.search(words, text)), None)


def _department_named(text: str) -> str | None:
    """A department the request names: its id, its full name, or its name without 局/处/支队 …"""
    lowered = text.lower()
    for d in sorted(identity.list_departments(), key=lambda d: -len(d.name)):
        short = re.sub(r"(管理局|委员会|管理处|支队|中心|公司|局|处)$", "", d.name)
        if d.name in text or (len(short) >= 2 and short in text) or re.search(rf"(?<![a-z_]){re.escape(d.id)}(?![a-z_])", lowered):
            return d.id
    return None


def _note(text: str, event_id: str | None) -> str:
    if m := _REASON.search(text):
        return m.group(1).strip(" 。")
    return re.sub(re.escape(event_id), " ", text, flags=re.IGNORECASE).strip(" ，,。") if event_id \
        else text.strip(" ，,。")


def event_action(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    principal, reporter = ctx.principal, session_reporter(ctx)
    text = normalize(inp.text)
    action = parse_action(text)
    if action == "resolve" and not principal.is_staff:
        action = "close"  # a reporter saying it is fixed confirms it
    named = _EVENT_ID.search(text)
    event_id = named.group(0).lower() if named else None
    if event_id is None and not principal.is_staff:
        own = events.list_events(principal, reporter=reporter, limit=1)
        event_id = own[0].id if own else None
    if event_id is None:
        return _refusal("事件办理", "请注明事件编号（如 `evt_… 受理`）。" if principal.is_staff
                        else "本次对话中没有您上报的事件，无法办理。请在上报时的同一对话中操作。")
    if action is None:
        return _refusal("事件办理", "请说明要执行的操作：派单、受理、开始处理、已处理（办结）、退回（附原因）、结案或重新打开（附原因）。")
    department = _department_named(text.replace(event_id, " ")) if action == "dispatch" else None
    note = _note(inp.text.strip(), event_id) if action in ("reject", "reopen") else ""
    try:
        event = events.transition(event_id, action, principal, note=note, reporter=reporter, department=department)
    except Problem as exc:
        return _refused(exc, event_id, action, principal, reporter)
    e = events.event_json(event)
    body = (f"事件 `{event.id}` 已{ACTION_NAMES[action]}，当前状态：**{insights.label('status', event.status)}**"
            f"（责任部门：{e['department_name']}）。\n\n- 处理时限：{_sla_line(event)}\n- 下一步可执行："
            f"{_allowed_words(event, principal)}")
    return SkillResult(
        sections=[Section(title="事件办理", body=body, kind="event")],
        departments=[event.department],
        event=event_ref(event),
        data={"action": action, "note": note},
        next_actions=_next_actions(event, principal),
    )


def _allowed_words(event: Event, principal: Principal) -> str:
    allowed = _allowed_for(event)
    if not principal.is_staff:
        allowed = [a for a in allowed if a in ("close", "reopen")]
    if words := "、".join(ACTION_PHRASES[a] for a in allowed if a in ACTION_PHRASES):
        return words
    if event.status in OPEN_STATES:
        return "暂无（事件正在办理，处置完成后您可以确认结案或要求重新办理）"
    return "无（流程已结束）"


def _refused(exc: Problem, event_id: str, action: str, principal: Principal, reporter: str) -> SkillResult:
    """The service's refusal in words; a conflict lists what may be done from the current state."""
    if exc.status != 409:
        return _refusal("事件办理", _problem_words(exc) if exc.status in (403, 404) else exc.detail.split(" / ")[0])
    event = events.get(event_id, principal, reporter)
    body = (f"事件 `{event_id}` 当前状态为**{insights.label('status', event.status)}**，不能{ACTION_NAMES[action]}。"
            f"当前可执行：{_allowed_words(event, principal)}。")
    return SkillResult(sections=[Section(title="事件办理", body=body, kind="event")], event=event_ref(event),
                       data={"error": "illegal-transition", "allowed_actions": exc.extra.get("allowed_actions", [])},
                       next_actions=_next_actions(event, principal))
