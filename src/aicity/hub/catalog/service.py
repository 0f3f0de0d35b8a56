"""Catalog service: load and validate the city's catalog, look entries up, summarise it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, select

from aicity.core.bus import bus
from aicity.core.db import PerDatabase, database
from aicity.core.errors import Problem, not_found
from aicity.core.text import normalize, tokenize
from aicity.hub.catalog.models import CatalogEntry
from aicity.hub.catalog.schemas import Bundle, LegalRef, LifeEvent, Policy, ServiceItem
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.chunking import to_chinese_numeral

#: words of any procedure's name: a shared one does not show that an article is about the entry
PROCEDURE_WORDS = frozenset("办理 申请 登记 服务 管理 证明 许可 备案 变更 注销 手续 事项 信息 查询 业务 一件 一件事 相关 核发 审批 "
                            "新办 办事 材料 证".split())


class CatalogError(Problem):
    def __init__(self, detail: str):
        super().__init__(422, "事项库数据无效 Invalid catalog", detail, "invalid-catalog")


@dataclass
class Catalog:
    items: dict[str, ServiceItem] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    life_events: dict[str, LifeEvent] = field(default_factory=dict)

    def validate_references(self, departments: set[str]) -> None:
        """Every id a bundle, policy or life event names must exist; so must every department."""
        problems: list[str] = []
        for item in self.items.values():
            if item.department not in departments:
                problems.append(f"item {item.id}: unknown department {item.department}")
        for bundle in self.bundles.values():
            slot_ids = {s.id: {o.value for o in s.options} for s in bundle.slots}
            for step in bundle.items:
                if step.item not in self.items:
                    problems.append(f"bundle {bundle.id}: unknown item {step.item}")
                for slot, value in step.when.items():
                    if value not in slot_ids.get(slot, set()):
                        problems.append(f"bundle {bundle.id}: condition {slot}={value} matches no slot option")
            problems += [f"bundle {bundle.id}: unknown policy {p}" for p in bundle.policies if p not in self.policies]
        for policy in self.policies.values():
            if policy.department not in departments:
                problems.append(f"policy {policy.id}: unknown department {policy.department}")
        for event in self.life_events.values():
            for sug in event.suggestions:
                if (sug.item and sug.item not in self.items) or (sug.bundle and sug.bundle not in self.bundles):
                    problems.append(f"life event {event.id}: unknown reference {sug.item or sug.bundle}")
        if problems:
            raise CatalogError("; ".join(problems[:20]))

    def legal_refs(self) -> list[tuple[str, LegalRef]]:
        entries = [*self.items.values(), *self.bundles.values(), *self.policies.values()]
        return [(e.id, ref) for e in entries for ref in e.legal_basis]

    def key_terms(self, owner: str) -> set[str]:
        """What an entry is about, as words a legal basis for it must use: its name and keywords
        and their words (words every procedure uses — 申请, 办理, 登记 … — left out)."""
        entry = self.items.get(owner) or self.bundles.get(owner) or self.policies.get(owner)
        phrases = [entry.name, *entry.keywords] if entry else []
        return {_squash(t) for p in phrases for t in [p, *tokenize(p)] if len(t) >= 2 and t not in PROCEDURE_WORDS}


def read_catalog_dir(directory: Path) -> Catalog:
    """Parse and validate `items/*.yaml`, `bundles.yaml`, `policies.yaml`, `life_events.yaml`."""
    catalog = Catalog()

    def load(path: Path) -> list[dict]:
        try:
            rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            raise CatalogError(f"{path.name}: {exc}") from exc
        if not isinstance(rows, list):
            raise CatalogError(f"{path.name}: expected a list of entries")
        return rows

    def add(target: dict, model: type, rows: list[dict], source: str) -> None:
        for row in rows:
            try:
                entry = model.model_validate(row)
            except ValidationError as exc:
                raise CatalogError(f"{source}: {row.get('id', '?')}: {exc}") from exc
            if entry.id in target:
                raise CatalogError(f"{source}: duplicate id {entry.id}")
            target[entry.id] = entry

    for path in sorted((directory / "items").glob("*.yaml")):
        add(catalog.items, ServiceItem, load(path), path.name)
    for name, target, model in (
        ("bundles.yaml", catalog.bundles, Bundle),
        ("policies.yaml", catalog.policies, Policy),
        ("life_events.yaml", catalog.life_events, LifeEvent),
    ):
        if (directory / name).is_file():
            add(target, model, load(directory / name), name)
    return catalog


def _squash(text: str) -> str:
    return "".join(normalize(text).split())


def deadline_terms(days: int) -> list[str]:
    """How a statutory deadline of `days` days is written in a law: 30日, 三十日, 20个工作日 …"""
    if days == 0:
        return ["当场"]
    numbers = {str(days), to_chinese_numeral(days)}
    return [f"{n}{unit}" for n in numbers for unit in ("日", "个工作日", "天")]


@dataclass
class CitationCheck:
    """What loading checked, per legal-basis ref: that its article exists, and that the article
    says what the entry claims from it — the words it quotes (`quote`), or else at least one key
    term of the entry (its name, its keywords); and that an item's statutory deadline is stated by
    one of the articles it cites. A ref that fails any of them is a problem (the load fails)."""

    refs: int = 0
    quoted: int = 0  # refs whose declared quote is in the article
    key_terms: int = 0  # refs without a quote whose article uses a key term of the entry
    deadlines: int = 0  # items whose statutory deadline a cited article states
    claims_checked: int = 0  # quoted + key_terms
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> int:
        return self.quoted + self.key_terms

    @property
    def coverage(self) -> float:
        """The share of refs verified against the article text (1.0 when every one is)."""
        return round(self.verified / self.refs, 4) if self.refs else 1.0


def check_citations(catalog: Catalog) -> CitationCheck:
    """Every cited article must exist and say what the entry claims from it (a declared quote
    word for word, else a key term of the entry); an item's statutory deadline must be stated by
    one of the articles it cites (unless the item names the rule outside the corpus that sets it)."""
    report = CitationCheck()
    texts: dict[tuple[str, str, int | None], str | None] = {}

    def text_of(ref: LegalRef) -> str | None:
        key = (ref.doc, ref.article, ref.paragraph)
        if key not in texts:
            cited = knowledge.get_article(ref.doc, ref.article, ref.paragraph)
            texts[key] = _squash(cited.text) if cited else None
        return texts[key]

    for owner, ref in catalog.legal_refs():
        report.refs += 1
        text = text_of(ref)
        where = f"{owner}: 《{ref.doc}》{ref.article}" + (f"第{to_chinese_numeral(ref.paragraph)}款" if ref.paragraph else "")
        if text is None:
            report.problems.append(f"{where} 不在知识库中 not in the knowledge base")
        elif ref.quote is not None:
            if _squash(ref.quote) in text:
                report.quoted += 1
            else:
                report.problems.append(f"{where} 中没有“{ref.quote}” the cited article does not say what the entry quotes")
        elif any(term in text for term in catalog.key_terms(owner)):
            report.key_terms += 1
        else:
            report.problems.append(f"{where} 与事项无关：条文中没有事项的关键词，也未引用原文 the article names nothing the "
                                   "entry is about (quote the words that support it)")
    report.claims_checked = report.verified
    for item in catalog.items.values():
        days, limit = item.time_limit.statutory_days, item.time_limit
        if days is None or limit.outside_corpus:
            continue
        terms = [_squash(t) for t in deadline_terms(days)]
        if any(t in (text_of(r) or "") for r in item.legal_basis for t in terms):
            report.deadlines += 1
        else:
            cited = "、".join(f"《{r.doc}》{r.article}" for r in item.legal_basis) or "（无）"
            report.problems.append(f"{item.id}: 法定时限 {days} 日不见于所引条文 {cited} — statutory deadline not stated by "
                                   "any cited article (cite the one that sets it, or name it in time_limit.outside_corpus)")
    return report


def store_catalog(catalog: Catalog, departments: set[str]) -> None:
    """Replace the stored catalog with `catalog` after checking every reference and citation:
    a wrong article (missing, or not saying what the entry claims from it) fails the load."""
    catalog.validate_references(departments)
    problems = check_citations(catalog).problems
    if problems:
        raise CatalogError("法律依据与条文不符 legal basis does not match the article text: " + "; ".join(problems[:20]))
    with database().session() as s:
        s.execute(delete(CatalogEntry))
        for kind, entries in (
            ("item", catalog.items), ("bundle", catalog.bundles),
            ("policy", catalog.policies), ("life_event", catalog.life_events),
        ):
            for entry in entries.values():
                s.add(CatalogEntry(
                    kind=kind, id=entry.id, name=entry.name, department_id=getattr(entry, "department", None),
                    data=entry.model_dump(mode="json"),
                ))
    _stored.invalidate()
    bus.publish("catalog.loaded", {"items": len(catalog.items), "bundles": len(catalog.bundles)})


def _read_stored() -> Catalog:
    loaded = Catalog()
    models = {"item": (loaded.items, ServiceItem), "bundle": (loaded.bundles, Bundle),
              "policy": (loaded.policies, Policy), "life_event": (loaded.life_events, LifeEvent)}
    with database().session() as s:
        for entry in s.scalars(select(CatalogEntry).order_by(CatalogEntry.id)):
            target, model = models[entry.kind]
            target[entry.id] = model.model_validate(entry.data)
    return loaded


_stored = PerDatabase(_read_stored)


def catalog() -> Catalog:
    """The stored catalog, read once per database and kept in memory (it changes rarely)."""
    return _stored.get()


def get_item(item_id: str) -> ServiceItem:
    item = catalog().items.get(item_id)
    if item is None:
        raise not_found(f"事项 '{item_id}' 不存在 unknown service item")
    return item


def get_bundle(bundle_id: str) -> Bundle:
    bundle = catalog().bundles.get(bundle_id)
    if bundle is None:
        raise not_found(f"一件事 '{bundle_id}' 不存在 unknown bundle")
    return bundle


def bundle_items(bundle: Bundle, slots: dict[str, str]) -> list[tuple[ServiceItem, str | None]]:
    """The bundle's items that apply given the slot values, in order, with their notes."""
    cat = catalog()
    return [
        (cat.items[step.item], step.note)
        for step in bundle.items
        if all(slots.get(slot) == value for slot, value in step.when.items())
    ]


def policies_for(ids: list[str]) -> list[Policy]:
    """Policies that apply to any of these item, bundle or life-event ids."""
    wanted = set(ids)
    return [p for p in catalog().policies.values() if wanted & set(p.applies_to)]


def statistics() -> dict:
    """Figures an official reads: items per department, online share, 告知承诺, time-limit cuts."""
    items = list(catalog().items.values())
    per_dept: Counter[str] = Counter(i.department for i in items)
    online = sum("online" in i.channels for i in items)
    commitment = sum(i.commitment for i in items)
    cut = [
        (i.time_limit.statutory_days - i.time_limit.committed_days) / i.time_limit.statutory_days
        for i in items
        if i.time_limit.statutory_days and i.time_limit.committed_days is not None
    ]
    return {
        "items": len(items),
        "bundles": len(catalog().bundles),
        "departments": len(per_dept),
        "per_department": dict(per_dept.most_common()),
        "online_items": online,
        "online_share": round(online / len(items), 3) if items else 0.0,
        "commitment_items": commitment,
        "avg_time_cut": round(sum(cut) / len(cut), 3) if cut else 0.0,
    }
