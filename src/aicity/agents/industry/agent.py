"""产业经济智能体 (industry and investment promotion, 产业招商): the super assistant's industry mode
for officials — which nodes of a chain are strong, thin or missing (city-wide or in one
district), which outside companies to approach for a chain or a gap and why, industry figures
(专精特新 / 高新技术 distributions) answered by the data hub's question engine, the project pipeline
(where a project stands, moving it a stage: the commerce bureau's staff) and the chain report with its
download links (`chat.py`). Officials and staff only: the public gets the assistant's staff-only statement."""

from __future__ import annotations

import re

from aicity.agents.base import (
    Agent,
    NextAction,
    RiskLevel,
    Route,
    Section,
    Skill,
    SkillContext,
    SkillInput,
    SkillResult,
)
from aicity.agents.data_ask.agent import result_of
from aicity.agents.industry import chains, chat, leads
from aicity.agents.industry.chains import ChainMap
from aicity.agents.industry.figures import Queries, Query
from aicity.core.errors import Problem
from aicity.hub.data import chart
from aicity.hub.data.ask import ask
from aicity.hub.geo import gazetteer
from aicity.identity.models import STAFF_ROLES

STAFF = frozenset(r.value for r in STAFF_ROLES)
MODES = ("industry",)
DEFAULT_LEADS = 5
_COUNT = re.compile(r"(\d+|[一二两三四五六七八九十])\s*家")
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _queries(ctx: SkillContext) -> Queries:
    return Queries(ctx.principal.role.value, ctx.principal.department)


def _node_index(queries: Queries) -> list[tuple[str, str, list[str]]]:
    _, rows = queries.rows("SELECT chain, node, key_products FROM chain_nodes", ["chain_nodes"])
    return [(str(r["chain"]), str(r["node"]), str(r["key_products"] or "").split("、")) for r in rows]


def find_target(text: str, queries: Queries) -> tuple[str | None, str | None]:
    """The chain and node a request names: a node's name (longest first), else a key product, else
    a chain's name or alias."""
    index = _node_index(queries)
    for chain, node, _ in sorted(index, key=lambda t: -len(t[1])):
        if node in text:
            return chain, node
    for chain, node, products in index:
        if any(len(p) >= 2 and p in text for p in products):
            return chain, node
    names = {c for c, _, _ in index}
    for name in sorted(names, key=len, reverse=True):
        if name in text:
            return name, None
    lowered = text.lower()
    for alias, name in sorted(chains.chain_aliases().items(), key=lambda t: -len(t[0])):
        if alias in lowered and name in names:
            return name, None
    return None, None


def _sources(queries: list[Query]) -> str:
    return "\n\n".join(f"[{q.id}] " + (f"问数“{q.question}”" if q.question else "只读查询") +
                       f"：\n```sql\n{q.sql}\n```" for q in queries)


def _map_table(cmap: ChainMap) -> str:
    lines = ["| 位置 | 环节 | 在营企业 | 2024年营收（万元） | 强度指数 | 判定 | 外地线索 |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {n.position} | {n.name} | {n.figures.firms} | {n.figures.revenue_10k_yuan:,.1f} | {n.strength.index:.2f} "
              f"| {n.strength.label} | {n.leads} |" for n in cmap.nodes]
    return "\n".join(lines)


def chain_gaps(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    queries = _queries(ctx)
    chain, _ = find_target(inp.text, queries)
    district = gazetteer.district_in(inp.text)
    if chain is None:
        overview = [chains.chain_map(c, district.name if district else None, queries) for c in chains.chain_names(queries)]
        body = "\n".join(f"- **{m.chain}**：缺失或薄弱 {'、'.join(m.gaps) or '无'}；较强 {'、'.join(m.strong) or '无'}"
                         for m in overview)
        return SkillResult(sections=[Section(title=f"重点产业链强弱环节（{district.name if district else '全市'}）",
                                             body=f"{body}\n\n判定规则：{chains.RULE}。", kind="data")],
                           data={"chains": [m.model_dump(exclude={"queries"}) for m in overview]})
    cmap = chains.chain_map(chain, district.name if district else None, queries)
    scope = cmap.district or "全市"
    weak = [n for n in cmap.nodes if n.name in cmap.gaps]
    lead = "；".join(f"{n.name}（{n.strength.label}：{n.strength.reason}）" for n in weak) or "没有缺失或薄弱环节"
    body = (f"{scope}{cmap.chain}产业链 {len(cmap.nodes)} 个环节、在营企业 {cmap.firms} 家。缺失或薄弱环节：{lead}。\n\n"
            f"{_map_table(cmap)}\n\n判定规则：{cmap.rule}。\n\n数据来源（数据中枢）：\n\n{_sources(cmap.queries)}")
    svg = chart.bar(f"{scope}{cmap.chain} 各环节强度指数", [n.name for n in cmap.nodes], [n.strength.index for n in cmap.nodes])
    return SkillResult(
        sections=[Section(title=f"{scope}{cmap.chain}产业链强弱环节", body=body, kind="data", chart_svg=svg)],
        departments=["commerce"],
        data={"chain_map": cmap.model_dump(mode="json"), "chart_svg": svg, "gaps": cmap.gaps},
        next_actions=[NextAction(label=f"为“{g}”找招商线索", value=f"找几家适合来投资的{g}企业") for g in cmap.gaps[:2]]
        + [NextAction(label="在产业招商页面查看链图", kind="link", value="/#/industry")])


def _count(text: str) -> int:
    m = _COUNT.search(text)
    if not m:
        return DEFAULT_LEADS
    raw = m.group(1)
    return max(1, min(20, int(raw) if raw.isdigit() else _CN.get(raw, DEFAULT_LEADS)))


def investment_leads(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    queries = _queries(ctx)
    chain, node = find_target(inp.text, queries)
    if chain is None:
        names = "、".join(chains.chain_names(queries))
        return SkillResult(sections=[Section(title="请说明产业链或环节", kind="clarify",
                                             body=f"要为哪条产业链或哪个环节找招商线索？重点产业链：{names}。")])
    try:
        ranking = leads.rank(chain, node, _count(inp.text), queries)
    except Problem as exc:
        return SkillResult(sections=[Section(title="没有招商线索", body=exc.detail, kind="info")])
    rows = ["| 排名 | 企业 | 总部 | 环节（本地） | 得分 | 得分理由 |", "|---|---|---|---|---|---|"]
    rows += [f"| {x.rank} | {x.company} | {x.province}{'' if x.city == x.province else x.city} | {x.node}（{x.node_strength}）"
             f" | {x.score:.1f} | {'；'.join(x.reasons)} |" for x in ranking.leads]
    target = f"{chain}“{node}”环节" if node else f"{chain}产业链"
    body = (f"按公开评分规则为{target}排出 {len(ranking.leads)} 家外地企业：\n\n" + "\n".join(rows)
            + f"\n\n评分规则：{ranking.rule}。\n\n数据来源（数据中枢）：\n\n{_sources(ranking.queries)}")
    svg = chart.bar(f"{target} 招商线索得分", [x.company for x in ranking.leads], [x.score for x in ranking.leads], "分")
    return SkillResult(sections=[Section(title=f"{target}招商线索", body=body, kind="data", chart_svg=svg)],
                       departments=["commerce"],
                       data={"ranking": ranking.model_dump(mode="json"), "chart_svg": svg},
                       next_actions=[NextAction(label="在产业招商页面建项目", kind="link", value="/#/industry")])


def _rephrase(text: str) -> str:
    """A distribution asked without its dimension is asked by district (全市…分布 → …按区分布)."""
    t = text.strip().rstrip("？?。")
    t = re.sub(r"^(全市|我市|全区)", "", t)
    if t.endswith("分布") and not re.search(r"按(区|产业链|行业|环节)", t):
        t = t[: -len("分布")] + "按区分布"
    return t


def industry_stats(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    p = ctx.principal
    answer = ask(inp.text, role=p.role.value, department=p.department)
    if answer.status == "not_understood":
        answer = ask(_rephrase(inp.text), role=p.role.value, department=p.department)
    ctx.tracer.note("industry-stats", status=answer.status, datasets=answer.datasets)
    result = result_of(answer)
    if answer.chart_svg and result.sections:
        result.sections[0].chart_svg = answer.chart_svg
    return result


def _routes() -> list[Route]:
    return [Route(f"{c}产业链 {c} 薄弱环节 缺失环节 强链补链") for c in
            ("新能源汽车", "集成电路", "生物医药", "光电子信息", "人工智能", "现代物流")]


def build() -> Agent:
    return Agent(
        id="industry",
        name="产业经济智能体",
        department="commerce",
        description="产业招商：重点产业链图谱与强弱环节、外地招商线索排序（附评分理由）、招商项目全流程和产业数据统计",
        skills=[
            Skill(id="chain_gaps", modes=MODES, name="产业链强弱环节", input_model=SkillInput, handler=chain_gaps,
                  target_params=("district",),  # the district named (assistant/targets)
                  roles=STAFF,
                  description="分析重点产业链各环节本地企业数、营收和强弱，找出缺失和薄弱环节（补链方向），可按区",
                  examples=["光谷区新能源汽车哪些环节薄弱", "集成电路产业链缺哪些环节", "生物医药产业链的短板在哪里",
                            "我市人工智能产业链强弱环节分析", "北港区新能源汽车产业链图谱", "现代物流链条上哪里需要补链"],
                  cues=("薄弱", "短板", "缺失环节", "补链", "强链", "链图", "图谱", "强弱", "最弱", "弱项", "缺口"), cue_priority=91,
                  routes=_routes),
            Skill(id="investment_leads", modes=MODES, name="招商线索推荐", input_model=SkillInput,
                  handler=investment_leads, roles=STAFF,
                  description="按融资、扩张信号、专利增长、营收、补链契合和本地上下游配套为产业链或环节排序外地企业并说明理由",
                  examples=["找几家适合来投资的动力电池企业", "推荐集成电路EDA方面的招商对象", "锂电池材料有哪些值得招的外地企业",
                            "帮我列出光芯片环节的招商线索", "人工智能算力方面可以去招哪些企业", "哪些外地医药企业适合引进"],
                  cues=("招商线索", "招商对象", "适合来投资", "值得招", "引进", "招引"), cue_priority=92),
            Skill(id="industry_stats", modes=MODES, name="产业数据统计", input_model=SkillInput, handler=industry_stats,
                  target_params=("district",),  # the district named (assistant/targets; the question reads it)
                  roles=STAFF,
                  description="专精特新、高新技术企业和产业链企业的数量与分布（经数据中枢问数）",
                  examples=["全市专精特新企业分布", "新能源汽车产业链企业分布在哪些区"],
                  cues=("分布", "多少家", "有几家", "数量", "营收", "产值", "规上", "how many", "revenue", "output value"),
                  cue_priority=90, route_weight=0.9),
            Skill(id="project_status", modes=MODES, name="招商项目进展", input_model=SkillInput,
                  handler=chat.project_status, roles=STAFF,
                  description="招商项目看板：某个项目到了哪个阶段、停留多久、是否超期、可以移到哪里；按阶段、产业链或超期列出项目",
                  examples=["比亚迪电池项目到哪一步了", "停滞的招商项目有哪些", "现在手上有哪些招商项目", "立项阶段的项目有几个",
                            "集成电路的招商项目进展怎么样", "哪些项目在本阶段超期了", "prj_01jx4k2m9q7r3t5v8w 现在在哪个阶段"],
                  cues=("到哪一步", "哪一步了", "哪个阶段", "什么阶段", "进展", "停滞", "超期", "卡住", "招商项目", "项目看板",
                        "项目清单", "项目列表", "status", "progress"),
                  cue_requires=("项目", "prj_", "project"), cue_priority=95),
            Skill(id="project_move", modes=MODES, name="推进招商项目", input_model=SkillInput,
                  handler=chat.project_move, roles=STAFF, risk=RiskLevel.write, departments=("commerce",),
                  description="把招商项目推进到下一阶段或退回上一阶段（写明原因），记入项目历史和审计；"
                              "限商务和投资促进局工作人员、运维人员和管理员",
                  examples=["把宁德时代项目推进到立项", "芯腾动力电池项目可以进入分派阶段了", "这个招商项目推进到协同",
                            "把光芯片项目退回线索，原因：投资额没有落实", "项目已经签约，推进到落地", "把项目移交给区里，推进到移交阶段",
                            "把 prj_01jx4k2m9q7r3t5v8w 推进到协同"],
                  cues=("推进到", "推进至", "推到", "退回", "移到", "移至", "转入", "进入下一阶段", "推进一步", "往前推",
                        "可以进入"),
                  cue_requires=("项目", "prj_"), cue_priority=96),
            Skill(id="chain_report", modes=MODES, name="产业链报告", input_model=SkillInput, handler=chat.chain_report,
                  roles=STAFF,
                  description="一键生成产业链报告（结构、本地现状、缺口、招商线索、政策匹配），给出 Markdown、HTML、DOCX 下载链接和要点",
                  examples=["生成新能源汽车产业链报告", "导出集成电路产业链分析报告", "给我一份生物医药产业链的报告",
                            "一键生成光电子信息产业报告", "做一份光谷区人工智能产业链报告", "出一份现代物流产业链研究报告 Word 版"],
                  cues=("报告", "report"), cue_requires=("产业", "链", "industry", "chain"), cue_priority=93),
        ],
    )
