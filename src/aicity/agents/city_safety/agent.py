"""City-safety agent (城市安全智能体): closes a gas valve once a person approves (`actuate`),
and reports the safety situation (active alarms by severity and district, open gas-leak and
waterlogging events). Its automatic loop (a critical gas alarm → a valve-close proposal in the
approval queue) is in `loop.py`."""

from __future__ import annotations

from collections import Counter

from pydantic import Field
from sqlalchemy import select

from aicity.agents.base import (
    Agent,
    RiskLevel,
    Section,
    Skill,
    SkillContext,
    SkillInput,
    SkillResult,
)
from aicity.agents.city_safety import loop  # noqa: F401  (subscribes the gas-alarm loop to the bus)
from aicity.agents.city_safety.valves import resolve_valve
from aicity.core.db import database
from aicity.hub.events.lifecycle import OPEN_STATES
from aicity.hub.events.models import Event
from aicity.hub.iot import commands
from aicity.hub.iot import rules as iot_rules
from aicity.hub.iot.models import Alarm, Device

AGENT_ID = "city_safety"
SAFETY_ROLES = frozenset({"official", "operator", "admin"})
#: event categories the situation report follows
WATCHED = {"gas_leak": "燃气泄漏", "waterlogging": "积水内涝"}


class ValveInput(SkillInput):
    valve: str | None = Field(None, description="阀门设备编号 the Valve device id")
    sensor: str | None = Field(None, description="需要隔离的燃气传感器编号 the gas sensor to isolate")
    alarm: str | None = Field(None, description="燃气告警编号 the gas alarm to isolate")
    event: str | None = Field(None, description="相关事件编号 the related event")


def close_gas_valve(inp: ValveInput, ctx: SkillContext) -> SkillResult:
    """Runs only from an approved request (approvals.approve): sends `close` to the valve."""
    valve = resolve_valve(inp.valve, inp.sensor, inp.alarm, inp.text)
    params = {k: v for k, v in (("alarm", inp.alarm), ("event", inp.event), ("sensor", inp.sensor)) if v}
    command = commands.send(valve.id, "close", params, ctx.principal.actor)
    return SkillResult(
        sections=[Section(title="关阀指令已下发", kind="command", body=(
            f"- 阀门：{valve.name or valve.id}（`{valve.id}`，{valve.district or '未知区域'}）\n"
            f"- 指令：`{command.id}` 关闭，状态 {command.status}\n- 等待设备确认执行。"))],
        departments=["gas"], data={"command": commands.command_json(command)})


def safety_situation(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    with database().session() as s:
        alarms = list(s.execute(select(Alarm.severity, Device.district).join(Device, Device.id == Alarm.device_id)
                                .where(Alarm.status.in_(iot_rules.OPEN))))
        events = list(s.execute(select(Event.category, Event.district).where(
            Event.category.in_(WATCHED), Event.status.in_([str(x) for x in OPEN_STATES]),
            Event.merged_into.is_(None))))
    by_severity = Counter(sev for sev, _ in alarms)
    by_district = Counter(d or "未知区域" for _, d in alarms)
    lines = [f"**在办告警 {len(alarms)} 条**"]
    lines += [f"- {sev}：{by_severity[sev]}" for sev in reversed(iot_rules.SEVERITIES) if by_severity[sev]]
    lines += [f"- {d}：{n}" for d, n in by_district.most_common()]
    for category, label in WATCHED.items():
        districts = Counter(d or "未知区域" for c, d in events if c == category)
        lines.append(f"**未办结{label}事件 {sum(districts.values())} 起**"
                     + "".join(f"\n- {d}：{n}" for d, n in districts.most_common()))
    return SkillResult(sections=[Section(title="城市安全态势", body="\n".join(lines))],
                       data={"alarms": {"by_severity": dict(by_severity), "by_district": dict(by_district)},
                             "events": {c: sum(1 for x, _ in events if x == c) for c in WATCHED}})


def build() -> Agent:
    return Agent(
        id=AGENT_ID,
        name="城市安全智能体",
        department="emergency",
        description="燃气泄漏闭环处置（告警→事件→关阀审批→指令→确认）和城市安全态势报告",
        skills=[
            Skill(id="close_gas_valve", name="关闭燃气阀门", input_model=ValveInput, handler=close_gas_valve,
                  risk=RiskLevel.actuate, roles=SAFETY_ROLES,
                  description="向燃气阀门设备下发关闭指令，隔离燃气传感器告警；须另一位有权限的人员审批后执行",
                  examples=["向阀门设备下发关阀指令", "隔离燃气告警对应的阀门设备"],
                  cues=("下发关阀指令", "关阀指令"), cue_priority=95, route_weight=0.5),
            Skill(id="safety_situation", name="城市安全态势", input_model=SkillInput, handler=safety_situation,
                  roles=SAFETY_ROLES,
                  description="按严重程度和区域统计在办的物联网告警，以及未办结的燃气泄漏、积水内涝事件",
                  examples=["城市安全态势报告", "现在有多少燃气和内涝告警"],
                  cues=("安全态势", "安全形势"), cue_priority=95, route_weight=0.5),
        ],
    )
