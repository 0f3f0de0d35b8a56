"""The semantic layer of 一句话问数: tables, metrics, dimensions, time columns, flags, synonyms and
declared joins (package data `demo/data/datasets/semantic.yaml`), with the words that name
each of them. Dimension values come from the yaml, the city's own lists (districts, event
categories, departments) or the data itself (`values: data`: the distinct values of the column,
read once per connection).

The layer only names columns the data dictionary declares; `check()` verifies that against the
tables the connection holds, so a renamed column fails loudly at start rather than in an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from aicity.hub.data import store

#: a column or an expression over the table's columns (no subqueries, no calls other than these)
_EXPR_OK = re.compile(r"^[A-Za-z0-9_ ().,*+/\-'<>=]*$")


@dataclass(frozen=True)
class Metric:
    id: str
    name: str
    unit: str
    words: tuple[str, ...]
    expr: str | None = None  # an aggregate expression (COUNT(*), AVG(satisfied) * 100 …)
    column: str | None = None  # a column the question may sum / average / max / min
    agg: str = "sum"
    decimals: int = 0

    def sql(self, agg: str | None = None, alias: str = "") -> str:
        """The aggregate expression, with `agg` (sum/avg/max/min) for a column metric."""
        if self.expr is not None:
            return self.expr if not alias else _qualify(self.expr, alias)
        col = f"{alias}.{self.column}" if alias else str(self.column)
        return f"{(agg or self.agg).upper()}({col})"

    @property
    def is_count(self) -> bool:
        return self.expr == "COUNT(*)"


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    expr: str
    words: tuple[str, ...]
    #: value → the words that name it
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: word → values (a word naming several values: 噪音 → three categories)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    label_suffix: str = ""
    #: the yaml labels its codes (closed → 已办结, C → 制造业): a grouped answer shows the code beside the label
    show_key: bool = False

    def label(self, value: Any) -> str:
        if value is None:
            return "（空）"
        return self.labels.get(str(value), f"{value}{self.label_suffix}")


@dataclass(frozen=True)
class TimeColumn:
    column: str
    kind: str  # timestamp | date | year
    name: str
    trigger: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    source: str
    target: str
    on: tuple[tuple[str, str], ...]
    via: tuple[str, ...] = ()
    per_capita: bool = False


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    noun: str
    unit: str
    words: tuple[str, ...]
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    flags: dict[str, str]
    time: TimeColumn | None = None
    snapshot: str | None = None
    personal: tuple[str, ...] = ()
    #: (sql, label, the dimension that overrides it, words that switch it off)
    default_filter: tuple[str, str, str, tuple[str, ...]] | None = None
    default_metric: str | None = None
    #: words that name what a row is but do not pick the table (招商线索的企业: a lead is a firm)
    nouns: tuple[str, ...] = ()

    @property
    def count(self) -> Metric | None:
        return next((m for m in self.metrics.values() if m.is_count), None)


@dataclass(frozen=True)
class Layer:
    tables: dict[str, Table]
    relations: tuple[Relation, ...]

    def relations_from(self, table: str) -> list[Relation]:
        return [r for r in self.relations if r.source == table]

    def columns_named(self) -> dict[str, set[str]]:
        """Every column the layer names, per table (what `check` verifies exists)."""
        named: dict[str, set[str]] = {}
        for t in self.tables.values():
            cols = named.setdefault(t.id, set())
            exprs = [m.expr or m.column or "" for m in t.metrics.values()]
            exprs += [d.expr for d in t.dimensions.values()] + list(t.flags.values())
            exprs += [t.default_filter[0]] if t.default_filter else []
            if t.time:
                cols.add(t.time.column)
            for e in exprs:
                cols.update(_identifiers(e))
        for r in self.relations:
            named.setdefault(r.source, set()).update(a for a, _ in r.on)
            named.setdefault(r.target, set()).update(b for _, b in r.on)
        return named


def _identifiers(expr: str) -> set[str]:
    return {c.name for c in sqlglot.parse_one(expr, read="duckdb").find_all(exp.Column)}


@lru_cache(maxsize=2048)
def _qualify(expr: str, alias: str) -> str:
    """Prefix every column of `expr` with `alias.` (for joined queries), with sqlglot's parser so that
    a column named like a function or type (`date`, `year`) is told apart from the call."""
    tree = sqlglot.parse_one(expr, read="duckdb")
    for col in tree.find_all(exp.Column):
        if not col.table:
            col.set("table", exp.to_identifier(alias))
    return tree.sql(dialect="duckdb")


def qualify(expr: str, alias: str) -> str:
    return _qualify(expr, alias)


def _words(raw: Any) -> tuple[str, ...]:
    return tuple(str(w).lower() for w in (raw or ()))


def layer_file() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "datasets" / "semantic.yaml"))


def _data_file(name: str) -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / name))


@lru_cache(maxsize=1)
def _city_lists() -> dict[str, dict[str, tuple[tuple[str, ...], str]]]:
    """The city's own value lists: id → (words, label)."""
    gaz = yaml.safe_load(_data_file("gazetteer.yaml").read_text(encoding="utf-8"))
    districts = {d["id"]: ((d["name"].lower(), d["name"].removesuffix("区").lower(), d["name_en"].lower(),
                            d["name_en"].lower().removesuffix(" district"), d["id"]), d["name"])
                 for d in gaz["districts"]}
    cats = yaml.safe_load(_data_file("event_categories.yaml").read_text(encoding="utf-8"))
    # a category's words: its name, each part of it, and its id read as English words (fire_hazard → fire hazard)
    categories = {c["id"]: (tuple(p.lower() for p in [c["name"], *c["name"].split("/"), c["id"].replace("_", " ")]
                                  if len(p) >= 2), c["name"]) for c in cats}
    deps = yaml.safe_load(_data_file("departments.yaml").read_text(encoding="utf-8"))
    departments = {}
    for d in deps:
        name = d["name"]
        short = re.sub(r"（.*?）", "", name)
        english = str(d.get("name_en") or "").lower()  # its English name (Sanitation Department), said in English
        departments[d["id"]] = (tuple(sorted({name.lower(), short.lower(), english} - {""})), name)
    return {"districts": districts, "categories": categories, "departments": departments}


def _dimension(did: str, raw: dict[str, Any], distinct: list[str] | None) -> Dimension:
    labels = {str(k): str(v) for k, v in (raw.get("label") or {}).items()}
    values: dict[str, tuple[str, ...]] = {}
    spec = raw.get("values")
    if isinstance(spec, dict):
        values = {str(k): _words(v) for k, v in spec.items()}
    elif spec in ("districts", "categories", "departments"):
        for vid, (words, label) in _city_lists()[spec].items():
            values[vid] = words
            labels.setdefault(vid, label)
    elif spec == "data":
        values = {v: (v.lower(),) for v in distinct or () if len(v) >= 2 or not v.isascii()}
    aliases = {str(w).lower(): tuple(str(x) for x in vs) for w, vs in (raw.get("aliases") or {}).items()}
    return Dimension(id=did, name=str(raw.get("name", did)), expr=str(raw.get("expr", did)),
                     words=_words(raw.get("words")), values=values, aliases=aliases, labels=labels,
                     label_suffix=str(raw.get("label_suffix", "")), show_key=bool(raw.get("label")))


def build(raw: dict[str, Any], distinct: dict[tuple[str, str], list[str]]) -> Layer:
    tables = {}
    for tid, t in raw["tables"].items():
        metrics = {}
        for mid, m in (t.get("metrics") or {}).items():
            metrics[mid] = Metric(id=mid, name=str(m["name"]), unit=str(m.get("unit", "")), words=_words(m.get("words")),
                                  expr=m.get("expr"), column=m.get("column"), agg=str(m.get("agg", "sum")),
                                  decimals=int(m.get("decimals", 0)))
        dims = {did: _dimension(did, d, distinct.get((tid, did))) for did, d in (t.get("dimensions") or {}).items()}
        time = t.get("time")
        tables[tid] = Table(
            id=tid, title=str(t["title"]), noun=str(t["noun"]), unit=str(t["unit"]), words=_words(t.get("words")),
            metrics=metrics, dimensions=dims, flags={str(k).lower(): str(v) for k, v in (t.get("flags") or {}).items()},
            time=TimeColumn(time["column"], time["kind"], str(time.get("name", time["column"])),
                            _words(time.get("trigger"))) if time else None,
            snapshot=t.get("snapshot"), personal=tuple(t.get("personal") or ()),
            default_filter=(str(t["default_filter"]["sql"]), str(t["default_filter"]["label"]),
                            str(t["default_filter"]["unless"]), _words(t["default_filter"].get("off_words")))
            if t.get("default_filter") else None, default_metric=t.get("default_metric"), nouns=_words(t.get("nouns")))
    relations = tuple(Relation(r["from"], r["to"], tuple((a, b) for a, b in r["keys"]), tuple(r.get("via") or ()),
                               bool(r.get("per_capita"))) for r in raw.get("relations") or ())
    for t in tables.values():
        for e in [m.expr or "" for m in t.metrics.values()] + [d.expr for d in t.dimensions.values()] + list(
                t.flags.values()):
            if not _EXPR_OK.match(re.sub(r"'[^']*'", "''", e)):
                raise ValueError(f"semantic.yaml: {t.id}: expression not allowed: {e}")
    return Layer(tables=tables, relations=relations)


@lru_cache(maxsize=1)
def raw_layer() -> dict[str, Any]:
    return dict(yaml.safe_load(layer_file().read_text(encoding="utf-8")))


def load(conn: store.Cursor) -> Layer:
    """The layer with the `values: data` dimensions filled from the tables `conn` reads."""
    raw = raw_layer()
    distinct: dict[tuple[str, str], list[str]] = {}
    for tid, t in raw["tables"].items():
        for did, d in (t.get("dimensions") or {}).items():
            if d.get("values") == "data":
                rows = conn.execute(f'SELECT DISTINCT CAST("{d.get("expr", did)}" AS VARCHAR) FROM "{tid}" '
                                    f'WHERE "{d.get("expr", did)}" IS NOT NULL LIMIT 500').fetchall()
                distinct[(tid, did)] = sorted(str(r[0]) for r in rows)
    layer = build(raw, distinct)
    check(layer, conn)
    return layer


def check(layer: Layer, conn: store.Cursor) -> None:
    """Every column the layer names exists in the table of that name (ValueError naming it)."""
    for tid, cols in layer.columns_named().items():
        have = {name for name, _ in store.column_types(tid, conn)}
        missing = sorted(cols - have)
        if missing:
            raise ValueError(f"semantic.yaml names columns {tid} does not have: {', '.join(missing)}")


def describe(layer: Layer, allowed: dict[str, set[str]]) -> str:
    """The layer as text for a model writing SQL: each table the caller may use, its allowed
    columns with meanings, the metrics and the values of its dimensions."""
    lines = []
    for t in layer.tables.values():
        cols = allowed.get(t.id)
        if not cols:
            continue
        lines.append(f"TABLE {t.id} -- {t.title}; one row = one {t.noun}")
        lines.append("  columns: " + ", ".join(sorted(cols)))
        if t.time:
            lines.append(f"  time column: {t.time.column} ({t.time.kind}, {t.time.name})")
        for m in t.metrics.values():
            lines.append(f"  metric {m.name} [{m.unit}]: {m.sql()}")
        for d in t.dimensions.values():
            sample = ", ".join(f"{v}={d.label(v)}" if d.labels.get(v) else v for v in list(d.values)[:40])
            lines.append(f"  dimension {d.name}: {d.expr}" + (f" values: {sample}" if sample else ""))
        for w, cond in list(t.flags.items())[:30]:
            lines.append(f"  condition '{w}': {cond}")
    for r in layer.relations:
        if r.source in allowed and r.target in allowed:
            on = " AND ".join(f"{r.source}.{a} = {r.target}.{b}" for a, b in r.on)
            lines.append(f"JOIN {r.source} -> {r.target} ON {on}")
    return "\n".join(lines)
