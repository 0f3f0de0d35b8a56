"""The simulation agent's traffic skill: "解放大道早高峰配时能不能优化" → the corridor and the peak
(早高峰 / 晚高峰) are read from the sentence, a corridor signal-timing job runs on SUMO (`hub/sim/traffic.py`)
with the current and the optimised plan, and the answer gives travel time, delay, queue and throughput
before and after, and the plan; sending the plan to the signals is a request in the approval queue,
made on the 推演模拟 page (never from the turn). When the run takes longer than `[aicity.sim]
agent_wait_s` the answer is the job id and where to follow it. Staff only."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aicity.agents.base import (
    Clarification,
    NextAction,
    Option,
    RiskLevel,
    Section,
    Skill,
    SkillContext,
    SkillInput,
    SkillResult,
)
from aicity.core.errors import Problem
from aicity.hub.sim import jobs, traffic
from aicity.identity.models import STAFF_ROLES

STAFF = frozenset(r.value for r in STAFF_ROLES)
_PM = ("晚高峰", "晚上", "下班", "傍晚", "evening")
#: a sentence naming a road (…大道 / …路 / …街) that is no corridor is told which corridors there are
_ROAD_SUFFIXES = ("大道", "路", "街")


class TrafficSimInput(SkillInput):
    corridor: str | None = Field(None, description="干道名称 the corridor, e.g. 解放大道")


def parse(text: str, known: list[str]) -> dict[str, Any]:
    """The corridor (one of `known`) and the peak (am / pm) a sentence asks about."""
    out: dict[str, Any] = {"period": "pm" if any(w in text.lower() for w in _PM) else "am"}
    found = [name for name in known if name in text]
    if found:
        out["corridor"] = max(found, key=len)
    return out


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} 分钟"


def answer(result: dict[str, Any]) -> SkillResult:
    d, b, a = result["demand"], result["before"], result["after"]
    head = (f"{result['corridor']}{d['period_label']}（{d['hour']:02d}:00–{d['hour'] + 1:02d}:00，9 月工作日均值："
            + "，".join(f"{k} {v} 辆/小时" for k, v in d["peak_veh_h"].items())
            + f"），{result['network']['length_m'] / 1000:.1f} km、{len(result['network']['crossings'])} 个信号路口，"
              "用 SUMO 在同一批车辆下仿真现行配时与优化配时：")
    c = result["change_pct"] or {}
    lines = [f"- 干道全程行程时间：{_minutes(b['travel_time_s'])} → {_minutes(a['travel_time_s'])}（{c.get('travel_time_s')}%）",
             f"- 车均延误：{b['delay_s']} s → {a['delay_s']} s（{c.get('delay_s')}%）",
             f"- 进口道平均最大排队：{b['queue_m']} m → {a['queue_m']} m",
             f"- 通过量：{b['throughput_veh_h']} → {a['throughput_veh_h']} 辆/小时"]
    plan = result["plan"]
    how = (f"优化方法：每个路口按韦伯斯特法（临界流量比 y、损失时间 L = {plan['lost_time_s']:g} s、C0 = (1.5L+5)/(1−Y)）"
           f"计算周期并按 y 分配绿灯，全线取关键路口 {plan['critical']} 的周期 {plan['cycle_s']} s，"
           f"按 {plan['progression_kmh']} km/h 为高峰方向设置绿波相位差。")
    sections = [Section(title="配时优化仿真结果", kind="data", body="\n".join([head, "", *lines])),
                Section(title="优化配时方案", body=how)]
    if result["recommendations"]:
        sections.append(Section(title="下发配时（需审批后执行）", kind="info", body=(
            f"新配时可下发到 {len(result['recommendations'])} 台信号机（高峰配时 peak）：须由有权限的工作人员在推演模拟页面"
            "提交审批，经另一人批准后才会下发。")))
    return SkillResult(sections=sections, departments=["traffic_police"],
                       data={"job_id": result["job_id"], "before": b, "after": a, "plan": plan,
                             "recommendations": result["recommendations"]},
                       next_actions=[NextAction(label="在推演模拟页面查看对比", kind="link",
                                                value=f"/#/sim?job={result['job_id']}")])


def traffic_simulation(inp: TrafficSimInput, ctx: SkillContext) -> SkillResult:
    known = traffic.corridors()
    asked = parse(inp.text, known)
    if inp.corridor and "corridor" not in asked:
        asked["corridor"] = inp.corridor
    if "corridor" not in asked:
        unknown_road = any(w in inp.text for w in _ROAD_SUFFIXES)
        listed = f"示范城市可仿真的干道（有逐小时车流量数据）：{'、'.join(known)}。"
        if ctx.may_ask:  # a road that is no corridor, or none named: which corridor, as buttons
            question = f"句中的道路不是可仿真的干道。{listed}请问仿真哪一条？" if unknown_road \
                else "请问要优化哪条干道的信号配时？"
            return SkillResult(clarification=Clarification(
                slot="corridor", question=question, options=[Option(value=name, label=name) for name in known]))
        if unknown_road:
            return SkillResult(sections=[Section(title="未知干道", kind="refusal", body=f"句中的道路不是可仿真的干道。{listed}")])
        return SkillResult(sections=[Section(title="未指明干道", kind="refusal", body=(
            f"请说明干道名称。可以仿真的干道：{'、'.join(known)}。"))])
    params = {"corridor": asked["corridor"], "period": asked["period"], "optimize": True}
    try:
        job = jobs.create("traffic", params, ctx.principal.actor)
    except Problem as exc:
        return SkillResult(sections=[Section(title="无法仿真", kind="refusal", body=exc.detail or exc.title)])
    ctx.tracer.note("sim-job", job=job["id"], params=params)
    job = jobs.wait(job["id"], jobs.config().agent_wait_s)
    if job["status"] == "succeeded":
        return answer(job["result"])
    if job["status"] in ("failed", "cancelled"):
        return SkillResult(sections=[Section(title="仿真未完成", kind="refusal",
                                             body=f"仿真任务 {job['id']}{job['status_label']}：{job['error'] or job['message']}")],
                           data={"job_id": job["id"], "status": job["status"]})
    return SkillResult(sections=[Section(title="仿真进行中", body=(
        f"{asked['corridor']}高峰小时信号配时仿真（现行配时与优化配时各一次）已提交为任务 {job['id']}，"
        f"当前进度 {job['progress']:.0%}（{job['message']}）。完成后可在推演模拟页面或 "
        f"GET /api/v1/sim/jobs/{job['id']}/result 查看对比结果。"))],
        data={"job_id": job["id"], "status": job["status"]},
        next_actions=[NextAction(label="查看仿真进度", kind="link", value=f"/#/sim?job={job['id']}")])


def skill() -> Skill:
    return Skill(id="traffic_simulation", modes=("simulation",), name="干道信号配时优化仿真",
                 input_model=TrafficSimInput, handler=traffic_simulation, roles=STAFF, risk=RiskLevel.write,
                 target_params=("district",),  # the district named (assistant/targets); the corridor is read by `parse`
                 description="用 SUMO 仿真干道高峰小时的现行信号配时与韦伯斯特法 + 绿波优化配时，比较行程时间、延误、排队和通过量",
                 examples=["解放大道早高峰配时能不能优化", "仿真一下光谷大道晚高峰的信号配时", "建设大道的红绿灯怎么调能少堵一点",
                           "雄楚大道早高峰绿波协调效果如何", "Can the signal timing on Jiefang Avenue be optimised for the morning peak?"],
                 cues=("配时", "红绿灯", "信号灯", "绿波"), cue_priority=96,
                 cue_requires=("优化", "仿真", "模拟", "推演", "高峰", "绿波", "能不能", "怎么调", "optimi"))
