"""Emergencies (紧急险情): immediate safety steps first, the emergency numbers, then an urgent city
event filed for the responsible department.

The assistant decides that a request is an emergency before any routing (its mode classifier,
with the events hub's urgency rules); this skill then says which hazard it is about
(`demo/data/assistant/emergency.yaml`: the steps restate national public guidance, with sources;
demo-city numbers are marked), files the event through the events service and says its id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import Field

from aicity.agents.base import NextAction, Section, SkillContext, SkillInput, SkillResult
from aicity.agents.governance.lifecycle_chat import session_reporter
from aicity.hub.events import service as events
from aicity.identity import service as identity

#: a hazard's marker for a number that is a demo-city assumption
DEMO_MARK = "（示范城市假设）"


@dataclass(frozen=True)
class Number:
    number: str
    name: str
    demo: bool = False

    def line(self) -> str:
        return f"**{self.number}** {self.name}{DEMO_MARK if self.demo else ''}"


@dataclass(frozen=True)
class Hazard:
    id: str
    name: str
    pattern: re.Pattern[str]
    steps: tuple[str, ...]
    sources: tuple[str, ...]
    numbers: tuple[Number, ...] = ()
    #: the event category filed (None: the events classifier decides)
    category: str | None = None
    #: the departments whose duties cover the hazard, named beside the department the event is dispatched to
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Also:
    """A situation inside any hazard that brings in another department's duty (people to rescue: fire's 应急救援)."""

    department: str
    duty: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Guidance:
    numbers: tuple[Number, ...]
    hazards: tuple[Hazard, ...]
    also: tuple[Also, ...] = ()

    def hazard(self, hazard_id: str | None, text: str) -> Hazard:
        """The hazard named, else the first whose pattern the text matches (the last one matches anything)."""
        by_id = {h.id: h for h in self.hazards}
        if hazard_id in by_id:
            return by_id[hazard_id]
        lowered = text.lower()
        return next(h for h in self.hazards if h.pattern.search(lowered))

    def duties(self, hazard: Hazard, text: str) -> list[tuple[str, str]]:
        """(department, why) of the departments the hazard's answer names beside the dispatched event's: the
        hazard's own duty holders, those of the other hazards the text also describes (a crash whose car is
        smoking is a fire and a traffic accident), and those of the situations (`also`) it describes."""
        lowered = text.lower()
        others = [h for h in self.hazards[:-1] if h is not hazard and h.pattern.search(lowered)]
        found = [(d, h.name) for h in (hazard, *others) for d in h.departments]
        found += [(a.department, a.duty) for a in self.also if a.pattern.search(lowered)]
        first: dict[str, str] = {}
        for department, why in found:
            first.setdefault(department, why)
        return list(first.items())


def _path() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "assistant" / "emergency.yaml"))


@lru_cache(maxsize=1)
def guidance() -> Guidance:
    raw = yaml.safe_load(_path().read_text(encoding="utf-8"))
    hazards = tuple(
        Hazard(id=h["id"], name=h["name"], pattern=re.compile(h["pattern"], re.IGNORECASE), steps=tuple(h["steps"]),
               sources=tuple(h["sources"]), numbers=tuple(Number(**n) for n in h.get("numbers", [])),
               category=h.get("category"), departments=tuple(h.get("departments", [])))
        for h in raw["hazards"])
    also = tuple(Also(a["department"], a["duty"], re.compile(a["pattern"], re.IGNORECASE)) for a in raw.get("also", []))
    if not hazards or hazards[-1].pattern.pattern != ".":
        raise ValueError(f"{_path()}: the last hazard must match any text (pattern '.')")
    return Guidance(numbers=tuple(Number(**n) for n in raw["numbers"]), hazards=hazards, also=also)


class EmergencyInput(SkillInput):
    hazard: str | None = Field(default=None, description="hazard id (gas_leak, fire, chemical, electric_shock, "
                                                         "landslide, construction_site, tree_fall, traffic_accident, "
                                                         "lift, dangerous_water, road_collapse, manhole, collapse, "
                                                         "trapped, crowd_crush, violence)")


def emergency(inp: EmergencyInput, ctx: SkillContext) -> SkillResult:
    g = guidance()
    hazard = g.hazard(inp.hazard, inp.text)
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(hazard.steps, start=1))
    numbers = "、".join(n.line() for n in (*hazard.numbers, *g.numbers))
    sources = "；".join(hazard.sources)
    sections = [Section(title=f"紧急情况：{hazard.name}——请先确保安全", kind="emergency",
                        body=f"{steps}\n\n**紧急电话**：{numbers}\n\n依据：{sources}")]
    filed = events.report(inp.text, source="assistant", reporter=events.Reporter(ref=session_reporter(ctx)),
                          category=hazard.category, urgent=f"紧急险情：{hazard.name}",
                          idempotency_key=f"assistant:{ctx.tracer.id}:emergency")
    event = events.event_json(filed.event)
    where = event["address"] or event["district"]
    place = f"地点：{where}" if where else "**没有识别到地点：请立即拨打上面的电话说明具体位置**"
    merged = "（同一险情已有人上报，已合并）" if filed.merged else ""
    duties = [(d, why) for d, why in g.duties(hazard, inp.text) if d != event["department"]]
    joint = "".join(f"\n- 协同处置：{identity.department_name(d)}（{why}）" for d, why in duties)
    sections.append(Section(
        title="已登记紧急事件", kind="event",
        body=f"- 事件编号：`{event['id']}`{merged}\n- 类别：{event['category_name']}\n- {place}\n- 优先级：紧急\n"
             f"- 责任部门：{identity.department_name(event['department'])}{joint}\n\n"
             "登记事件不能代替报警：请同时拨打紧急电话。"))
    return SkillResult(
        sections=sections,
        departments=[event["department"], *(d for d, _ in duties)],
        event={"id": event["id"], "category": event["category"], "department": event["department"],
               "status": event["status"], "priority": event["priority"]},
        data={"hazard": hazard.id},
        next_actions=[NextAction(label="查询处理进度", value="我反映的问题有进展吗"),
                      NextAction(label="事件详情", kind="link", value=f"/api/v1/events/{event['id']}")],
    )
