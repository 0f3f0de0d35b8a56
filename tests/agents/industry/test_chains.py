"""Chain maps and lead ranking checked against the rules docs/industry.md states, with every number
recomputed from the data hub's own answers to the same questions (what an analyst would get)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from aicity.agents.industry import chains, leads, report
from aicity.agents.industry.figures import Queries
from aicity.core.errors import Problem
from aicity.hub.data.ask import ask

CHAINS = ("人工智能", "光电子信息", "新能源汽车", "现代物流", "生物医药", "集成电路")


def hub(question: str) -> dict[str, float]:
    a = ask(question, role="official", department="commerce")
    assert a.status == "answered", (question, a.answer)
    return {str(r[0]): r[-1] for r in a.rows}


def expected_level(firms: int, revenue: float, total_firms: int, total_revenue: float, n: int) -> str:
    """The rule as docs/industry.md states it, written again here."""
    if firms == 0:
        return "missing"
    index = math.sqrt((firms / total_firms * n) * (revenue / total_revenue * n))
    return "thin" if index < 0.5 else "strong" if index >= 1.5 else "fair"


@pytest.mark.parametrize("district", [None, "光谷区"])
def test_gaps_follow_the_stated_rule_on_every_chain(city: Path, district: str | None) -> None:
    scope = district or ""
    assert [c.chain for c in chains.chains()] == list(CHAINS)
    for chain in CHAINS:
        cmap = chains.chain_map(chain, district)
        firms, revenue = hub(f"{scope}{chain}各环节企业数"), hub(f"{scope}{chain}各环节营业收入")
        assert cmap.firms == sum(firms.values())
        positions = [chains.POSITIONS.index(n.position) for n in cmap.nodes]
        assert positions == sorted(positions), "nodes run upstream to downstream"
        for n in cmap.nodes:
            assert n.figures.firms == firms.get(n.name, 0)
            assert n.figures.revenue_10k_yuan == pytest.approx(revenue.get(n.name) or 0, abs=0.1)
            level = expected_level(n.figures.firms, revenue.get(n.name, 0) or 0, sum(firms.values()),
                                   sum(v or 0 for v in revenue.values()), len(cmap.nodes))
            assert n.strength.level == level, (chain, n.name, n.strength.reason)
        assert cmap.gaps == [n.name for n in cmap.nodes if n.strength.level in ("missing", "thin")]


def test_the_demo_packs_known_gaps_are_found(city: Path) -> None:
    nev = chains.chain_map("新能源车")  # an alias of the data hub's semantic layer
    assert nev.chain == "新能源汽车"
    assert nev.gaps[0] == "锂矿及锂盐" and nev.nodes[0].strength.level == "missing"
    assert "动力电池回收" in nev.gaps and "汽车零部件" in nev.strong
    node = next(n for n in nev.nodes if n.name == "汽车零部件")
    spec = hub("新能源汽车各环节专精特新企业数")["汽车零部件"]
    assert node.figures.specialized == spec and node.figures.specialized_share == round(spec / node.figures.firms, 4)
    assert sum(node.figures.districts.values()) == node.figures.firms
    # the leads the pack targets concentrate on the gaps the rule finds
    gap_leads = [n.leads for n in nev.nodes if n.name in nev.gaps]
    other = [n.leads for n in nev.nodes if n.name not in nev.gaps]
    assert sum(gap_leads) / len(gap_leads) > sum(other) / len(other)


def test_unknown_chain_node_or_district_is_a_404_naming_it(city: Path) -> None:
    with pytest.raises(Problem) as exc:
        chains.chain_map("造船")
    assert exc.value.status == 404 and "造船" in exc.value.detail and exc.value.type_ == "unknown-chain"
    with pytest.raises(Problem) as exc:
        leads.rank("新能源汽车", "火箭发动机")
    assert exc.value.status == 404 and "火箭发动机" in exc.value.detail and exc.value.type_ == "unknown-node"
    with pytest.raises(Problem) as exc:
        chains.chain_map("新能源汽车", "火星区")
    assert exc.value.status == 404 and "火星区" in exc.value.detail


def test_a_node_without_outside_companies_is_a_clear_error(city: Path) -> None:
    assert hub("现代物流各环节招商线索数").get("仓储配送") is None  # the pack has none there
    with pytest.raises(Problem) as exc:
        leads.rank("现代物流", "仓储配送")
    assert exc.value.status == 404 and exc.value.type_ == "no-leads" and "仓储配送" in exc.value.detail


def test_leads_rank_by_the_stated_weights_with_every_component_shown(city: Path) -> None:
    ranking = leads.rank("新能源汽车", limit=100)
    assert len(ranking.leads) == sum(hub("新能源汽车各环节招商线索数").values())
    cmap = chains.chain_map("新能源汽车")
    level = {n.name: n.strength.level for n in cmap.nodes}
    fit = {"missing": 1.0, "thin": 0.8, "fair": 0.4, "strong": 0.1}
    as_of = dt.date(2025, 12, 31)
    for lead in ranking.leads:
        parts = {c.key: c for c in lead.components}
        assert set(parts) == set(leads.WEIGHTS) and abs(sum(c.weight for c in parts.values()) - 1) < 1e-9
        assert parts["gap_fit"].score == fit[level[lead.node]]
        months = (as_of - dt.date.fromisoformat(lead.last_financing_date)).days / 30.44
        expected = max(0, 1 - months / 36) * (0.5 + 0.5 * min(1, lead.financing_100m_yuan / 5))
        assert parts["financing"].score == pytest.approx(expected, abs=1e-3)
        assert parts["patents"].score == pytest.approx(min(1, max(0, lead.patents_growth_pct) / 100), abs=1e-3)
        assert lead.score == pytest.approx(sum(c.points for c in parts.values()), abs=0.05)
        assert lead.reasons and all("+" in r for r in lead.reasons) and all(c.reason for c in parts.values())
    scores = [x.score for x in ranking.leads]
    assert scores == sorted(scores, reverse=True) and [x.rank for x in ranking.leads] == list(range(1, len(scores) + 1))
    # a gap's top lead outranks the same firm profile at a strong node: the fit component decides
    assert ranking.leads[0].node_strength in ("缺失", "薄弱")


def test_the_reports_numbers_are_the_data_hubs_answers(city: Path) -> None:
    built = report.build("新能源汽车")
    firms, revenue = hub("新能源汽车各环节企业数"), hub("新能源汽车各环节营业收入")
    districts = hub("新能源汽车产业链各区企业数")
    for key, (value, query_id) in built.figures.items():
        kind, name = key.split(":", 1)
        expected = {"firms": firms, "revenue": revenue, "district": districts}[kind].get(name, 0)
        assert value == pytest.approx(expected or 0, abs=0.1), key
        query = next(q for q in built.queries if q.id == query_id)
        assert query.sql.startswith("SELECT")
    text = built.markdown()
    assert "## 四、缺口" in text and "锂矿及锂盐" in text and "[Q2]" in text and "```sql" in text
    assert "“新能源汽车产业链各区企业数”" in text  # the question that produced the district table
    assert "【中小企业与专精特新】中华人民共和国中小企业促进法" in text  # the knowledge center's provisions
    html = report.render(built, "html").decode()
    assert html.count("<svg") == 3 and "<script" not in html and "<table>" in html
    assert report.render(built, "docx")[:2] == b"PK"
    with pytest.raises(Problem) as exc:
        report.render(built, "pdf")
    assert exc.value.status == 400


def test_a_kept_map_is_the_built_one_after_the_callers_own_queries(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The assistant's skills look a chain up before they map it: a kept map numbers its queries after
    the caller's, exactly as a build does, and a second ask builds nothing, after as many queries of its own
    as the first or after others."""
    def mapped() -> tuple[Queries, chains.ChainMap]:
        queries = Queries()
        queries.rows("SELECT chain, node FROM chain_nodes", ["chain_nodes"])
        return queries, chains.chain_map("生物医药", "光谷区", queries)

    chains.forget()
    built_queries, built = mapped()
    builds: list[str] = []
    build = chains._build
    monkeypatch.setattr(chains, "_build", lambda *a: builds.append(a[0]) or build(*a))
    kept_queries, kept = mapped()
    assert builds == [] and kept == built and kept_queries.items == built_queries.items
    assert [q.id for q in kept.queries] == [f"Q{i}" for i in range(1, len(kept.queries) + 1)]
    assert kept.queries[0].sql == built_queries.items[0].sql and kept.nodes[0].sources["nodes"] == "Q2"
    alone = chains.chain_map("生物医药", "光谷区")  # no query of its own before: numbered from Q1
    assert builds == [] and [q.id for q in alone.queries] == [f"Q{i}" for i in range(1, len(alone.queries) + 1)]
    assert [q.sql for q in alone.queries] == [q.sql for q in kept.queries[1:]] and alone.nodes[0].sources["nodes"] == "Q1"
    assert {v for n in alone.nodes for v in n.sources.values()} <= {q.id for q in alone.queries}
    chains.forget()
    assert chains.chain_map("生物医药", "光谷区") == alone and builds == ["生物医药"]  # as a build numbers them
