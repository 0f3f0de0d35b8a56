"""City operations agent (城市运行智能体): who is responsible for what, and — for officials —
figures about the city's services."""

from __future__ import annotations

from pydantic import Field

from aicity.agents.base import Agent, NextAction, Route, Section, Skill, SkillContext, SkillInput, SkillResult
from aicity.hub.catalog import service as catalog
from aicity.hub.events import classify
from aicity.identity import service as identity
from aicity.identity.models import STAFF_ROLES


class DutyInput(SkillInput):
    department: str | None = Field(default=None, description="department id")


def _duty_routes() -> list[Route]:
    """Each department's duties, and each of the city's event categories (its name and example reports) with the
    department its events are dispatched to: a duty question is put the way a report is ("饭馆油烟扰民", "遛狗不拴绳",
    "红绿灯坏了"), and the dispatch table is where the city says who handles it."""
    departments = identity.list_departments()
    known = {d.id for d in departments}
    routes = [Route(f"{duty} 归谁管", (("department", d.id),)) for d in departments for duty in d.duties]
    for category in classify.categories().values():
        if category.department in known:
            target = (("department", category.department),)
            routes += [Route(f"{name} 归谁管", target) for name in category.name.split("/")]
            routes += [Route(example, target) for example in category.examples]
    return routes


def department_duty(inp: DutyInput, ctx: SkillContext) -> SkillResult:
    depts = {d.id: d for d in identity.list_departments()}
    dept = depts.get(inp.department or "")
    if dept is None:
        return SkillResult(sections=[Section(title="职责查询", body="没能确定负责的部门，可拨打12345政务服务便民热线转办。")])
    body = (f"该事项由**{dept.name}**（{dept.name_en}）负责。\n\n"
            f"主要职责：{'、'.join(dept.duties)}。\n\n"
            "如需反映问题，可拨打12345政务服务便民热线，由热线派单至该部门处理；紧急险情请直接拨打110/119。")
    items = [i for i in catalog.catalog().items.values() if i.department == dept.id][:5]
    if items:
        body += "\n\n该部门可办理的事项：" + "、".join(i.name for i in items)
    return SkillResult(sections=[Section(title="负责部门", body=body, kind="duty")], departments=[dept.id],
                       next_actions=[NextAction(label=f"{i.name}怎么办", value=f"{i.name}怎么办？") for i in items[:2]])


def service_stats(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    stats = catalog.statistics()
    top = "\n".join(f"| {identity.department_name(d)} | {n} |" for d, n in list(stats["per_department"].items())[:10])
    body = (
        f"- 政务服务事项：{stats['items']} 项，覆盖 {stats['departments']} 个部门\n"
        f"- “高效办成一件事”主题：{stats['bundles']} 个\n"
        f"- 可网上办理：{stats['online_items']} 项（{stats['online_share']:.0%}）\n"
        f"- 适用告知承诺制：{stats['commitment_items']} 项\n"
        f"- 承诺时限较法定时限平均压缩：{stats['avg_time_cut']:.0%}\n\n"
        f"| 部门 | 事项数 |\n|---|---|\n{top}"
    )
    return SkillResult(sections=[Section(title="全市政务服务事项概况", body=body, kind="stats")],
                       departments=["data_bureau"], data=stats)


def build() -> Agent:
    return Agent(
        id="city_ops",
        name="城市运行智能体",
        department="data_bureau",
        description="部门职责查询；为城市管理者提供政务服务运行数据",
        skills=[
            Skill(
                id="department_duty", modes=("duty",), name="职责查询", input_model=DutyInput, handler=department_duty,
                target_params=("department",),
                description="回答某件事归哪个部门管、找谁反映",
                examples=["这个归哪个部门管", "应该找哪个部门", "向谁反映", "找谁投诉", "谁负责",
                          "Which department handles this?"],
                cue_priority=80,
                cues=("哪个部门", "归谁管", "谁来管", "谁管", "找谁", "该找哪", "向谁反映", "去哪投诉", "去哪举报", "举报",
                      "which department", "who do i complain", "who is responsible", "who handles"),
                routes=_duty_routes,
            ),
            Skill(
                id="service_stats", modes=("data",), name="政务服务运行数据", input_model=SkillInput, handler=service_stats,
                roles=frozenset(r.value for r in STAFF_ROLES),
                description="全市政务服务事项数量、网办率、告知承诺、时限压缩等统计",
                examples=["全市有多少政务服务事项", "网上办理率是多少", "各部门事项数量统计", "时限压缩了多少",
                          "政务服务运行情况", "How many services can be done online?"],
                # above the data analyst's cues (同比, 排名 …), but only about the government services themselves
                cue_priority=90,
                cues=("网办率", "事项统计", "多少项", "多少个事项", "多少事项", "覆盖多少", "上线了几个", "运行情况",
                      "统计", "占比", "压缩了", "最多", "前几名", "排名", "办件量", "同比", "how many services"),
                cue_requires=("事项", "政务服务", "办件", "网办", "网上办", "一网通办", "告知承诺", "承诺时限", "法定时限",
                              "时限", "services"),
            ),
        ],
    )
