"""一键生成产业链报告: a chain's structure, local status by node and district, gaps, leads and the
policies the knowledge center finds for it — as Markdown, HTML with inline SVG charts (the data
hub's `chart.py`) or DOCX (the office agent's `report_docx`). Every figure is marked with the query that
produced it ([Q3]); the last section lists each query: the data-hub question or the reader's SQL,
and the datasets."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

from markdown_it import MarkdownIt

from aicity.agents.industry import chains, leads
from aicity.agents.industry.chains import ChainMap
from aicity.agents.industry.figures import Queries, Query
from aicity.agents.office.docx_writer import report_docx
from aicity.core.errors import Problem
from aicity.hub.data import chart
from aicity.hub.knowledge import service as knowledge
from aicity.identity.models import Role
from aicity.identity.service import Principal

Format = Literal["md", "html", "docx"]
FORMATS: tuple[str, ...] = ("md", "html", "docx")
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
LEADS_SHOWN = 10
POLICIES_SHOWN = 5


@dataclass
class Report:
    title: str
    chain_map: ChainMap
    #: ("md", text) or ("svg", chart) blocks, in order
    blocks: list[tuple[str, str]] = field(default_factory=list)
    #: the figures a reader may check against the data hub: name → (value, query id)
    figures: dict[str, tuple[Any, str]] = field(default_factory=dict)
    #: every query behind the report, numbered as the text cites them
    queries: list[Query] = field(default_factory=list)

    def markdown(self) -> str:
        return "\n\n".join(text for kind, text in self.blocks if kind == "md")


def _num(v: Any, decimals: int = 0) -> str:
    if v is None:
        return "—"
    return f"{v:,.{decimals}f}" if isinstance(v, int | float) else str(v)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


#: what a chain report looks up in the knowledge center: (theme, query); the chain's name is added to each
POLICY_QUERIES = (("招商引资与投资促进", "地方政府 投资促进 招商引资 优惠政策"),
                  ("产业链与科技创新", "产业链 重点产业 创新 扶持 高新技术企业"),
                  ("中小企业与专精特新", "中小企业 专精特新 创新 扶持 资金"))
POLICIES_PER_THEME = 2


def policies(chain: str, principal: Principal) -> list[tuple[str, knowledge.Hit]]:
    """Provisions the knowledge center finds for the chain's promotion, by theme, each once."""
    found: list[tuple[str, knowledge.Hit]] = []
    seen: set[tuple[str, str]] = set()
    for theme, query in POLICY_QUERIES:
        picked = 0
        for hit in knowledge.search(f"{chain} {query}", principal, top_k=POLICIES_SHOWN):
            if (hit.doc_key, hit.locator) in seen or picked == POLICIES_PER_THEME:
                continue
            seen.add((hit.doc_key, hit.locator))
            found.append((theme, hit))
            picked += 1
    return found


def build(chain: str, district: str | None = None, principal: Principal | None = None) -> Report:
    """The report's content; raises 404 for an unknown chain or district."""
    principal = principal or Principal(role=Role.official, department="commerce")
    queries = Queries(principal.role.value, principal.department)
    cmap = chains.chain_map(chain, district, queries)
    scope = cmap.district or "全市"
    title = f"{cmap.chain}产业链报告（{scope}）"
    report = Report(title=title, chain_map=cmap, queries=queries.items)
    md, svg = (lambda t: report.blocks.append(("md", t))), (lambda t: report.blocks.append(("svg", t)))
    src = cmap.nodes[0].sources if cmap.nodes else {}
    md(f"# {title}\n\n数据截至 2025-12-31（演示城市数据）。文中方括号 [Q…] 为产生该数字的查询，见文末“数据来源与查询”。")

    md("## 一、链条结构\n\n" + "\n".join(
        f"- **{pos}**：" + "；".join(f"{n.name}（{'、'.join(n.key_products[:3])}）" for n in cmap.nodes if n.position == pos)
        for pos in chains.POSITIONS) + f"\n\n环节来源 [{src.get('nodes', '')}]。")

    head = (f"| 环节 | 位置 | 在营企业 [{src.get('firms')}] | 2024年营收（万元）[{src.get('revenue')}] | "
            f"从业人数 [{src.get('employees')}] | 高新占比 [{src.get('high_tech')}] | 专精特新占比 [{src.get('specialized')}] | "
            f"主要分布区 [{src.get('districts')}] | 强度指数 | 判定 |\n|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for n in cmap.nodes:
        f = n.figures
        where = "、".join(f"{d} {c}" for d, c in list(f.districts.items())[:2]) or "—"
        rows.append(f"| {n.name} | {n.position} | {f.firms} | {_num(f.revenue_10k_yuan, 1)} | {_num(f.employees)} | "
                    f"{_pct(f.high_tech_share)} | {_pct(f.specialized_share)} | {where} | {n.strength.index:.2f} | "
                    f"{n.strength.label} |")
        report.figures[f"firms:{n.name}"] = (f.firms, src.get("firms", ""))
        report.figures[f"revenue:{n.name}"] = (f.revenue_10k_yuan, src.get("revenue", ""))
    md(f"## 二、本地现状（按环节，{scope}）\n\n{head}\n" + "\n".join(rows) + f"\n\n判定规则：{cmap.rule}。")
    names = [n.name for n in cmap.nodes]
    svg(chart.bar(f"{cmap.chain} 各环节在营企业数（{scope}）", names, [n.figures.firms for n in cmap.nodes], "家"))
    svg(chart.bar(f"{cmap.chain} 各环节强度指数（< {chains.THIN_BELOW} 薄弱，≥ {chains.STRONG_FROM} 较强）", names,
                  [n.strength.index for n in cmap.nodes]))

    if cmap.district is None:
        query, by_district = queries.grouped(f"{cmap.chain}产业链各区企业数")
        report.figures.update({f"district:{d}": (v, query.id) for d, v in by_district.items()})
        md(f"## 三、按区分布\n\n| 区 | 在营企业 [{query.id}] |\n|---|---|\n"
           + "\n".join(f"| {d} | {v} |" for d, v in by_district.items()))
        svg(chart.bar(f"{cmap.chain} 各区在营企业数", list(by_district), list(by_district.values()), "家"))

    gap_lines = [f"- **{n.name}**（{n.position}，{n.strength.label}）：{n.strength.reason}；外地线索 {n.leads} 条 "
                 f"[{n.sources.get('leads')}]" for n in cmap.nodes if n.name in cmap.gaps]
    md("## 四、缺口（补链方向）\n\n" + ("\n".join(gap_lines) or "本链没有缺失或薄弱环节。"))

    try:
        ranking = leads.rank(cmap.chain, None, LEADS_SHOWN, queries, cmap)
        lead_md = ("| 排名 | 企业 | 总部 | 环节 | 得分 | 主要理由 |\n|---|---|---|---|---|---|\n" + "\n".join(
            f"| {x.rank} | {x.company} | {x.province}{'' if x.city == x.province else x.city} | {x.node}（{x.node_strength}） | "
            f"{x.score:.1f} | {'；'.join(r.split('：', 1)[0] for r in x.reasons)} |" for x in ranking.leads)
            + f"\n\n线索来源 [{queries.items[-1].id}]。评分规则：{ranking.rule}。")
    except Problem as exc:
        lead_md = f"没有可排序的外地企业线索：{exc.detail}"
    md("## 五、招商线索（前 10）\n\n" + lead_md)

    hits = policies(cmap.chain, principal)
    md("## 六、政策匹配（知识中心检索）\n\n知识中心现有法规中与本链招商、产业创新和中小企业扶持相关的条文"
       "（知识库没有针对单条产业链的专项政策时，列出通用条文）：\n\n" + ("\n".join(
           f"- 【{theme}】{h.doc} {h.locator}：{knowledge.excerpt(h.text, 120)}" for theme, h in hits)
           or "知识中心没有检索到相关政策条文。"))

    md("## 数据来源与查询\n\n" + "\n\n".join(
        f"**[{q.id}]** " + (f"数据中枢问数：“{q.question}”" if q.question else "数据中枢只读查询") +
        f"（数据集：{'、'.join(q.datasets)}）\n\n```sql\n{q.sql}\n```" for q in queries.items))
    return report


def _html(report: Report) -> str:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = "\n".join(md.render(text) if kind == "md" else f'<figure class="chart">{text}</figure>'
                     for kind, text in report.blocks)
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(report.title)}</title>'
            "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.5}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
            "pre{background:#f5f5f5;padding:8px;white-space:pre-wrap}</style></head>"
            f"<body>{body}</body></html>")


def render(report: Report, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise Problem(400, "格式错误 Bad format", f"未知格式“{fmt}”；可选：{'、'.join(FORMATS)}", "unknown-format")
    if fmt == "md":
        return report.markdown().encode()
    if fmt == "html":
        return _html(report).encode()
    return report_docx(report.title, report.markdown())
