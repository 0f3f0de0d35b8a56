"""City governance agent (城市治理智能体): a citizen's report in chat becomes a tracked city
event — classified, located and dispatched by the events hub — and the answer says which
event and which department."""

from __future__ import annotations

from aicity.agents.base import Agent, NextAction, RiskLevel, Section, Skill, SkillContext, SkillInput, SkillResult
from aicity.hub.events import service as events
from aicity.identity import service as identity


def report_event(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    principal = ctx.principal
    # a citizen in chat is known by the session; staff by their key
    ref = events.staff_reporter(principal) if principal.is_staff else \
        events.reporter_from_token(f"session:{ctx.tracer.session_id or ctx.tracer.id}")
    filed = events.report(inp.text, source="assistant", reporter=events.Reporter(ref=ref),
                          idempotency_key=f"assistant:{ctx.tracer.id}")
    event = events.event_json(filed.event)
    where = event["address"] or event["district"] or "（未能识别地点，处置人员会与您核实）"
    if event["status"] == "reported":
        handling = "已进入人工分派队列，工作人员核实后派往责任部门。"
    else:
        handling = f"已派往**{identity.department_name(event['department'])}**处理。"
    merged = "同一问题已有人反映，您的反映已合并到该事件，处理进展会一并告知。\n\n" if filed.merged else ""
    body = (f"{merged}- 事件编号：`{event['id']}`\n- 类别：{event['category_name']}\n- 地点：{where}\n"
            f"- 优先级：{event['priority']}\n- 处理：{handling}")
    if event["priority"] == "urgent":
        body += "\n\n**如有人员危险，请立即拨打 110 / 119 / 120。**"
    return SkillResult(
        sections=[Section(title="已登记城市事件", body=body, kind="event")],
        departments=[event["department"]] if event["status"] != "reported" else [],
        event={"id": event["id"], "category": event["category"], "department": event["department"],
               "status": event["status"]},
        next_actions=[NextAction(label="查询处理进度", kind="link", value=f"/api/v1/events/{event['id']}")],
    )


def build() -> Agent:
    return Agent(
        id="governance",
        name="城市治理智能体",
        department="urban",
        description="市民反映的城市问题（路灯、井盖、积水、噪声、燃气等）登记为事件并派往责任部门",
        skills=[
            Skill(
                id="report_event", name="事件上报", input_model=SkillInput, handler=report_event,
                risk=RiskLevel.write,
                description="把市民反映的具体问题登记为城市事件，自动分类、定位并派单，返回事件编号",
                examples=["帮我报修一下，幸福路12号的路灯不亮了", "我要反映小区门口垃圾堆了好几天",
                          "请派人来看看，光谷大道那边井盖没了", "Please send someone, a manhole cover is missing"],
                cue_priority=90,
                cues=("报修", "帮我上报", "我要上报", "帮我登记", "我要反映", "帮我反映", "请派人", "快派人", "赶紧派人",
                      "麻烦派人", "派人来", "please send someone", "report this", "file a report"),
            ),
        ],
    )
