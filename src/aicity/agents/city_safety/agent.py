"""City-safety agent (城市安全智能体): acts on the city only once a second person approves
(`actuate`): closes a gas valve, opens or closes a flood gate (at a gate, a waterlogging watch
point or a district), sets traffic signals' timing plan, and sends any device command an
operator asked for over the API where the command policy wants an approval (`device_command`,
queued by the IoT slice's `commands.request_command`; its routes weigh nothing, so a conversation never picks it).
It reports the safety situation (active alarms by severity and district, open gas-leak and
waterlogging events) and watches for waterlogging (which roads will flood, `flood.py`). Its
automatic loop (a critical gas alarm → a valve-close proposal in the approval queue) is in
`loop.py`."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from pydantic import Field, Json
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

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
    AGENT_ID,
    flood,
    loop,  # (its import subscribes the gas-alarm loop to the bus)
)
from aicity.agents.city_safety.emergency import EmergencyInput, emergency
from aicity.agents.city_safety.valves import resolve_devices, resolve_valve
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.events.lifecycle import OPEN_STATES
from aicity.hub.events.models import Event
from aicity.hub.geo.gazetteer import district_by_name, district_in
from aicity.hub.iot import commands
from aicity.hub.iot import rules as iot_rules
from aicity.hub.iot import service as iot
from aicity.hub.iot.models import Alarm, Command, Device
from aicity.hub.iot.simulator import fleet

SAFETY_ROLES = frozenset({"official", "operator", "admin"})
#: event categories the situation report follows
WATCHED = {"gas_leak": "燃气泄漏", "waterlogging": "积水内涝"}
#: words of a request → a flood gate's command
GATE_WORDS = {"open": ("开闸", "打开", "开启", "提闸"), "close": ("关闸", "关闭", "落闸")}
GATE_LABELS = {"open": "开启", "close": "关闭"}
#: words of a request → a traffic signal's plan (commands.SIGNAL_PLANS)
PLAN_WORDS = {"flood_diversion": ("内涝绕行", "绕行", "分流"), "all_red": ("全红",), "peak": ("高峰",),
              "normal": ("常规", "正常配时", "恢复正常", "平峰")}
#: words of a request → switching a device on (or open) or off (or closed); the device's type says which
#: command of `commands.COMMANDS` that is (a street light's on/off, a valve's open/close)
SWITCH_WORDS = {"on": ("打开", "开启", "开灯", "点亮", "亮起", "开起来", "开一下", "启动", "turn on",
                       "switch on", "open"),
                "off": ("关掉", "关闭", "关了", "关上", "关一下", "关灯", "熄灭", "熄掉", "灭掉", "turn off", "switch off",
                        "shut", "close")}
SWITCH_COMMANDS = {"on": ("on", "open"), "off": ("off", "close")}
#: words just before a switch word that make it no command ("路灯2号不要关掉", "别关了")
SWITCH_NEGATIONS = ("不", "别", "不要", "没", "勿")


class ValveInput(SkillInput):
    valve: str | None = Field(None, description="阀门设备编号 the Valve device id")
    sensor: str | None = Field(None, description="需要隔离的燃气传感器编号 the gas sensor to isolate")
    alarm: str | None = Field(None, description="燃气告警编号 the gas alarm to isolate")
    event: str | None = Field(None, description="相关事件编号 the related event")


def _valve(inp: ValveInput) -> Device:
    return resolve_valve(inp.valve, inp.sensor, inp.alarm, inp.text)


def close_gas_valve(inp: ValveInput, ctx: SkillContext) -> SkillResult:
    """Runs only from an approved request (approvals.approve): sends `close` to the valve."""
    valve = _valve(inp)
    params = {k: v for k, v in (("alarm", inp.alarm), ("event", inp.event), ("sensor", inp.sensor)) if v}
    command = commands.send(valve.id, "close", params, ctx.principal.actor)
    return SkillResult(
        sections=[Section(title="关阀指令已下发", kind="command", body=(
            f"- 阀门：{valve.name or valve.id}（`{valve.id}`，{valve.district or '未知区域'}）\n"
            f"- 指令：`{command.id}` 关闭，状态 {command.status}\n- 等待设备确认执行。"))],
        departments=["gas"], data={"command": commands.command_json(command)})


def _word_choice(text: str, words: dict[str, tuple[str, ...]]) -> str | None:
    """The one choice whose words the text uses; None when none or several are used."""
    chosen = [value for value, cues in words.items() if any(w in text for w in cues)]
    return chosen[0] if len(chosen) == 1 else None


def _switch_choice(text: str) -> str | None:
    """The one switch (on/off) the text commands: a word not negated just before it ("不要关掉" is none), English
    words whole (closed, reopen, shutdown are none); None when none or both are commanded."""
    chosen = [value for value, cues in SWITCH_WORDS.items()
              if any(not text[:m.start()].endswith(SWITCH_NEGATIONS)
                     for w in cues for m in re.finditer(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w), text))]
    return chosen[0] if len(chosen) == 1 else None


def _sent(title: str, devices: list[Device], rows: list[Command], what: str, departments: list[str]) -> SkillResult:
    lines = [f"- {d.name or d.id}（`{d.id}`，{d.district or '未知区域'}）：指令 `{c.id}` {what}，状态 {c.status}"
             for d, c in zip(devices, rows, strict=True)]
    return SkillResult(sections=[Section(title=title, kind="command", body="\n".join([*lines, "- 等待设备确认执行。"]))],
                       departments=departments, data={"commands": [commands.command_json(c) for c in rows]})


class FloodGateInput(SkillInput):
    gate: str | None = Field(None, description="闸门设备编号 the SluiceGate device id")
    place: str | None = Field(None, description="易涝点或区域，如 江滨路下穿通道、江滨区 a watch point or district")
    action: Literal["open", "close"] | None = Field(None, description="open 开闸 / close 关闸；不填则从请求识别")


def _gates(inp: FloodGateInput) -> list[Device]:
    return resolve_devices("SluiceGate", inp.gate, inp.place, inp.text)


def operate_flood_gate(inp: FloodGateInput, ctx: SkillContext) -> SkillResult:
    """Runs only from an approved request: opens or closes the gate named, the nearest to the
    watch point named, or every gate in the district named."""
    action = inp.action or _word_choice(inp.text, GATE_WORDS)
    if action is None:
        raise Problem(422, "未指明开闸或关闸 No gate action", "请说明开闸还是关闸 / say open or close the gate",
                      "no-gate-action")
    gates = _gates(inp)
    rows = [commands.send(g.id, action, {}, ctx.principal.actor) for g in gates]
    return _sent(f"{GATE_LABELS[action]}闸门指令已下发", gates, rows, GATE_LABELS[action], ["water"])


class SignalPlanInput(SkillInput):
    signal: str | None = Field(None, description="信号机设备编号 the TrafficSignal device id")
    place: str | None = Field(None, description="易涝点或区域 a watch point or district")
    plan: str | None = Field(None, description=f"配时方案 the timing plan: {', '.join(commands.SIGNAL_PLANS)}")


def _signals(inp: SignalPlanInput) -> list[Device]:
    return resolve_devices("TrafficSignal", inp.signal, inp.place, inp.text)


def set_signal_plan(inp: SignalPlanInput, ctx: SkillContext) -> SkillResult:
    """Runs only from an approved request: sets the plan of the signal named, the nearest to the
    watch point named, or every signal in the district named."""
    plan = inp.plan or _word_choice(inp.text, PLAN_WORDS)
    if plan not in commands.SIGNAL_PLANS:
        raise Problem(422, "未指明配时方案 No signal plan", "请说明配时方案 / name the plan: "
                      + "；".join(f"{k} {v}" for k, v in commands.SIGNAL_PLANS.items()), "no-signal-plan")
    signals = _signals(inp)
    rows = [commands.send(d.id, "set_plan", {"plan": plan}, ctx.principal.actor) for d in signals]
    return _sent("信号配时指令已下发", signals, rows, commands.SIGNAL_PLANS[plan], ["traffic_police"])


class DeviceCommandInput(SkillInput):
    device: str = Field(description="设备编号 the device id")
    command: str = Field(description="指令 the command")
    params: Json[dict[str, Any]] = Field(default_factory=dict, description="指令参数 (JSON 对象) the parameters")


def _device_type(device_id: str) -> str | None:
    """A device's type: registered, else the demo fleet's (registered when the simulator runs)."""
    try:
        return iot.get_device(device_id).type
    except (Problem, SQLAlchemyError):  # not registered, or a database without the IoT tables
        return next((d.kind.type for d in fleet() if d.id == device_id), None)


def command_asked(text: str, params: dict[str, str]) -> dict[str, str]:
    """The command a request asks of its device in words ("把光谷区路灯3号关掉" → off): the one the device's type
    takes (on/off, open/close); a device not known yet (a kind named, none of its devices) takes on/off."""
    switch = _switch_choice(text.lower())
    if switch is None:
        return {}
    accepted = commands.COMMANDS.get(_device_type(params["device"]), frozenset(("on", "off"))) \
        if params.get("device") else frozenset(("on", "off"))
    command = next((c for c in SWITCH_COMMANDS[switch] if c in accepted), None)
    return {"command": command} if command else {}


def device_command(inp: DeviceCommandInput, ctx: SkillContext) -> SkillResult:
    """Runs only from an approved request (an operator's over the API): sends the command."""
    device = commands.check(inp.device, inp.command, inp.params)
    row = commands.send(device.id, inp.command, inp.params, ctx.principal.actor)
    return _sent("设备指令已下发", [device], [row], inp.command, [])


class SituationInput(SkillInput):
    district: str | None = Field(None, description="区域，如 jiangbin 或 江滨区；默认全市 the district, default the whole city")


def safety_situation(inp: SituationInput, ctx: SkillContext) -> SkillResult:
    found = district_by_name(inp.district) if inp.district else None
    alarm_query = select(Alarm.severity, Device.district).join(Device, Device.id == Alarm.device_id) \
        .where(Alarm.status.in_(iot_rules.OPEN))
    event_query = select(Event.category, Event.district).where(
        Event.category.in_(WATCHED), Event.status.in_([str(x) for x in OPEN_STATES]), Event.merged_into.is_(None))
    if found is not None:  # one district's situation: devices and events keep its id or its name
        alarm_query = alarm_query.where(Device.district.in_((found.id, found.name)))
        event_query = event_query.where(Event.district.in_((found.id, found.name)))
    with database().session() as s:
        alarms = list(s.execute(alarm_query))
        events = list(s.execute(event_query))
    by_severity = Counter(sev for sev, _ in alarms)
    by_district = Counter(d or "未知区域" for _, d in alarms)
    lines = [f"**在办告警 {len(alarms)} 条**"]
    lines += [f"- {sev}：{by_severity[sev]}" for sev in reversed(iot_rules.SEVERITIES) if by_severity[sev]]
    lines += [f"- {d}：{n}" for d, n in by_district.most_common()]
    for category, label in WATCHED.items():
        districts = Counter(d or "未知区域" for c, d in events if c == category)
        lines.append(f"**未办结{label}事件 {sum(districts.values())} 起**"
                     + "".join(f"\n- {d}：{n}" for d, n in districts.most_common()))
    return SkillResult(sections=[Section(title=f"城市安全态势（{found.name}）" if found else "城市安全态势",
                                         body="\n".join(lines))],
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
    found = district_by_name(district) if district else None
    where = found.name if found else "全市"
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
        description="燃气泄漏闭环处置（告警→事件→关阀审批→指令→确认）、闸门与信号配时（审批后执行）和城市安全态势报告",
        # the command skills' `district` is the district named (assistant/targets), shown with the request an
        # approver sees; the devices are still resolved from the device param or the text
        skills=[
            Skill(id="emergency", modes=("emergency",), name="紧急险情", input_model=EmergencyInput, handler=emergency,
                  risk=RiskLevel.write,
                  description="燃气泄漏、火灾浓烟、人员被困、危险积水、塌陷、触电、化学品气味、拥挤踩踏等危及生命的险情："
                              "先给出国家公众安全提示中的避险步骤和紧急电话，再登记紧急事件派往责任部门",
                  examples=["家里燃气味很重怎么办", "楼道里冒浓烟了", "有人被困在电梯里", "路上积水把车淹了里面有人",
                            "路面突然塌了一个大坑", "电线掉在地上有人触电了", "小区里一股刺鼻的化学品味道",
                            "地铁口人太多快挤倒了", "I smell gas in my kitchen"],
                  # the assistant's emergency detector decides (before routing); its routes never do
                  route_weight=0.0),
            Skill(id=loop.VALVE_SKILL, modes=("city_action",), name=loop.VALVE_LABEL, input_model=ValveInput, handler=close_gas_valve,
                  risk=RiskLevel.actuate, roles=SAFETY_ROLES,
                  description="向燃气阀门设备下发关闭指令，隔离燃气传感器告警；须另一位有权限的人员审批后执行",
                  examples=["向阀门设备下发关阀指令", "隔离燃气告警对应的阀门设备"],
                  cues=("下发关阀指令", "关阀指令", "燃气总阀", "gas valve"), cue_priority=95,
                  route_weight=0.5, departments=("gas",), target_params=("valve", "district"),
                  acts_on=lambda inp: [_valve(inp)]),
            Skill(id="operate_flood_gate", modes=("city_action",), name="操作排水闸门", input_model=FloodGateInput, handler=operate_flood_gate,
                  risk=RiskLevel.actuate, roles=SAFETY_ROLES,
                  description="开启或关闭排水闸门（指定闸门、易涝点附近或区域内的闸门）；须另一位有权限的人员审批后执行",
                  examples=["打开江滨区的排水闸门", "关闭易涝点附近的闸门"],
                  cues=("开闸", "关闸", "排水闸门", "落闸"), cue_priority=95, route_weight=0.5, departments=("water",),
                  target_params=("gate", "district"), acts_on=_gates),
            Skill(id="set_signal_plan", modes=("city_action",), name="调整信号配时", input_model=SignalPlanInput, handler=set_signal_plan,
                  risk=RiskLevel.actuate, roles=SAFETY_ROLES,
                  description="切换交通信号机的配时方案（常规、高峰、内涝绕行、全红）；须另一位有权限的人员审批后执行",
                  examples=["把江滨区的信号机切换到内涝绕行配时", "信号机改为全红"],
                  cues=("信号配时", "配时方案", "信号机"), cue_priority=95, route_weight=0.5,
                  departments=("traffic_police",), target_params=("signal", "district"), acts_on=_signals),
            Skill(id="device_command", modes=("city_action",), name="下发设备指令", input_model=DeviceCommandInput, handler=device_command,
                  risk=RiskLevel.actuate, roles=SAFETY_ROLES,
                  description="工作人员通过接口申请、按指令策略需要审批的设备指令；审批后执行",
                  examples=["通过接口申请向设备下发指令"],
                  # its routes weigh nothing: a conversation reaches it only by naming a device outright
                  # (assistant/targets), else it names one of the skills above
                  route_weight=0.0, target_params=("device", "district"), fill=command_asked,
                  acts_on=lambda inp: [commands.check(inp.device, inp.command, inp.params)]),
            Skill(id="safety_situation", modes=("briefing",), name="城市安全态势", input_model=SituationInput,
                  handler=safety_situation, roles=SAFETY_ROLES,
                  target_params=("district",),  # the district named (assistant/targets); default the whole city
                  description="按严重程度和区域统计在办的物联网告警，以及未办结的燃气泄漏、积水内涝事件（全市或一个区）",
                  examples=["城市安全态势报告", "现在有多少燃气和内涝告警"],
                  cues=("安全态势", "安全形势", "告警", "safety picture", "safety situation", "alarms"), cue_priority=95, route_weight=0.5),
            Skill(id="waterlogging_watch", modes=("briefing",), name="内涝预警", input_model=WaterloggingInput, handler=waterlogging_watch,
                  roles=SAFETY_ROLES,
                  description="根据雨量、路面积水和外江水位预测未来一小时哪些道路会积水内涝（易涝点预警）",
                  examples=["未来一小时哪些道路会内涝", "哪些易涝点快要积水了", "江滨区哪些路会被淹"],
                  cues=("内涝预警", "会内涝", "易涝点", "内涝点", "积水点", "会被淹", "会积水"), cue_priority=95, route_weight=0.5,
                  target_params=("district",)),
        ],
    )
