"""产业链图谱: each chain of the demo pack with its nodes upstream to downstream, the local firms
per node (count, 2024 revenue, employees, high-tech and 专精特新 shares, districts) and each node's
strength — where the city (or one district) is strong, thin or missing.

The strength rule (demo-city assumptions, stated in docs/industry.md and in every answer):

- a chain of N nodes expects each node to hold 1/N of the chain's operating firms and of its 2024
  revenue (the pack gives no node weights; a city would set its own);
- firm ratio = the node's share of the chain's firms ÷ 1/N, revenue ratio likewise;
- strength index = √(firm ratio × revenue ratio) (geometric mean: a few very large firms or many
  tiny ones alone do not make a node strong);
- 缺失 missing: no operating firm; 薄弱 thin: index < 0.5; 较强 strong: index ≥ 1.5; 一般 fair otherwise.

Every figure comes from the data hub: counts and sums by node are questions to its question engine
(`figures.Queries.ask`), the nodes and the district breakdown rows of its checked reader."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Literal

from pydantic import BaseModel, Field

from aicity.agents.industry.figures import Queries, Query, literal
from aicity.core.errors import not_found
from aicity.hub.data import semantic, store
from aicity.hub.geo import gazetteer

POSITIONS = ("上游", "中游", "下游")
#: the strength thresholds (demo-city assumptions)
THIN_BELOW = 0.5
STRONG_FROM = 1.5
Level = Literal["missing", "thin", "fair", "strong"]
LABELS: dict[str, str] = {"missing": "缺失", "thin": "薄弱", "fair": "一般", "strong": "较强"}
RULE = (f"强度指数 = √(企业数占比 ÷ 期望权重 × 营收占比 ÷ 期望权重)，期望权重 = 1/环节数；无在营企业为“缺失”，"
        f"指数 < {THIN_BELOW} 为“薄弱”，≥ {STRONG_FROM} 为“较强”，其余为“一般”（阈值与等权重均为示范城市假设）")
OPERATING = "status IN ('存续', '在业')"
#: the datasets a chain map reads; a new version or grade of any of them makes a fresh map
DATASETS = ("chain_nodes", "enterprises", "investment_leads")
CACHE_SIZE = 64


class Strength(BaseModel):
    level: Level
    label: str
    expected_weight: float = Field(description="期望权重 1/N")
    firm_share: float
    revenue_share: float
    firm_ratio: float
    revenue_ratio: float
    index: float
    reason: str


class NodeFigures(BaseModel):
    firms: int = 0
    revenue_10k_yuan: float = 0.0
    employees: int = 0
    high_tech: int = 0
    specialized: int = 0
    high_tech_share: float | None = None
    specialized_share: float | None = None
    districts: dict[str, int] = Field(default_factory=dict, description="区名 → 在营企业数")


class ChainNode(BaseModel):
    name: str
    position: str
    description: str
    key_products: list[str]
    figures: NodeFigures
    strength: Strength
    leads: int = Field(description="外地招商线索数")
    sources: dict[str, str] = Field(description="指标 → 查询编号")


class ChainMap(BaseModel):
    chain: str
    district: str | None = Field(description="区名；None 为全市")
    nodes: list[ChainNode]
    firms: int
    revenue_10k_yuan: float
    gaps: list[str] = Field(description="缺失和薄弱环节，从上游到下游")
    strong: list[str]
    rule: str = RULE
    queries: list[Query]


class ChainSummary(BaseModel):
    chain: str
    nodes: int
    firms: int
    source: str


def _data_version() -> tuple:
    """What the maps depend on besides the caller: the versions and grades of the datasets read."""
    return tuple((d.id, d.version, d.grade, d.sensitivity_level, d.confirmed) for d in store.list_datasets()
                 if d.id in DATASETS)


_names: dict[tuple, list[str]] = {}


def chain_names(queries: Queries) -> list[str]:
    """The chains of the chain map (open data), read once per version of the datasets."""
    version = _data_version()
    if version not in _names:
        _, rows = Queries(queries.role, queries.department).rows(
            "SELECT DISTINCT chain FROM chain_nodes ORDER BY chain", ["chain_nodes"])
        _names.clear()
        _names[version] = [str(r["chain"]) for r in rows]
    return list(_names[version])


def chain_aliases() -> dict[str, str]:
    dim = semantic.raw_layer()["tables"]["chain_nodes"]["dimensions"]["chain"]
    return {str(k).lower(): str(v[0]) for k, v in (dim.get("aliases") or {}).items()}


def resolve_chain(name: str, queries: Queries) -> str:
    """A chain by its name or one of the data hub's aliases (新能源车, 芯片, ai …); 404 naming it."""
    key = (name or "").strip()
    names = chain_names(queries)
    if key in names:
        return key
    found = chain_aliases().get(key.lower()) or next((n for n in names if key and (key in n or n in key)), None)
    if found in names:
        return found
    raise not_found(f"未知产业链“{name}”；可选：{'、'.join(names)} unknown chain '{name}'", "unknown-chain")


def resolve_district(name: str | None) -> str | None:
    """A district's Chinese name from its id or name; 404 naming it."""
    if not name:
        return None
    d = gazetteer.district_by_name(name)
    if d is None:
        names = "、".join(x.name for x in gazetteer.districts())
        raise not_found(f"未知区“{name}”；可选：{names} unknown district '{name}'", "unknown-district")
    return d.name


def _nodes(chain: str, queries: Queries) -> tuple[Query, list[dict]]:
    query, rows = queries.rows(
        f"SELECT node, position, description, key_products FROM chain_nodes WHERE chain = {literal(chain)}",
        ["chain_nodes"])
    order = {p: i for i, p in enumerate(POSITIONS)}
    return query, sorted(rows, key=lambda r: order.get(str(r["position"]), len(order)))  # stable: pack order within


def node_names(chain: str, queries: Queries) -> list[str]:
    return [str(r["node"]) for r in _nodes(chain, queries)[1]]


def resolve_node(chain: str, node: str, queries: Queries) -> str:
    names = node_names(chain, queries)
    if node in names:
        return node
    found = [n for n in names if node and node in n]
    if len(found) == 1:
        return found[0]
    raise not_found(f"产业链“{chain}”没有环节“{node}”；可选：{'、'.join(names)} unknown node '{node}'", "unknown-node")


def strength(firms: int, revenue: float, total_firms: int, total_revenue: float, n: int) -> Strength:
    """One node's strength by the rule above."""
    weight = 1 / n
    firm_share = firms / total_firms if total_firms else 0.0
    revenue_share = revenue / total_revenue if total_revenue else 0.0
    fr, rr = firm_share / weight, revenue_share / weight
    index = math.sqrt(fr * rr)
    level: Level = "missing" if firms == 0 else "thin" if index < THIN_BELOW else \
        "strong" if index >= STRONG_FROM else "fair"
    if level == "missing":
        reason = "没有在营企业：链条缺失环节"
    else:
        bound = {"thin": f"< {THIN_BELOW}", "strong": f"≥ {STRONG_FROM}",
                 "fair": f"介于 {THIN_BELOW} 与 {STRONG_FROM} 之间"}[level]
        reason = (f"在营企业 {firms} 家，占全链 {firm_share:.1%}；营收占全链 {revenue_share:.1%}；期望权重 {weight:.1%}；"
                  f"强度指数 √({fr:.2f}×{rr:.2f}) = {index:.2f} {bound}")
    return Strength(level=level, label=LABELS[level], expected_weight=round(weight, 4), firm_share=round(firm_share, 4),
                    revenue_share=round(revenue_share, 4), firm_ratio=round(fr, 3), revenue_ratio=round(rr, 3),
                    index=round(index, 3), reason=reason)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


_cache: OrderedDict[tuple, tuple[int, ChainMap]] = OrderedDict()
_cache_lock = threading.Lock()


def chain_map(chain: str, district: str | None = None, queries: Queries | None = None) -> ChainMap:
    """The chain's map for the city (or one district), every figure from the data hub. Kept per caller
    role and department until a dataset it reads changes; a hit records the same queries into `queries`,
    numbered after the ones already there as a build would number them (the numbers are all a map takes
    from the queries before it: the assistant's skills look a chain up before they map it, an overview of
    every chain maps one after another)."""
    queries = queries or Queries()
    chain = resolve_chain(chain, queries)
    district = resolve_district(district)
    before = list(queries.items)
    key = (chain, district, queries.role, queries.department, _data_version())
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is not None:
        kept = _numbered_after(hit[1], hit[0], before)
        queries.items[:] = kept.queries
        return kept.model_copy(update={"queries": list(queries.items)})
    built = _build(chain, district, queries)
    with _cache_lock:
        _cache[key] = (len(before), built.model_copy(deep=True))
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def _numbered_after(kept: ChainMap, first: int, before: list[Query]) -> ChainMap:
    """A copy of `kept` (built after `first` queries) with its own queries numbered after `before`, and its
    nodes' sources naming them by those numbers."""
    number = {q.id: f"Q{len(before) + i}" for i, q in enumerate(kept.queries[first:], start=1)}
    own = [q.model_copy(update={"id": number[q.id]}) for q in kept.queries[first:]]
    nodes = [n.model_copy(update={"sources": {k: number.get(v, v) for k, v in n.sources.items()}}, deep=True)
             for n in kept.nodes]
    return kept.model_copy(update={"queries": before + own, "nodes": nodes}, deep=True)


def forget() -> None:
    """Drop the kept maps (they are also replaced whenever a dataset they read changes)."""
    with _cache_lock:
        _cache.clear()
    _names.clear()


def _build(chain: str, district: str | None, queries: Queries) -> ChainMap:
    scope = district or ""
    node_query, node_rows = _nodes(chain, queries)
    asked = {
        "firms": queries.grouped(f"{scope}{chain}各环节企业数"),
        "revenue": queries.grouped(f"{scope}{chain}各环节营业收入"),
        "employees": queries.grouped(f"{scope}{chain}各环节从业人数"),
        "high_tech": queries.grouped(f"{scope}{chain}各环节高新技术企业数"),
        "specialized": queries.grouped(f"{scope}{chain}各环节专精特新企业数"),
        "leads": queries.grouped(f"{chain}各环节招商线索数"),
    }
    where = f"chain = {literal(chain)} AND {OPERATING}"
    if district:
        d = gazetteer.district_by_name(district)
        where += f" AND district_id = {literal(d.id if d else district)}"
    spread_query, spread = queries.rows(
        f"SELECT chain_node, district_id, COUNT(*) AS firms FROM enterprises WHERE {where} "
        f"GROUP BY chain_node, district_id ORDER BY chain_node, firms DESC, district_id", ["enterprises"])
    names = {d.id: d.name for d in gazetteer.districts()}
    values = {k: v[1] for k, v in asked.items()}
    total_firms = int(sum(values["firms"].values()))
    total_revenue = float(sum(v or 0 for v in values["revenue"].values()))
    n = len(node_rows)
    sources = {k: v[0].id for k, v in asked.items()} | {"nodes": node_query.id, "districts": spread_query.id}
    nodes = []
    for r in node_rows:
        name = str(r["node"])
        firms = int(values["firms"].get(name) or 0)
        high, spec = int(values["high_tech"].get(name) or 0), int(values["specialized"].get(name) or 0)
        figures = NodeFigures(
            firms=firms, revenue_10k_yuan=round(float(values["revenue"].get(name) or 0), 1),
            employees=int(values["employees"].get(name) or 0), high_tech=high, specialized=spec,
            high_tech_share=_share(high, firms), specialized_share=_share(spec, firms),
            districts={names.get(str(s["district_id"]), str(s["district_id"])): int(s["firms"])
                       for s in spread if s["chain_node"] == name})
        nodes.append(ChainNode(
            name=name, position=str(r["position"]), description=str(r["description"] or ""),
            key_products=[p for p in str(r["key_products"] or "").split("、") if p],
            figures=figures, strength=strength(firms, figures.revenue_10k_yuan, total_firms, total_revenue, n),
            leads=int(values["leads"].get(name) or 0), sources=sources))
    return ChainMap(chain=chain, district=district, nodes=nodes, firms=total_firms,
                    revenue_10k_yuan=round(total_revenue, 1),
                    gaps=[x.name for x in nodes if x.strength.level in ("missing", "thin")],
                    strong=[x.name for x in nodes if x.strength.level == "strong"], queries=queries.items)


def chains(queries: Queries | None = None) -> list[ChainSummary]:
    """Every chain with its node count and operating firms."""
    queries = queries or Queries()
    node_query, rows = queries.rows("SELECT chain, COUNT(*) AS nodes FROM chain_nodes GROUP BY chain ORDER BY chain",
                                    ["chain_nodes"])
    firm_query, firms = queries.grouped("各产业链的企业数")
    return [ChainSummary(chain=str(r["chain"]), nodes=int(r["nodes"]), firms=int(firms.get(str(r["chain"])) or 0),
                         source=f"{node_query.id}, {firm_query.id}") for r in rows]
