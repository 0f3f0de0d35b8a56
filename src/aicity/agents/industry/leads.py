"""招商线索: outside companies ranked for a chain or one of its gaps, each with the reasons that
made it rank — a transparent weighted score whose every component is shown, never a bare number.

Score = 100 × Σ weight × component, each component in [0, 1] (weights and scales are demo-city
assumptions, stated in docs/industry.md):

| component | weight | how it is scored |
|---|---|---|
| 补链契合 fit to the node | 0.30 | the node's local strength: 缺失 1.0, 薄弱 0.8, 一般 0.4, 较强 0.1 |
| 近期融资 recent financing | 0.20 | recency (1 at the snapshot date, 0 at 36 months) × (0.5 + 0.5 × min(1, amount ÷ 5 亿元)) |
| 扩张信号 expansion signal | 0.15 | 拟新建产能 / 募投项目选址 1.0, 寻求区域总部 / 拓展华中市场 0.8, 设立研发中心 0.6, 扩招研发 0.4 |
| 上下游配套 local partners | 0.15 | share of the adjacent-position nodes (上游↔中游↔下游) the city holds at 一般 or 较强 |
| 专利增长 patent growth | 0.10 | min(1, max(0, growth %) ÷ 100) |
| 营收规模 revenue | 0.10 | min(1, log10(1 + revenue 亿元) ÷ log10(101)) |

The leads' rows come through the data hub's checked reader; the node strengths from `chains`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import BaseModel, Field

from aicity.agents.industry import chains
from aicity.agents.industry.chains import ChainMap, ChainNode
from aicity.agents.industry.figures import Queries, Query, literal
from aicity.core.errors import Problem
from aicity.hub.data.ask import snapshot_date

WEIGHTS: dict[str, float] = {"gap_fit": 0.30, "financing": 0.20, "expansion": 0.15, "partners": 0.15,
                             "patents": 0.10, "revenue": 0.10}
LABELS = {"gap_fit": "补链契合", "financing": "近期融资", "expansion": "扩张信号", "partners": "上下游配套",
          "patents": "专利增长", "revenue": "营收规模"}
GAP_FIT = {"missing": 1.0, "thin": 0.8, "fair": 0.4, "strong": 0.1}
EXPANSION = {"拟新建产能": 1.0, "募投项目选址": 1.0, "寻求区域总部": 0.8, "拓展华中市场": 0.8, "设立研发中心": 0.6,
             "扩招研发": 0.4}
FINANCING_MONTHS = 36
FINANCING_FULL_100M = 5.0
REVENUE_FULL_100M = 100.0
RULE = ("得分 = 100 × Σ 权重 × 分项（0–1）：补链契合 0.30（缺失 1.0、薄弱 0.8、一般 0.4、较强 0.1）、"
        "近期融资 0.20（距快照日越近越高，36 个月归零；金额 5 亿元封顶）、扩张信号 0.15、"
        "上下游配套 0.15（相邻位置环节本地为一般或较强的比例）、专利增长 0.10（100% 封顶）、"
        "营收规模 0.10（对数，100 亿元封顶）；权重与标尺为示范城市假设")
COLUMNS = ("company, province, city, chain, chain_node, last_financing_round, last_financing_date, financing_100m_yuan, "
           "expansion_signal, patents_growth_pct, revenue_100m_yuan, employees")


class Component(BaseModel):
    key: str
    label: str
    weight: float
    score: float = Field(ge=0, le=1)
    points: float
    reason: str


class Lead(BaseModel):
    rank: int
    company: str
    province: str
    city: str
    chain: str
    node: str
    position: str
    node_strength: str
    last_financing_round: str | None
    last_financing_date: str | None
    financing_100m_yuan: float | None
    expansion_signal: str | None
    patents_growth_pct: float | None
    revenue_100m_yuan: float | None
    employees: int | None
    score: float
    components: list[Component]
    reasons: list[str] = Field(description="得分最多的理由，按贡献从大到小")


class LeadRanking(BaseModel):
    chain: str
    node: str | None
    rule: str = RULE
    leads: list[Lead]
    queries: list[Query]


def _months(since: dt.date, until: dt.date) -> float:
    return max(0.0, (until - since).days / 30.44)


def _financing(row: dict[str, Any], as_of: dt.date) -> tuple[float, str]:
    day, amount, rnd = row.get("last_financing_date"), row.get("financing_100m_yuan"), row.get("last_financing_round")
    if day is None:
        return 0.0, "无融资记录"
    day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    months = _months(day, as_of)
    recency = max(0.0, 1 - months / FINANCING_MONTHS)
    size = min(1.0, float(amount or 0) / FINANCING_FULL_100M)
    return recency * (0.5 + 0.5 * size), f"{day.isoformat()} 完成{rnd or ''}融资 {float(amount or 0):.2f} 亿元（距快照 {months:.0f} 个月）"


def _partners(node: ChainNode, chain_map: ChainMap) -> tuple[float, str]:
    order = {p: i for i, p in enumerate(chains.POSITIONS)}
    mine = order.get(node.position, 1)
    adjacent = [n for n in chain_map.nodes if abs(order.get(n.position, 1) - mine) == 1]
    if not adjacent:
        return 0.0, "没有相邻位置的环节"
    held = [n for n in adjacent if n.strength.level in ("fair", "strong")]
    firms = sum(n.figures.firms for n in adjacent)
    named = "、".join(f"{n.name}（{n.strength.label}）" for n in adjacent)
    return len(held) / len(adjacent), f"相邻环节 {named}，本地在营企业 {firms} 家，{len(held)}/{len(adjacent)} 个环节为一般或较强"


def score_lead(row: dict[str, Any], node: ChainNode, chain_map: ChainMap, as_of: dt.date) -> list[Component]:
    """The six components of one lead, each with its reason."""
    fin, fin_reason = _financing(row, as_of)
    signal = row.get("expansion_signal")
    growth = row.get("patents_growth_pct")
    revenue = row.get("revenue_100m_yuan")
    partners, partners_reason = _partners(node, chain_map)
    parts = {
        "gap_fit": (GAP_FIT[node.strength.level], f"目标环节“{node.name}”本地{node.strength.label}：{node.strength.reason}"),
        "financing": (fin, fin_reason),
        "expansion": (EXPANSION.get(str(signal), 0.0), f"扩张信号：{signal or '无'}"),
        "partners": (partners, partners_reason),
        "patents": (min(1.0, max(0.0, float(growth or 0)) / 100), f"专利申请同比增长 {float(growth or 0):.1f}%"),
        "revenue": (min(1.0, math.log10(1 + max(0.0, float(revenue or 0))) / math.log10(1 + REVENUE_FULL_100M)),
                    f"营业收入 {float(revenue or 0):.2f} 亿元"),
    }
    return [Component(key=k, label=LABELS[k], weight=WEIGHTS[k], score=round(v, 3),
                      points=round(100 * WEIGHTS[k] * v, 1), reason=reason) for k, (v, reason) in parts.items()]


def rank(chain: str, node: str | None = None, limit: int = 10, queries: Queries | None = None,
         chain_map: ChainMap | None = None) -> LeadRanking:
    """Outside companies for `chain` (or its node `node`), best first; 404 naming an unknown chain
    or node, or when there is no outside company to rank."""
    queries = queries or Queries()
    chain_map = chain_map or chains.chain_map(chain, queries=queries)
    chain = chain_map.chain
    where = f"chain = {literal(chain)}"
    if node is not None:
        node = chains.resolve_node(chain, node, queries)
        where += f" AND chain_node = {literal(node)}"
    _, rows = queries.rows(f"SELECT {COLUMNS} FROM investment_leads WHERE {where} ORDER BY company", ["investment_leads"])
    if not rows:
        where_text = f"产业链“{chain}”" + (f"的环节“{node}”" if node else "")
        raise Problem(404, "没有招商线索 No leads", f"{where_text}没有外地企业线索可排序 no outside companies to rank",
                      "no-leads", chain=chain, node=node)
    by_name = {n.name: n for n in chain_map.nodes}
    as_of = snapshot_date()
    scored = []
    for row in rows:
        target = by_name.get(str(row["chain_node"]))
        if target is None:
            continue
        components = score_lead(row, target, chain_map, as_of)
        total = round(sum(c.points for c in components), 1)
        scored.append((total, row, target, components))
    scored.sort(key=lambda t: (-t[0], str(t[1]["company"])))
    leads = []
    for i, (total, row, target, components) in enumerate(scored[:max(1, limit)], start=1):
        top = sorted(components, key=lambda c: -c.points)[:3]
        day = row.get("last_financing_date")
        leads.append(Lead(
            rank=i, company=str(row["company"]), province=str(row["province"]), city=str(row["city"]), chain=chain,
            node=target.name, position=target.position, node_strength=target.strength.label,
            last_financing_round=row.get("last_financing_round"),
            last_financing_date=day.isoformat() if isinstance(day, dt.date) else (str(day) if day else None),
            financing_100m_yuan=row.get("financing_100m_yuan"), expansion_signal=row.get("expansion_signal"),
            patents_growth_pct=row.get("patents_growth_pct"), revenue_100m_yuan=row.get("revenue_100m_yuan"),
            employees=row.get("employees"), score=total, components=components,
            reasons=[f"{c.label} +{c.points:.1f}：{c.reason}" for c in top]))
    return LeadRanking(chain=chain, node=node, leads=leads, queries=queries.items)
