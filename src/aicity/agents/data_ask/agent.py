"""数据分析智能体 (data analyst): the super assistant's data-question mode (mode `data`) answered by
the data hub's question engine (`hub/data/ask.py`): the number, the table, the SQL that ran, and
the datasets it used, cited. Officials and operators only (the datasets are internal government
data); what a caller's role may query is the data hub's decision, not this agent's."""

from __future__ import annotations

from aicity.agents.base import Agent, NextAction, Route, Section, Skill, SkillContext, SkillInput, SkillResult
from aicity.hub.data import semantic
from aicity.hub.data.ask import DataAnswer, ask
from aicity.hub.knowledge.service import Citation
from aicity.identity.models import STAFF_ROLES

STAFF = frozenset(r.value for r in STAFF_ROLES)
#: most rows shown in chat (the full table is in the data hub's answer)
CHAT_ROWS = 20


def _table(answer: DataAnswer) -> str:
    if not answer.rows or len(answer.rows) < 2 and len(answer.columns) < 2:
        return ""
    lines = ["| " + " | ".join(answer.columns) + " |", "|" + "---|" * len(answer.columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in answer.rows[:CHAT_ROWS]]
    more = f"\n\n（共 {len(answer.rows)} 行，仅列出前 {CHAT_ROWS} 行）" if len(answer.rows) > CHAT_ROWS else ""
    return "\n".join(lines) + more


def _citations(answer: DataAnswer) -> list[Citation]:
    titles = {tid: t["title"] for tid, t in semantic.raw_layer()["tables"].items()}
    return [Citation(doc=titles.get(d, d), doc_key=f"dataset:{d}", locator=f"数据集 {d}",
                     text=f"{titles.get(d, d)}（{d}）：{answer.sql or ''}") for d in answer.datasets]


def result_of(answer: DataAnswer) -> SkillResult:
    """A data-hub answer as a skill result: the sentence with the dataset cited, the table, the SQL."""
    if answer.status == "refused":
        body = f"{answer.reason}\n\n{answer.alternative or ''}".strip()
        return SkillResult(sections=[Section(title="不提供个人明细", body=body, kind="refusal")],
                           data={"status": answer.status, "datasets": answer.datasets})
    if answer.status == "not_understood":
        return SkillResult(sections=[Section(title="没能理解的数据问题", body=answer.answer, kind="clarify")],
                           data={"status": answer.status, "reason": answer.reason})
    marks = "".join(f"[^{i}]" for i in range(1, len(answer.datasets) + 1))
    body = f"{answer.answer}{marks}"
    if table := _table(answer):
        body += f"\n\n{table}"
    body += f"\n\n查询语句（已校验，只读）：\n\n```sql\n{answer.sql}\n```"
    return SkillResult(
        sections=[Section(title="一句话问数", body=body, kind="data")],
        citations=_citations(answer),
        data={"status": answer.status, "value": answer.value, "sql": answer.sql, "columns": answer.columns,
              "rows": answer.rows[:CHAT_ROWS], "datasets": answer.datasets, "chart_svg": answer.chart_svg},
        next_actions=[NextAction(label="在一句话问数页面查看图表", kind="link", value="/#/ask")])


def data_ask(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    p = ctx.principal
    answer = ask(inp.text, role=p.role.value, department=p.department)
    ctx.tracer.note("data-ask", status=answer.status, datasets=answer.datasets, writer=answer.writer)
    return result_of(answer)


def _routes() -> list[Route]:
    """What the data hub can answer, for the router: each table's names and its metrics' names."""
    routes = []
    for t in semantic.raw_layer()["tables"].values():
        routes.append(Route(" ".join([t["title"], *map(str, t.get("words") or ())])))
        for m in (t.get("metrics") or {}).values():
            routes.append(Route(f"{t['title']} {m['name']} " + " ".join(map(str, m.get("words") or ()))))
    return routes


def build() -> Agent:
    return Agent(
        id="data_analyst",
        name="数据分析智能体",
        department="data_bureau",
        description="一句话问数：用一句话查询城市数据（热线工单、企业、区情、空气质量、交通流量、低保汇总、招商线索），"
                    "给出数字、表格、所执行的 SQL 和数据来源",
        skills=[
            Skill(
                id="data_ask", modes=("data",), name="一句话问数", input_model=SkillInput, handler=data_ask,
                target_params=("district",),  # the district named (assistant/targets)
                roles=STAFF,
                description="为城市管理者统计城市数据：数量、合计、平均、排名、占比、同比环比，按区、类别、时间",
                examples=["2025年3月东湖区12345工单有多少件", "各区高新技术企业数量", "上半年热线满意率是多少",
                          "光谷区GDP同比增长多少", "PM2.5平均浓度最高的监测站", "各区低保户数",
                          "9月光谷大道早高峰平均车速", "How many hotline tickets were filed in Donghu in March?"],
                cue_priority=89,
                cues=("12345", "热线", "工单", "gdp", "生产总值", "企业", "高新技术", "专精特新", "营业收入", "纳税", "常住人口",
                      "空气质量", "aqi", "pm2.5", "车流量", "车速", "低保", "招商线索", "产业链", "同比", "环比", "占比", "比例",
                      # a series or a comparison of counts over time or places is a statistic, not a list of events
                      # (event_query) nor the day's hotspots (hotspot_insight)
                      "对比", "每月", "按月", "逐月", "走势", "变化趋势",
                      "hotline", "tickets", "enterprises", "population", "air quality", "traffic"),
                cue_requires=("多少", "几", "平均", "合计", "总", "排名", "最多", "最高", "最低", "最少", "占比", "比例", "同比",
                              "环比", "增长", "各区", "每个", "哪个", "统计", "趋势", "数量", "对比", "每月", "按月", "逐月",
                              "走势", "how many", "average", "total",
                              "which", "share", "growth", "by district", "per "),
                routes=_routes,
                route_weight=0.8,
            ),
        ],
    )
