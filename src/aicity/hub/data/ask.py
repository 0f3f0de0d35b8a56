"""一句话问数: a question in one sentence → a checked SQL query over the data hub → a sentence, the
table, a chart, the SQL and the datasets it used.

    ask(question, *, role="official", department=None, as_of=None) -> DataAnswer

The embedded parser (`parse.py`) plans the query over the semantic layer (`semantic.py`); with a
model configured through the gateway the model may write the SQL instead (`ask_llm.py`). Either
way the SQL passes `sqlcheck.check` for the caller (one read-only SELECT, only allowed tables and
columns, aggregate-only where rows may not be read, a row limit) before it runs. Personal-row
requests are refused with the reason and an aggregate alternative; a question the parser only
half understands is "not_understood" (low confidence), never a confident guess.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, Field

from aicity.core.config import settings
from aicity.hub.data import access, ask_llm, chart, parse, semantic, sqlcheck, store, timewin
from aicity.hub.data.parse import Filter, Plan
from aicity.hub.data.schema import load_spec
from aicity.hub.data.semantic import Layer, Table, qualify
from aicity.hub.data.settings import DataSettings
from aicity.hub.data.store import ColumnInfo, DatasetInfo

log = logging.getLogger(__name__)

#: below this the parser's reading is not trusted: "not_understood" rather than a number
MIN_CONFIDENCE = 0.6
#: the longest a question's SQL may run
QUERY_TIMEOUT_S = 10.0
CAN_ANSWER = ("12345热线工单（数量、办理时长、满意率、办结率，按区/类别/部门/渠道/月份）、空气质量（AQI、PM2.5 等，"
              "按站点/区/月份）、主干道车流量和车速（按道路/时段）、企业库（企业数、注册资本、营收、纳税、从业人数、专利，"
              "按区/行业/产业链）、招商线索、区情统计（人口、GDP、财政收入）、低保（户数、保障人数、低保金，按区汇总）、"
              "产业链环节；支持时间（月、季度、上半年、去年、近N个月）、排名、占比、同比、环比。")
_ENGLISH_HINT = "Ask e.g. “how many hotline tickets in Donghu in March” or “average AQI by district”."


class DataAnswer(BaseModel):
    status: Literal["answered", "refused", "not_understood"]
    answer: str
    sql: str | None = None
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    value: float | int | str | None = None
    datasets: list[str] = Field(default_factory=list)
    reason: str | None = None
    chart_svg: str | None = None
    confidence: float = Field(default=0.0, ge=0, le=1)
    alternative: str | None = Field(default=None, description="what can be asked instead (a refusal's aggregate)")
    writer: str = Field(default="embedded", description="embedded (the parser) or llm:<group>")


# ---- the data and the caller's access ----------------------------------------------------------

@dataclass
class Engine:
    layer: Layer
    columns: dict[str, list[str]]
    #: (min, max) of each table's time column as dates; years for a year column
    coverage: dict[str, tuple[Any, Any]]
    source: str


_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_pack: list[duckdb.DuckDBPyConnection] = []


def pack_dir() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "datasets"))


def _pack_connection() -> duckdb.DuckDBPyConnection:
    """The demo pack in memory (each file a table named after it), for when the store does not hold
    it yet; file access is switched off once it is loaded."""
    if not _pack:
        conn = duckdb.connect()
        for tid in semantic.raw_layer()["tables"]:
            path = pack_dir() / f"{tid}.csv"
            conn.execute(f"CREATE TABLE \"{tid}\" AS SELECT * FROM read_csv('{path.as_posix()}', header=true, "
                         f"auto_detect=true)")
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
        _pack.append(conn)
    return _pack[0].cursor()


def connection() -> tuple[duckdb.DuckDBPyConnection, str]:
    """A cursor for the questions' queries: the store's current versions when it holds the pack's
    datasets, else the packaged demo pack (the one switch between the two)."""
    needed = set(semantic.raw_layer()["tables"])
    if needed <= store.tables():
        # the layer's values are read per version: a re-import gives the next question a fresh layer
        versions = ",".join(f"{d.id}:{d.version}" for d in store.list_datasets() if d.id in needed)
        return store.read_connection(), f"{store.location()}|{versions}"
    return _pack_connection(), "pack"


def _engine(conn: duckdb.DuckDBPyConnection, source: str) -> Engine:
    with _lock:
        found = _engines.get(source)
        if found is not None:
            return found
        layer = semantic.load(conn)
        columns = {t: [name for name, _ in store.column_types(t, conn)] for t in layer.tables}
        coverage = {}
        for t in layer.tables.values():
            if t.time:
                lo, hi = conn.execute(f'SELECT MIN("{t.time.column}"), MAX("{t.time.column}") FROM "{t.id}"').fetchone()
                coverage[t.id] = (lo, hi)
        engine = Engine(layer, columns, coverage, source)
        _engines[source] = engine
        return engine


def reset() -> None:
    """Forget the cached layer (after a re-import changes the data's values)."""
    with _lock:
        _engines.clear()


@lru_cache(maxsize=64)
def _pack_info(tid: str) -> DatasetInfo:
    """A pack dataset's declaration as the store describes datasets (grades, personal columns)."""
    spec = load_spec(pack_dir() / f"{tid}.yaml")
    grading = spec.grade
    return DatasetInfo(
        id=spec.id, title=spec.title, owner_department=spec.owner_department, version=1, rows=0,
        grade=grading.grade if grading else "general", sensitivity_level=grading.level if grading else 2,
        columns=[ColumnInfo(name=c.name, type=c.type, title=c.title, meaning=c.meaning, unit=c.unit,
                            sensitivity_level=c.level or 1, pii=c.pii, pii_kind=c.pii_kind) for c in spec.columns])


def dataset_infos(engine: Engine) -> dict[str, DatasetInfo]:
    if engine.source == "pack":
        return {tid: _pack_info(tid) for tid in engine.layer.tables}
    return {tid: store.dataset(tid) for tid in engine.layer.tables}


def caller_access(engine: Engine, role: str, department: str | None) -> sqlcheck.Access:
    """What this caller may query (`access.allowed_columns`, `access.may_read_rows`), less the
    personal columns, which ask never uses: identifying personal information and the semantic
    layer's `personal` list."""
    columns: dict[str, set[str]] = {}
    rows: set[str] = set()
    personal: dict[str, set[str]] = {}
    for tid, info in dataset_infos(engine).items():
        personal[tid] = set(engine.layer.tables[tid].personal) | {
            c.name for c in info.columns if c.pii is not None and c.pii_kind in access.IDENTIFYING}
        allowed = access.allowed_columns(role, department, info) - personal[tid]
        if allowed:
            columns[tid] = allowed
            if access.may_read_rows(role, department, info):
                rows.add(tid)
    return sqlcheck.Access(columns=columns, row_tables=rows, all_columns=engine.columns, personal=personal)


# ---- from a plan to SQL ----------------------------------------------------------------------------

def _literal(day: dt.date, kind: str) -> str:
    return f"TIMESTAMP '{day.isoformat()} 00:00:00'" if kind == "timestamp" else f"DATE '{day.isoformat()}'"


def _time_condition(table: Table, window: timewin.Window, alias: str) -> str:
    assert table.time is not None
    col = f"{alias}.{table.time.column}"
    if table.time.kind == "year":
        years = window.years
        if window.parts and len(years) > 1:  # 2022年和2024年: those years, not the ones between
            return f"{col} IN ({', '.join(map(str, years))})"
        return f"{col} = {years[0]}" if len(years) == 1 else f"{col} BETWEEN {years[0]} AND {years[-1]}"
    if window.parts:  # 3月和5月: each period named, not the months between
        return "(" + " OR ".join(f"({col} >= {_literal(a, table.time.kind)} AND {col} < {_literal(b, table.time.kind)})"
                                 for a, b in window.parts) + ")"
    return f"{col} >= {_literal(window.start, table.time.kind)} AND {col} < {_literal(window.end, table.time.kind)}"


def _latest_year(engine: Engine, table: Table, as_of: dt.date) -> int:
    lo, hi = engine.coverage[table.id]
    return min(int(hi), as_of.year) if int(lo) <= as_of.year else int(lo)


@dataclass
class Built:
    sql: str
    shape: str  # value | group | share | share_group | compare
    period: str
    window: timewin.Window | None
    previous: timewin.Window | None = None


class NotAnswerable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _covers(engine: Engine, table: Table, window: timewin.Window) -> bool:
    lo, hi = engine.coverage.get(table.id, (None, None))
    if lo is None or table.time is None:
        return True
    if table.time.kind == "year":
        return any(int(lo) <= y <= int(hi) for y in window.years)
    lo_d = lo.date() if isinstance(lo, dt.datetime) else lo
    hi_d = hi.date() if isinstance(hi, dt.datetime) else hi
    return window.start <= hi_d and window.end > lo_d


def _coverage_text(engine: Engine, table: Table) -> str:
    lo, hi = engine.coverage.get(table.id, (None, None))
    if lo is None:
        return ""
    if table.time and table.time.kind == "year":
        return f"{lo}—{hi}年"
    lo_d = lo.date() if isinstance(lo, dt.datetime) else lo
    hi_d = hi.date() if isinstance(hi, dt.datetime) else hi
    return f"{lo_d.isoformat()} 至 {hi_d.isoformat()}"


class _Sql:
    """SELECT pieces for one table (aliased t) and an optional join to a related table (n)."""

    def __init__(self, plan: Plan, layer: Layer) -> None:
        self.plan, self.layer = plan, layer
        self.join_target: str | None = None
        targets = {f.table for f in plan.filters if f.table != plan.table.id}
        if plan.group_table and plan.group_table != plan.table.id:
            targets.add(plan.group_table)
        if len(targets) > 1:
            raise NotAnswerable("一个问题只能沿一条已声明的关联查询 one declared join per question")
        if targets:
            self.join_target = targets.pop()

    def source(self) -> str:
        t = self.plan.table.id
        if not self.join_target:
            return f"{t} AS t"
        rel = next(r for r in self.layer.relations_from(t) if r.target == self.join_target)
        on = " AND ".join(f"t.{a} = n.{b}" for a, b in rel.on)
        return f"{t} AS t JOIN {self.join_target} AS n ON {on}"

    def condition(self, f: Filter) -> str:
        return qualify(f.sql, "n" if f.table != self.plan.table.id else "t")

    def where(self, window: timewin.Window | None, drop: Filter | None = None, year: int | None = None) -> str:
        # 平均每个区: the conditions go into the figure (FILTER), the groups are counted over every row
        spread = self.plan.per_group is not None and not self.plan.aggregate_only
        parts = [self.condition(f) for f in self.plan.filters if f is not drop] if not spread else []
        table = self.plan.table
        if window is not None and table.time and self.plan.problem is None:
            parts.append(_time_condition(table, window, "t"))
        elif year is not None and table.time:
            parts.append(f"t.{table.time.column} = {year}")
        return (" WHERE " + " AND ".join(parts)) if parts else ""

    def metric(self) -> str:
        expr = self.plan.metric.sql(self.plan.agg, alias="t")
        if self.plan.scale != 1.0:
            expr = f"({expr}) * {self.plan.scale!r}"
        table = self.plan.table
        if self.plan.per_day and table.time and (self.plan.metric.is_count or (self.plan.agg or self.plan.metric.agg)
                                                 == "sum"):
            expr = f"{expr} * 1.0 / COUNT(DISTINCT CAST(t.{table.time.column} AS DATE))"
        elif self.plan.per_group is not None:
            # rows readable one by one: the conditions go into the figure and the groups are counted over every
            # row; aggregate-only data keeps them as row filters (a FILTER could release a count under the group size)
            conds = [self.condition(f) for f in self.plan.filters] if not self.plan.aggregate_only else []
            counted = f"COALESCE({expr} FILTER (WHERE {' AND '.join(conds)}), 0)" if conds else expr
            expr = f"{counted} * 1.0 / COUNT(DISTINCT {qualify(self.plan.per_group[0], 't')})"
        elif self.plan.per_hour and table.time:
            expr = f"{expr} * 1.0 / COUNT(DISTINCT CAST(t.{table.time.column} AS VARCHAR) || ' ' || CAST(t.hour AS VARCHAR))"
        return expr


def _per_capita_divisor(plan: Plan, year: int, grouped: bool) -> str:
    column = plan.per_base[0]
    if grouped:
        return f"MAX(d.{column})"  # one row per district and year
    district = next((f for f in plan.filters if f.kind == "district"), None)
    cond = f" AND {district.sql}" if district else ""
    return f"(SELECT SUM({column}) FROM districts WHERE year = {year}{cond})"


def _change(cur: str, prev: str, plan: Plan, window: timewin.Window, previous: timewin.Window) -> str:
    """The current figure against the previous: a difference (增加了多少, 百分点), compound annual
    growth (年均增长率, over the years between the two), or growth in percent."""
    if plan.absolute:
        return f"ABS({cur} - {prev})" if plan.unsigned else f"{prev} - {cur}" if plan.lower else f"{cur} - {prev}"
    if plan.annual:
        years = abs(window.start.year - previous.start.year)
        return f"(POWER({cur} * 1.0 / NULLIF({prev}, 0), 1.0 / {years}) - 1) * 100.0"
    return f"({cur} - {prev}) * 100.0 / NULLIF({prev}, 0)"


def build(plan: Plan, engine: Engine, as_of: dt.date) -> Built:  # noqa: C901 — one branch per question shape
    table = plan.table
    q = _Sql(plan, engine.layer)
    window = plan.window
    if plan.problem == "difference":
        raise NotAnswerable("两个数之差暂不能一次回答，可分别问两者，或问“各区…对比” a difference of two figures: ask each")
    if plan.problem == "annual-years":
        raise NotAnswerable("年均增长率需要说明起止年份，如“2021到2025年” name the first and the last year")
    if plan.problem == "ambiguous-values":
        raise NotAnswerable("问题列了几个值，不清楚是要合计还是分别统计：请说“一共”或“分别” the values together or each?")
    if plan.problem == "time-not-applicable":
        assert window is not None
        if plan.metric.id in ("revenue", "tax") and window.years == [2024]:
            plan.problem, window = None, None
        else:
            raise NotAnswerable(f"{table.title}没有可按“{window.label}”筛选的时间（{table.time.name if table.time else ''}"
                                f"只在问“{'、'.join(table.time.trigger[:3]) if table.time else ''}”时使用）")
    snapshot_year = None
    if table.snapshot and window is None and plan.group is not None and plan.group.id == table.snapshot:
        snapshot_year = None
    elif table.snapshot and window is None:
        snapshot_year = _latest_year(engine, table, as_of)
    if window is not None and not _covers(engine, table, window):
        raise NotAnswerable(f"{table.title}的数据只覆盖 {_coverage_text(engine, table)}，没有“{window.label}”的数据")
    period = window.label if window else (f"{snapshot_year}年" if snapshot_year else "")
    metric = q.metric()
    per_capita_year = None
    if plan.per_capita:
        if not any(r.per_capita for r in engine.layer.relations_from(table.id)) or not _additive(plan) \
                or plan.per_day or plan.per_hour:
            raise NotAnswerable("每万人指标只支持工单、企业、低保户的数量或合计 per-10,000 figures are for counts and sums "
                                "of tickets, firms and low-income households only")
        per_capita_year = plan.population_year or (window.years[-1] if window else _latest_year(engine, engine.layer.tables["districts"],
                                                                          as_of))
    # 同比 / 环比 / 增长: the window against the one it compares with
    if plan.compare:
        if plan.time_group is not None or (plan.group is not None and (plan.per_capita or plan.share)):
            raise NotAnswerable("同比/环比暂不支持按时间分组或与占比、每万人同时计算 comparisons are answered per group only")
        if window is None:
            if table.snapshot:
                y = _latest_year(engine, table, as_of)
                window = timewin.Window(dt.date(y, 1, 1), dt.date(y + 1, 1, 1), f"{y}年", "year")
            else:
                raise NotAnswerable("同比/环比需要说明时间，如“3月”“第二季度”“2025年” name the period to compare")
        kind = "mom" if plan.compare == "mom" else "yoy"
        previous = plan.previous if plan.compare == "pair" and plan.previous else window.previous(kind)
        if not _covers(engine, table, previous):
            raise NotAnswerable(f"{table.title}的数据只覆盖 {_coverage_text(engine, table)}，没有比较期"
                                f"（{previous.label}）的数据，无法计算{'环比' if kind == 'mom' else '同比'}")
        if plan.group is not None:  # 各区GDP同比增速: the growth of each group
            alias = "n" if plan.group_table and plan.group_table != table.id else "t"
            key = qualify(plan.group.expr, alias)
            cur = f"SELECT {key} AS k, {metric} AS v FROM {q.source()}{q.where(window)} GROUP BY 1"
            prev = f"SELECT {key} AS k, {metric} AS v FROM {q.source()}{q.where(previous)} GROUP BY 1"
            sql = (f"SELECT cur.k AS {plan.group.id}, {_change('cur.v', 'prev.v', plan, window, previous)} AS value, "
                   f"cur.v AS current_value, prev.v AS previous_value FROM ({cur}) AS cur JOIN ({prev}) AS prev "
                   f"ON cur.k = prev.k WHERE cur.k IS NOT NULL ORDER BY value {'DESC' if plan.descending else 'ASC'} "
                   f"NULLS LAST, 1")
            if plan.top is not None:
                sql += f" LIMIT {plan.top}"
            return Built(sql, "group_compare", window.label, window, previous)
        cur = f"SELECT {metric} AS v FROM {q.source()}{q.where(window)}"
        prev = f"SELECT {metric} AS v FROM {q.source()}{q.where(previous)}"
        sql = (f"SELECT cur.v AS current_value, prev.v AS previous_value, "
               f"{_change('cur.v', 'prev.v', plan, window, previous)} AS "
               f"{'difference' if plan.absolute else 'growth_pct'} FROM ({cur}) AS cur, ({prev}) AS prev")
        return Built(sql, "compare", window.label, window, previous)
    # 占比
    if plan.share and plan.group is None and plan.time_group is None:
        if plan.metric.column is None and not plan.metric.is_count or (plan.agg or plan.metric.agg) == "avg" \
                and not plan.metric.is_count:
            raise NotAnswerable(f"“{plan.metric.name}”是平均值或比率，不能计算占比")
        if "window-part" in plan.notes and window is not None:  # the window is a condition on the rows: the part's
            plan.share_drop = Filter("", window.label, window.span, "window", table.id)
        if plan.share_drop is None:
            raise NotAnswerable("占比需要说明“谁占谁”，如“东湖区工单占全市的比例” say what is a share of what")
        part = f"SELECT {metric} AS v FROM {q.source()}{q.where(window, year=snapshot_year)}"
        whole_where = q.where(window, plan.share_drop, year=snapshot_year) if plan.share_drop.kind != "window" \
            else q.where(None, year=snapshot_year)
        rated = re.match(r"^(\w+) = \d+$", plan.share_drop.sql) if plan.share_drop.kind == "flag" else None
        if rated:  # 回访满意的比例: of the tickets rated at all (the flag's column known), as the rate itself reads
            known = f"{q.condition(replace(plan.share_drop, sql=f'{rated.group(1)} IS NOT NULL'))}"
            whole_where += (" AND " if whole_where else " WHERE ") + known
        whole_source = q.source()
        if "whole-all" in plan.notes and plan.share_drop.table != table.id and all(
                f.table == table.id for f in plan.filters if f is not plan.share_drop):
            whole_source = f"{table.id} AS t"  # 占全部在营企业: every firm, not only those the join reaches
        whole = f"SELECT {metric} AS v FROM {whole_source}{whole_where}"
        sql = (f"SELECT part.v AS part_value, whole.v AS whole_value, part.v * 100.0 / NULLIF(whole.v, 0) AS share_pct "
               f"FROM ({part}) AS part, ({whole}) AS whole")
        return Built(sql, "share", period, window)
    # grouped
    if plan.group is not None or plan.time_group is not None:
        if plan.group is not None:
            alias = "n" if plan.group_table and plan.group_table != table.id else "t"
            key = qualify(plan.group.expr, alias)
            key_name = plan.group.id
        else:
            assert table.time is not None
            col = f"t.{table.time.column}"
            key, key_name = {
                "month": (f"strftime({col}, '%Y-%m')", "month"),
                "quarter": (f"CAST(year({col}) AS VARCHAR) || '-Q' || CAST(quarter({col}) AS VARCHAR)", "quarter"),
                "day": (f"strftime({col}, '%Y-%m-%d')", "day"),
                "weekday": (f"dayofweek({col})", "weekday"),
            }[plan.time_group or "month"]
        value = metric
        source = q.source()
        if per_capita_year is not None:
            if plan.group is None or plan.group.id != "district_id":
                raise NotAnswerable("每万人指标按区分组 per-10,000 figures group by district only")
            source += f" JOIN districts AS d ON d.district_id = t.district_id AND d.year = {per_capita_year}"
            value = f"{metric} * {plan.per_base[1]!r} / {_per_capita_divisor(plan, per_capita_year, True)}"
        select = f"SELECT {key} AS {key_name}, {value} AS value"
        where = q.where(window, year=snapshot_year)
        within = plan.share and plan.share_drop is not None
        if within:  # within each group: the rows the condition keeps, as a share of the group's rows
            assert plan.share_drop is not None
            whole_where = q.where(window, plan.share_drop, year=snapshot_year)
            if plan.group is not None and plan.group.id != "district_id":
                whole_where += (" AND " if whole_where else " WHERE ") + f"{key} IS NOT NULL"
            # two grouped queries, each suppressed under the group size where rows are aggregate-only
            part = f"SELECT {key} AS k, {metric} AS v FROM {source}{where} GROUP BY 1"
            whole = f"SELECT {key} AS k, {metric} AS v FROM {source}{whole_where} GROUP BY 1"
            part_value = "p.v" if plan.aggregate_only else "COALESCE(p.v, 0)"
            select = f"SELECT w.k AS {key_name}, {part_value} * 100.0 / NULLIF(w.v, 0) AS value"
            source, where = f"({whole}) AS w LEFT JOIN ({part}) AS p ON p.k = w.k", ""
            plan.metric = semantic.Metric("share", f"{plan.share_drop.label}占比", "%", (), expr="NULL", decimals=2)
            plan.share = False
        elif plan.share:
            select += f", {value} * 100.0 / SUM({value}) OVER () AS share_pct"
        if plan.group is not None and plan.group.id != "district_id" and not within:
            where += (" AND " if where else " WHERE ") + f"{key} IS NOT NULL"
        sql = f"{select} FROM {source}{where}" + ("" if within else " GROUP BY 1")
        if plan.having is not None:
            op, bound = plan.having
            if bound is None:  # the city's figure: a rate's own, a count's or a sum's average over the groups
                city = f"SELECT {value} FROM {source}{where}" if not _additive(plan) else (
                    f"SELECT AVG(g.v) FROM (SELECT {key} AS k, {value} AS v FROM {source}{where} GROUP BY 1) AS g")
                sql += f" HAVING {value} {op} ({city})"
            else:
                sql += f" HAVING {value} {op} {bound!r}"
            if plan.count_groups and plan.group is not None:  # how many groups the condition keeps
                label = plan.group.name
                plan.metric = semantic.Metric("count_groups", f"{_metric_label(plan)}满足条件的{label}数", "个", (),
                                              expr="COUNT(*)")
                plan.group = None
                return Built(f"SELECT COUNT(*) AS value FROM ({sql}) AS g", "value", period, window)
        ordered_by_key = plan.time_group is not None or (plan.group is not None and plan.group.id in ("year", "hour",
                                                                                                      "founded_year"))
        if plan.top is not None or not ordered_by_key:
            sql += f" ORDER BY value {'DESC' if plan.descending else 'ASC'} NULLS LAST, 1"
        else:
            sql += " ORDER BY 1"
        if plan.top is not None:
            sql += f" LIMIT {plan.top}"
        return Built(sql, "share_group" if plan.share else "group", period, window)
    if per_capita_year is not None:
        sql = (f"SELECT {metric} * {plan.per_base[1]!r} / {_per_capita_divisor(plan, per_capita_year, False)} AS value "
               f"FROM {q.source()}{q.where(window)}")
        return Built(sql, "value", period, window)
    if plan.against_city is not None:
        f = plan.against_city
        dim = table.dimensions[f.dim or ""]
        here = f"SELECT {metric} AS v FROM {q.source()}{q.where(window, year=snapshot_year)}"
        whole = q.where(window, f, year=snapshot_year)
        city = f"SELECT {metric} AS v FROM {q.source()}{whole}" if not _additive(plan) else (
            f"SELECT AVG(g.v) AS v FROM (SELECT {qualify(dim.expr, 't')} AS k, {metric} AS v FROM {q.source()}{whole} "
            f"GROUP BY 1) AS g")
        # 比全市高多少: here − city; 比全市低多少: city − here (how much lower, as asked); 相差: unsigned
        diff = "ABS(here.v - city.v)" if plan.unsigned else "city.v - here.v" if plan.lower else "here.v - city.v"
        sql = f"SELECT here.v AS value_here, city.v AS value_city, {diff} AS difference FROM ({here}) AS here, ({city}) AS city"
        return Built(sql, "city_difference", period, window)
    sql = f"SELECT {metric} AS value FROM {q.source()}{q.where(window, year=snapshot_year)}"
    return Built(sql, "value", period, window)


def _additive(plan: Plan) -> bool:
    """A count or a sum: set against the average over the groups, not against the city's total."""
    return plan.metric.is_count or plan.metric.expr is None and (plan.agg or plan.metric.agg) == "sum"


# ---- running and answering ------------------------------------------------------------------------

def run_checked(conn: duckdb.DuckDBPyConnection, checked: sqlcheck.Checked) -> tuple[list[str], list[list[Any]]]:
    """Run checked SQL with a time limit (the query is interrupted when it runs longer)."""
    timer = threading.Timer(QUERY_TIMEOUT_S, conn.interrupt)
    timer.start()
    try:
        cur = conn.execute(checked.sql)
        columns = [d[0] for d in cur.description or ()]
        rows = [list(r) for r in cur.fetchall()]
    finally:
        timer.cancel()
    return columns, rows


#: decimals kept in `value` and the rows (the sentence shows the metric's own decimals)
PRECISE = 4


def _round(v: Any, decimals: int) -> Any:
    if isinstance(v, float):
        r = round(v, decimals)
        return int(r) if decimals == 0 else r
    if hasattr(v, "as_integer_ratio") and not isinstance(v, int | bool):  # Decimal
        return _round(float(v), decimals)
    return v


def fmt(v: Any, decimals: int = 0) -> str:
    if v is None:
        return "无数据"
    if isinstance(v, int | float):
        return f"{v:,.{decimals}f}" if isinstance(v, float) or decimals else f"{v:,}"
    return str(v)


def _scope(plan: Plan, period: str) -> str:
    labels = [f.label for f in plan.filters]
    parts = [p for p in (period, "、".join(labels)) if p]
    return "，".join(parts)


def _unit(plan: Plan) -> str:
    return plan.unit or plan.metric.unit


def _metric_label(plan: Plan) -> str:
    agg = plan.agg if plan.metric.column else None
    prefix = {"avg": "平均", "sum": "合计", "max": "最高", "min": "最低", "median": "中位数"}.get(agg or "", "")
    if agg == plan.metric.agg:
        prefix = "平均" if agg == "avg" else ""
    if plan.metric.column and agg is None and plan.metric.agg == "avg":
        prefix = "平均"
    name = f"{prefix}{plan.metric.name}" if not plan.metric.name.startswith(prefix or "\0") else plan.metric.name
    if plan.per_day and (plan.metric.is_count or (plan.agg or plan.metric.agg) == "sum"):
        name = f"日均{plan.metric.name}"
    elif plan.per_hour:
        name = f"平均每小时{plan.metric.name}"
    elif plan.per_group is not None:
        name = f"平均每{'个' if plan.per_group[1] in ('区', '月', '季度') else ''}{plan.per_group[1]}{plan.metric.name}"
    if plan.per_capita and plan.per_base[2].startswith("占"):
        return f"{name}{plan.per_base[2]}"  # 低保户数占常住户的比例（%）
    return f"{plan.per_base[2]}{name}" if plan.per_capita else name


def _key_label(plan: Plan, key: Any) -> str:
    if plan.group is not None:
        return plan.group.label(key)
    if plan.time_group == "weekday":
        return "周" + "日一二三四五六"[int(key)] if key is not None else "（空）"
    return str(key)


def _change_words(plan: Plan, value: Any, unit: str) -> tuple[str, str]:
    """How a change reads (增长/下降, 增加/减少, 提高/降低, 相差) and its unit."""
    up = (value or 0) >= 0
    if not plan.absolute:
        return ("增长" if up else "下降"), "%"
    if unit == "%":
        return ("相差" if plan.unsigned else "提高" if up else "降低"), " 个百分点"
    return ("相差" if plan.unsigned else "增加" if up else "减少"), f" {unit}" if unit else ""


def _difference(plan: Plan, rows: list[list[Any]], shown: list[list[Any]], head: str, name: str, unit: str,
                decimals: int) -> tuple[float | int | None, str]:
    """光谷区比东湖区多多少: the first value's figure minus the second's (both rows are shown)."""
    assert plan.difference is not None and plan.group is not None
    figures = {str(r[0]): r[1] for r in rows}
    a, b = (figures.get(str(v)) for v in plan.difference)
    la, lb = (plan.group.label(v) for v in plan.difference)
    if a is None or b is None:
        return None, f"{head}{plan.table.title}缺少{la if a is None else lb}的数据，无法计算差值"
    if plan.times:  # 光谷区GDP是东湖区的几倍
        ratio = float(a) / float(b) if float(b) else None
        return _round(ratio, PRECISE), (f"{head}{plan.table.title}的{name}：{la} {fmt(_round(a, decimals), decimals)}，"
                                        f"{lb} {fmt(_round(b, decimals), decimals)}，{la}是{lb}的 {fmt(ratio, 2)} 倍")
    diff = float(a) - float(b)
    value = _round(abs(diff) if plan.unsigned else -diff if plan.lower else diff, PRECISE)
    unit_text = " 个百分点" if unit == "%" else f" {unit}" if unit else ""
    additive = plan.metric.is_count or (plan.metric.column is not None and (plan.agg or plan.metric.agg) == "sum")
    verb = f"{la}比{lb}" + (("多" if diff >= 0 else "少") if additive else ("高" if diff >= 0 else "低"))
    if plan.unsigned:
        verb = "两者相差"
    return value, (f"{head}{plan.table.title}的{name}：{la} {fmt(_round(a, decimals), decimals)}，{lb} "
                   f"{fmt(_round(b, decimals), decimals)}，{verb} {fmt(_round(abs(diff), decimals), decimals)}"
                   f"{unit_text}")


def _row_key(plan: Plan, key: Any) -> Any:
    """A group's key as the table shows it: a year or an hour stays a number (the column names it)."""
    if plan.group is not None and plan.group.label_suffix and isinstance(key, int) and not isinstance(key, bool):
        return key
    return _key_label(plan, key)


def compose(plan: Plan, built: Built, columns: list[str], rows: list[list[Any]]) -> DataAnswer:
    """The sentence, the shown table and the chart for what the query returned."""
    table, unit = plan.table, _unit(plan)
    decimals = plan.metric.decimals if not plan.per_capita else 2
    if plan.metric.column and (plan.agg or plan.metric.agg) == "avg":
        decimals = max(decimals, 2)
    if plan.scale < 1:
        decimals = max(decimals, 2)
    name = _metric_label(plan)
    scope = _scope(plan, built.period)
    head = f"{scope}，" if scope else ""
    value: float | int | str | None = None
    chart_svg = None
    shown_cols, shown = columns, rows
    if built.shape == "value":
        value = _round(rows[0][0], PRECISE) if rows else None
        answer = f"{head}{table.title}的{name}为 {fmt(value, decimals)} {unit if not plan.per_capita else ''}".rstrip()
        shown_cols, shown = [f"{name}（{unit}）" if unit and not plan.per_capita else name], [[value]]
    elif built.shape == "city_difference":
        here, city, diff = rows[0] if rows else (None, None, None)
        value = _round(diff, PRECISE)
        label = plan.against_city.label if plan.against_city else ""
        whole = "全市平均" if _additive(plan) else "全市"
        diff_unit = "个百分点" if unit == "%" else unit
        answer = (f"{head or label + '，'}{table.title}的{name}为 {fmt(_round(here, decimals), decimals)} {unit}，{whole}为 "
                  f"{fmt(_round(city, decimals), decimals)} {unit}，"
                  f"{'相差' if plan.unsigned else '低' if plan.lower else '高'} {fmt(value, max(decimals, 2))} {diff_unit}")
        shown_cols = ["", f"{name}（{unit}）"]
        shown = [[label, _round(here, PRECISE)], [whole, _round(city, PRECISE)], ["差值", value]]
    elif built.shape == "share":
        part, whole, pct = rows[0] if rows else (None, None, None)
        value = _round(pct, PRECISE)
        whole_scope = "全市" if plan.share_drop and plan.share_drop.kind == "district" else "全部"
        answer = (f"{head}{table.title}的{name}为 {fmt(_round(part, decimals), decimals)} {unit}，"
                  f"占{whole_scope} {fmt(_round(whole, decimals), decimals)} {unit}的 {fmt(value, 2)}%")
        shown_cols = [f"{name}（{unit}）", f"总数（{unit}）", "占比（%）"]
        shown = [[_round(part, PRECISE), _round(whole, PRECISE), value]]
    elif built.shape == "compare":
        cur, prev, pct = rows[0] if rows else (None, None, None)
        value = _round(pct, PRECISE)
        word = {"mom": "环比", "yoy": "同比", "pair": "相比"}.get(plan.compare or "", "比上年")
        prev_label = built.previous.label if built.previous else "上一期"
        change, change_unit = _change_words(plan, value, unit)
        if plan.annual:
            word = f"{prev_label}至{built.period}年均"
        answer = (f"{head}{table.title}的{name}为 {fmt(_round(cur, decimals), decimals)} {unit}，{prev_label}为 "
                  f"{fmt(_round(prev, decimals), decimals)} {unit}，{word}{change} "
                  f"{fmt(abs(value) if value is not None else None, 2 if not plan.absolute else max(decimals, 2))}"
                  f"{change_unit}")
        shown_cols = ["时期", f"{name}（{unit}）"]
        shown = [[built.period, _round(cur, PRECISE)], [prev_label, _round(prev, PRECISE)],
                 [f"{word}{change}（{change_unit.strip() or unit or '—'}）", value]]
    elif built.shape == "group_compare":
        assert plan.group is not None
        word = {"mom": "环比", "yoy": "同比", "pair": "相比"}.get(plan.compare or "", "增长")
        prev_label = built.previous.label if built.previous else "上一期"
        change_unit = _change_words(plan, 0, unit)[1].strip() or unit or "—"
        shown_cols = [plan.group.name, f"{word}{'变化' if plan.absolute else '增长'}（{change_unit}）",
                      f"{built.period}{name}（{unit}）", f"{prev_label}（{unit}）"]
        shown = [[_key_label(plan, r[0]), _round(r[1], PRECISE), _round(r[2], PRECISE), _round(r[3], PRECISE)]
                 for r in rows]
        if plan.which and shown:
            value = shown[0][0]
        listed = "；".join(f"{r[0]} {fmt(r[1], 2)}{change_unit if change_unit != '%' else '%'}" for r in shown[:6])
        answer = f"{head}{table.title}的{name}{word}（对{prev_label}）按{plan.group.name}：{listed}" if shown else \
            f"{head}{table.title}没有符合条件的数据"
        if len(shown) > 1:
            chart_svg = chart.bar(f"{name}{word}", [str(r[0]) for r in shown][:30],
                                  [float(r[1]) if r[1] is not None else 0.0 for r in shown][:30], "%")
    else:
        key_name = plan.group.name if plan.group else {"month": "月份", "quarter": "季度", "day": "日期",
                                                        "weekday": "星期"}.get(plan.time_group or "", "分组")
        shown_cols = [key_name, f"{name}（{unit}）" if unit and not plan.per_capita else name]
        if built.shape == "share_group":
            shown_cols.append("占比（%）")
        shown = [[_row_key(plan, r[0]), _round(r[1], PRECISE)] + ([_round(r[2], PRECISE)] if len(r) > 2 else [])
                 for r in rows]
        if plan.time_group == "month" and len({str(r[0])[:4] for r in rows}) == 1 and rows:
            shown_cols.append("月")  # one year's months: the month's number beside 2025-07
            shown = [row + [int(str(r[0])[5:7])] for row, r in zip(shown, rows, strict=True)]
        if plan.time_group == "quarter" and len({str(r[0])[:4] for r in rows}) == 1 and rows:
            shown_cols.append("季度")  # one year's quarters: the quarter's number beside 2025-Q3
            shown = [row + [int(str(r[0])[-1])] for row, r in zip(shown, rows, strict=True)]
        if plan.group is not None and plan.group.show_key:  # 已办结 (closed): the code as the data has it
            shown_cols.append(f"{plan.group.name}代码")
            shown = [row + [r[0]] for row, r in zip(shown, rows, strict=True)]
        if not shown:
            answer = f"{head}{table.title}没有符合条件的数据"
        elif plan.difference is not None:
            value, answer = _difference(plan, rows, shown, head, name, unit, decimals)
        elif plan.which:
            top = [_key_label(plan, rows[0][0]), shown[0][1]]
            value = top[0]
            most = ("最多" if plan.descending else "最少") if plan.metric.is_count else (
                "最高" if plan.descending else "最低")
            answer = f"{head}{table.title}的{name}{most}的{key_name}是{top[0]}，为 {fmt(top[1], decimals)} {unit}".rstrip()
        else:
            listed = "；".join(f"{_key_label(plan, raw[0])} {fmt(r[1], decimals)}" for r, raw in zip(shown[:6], rows,
                                                                                                     strict=False))
            more = f" 等 {len(shown)} 项" if len(shown) > 6 else ""
            answer = f"{head}{table.title}的{name}按{key_name}：{listed}{more}（单位：{unit or '—'}）"
        numbers = [float(r[1]) if r[1] is not None else 0.0 for r in shown]
        if len(shown) > 1:
            title = f"{scope + ' ' if scope else ''}{name}"
            labels = [str(r[0]) for r in shown]
            chart_svg = chart.line(title, labels, numbers, unit) if plan.time_group or (
                plan.group is not None and plan.group.id in ("year", "hour", "founded_year")) else \
                chart.bar(title, labels[:30], numbers[:30], unit)
    datasets = sorted({table.id} | {f.table for f in plan.filters} | ({"districts"} if plan.per_capita else set())
                      | ({plan.group_table} if plan.group_table else set()))
    answer = answer.replace(" %", "%")
    return DataAnswer(status="answered", answer=answer + "。", sql=built.sql, columns=shown_cols, rows=shown, value=value,
                      datasets=datasets, chart_svg=chart_svg, confidence=round(plan.confidence, 2))


def not_understood(reason: str, question: str, confidence: float = 0.0) -> DataAnswer:
    english = question.isascii()
    return DataAnswer(status="not_understood", answer=f"没能可靠地理解这个问题：{reason}。我可以回答：{CAN_ANSWER}"
                      + (f" {_ENGLISH_HINT}" if english else ""), reason=reason, confidence=round(confidence, 2))


def snapshot_date() -> dt.date:
    return settings().section(DataSettings).snapshot_date


def row_limit() -> int:
    return settings().section(DataSettings).row_limit


def embedded_answer(question: str, role: str, department: str | None, as_of: dt.date,
                    conn: duckdb.DuckDBPyConnection, engine: Engine) -> DataAnswer:
    """The embedded parser's answer (no model)."""
    plan, refusal, _ = parse.plan_question(question, engine.layer, as_of)
    if refusal is not None:
        return DataAnswer(status="refused", answer=f"不能提供：{refusal.reason}{refusal.alternative}",
                          reason=refusal.reason, alternative=refusal.alternative,
                          datasets=[refusal.table] if refusal.table else [], confidence=1.0)
    if plan is None:
        return not_understood("没有识别出问的是哪类数据", question)
    if plan.confidence < MIN_CONFIDENCE:
        return not_understood(f"问题中“{plan.residual or question}”没能对应到数据中的指标或条件", question,
                              plan.confidence)
    policy = caller_access(engine, role, department)
    plan.aggregate_only = plan.table.id not in policy.row_tables
    try:
        built = build(plan, engine, as_of)
    except NotAnswerable as exc:
        answer = not_understood(exc.reason, question, min(plan.confidence, 0.3))
        answer.datasets = [plan.table.id]
        return answer
    try:
        checked = sqlcheck.check(built.sql, policy, row_limit())
    except sqlcheck.SqlRefused as exc:
        return DataAnswer(status="refused", answer=f"不能提供：{exc.reason}", reason=exc.reason, sql=built.sql,
                          datasets=[plan.table.id], confidence=1.0,
                          alternative="可以改问不含个人信息、按组汇总的问题。")
    columns, rows = run_checked(conn, checked)
    built.sql = checked.sql
    return compose(plan, built, columns, rows)


def ask(question: str, *, role: str = "official", department: str | None = None,
        as_of: dt.date | None = None) -> DataAnswer:
    """Answer one question over the data hub for a caller (`role`, `department`), with relative
    time phrases resolved against `as_of` (the pack's snapshot date unless given)."""
    question = _checked_question(question)
    as_of = as_of or snapshot_date()
    conn, source = connection()
    try:
        engine = _engine(conn, source)
        if ask_llm.enabled(after_parser=False):
            found = _model_answer(question, role, department, as_of, conn, engine)
            if found is not None:
                return found
        parsed = embedded_answer(question, role, department, as_of, conn, engine)
        if parsed.status == "not_understood" and ask_llm.enabled(after_parser=True):
            return _model_answer(question, role, department, as_of, conn, engine) or parsed
        return parsed
    finally:
        conn.close()


def ask_pack(question: str, *, role: str = "official", department: str | None = None,
             as_of: dt.date | None = None) -> DataAnswer:
    """The embedded parser's answer over the packaged demo pack in memory, never the store: for the
    evaluation (`aicity eval data --pack`), which must run while a server holds the store file."""
    question = _checked_question(question)
    conn = _pack_connection()
    try:
        return embedded_answer(question, role, department, as_of or snapshot_date(), conn, _engine(conn, "pack"))
    finally:
        conn.close()


def _checked_question(question: str) -> str:
    question = (question or "").strip()
    if not question:
        raise ValueError("问题为空 empty question")
    if len(question) > 500:
        raise ValueError("问题过长（最多 500 字） question too long (500 characters at most)")
    return question


def _model_answer(question: str, role: str, department: str | None, as_of: dt.date,
                  conn: duckdb.DuckDBPyConnection, engine: Engine) -> DataAnswer | None:
    """The model's answer, or None when the model failed (the parser's answer then stands). A
    personal-data request is refused before any model sees it."""
    plan, refusal, _ = parse.plan_question(question, engine.layer, as_of)
    if refusal is not None:
        return None
    try:
        return ask_llm.answer(question, role, as_of, conn, engine.layer, caller_access(engine, role, department),
                              row_limit(), run_checked, DataAnswer)
    except ask_llm.ModelFailed as exc:
        log.warning("data ask: model failed, using the embedded parser: %s", exc)
        return None


def run_sql(sql: str, *, role: str = "official", department: str | None = None,
            dialect: str = sqlcheck.DIALECT) -> tuple[str, list[str], list[list[Any]]]:
    """A caller's own SELECT over the same data the questions read (the store, or the packaged pack),
    checked by `sqlcheck` for that caller exactly as a question's SQL is (allowed tables and columns,
    never personal columns, aggregate-only where rows may not be read, the row limit); for agents that
    read the hub's data. `dialect`: DuckDB's (default) or PostgreSQL's ("postgres"), on either store.
    Returns the SQL that ran (DuckDB's), the columns and the rows; raises `sqlcheck.SqlRefused`."""
    conn, source = connection()
    try:
        engine = _engine(conn, source)
        checked = sqlcheck.check(sql, caller_access(engine, role, department), row_limit(), dialect)
        columns, rows = run_checked(conn, checked)
        return checked.sql, columns, rows
    finally:
        conn.close()
