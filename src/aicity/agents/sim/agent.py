"""推演智能体 (simulation): the assistant's `simulation` mode. "模拟一下五十年一遇的暴雨下江滨区哪里会积水"
→ the return period, district and duration are read from the sentence, a flood simulation job
runs on EPA SWMM (`hub/sim`), and the answer lists the places that flood (or, when the run takes
longer than `[aicity.sim] agent_wait_s`, the job id and where to follow it). Staff only.

`deploy_pumps` is what an approved "pre-deploy pumps" recommendation of a simulation runs
(`hub/sim/actions.py` queues it): it dispatches the water department with an event. It never runs
from a turn: it is an `actuate` skill, so the assistant only queues it for approval."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import Field

from aicity.agents.base import (
    Agent,
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
from aicity.agents.sim import traffic
from aicity.core.errors import Problem
from aicity.core.text import cn_number
from aicity.hub.events.service import Reporter, report
from aicity.hub.geo.gazetteer import district_by_name, district_in, resolve
from aicity.hub.sim import jobs
from aicity.hub.sim.flood import DEFAULT_DURATION_MIN
from aicity.identity.models import STAFF_ROLES

AGENT_ID = "simulation"
STAFF = frozenset(r.value for r in STAFF_ROLES)
_NUMBER = r"[0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九十百半]+"
_PERIOD = re.compile(rf"({_NUMBER})\s*年\s*一\s*遇|p\s*=\s*([0-9]+)|({_NUMBER})\s*-?\s*year"
                     rf"|重现期\s*(?:是|为|按|取)?\s*({_NUMBER})\s*年|({_NUMBER})\s*年\s*重现期", re.IGNORECASE)
_HOURS = re.compile(rf"({_NUMBER})\s*(?:个)?\s*(?:小时|钟头|h\b|hours?)", re.IGNORECASE)
_MINUTES = re.compile(rf"({_NUMBER})\s*(?:分钟|min\b|minutes?)", re.IGNORECASE)
#: a district the sentence names that the city may not have: the two characters before 区 (火星区), unless the
#: character just before 区 makes a common word or a quantifier (小区, 城区, 辖区; 全市各区, 每个区, 哪个区)
_DISTRICT_WORD = re.compile(r"([\u4e00-\u9fff]{2}区)")
_NOT_A_NAME_BEFORE_QU = frozenset("各每全本该哪几个这那两多小社园景片辖城市地山郊分校厂矿街")
_FLOOD_WORDS = ("雨", "涝", "积水", "淹", "水浸", "排水", "暴雨", "重现期", "swmm", "rain", "flood", "storm")
PERIOD_OPTIONS = ("5", "10", "20", "50", "100")


def spoken_number(text: str) -> float | None:
    """Digits (with decimals), 半, or a Chinese numeral (一 … 九十九, 一百) → the number."""
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
        return float(text)
    if text == "半":
        return 0.5
    value = cn_number(text)
    return None if value is None else float(value)


def parse(text: str) -> dict[str, Any]:
    """The return period (years), district and duration (minutes) a sentence asks for; `unknown_district`
    when it names a 区 the city does not have."""
    out: dict[str, Any] = {}
    if m := _PERIOD.search(text):
        out["return_period"] = spoken_number(next(g for g in m.groups() if g))
    elif "百年一遇" in text:
        out["return_period"] = 100.0
    hours = _HOURS.search(text)
    minutes = _MINUTES.search(text)
    if hours and (h := spoken_number(hours.group(1))) is not None:
        out["duration_min"] = int(round(h * 60))
    elif minutes and (mm := spoken_number(minutes.group(1))) is not None:
        out["duration_min"] = int(round(mm))
    if district := district_in(text):
        out["district"] = district.id
    elif (where := resolve(text)) is not None:  # a road or landmark of the city: its district
        out["district"], out["place"] = where.district, where.place
    else:
        named = [w for w in _DISTRICT_WORD.findall(text) if district_by_name(w) is None and w[1] not in _NOT_A_NAME_BEFORE_QU]
        if named:
            out["unknown_district"] = named[0]
    return out


class FloodSimInput(SkillInput):
    return_period: str | None = Field(None, description="重现期（年）the design storm's return period")


def _answer(result: dict[str, Any], place: str | None = None) -> SkillResult:
    s = result["scenario"]
    flooded = result["flooded"]
    head = (f"{s['label']}：降雨 {s['rain_depth_mm']} mm，峰值雨强 {s['peak_intensity_mm_h']} mm/h。"
            f"SWMM 模拟显示 {len(flooded)} 处积水超过 15 cm。")
    if place:  # the road or landmark asked about first
        here = [f for f in flooded if place in f["place"] or f["road"] == place]
        head += (f"其中{place}有 {len(here)} 处积水。" if here else f"{place}没有积水超过 15 cm 的地点。")
        flooded = here + [f for f in flooded if f not in here]
    lines = [f"- {f['place']}（{f['district_name']}）：最大积水 {f['max_depth_m']:.2f} m，"
             f"开始后约 {_minute(f['start'], s['start'])} 分钟超过 15 cm，持续 {f['duration_min']:.0f} 分钟"
             for f in flooded[:12]]
    if len(flooded) > 12:
        lines.append(f"- 另有 {len(flooded) - 12} 处，见推演模拟页面")
    c = result["comparison"]
    compare = (f"与内涝预警（质量守恒模型）在同一场雨下对比易涝点：两者都判积水 {c['both']} 处，仅 SWMM {c['swmm_only']} 处，"
               f"仅预警模型 {c['watch_only']} 处，一致率 {c['agreement']}。")
    recs = [f"- {r['label']}：{r['reason']}" for r in result["recommendations"]]
    sections = [Section(title="内涝模拟结果", kind="data", body="\n".join([head, "", *lines]) if lines else head),
                Section(title="与内涝预警对比", body=compare)]
    if recs:
        sections.append(Section(title="处置建议（需审批后执行）", kind="info",
                                body="\n".join(recs) + "\n\n开闸、预置泵车须由有权限的工作人员在推演模拟页面提交审批，"
                                                       "经另一人批准后才会执行。"))
    return SkillResult(sections=sections, departments=["water"],
                       data={"job_id": result["job_id"], "flooded": flooded, "outfalls": result["outfalls"],
                             "comparison": c, "recommendations": result["recommendations"]},
                       next_actions=[NextAction(label="在推演模拟页面查看地图", kind="link",
                                                value=f"/#/sim?job={result['job_id']}")])


def _minute(at: str | None, start: str) -> str:
    if not at:
        return "—"
    from_start = (datetime.fromisoformat(at) - datetime.fromisoformat(start)).total_seconds() / 60
    return f"{from_start:.0f}"


def flood_simulation(inp: FloodSimInput, ctx: SkillContext) -> SkillResult:
    text = inp.text
    if not any(w in text.lower() for w in _FLOOD_WORDS):
        return SkillResult(sections=[Section(title="暂不支持的推演", kind="refusal", body=(
            "目前可以推演暴雨内涝：给出重现期（如“五十年一遇”）和区域，模拟哪些地点会积水、积多深、持续多久。"
            "干道信号配时也可以推演（如“解放大道早高峰配时能不能优化”）；燃气等其他情景的推演尚未上线。"))])
    asked = parse(text)
    if inp.return_period and "return_period" not in asked:
        asked["return_period"] = spoken_number(inp.return_period.removesuffix("年"))
    if "unknown_district" in asked:
        return SkillResult(sections=[Section(title="未知区域", kind="refusal", body=(
            f"示范城市没有“{asked['unknown_district']}”。可以模拟的区：东湖区、光谷区、江滨区、西城区、南湖区、北港区。"))])
    if asked.get("return_period") is None:
        if ctx.may_ask:
            return SkillResult(clarification=Clarification(
                slot="return_period", question="请问按几年一遇的暴雨模拟？（2–100 年）",
                options=[Option(value=p, label=f"{p} 年一遇") for p in PERIOD_OPTIONS]))
        asked["return_period"] = 50.0
    params = {"rain": "design", "return_period": asked["return_period"],
              "duration_min": asked.get("duration_min", DEFAULT_DURATION_MIN)}
    if asked.get("district"):
        params["district"] = asked["district"]
    who = ctx.principal.actor
    try:
        job = jobs.create("flood", params, who)
    except Problem as exc:
        return SkillResult(sections=[Section(title="无法模拟", kind="refusal", body=exc.detail or exc.title)])
    ctx.tracer.note("sim-job", job=job["id"], params=params)
    job = jobs.wait(job["id"], jobs.config().agent_wait_s)
    if job["status"] == "succeeded":
        return _answer(job["result"], asked.get("place"))
    link = NextAction(label="查看模拟进度", kind="link", value=f"/#/sim?job={job['id']}")
    if job["status"] in ("failed", "cancelled"):
        return SkillResult(sections=[Section(title="模拟未完成", kind="refusal",
                                             body=f"模拟任务 {job['id']}{job['status_label']}：{job['error'] or job['message']}")],
                           data={"job_id": job["id"], "status": job["status"]})
    return SkillResult(sections=[Section(title="模拟进行中", body=(
        f"模拟任务 {job['id']} 已提交，当前进度 {job['progress']:.0%}（{job['message']}）。"
        f"可在推演模拟页面或 GET /api/v1/sim/jobs/{job['id']} 查看进度和结果。"))],
        data={"job_id": job["id"], "status": job["status"]}, next_actions=[link])


class PumpsInput(SkillInput):
    job: str = Field(description="内涝模拟任务编号 the simulation job")
    district: str = Field(description="区 the district id")
    places: str = Field(description="预置地点 the places, 、-separated")


def deploy_pumps(inp: PumpsInput, ctx: SkillContext) -> SkillResult:
    """Runs only from an approved request: dispatches the water department to pre-deploy pumps."""
    district = district_by_name(inp.district)
    text = (f"根据内涝模拟 {inp.job}，请水务部门向{district.name if district else inp.district}{inp.places}"
            f"预置移动泵车和抢险人员（已经审批）。")
    lat, lon = district.centre() if district else (None, None)
    result = report(text, source="operator", reporter=Reporter(ref="agent:simulation"), lat=lat, lon=lon,
                    category="waterlogging", title=f"预置移动泵车：{inp.places}",
                    idempotency_key=f"sim-pumps:{inp.job}:{inp.district}")
    return SkillResult(sections=[Section(title="已派发预置泵车任务", kind="event",
                                         body=f"事件 {result.event.id} 已派往水务部门：{text}")],
                       departments=["water"], event={"id": result.event.id})


def build() -> Agent:
    return Agent(
        id=AGENT_ID,
        name="推演智能体",
        department="water",
        description="推演模拟：用 EPA SWMM 模拟设计暴雨（2–100 年一遇）或实时降雨下城市哪些地点、道路积水，"
                    "积多深、何时开始、持续多久，与内涝预警对比，并给出开闸、预置泵车等需审批的处置建议；"
                    "用 Eclipse SUMO 仿真干道高峰小时的信号配时优化（行程时间、延误、排队、通过量）",
        skills=[
            Skill(id="flood_simulation", modes=("simulation",), name="暴雨内涝模拟", input_model=FloodSimInput,
                  handler=flood_simulation, roles=STAFF, risk=RiskLevel.write,
                  target_params=("district",),  # the district named (assistant/targets)
                  description="模拟某一重现期的暴雨下各区哪些易涝点和道路会积水（EPA SWMM 水力模型）",
                  examples=["模拟一下五十年一遇的暴雨下江滨区哪里会积水", "二十年一遇暴雨持续三小时，南湖区会淹哪些路",
                            "推演百年一遇的大暴雨全市内涝情况", "如果下一场十年一遇的暴雨，光谷区哪些地方积水",
                            "Simulate a 50-year storm in Jiangbin: which roads flood?"],
                  cues=("年一遇", "推演", "模拟", "仿真", "simulate", "simulation", "what if"), cue_priority=70,
                  cue_requires=("雨", "涝", "积水", "淹", "storm", "rain", "flood")),
            traffic.skill(),
            Skill(id="deploy_pumps", modes=("city_action",), name="预置移动泵车", input_model=PumpsInput,
                  handler=deploy_pumps, roles=STAFF, risk=RiskLevel.actuate,
                  description="按内涝模拟的建议，派水务部门向积水点预置移动泵车（须审批）",
                  target_params=("district",),  # the district named (assistant/targets)
                  examples=["按模拟结果向江滨区积水点预置移动泵车", "派几台移动泵车去积水点", "调泵车到易涝点待命"],
                  cues=("泵车", "移动泵", "抽水车"), cue_priority=95, route_weight=0.5),
        ],
    )
