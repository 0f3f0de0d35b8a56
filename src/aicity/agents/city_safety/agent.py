"""City-safety agent (城市安全智能体): closes a gas valve once a person approves (`actuate`),
reports the safety situation (active alarms by severity and district, open gas-leak and
waterlogging events) and watches for waterlogging (which roads will flood, `flood.py`). Its
automatic loop (a critical gas alarm → a valve-close proposal in the approval queue) is in
`loop.py`."""

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
from aicity.agents.city_safety import (
    flood,
    loop,  # noqa: F401  (subscribes the gas-alarm loop to the bus)
)
from aicity.agents.city_safety.valves import resolve_valve
from aicity.core.db import database
from aicity.hub.events.gazetteer import district_in
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


class WaterloggingInput(SkillInput):
    district: str | None = Field(None, description="区域，如 东湖区；默认全市 the district, default the whole city")
    horizon_min: int = Field(flood.DEFAULT_HORIZON_MIN, ge=flood.HORIZONS[0], le=flood.HORIZONS[1],
                             description="预测时长（分钟）minutes ahead")


def waterlogging_watch(inp: WaterloggingInput, ctx: SkillContext) -> SkillResult:
    named = district_in(inp.text)
    district = inp.district or (named.id if named else None)
    items = flood.outlook(inp.horizon_min, district)
    urgent = [o for o in items if o.level in (flood.Level.flooded, flood.Level.warning, flood.Level.watch)]
    rows = [o.to_dict() for o in urgent]
    counts = Counter(o.level for o in items)
    where = (named.name if named else district) or "全市"
    summary = (f"{where}共 {len(items)} 个易涝点：内涝 {counts[flood.Level.flooded]}，"
               f"{inp.horizon_min} 分钟内将内涝（预警）{counts[flood.Level.warning]}，关注 {counts[flood.Level.watch]}，"
               f"无数据 {counts[flood.Level.no_data]}。")
    lines = [summary]
    if rows:
        lines += ["", "| 等级 | 道路 | 区域 | 积水 m | 雨强 mm/h | 预计 m | 超 15cm 还有 |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['level_label']} | {r['label']} | {r['district']} | "
                  f"{r['depth']['value'] if r['depth'] else '—'} | {r['rain']['value'] if r['rain'] else '—'} | "
                  f"{r['predicted_depth_m']} | {'—' if r['minutes_to_flood'] is None else str(r['minutes_to_flood']) + ' 分钟'} |"
                  for r in rows]
        if any(r["closure"] for r in rows):
            lines.append("\n积水将超过封闭水深的道路，建议交警封闭交通、水务部门调派排涝力量。")
    else:
        lines.append("暂无积水风险。")
    lines.append("\n依据：GB 51222-2017 以一条车道积水深度超过 15 cm 为内涝；排水能力按暴雨强度公式（GB 50014-2021）"
                 "和各点设计重现期计算，外江（湖）水位高于排口时按顶托折减（演示城市假设）。")
    return SkillResult(sections=[Section(title=f"内涝预警（未来 {inp.horizon_min} 分钟）", body="\n".join(lines))],
                       departments=["water"] if rows else [],
                       data={"outlook": rows, "counts": {level.value: counts[level] for level in flood.Level}})

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
            Skill(id="waterlogging_watch", name="内涝预警", input_model=WaterloggingInput, handler=waterlogging_watch,
                  roles=SAFETY_ROLES,
                  description="根据雨量、路面积水和外江水位预测未来一小时哪些道路会积水内涝（易涝点预警）",
                  examples=["未来一小时哪些道路会内涝", "哪些易涝点快要积水了", "江滨区哪些路会被淹"],
                  cues=("内涝预警", "会内涝", "易涝点", "会被淹", "会积水"), cue_priority=95, route_weight=0.5),
        ],
    )
