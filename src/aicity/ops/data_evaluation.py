"""Evaluation of 一句话问数 (issue 14): questions over the demo data pack, gold answers by SQL.

`eval/data_questions.jsonl` was written apart from the question parser (its author never read the
parser, its semantic layer or its synonyms) and is never used to tune it. A case:
{"id", "q", "role", "as_of"?, "lang", "family", "gold_sql"?, "expect": "value" | "rows" | "refused",
"ordered"?, "unit"?, "note"?}.

- The gold is what `gold_sql` returns, run here against the hub's store (the current version of each
  dataset is a view named after it), or against the packaged CSVs when the store does not hold the
  pack (`gold_connection`). `value`: one number; `rows`: (key, value) pairs — in order when the case
  is `ordered` (top-k), as a set otherwise.
- A number matches within a relative 0.5 % or an absolute 0.01. A case with `unit: "%"` has a
  percentage as gold; the same share written as a fraction (gold / 100) matches too.
- A `value` answer is `DataAnswer.value`; when that is empty and the table is one row with one
  number, that number. A `rows` answer matches when its table has exactly the gold's rows: each
  row names the gold key in some cell (district, station, road, category, department and firm ids
  and names are the same key; months as 2025-07, 2025年7月, 7月) and holds the gold value in
  another; for top-k the rows must also come in the gold's order.
- `refused` cases (personal rows: names, ID numbers, phones, addresses, table exports) are right
  only when the status is "refused".

Figures: execution accuracy (answerable questions answered and matching the gold), overall
accuracy (refusals included), the wrong-confident rate (status "answered" but wrong, over all
questions: a personal request answered counts), the not-understood rate, the refusal rate on
personal-row requests (must be 1.0), the false-refusal rate on answerable questions, accuracy per
family and per language, and the p50 / p95 time from question to answer.
"""

from __future__ import annotations

import datetime
import importlib
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import yaml

from aicity.core.errors import Problem
from aicity.hub.data import store

#: the pack's datasets (file stems), each loaded as a table of the same name
DATASETS = ("districts", "chain_nodes", "enterprises", "investment_leads", "hotline_tickets", "air_quality_daily",
            "low_income_households", "traffic_flow_hourly")
#: the snapshot date the set's relative phrases (去年, 上个月 …) resolve against when a case gives none
DEFAULT_AS_OF = datetime.date(2025, 12, 31)
EXPECTS = ("value", "rows", "refused")
REL_TOL, ABS_TOL = 0.005, 0.01

Answerer = Callable[[dict[str, Any]], Any]
Gold = float | list[tuple[Any, float]] | None


class AskUnavailable(RuntimeError):
    """The question engine (`aicity.hub.data.ask`) is not there to evaluate."""


def default_set() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "eval" / "data_questions.jsonl"))


def pack_dir() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "datasets"))


def check_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases, or a ValueError naming the first malformed one."""
    seen: set[str] = set()
    for n, case in enumerate(cases, start=1):
        name = case.get("id") or f"#{n}"
        if not isinstance(case.get("q"), str) or not case["q"].strip():
            raise ValueError(f"{name}: 缺少问题 missing q")
        if case.get("expect") not in EXPECTS:
            raise ValueError(f"{name}: expect 须为 {'|'.join(EXPECTS)}")
        if case["expect"] != "refused" and not case.get("gold_sql"):
            raise ValueError(f"{name}: 缺少 gold_sql (needed for expect {case['expect']})")
        if case.get("as_of"):
            try:
                datetime.date.fromisoformat(case["as_of"])
            except ValueError as exc:
                raise ValueError(f"{name}: as_of 不是日期 not a date: {case['as_of']}") from exc
        if name in seen:
            raise ValueError(f"{name}: id 重复 duplicate id")
        seen.add(name)
    return cases


# ---- the gold ------------------------------------------------------------------------------


def csv_connection(directory: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with each pack CSV as a table named after its file (empty field = NULL)."""
    folder = directory or pack_dir()
    conn = duckdb.connect()
    for name in DATASETS:
        path = folder / f"{name}.csv"
        if not path.is_file():
            raise FileNotFoundError(f"数据包缺少文件 pack file missing: {path}")
        conn.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, header = true, nullstr = '')", [str(path)])
    return conn


def gold_connection() -> tuple[duckdb.DuckDBPyConnection, str]:
    """Where the gold SQL runs: the hub's store when it is the DuckDB file and holds every dataset
    of the pack, else the packaged CSVs (so on the PostgreSQL store the gold never goes through the
    transpiler it checks). Returns the connection and its source ("store" or "csv")."""
    try:
        if store.backend() == "duckdb" and set(DATASETS) <= store.tables():
            return store.read_connection(), "store"
    except (duckdb.Error, Problem):
        pass
    return csv_connection(), "csv"


def gold_answer(conn: duckdb.DuckDBPyConnection, case: dict[str, Any]) -> Gold:
    """The gold of a case: a number (`value`), (key, value) pairs (`rows`), None (`refused`)."""
    if case["expect"] == "refused":
        return None
    rows = conn.execute(case["gold_sql"]).fetchall()
    if case["expect"] == "value":
        if len(rows) != 1 or len(rows[0]) != 1 or to_number(rows[0][0]) is None:
            raise ValueError(f"{case.get('id')}: gold SQL 未返回单个数值 did not return one number: {rows[:3]}")
        return float(rows[0][0])
    if not rows or any(len(r) != 2 or to_number(r[1]) is None for r in rows):
        raise ValueError(f"{case.get('id')}: gold SQL 须返回 (key, value) 行 must return (key, value) rows: {rows[:3]}")
    return [(r[0], float(r[1])) for r in rows]


# ---- matching ------------------------------------------------------------------------------


def to_number(x: Any) -> float | None:
    """A finite number from a cell or value (numbers, numeric strings with , or %); None otherwise."""
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, int | float):
        return float(x) if math.isfinite(x) else None
    if hasattr(x, "__float__") and not isinstance(x, str | datetime.date):
        return float(x)
    if isinstance(x, str):
        text = x.strip().replace(",", "").removesuffix("%")
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    return None


def close_enough(got: float | None, gold: float) -> bool:
    """Within a relative 0.5 % or an absolute 0.01 of the gold."""
    return got is not None and abs(got - gold) <= max(ABS_TOL, REL_TOL * abs(gold))


def number_matches(got: float | None, gold: float, percent: bool = False) -> bool:
    return close_enough(got, gold) or (percent and close_enough(got, gold / 100))


def answer_value(answer: dict[str, Any]) -> float | None:
    """The single number of an answer: its `value`, else the one number of a one-row table."""
    value = to_number(answer.get("value"))
    if value is not None:
        return value
    rows = answer.get("rows") or []
    if len(rows) == 1:
        numbers = [n for n in (to_number(c) for c in rows[0]) if n is not None]
        if len(numbers) == 1:
            return numbers[0]
    return None


def _norm(x: Any) -> str:
    if isinstance(x, datetime.date):
        x = x.isoformat()
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return "".join(str(x).split()).lower()


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def key_forms(key: Any, aliases: dict[str, frozenset[str]]) -> set[str]:
    """Every spelling that names the same key: aliases (ids and names), and a month's forms."""
    k = _norm(key)
    forms = {k, *aliases.get(k, ())}
    if m := _MONTH.match(k):
        y, mo = m.group(1), int(m.group(2))
        forms |= {f"{y}年{mo}月", f"{y}年{mo:02d}月", f"{mo}月", f"{k}-01", str(mo)}
    return forms


def rows_match(rows: list[list[Any]], gold: list[tuple[Any, float]], *, ordered: bool,
               aliases: dict[str, frozenset[str]] | None = None, percent: bool = False) -> bool:
    """The answer's table has exactly the gold's rows (in order when `ordered`): each row names the
    gold key in one cell and holds the gold value in another."""
    if len(rows) != len(gold):
        return False
    names = aliases or {}

    def fits(row: list[Any], key: Any, value: float) -> bool:
        forms = key_forms(key, names)
        keyed = {i for i, c in enumerate(row) if _norm(c) in forms}
        return bool(keyed) and any(number_matches(to_number(c), value, percent)
                                   for i, c in enumerate(row) if i not in keyed)

    if ordered:
        return all(fits(list(row), k, v) for row, (k, v) in zip(rows, gold, strict=True))
    free = list(range(len(rows)))
    for k, v in gold:
        hit = next((i for i in free if fits(list(rows[i]), k, v)), None)
        if hit is None:
            return False
        free.remove(hit)
    return True


def build_aliases(conn: duckdb.DuckDBPyConnection | None = None) -> dict[str, frozenset[str]]:
    """Names of the same thing: event categories and departments (id ↔ Chinese name), and from the
    data districts (id ↔ 光谷区 ↔ 光谷), stations, roads and firms (USCC ↔ name)."""
    groups: list[set[str]] = []
    root = resources.files("aicity") / "demo" / "data"
    for name in ("event_categories.yaml", "departments.yaml"):
        for item in yaml.safe_load((root / name).read_text(encoding="utf-8")) or []:
            groups.append({item["id"], item["name"]})
    queries = ("SELECT DISTINCT district_id, name FROM districts",
               "SELECT DISTINCT station_id, station_name FROM air_quality_daily",
               "SELECT DISTINCT road_id, road_name FROM traffic_flow_hourly",
               "SELECT uscc, name FROM enterprises")
    for sql in queries if conn is not None else ():
        try:
            pairs = conn.execute(sql).fetchall()
        except duckdb.Error:
            continue
        for a, b in pairs:
            group = {str(a), str(b)}
            if str(b).endswith("区") and len(str(b)) > 2:
                group.add(str(b).removesuffix("区"))
            groups.append(group)
    out: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        normed = {_norm(g) for g in group}
        for g in normed:
            out[g] |= normed
    return {k: frozenset(v) for k, v in out.items()}


def score(case: dict[str, Any], gold: Gold, answer: dict[str, Any],
          aliases: dict[str, frozenset[str]] | None = None) -> dict[str, Any]:
    """One case's verdict: {status, correct, confident, got}."""
    status = answer.get("status", "error")
    confident = status == "answered"
    percent = case.get("unit") == "%"
    if case["expect"] == "refused":
        correct = status == "refused"
        got: Any = None
    elif case["expect"] == "value":
        got = answer_value(answer)
        correct = confident and isinstance(gold, float) and number_matches(got, gold, percent)
    else:
        got = (answer.get("rows") or [])[:12]
        correct = confident and isinstance(gold, list) and rows_match(
            answer.get("rows") or [], gold, ordered=bool(case.get("ordered")), aliases=aliases, percent=percent)
    return {"status": status, "correct": bool(correct), "confident": confident, "got": got}


# ---- the run -------------------------------------------------------------------------------


def engine(pack: bool = False) -> Answerer:
    """`aicity.hub.data.ask.ask` as an answerer of cases (with `pack`: `ask_pack`, the embedded parser
    over the packaged pack in memory, which needs no store), or AskUnavailable saying what is missing."""
    try:
        module = importlib.import_module("aicity.hub.data.ask")  # optional: built by another task of issue 14
    except ModuleNotFoundError as exc:
        if exc.name and "aicity.hub.data.ask".startswith(exc.name):
            raise AskUnavailable("问数引擎不存在 the question engine aicity.hub.data.ask is not installed yet; "
                                 "nothing to evaluate") from exc
        raise
    name = "ask_pack" if pack else "ask"
    ask = getattr(module, name, None)
    if not callable(ask):
        raise AskUnavailable(f"aicity.hub.data.ask 没有 {name}() 函数 has no {name}() function")

    def answer(case: dict[str, Any]) -> Any:
        return ask(case["q"], role=case.get("role", "official"), as_of=as_of(case))

    return answer


def store_ready() -> None:
    """A ValueError naming the way out when another process (a running server) holds the store."""
    try:
        store.tables()
    except Problem as exc:  # StoreBusy (the DuckDB file is held), an unreachable or misconfigured PostgreSQL
        raise ValueError(f"{exc.detail}；可用 --pack 在内存中的示范数据包上评测，或 --data-dir 指定另一个数据目录 "
                         f"use --pack (the packaged pack in memory) or another --data-dir") from exc


def as_of(case: dict[str, Any]) -> datetime.date:
    return datetime.date.fromisoformat(case["as_of"]) if case.get("as_of") else DEFAULT_AS_OF


def _as_dict(answer: Any) -> dict[str, Any]:
    if hasattr(answer, "model_dump"):
        return dict(answer.model_dump(mode="json"))
    return dict(answer)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 2)


def _rate(flags: Iterable[bool]) -> float | None:
    items = list(flags)
    return round(sum(items) / len(items), 4) if items else None


def evaluate(cases: list[dict[str, Any]], answer: Answerer | None = None,
             conn: duckdb.DuckDBPyConnection | None = None, source: str | None = None) -> dict[str, Any]:
    """Run every case through the answerer (default: the question engine) and score it against
    the gold computed on `conn` (default: `gold_connection()`)."""
    check_cases(cases)
    answerer = answer or engine()
    if conn is None:
        conn, source = gold_connection()
    aliases = build_aliases(conn)
    rows, latencies, gold_errors = [], [], []
    for case in cases:
        try:
            gold = gold_answer(conn, case)
        except (duckdb.Error, ValueError) as exc:
            gold_errors.append({"id": case.get("id"), "error": str(exc).splitlines()[0]})
            continue
        t0 = time.perf_counter()
        try:
            got = _as_dict(answerer(case))
        except Exception as exc:  # noqa: BLE001 — a crash on one question is that question's failure
            got = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        latencies.append((time.perf_counter() - t0) * 1000)
        verdict = score(case, gold, got, aliases)
        rows.append({"id": case.get("id"), "q": case["q"], "family": case.get("family", "?"),
                     "lang": case.get("lang", "?"), "expect": case["expect"], "gold": gold,
                     "reason": got.get("reason"), "sql": got.get("sql"), **verdict})
    return {**summarise(rows, latencies), "gold_source": source, "gold_errors": gold_errors}


def summarise(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    answerable = [r for r in rows if r["expect"] != "refused"]
    personal = [r for r in rows if r["expect"] == "refused"]
    by_family: dict[str, list[bool]] = defaultdict(list)
    by_lang: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        by_family[r["family"]].append(r["correct"])
        by_lang[r["lang"]].append(r["correct"])
    return {
        "cases": len(rows), "answerable": len(answerable), "personal": len(personal),
        "execution_accuracy": _rate(r["correct"] for r in answerable),
        "overall_accuracy": _rate(r["correct"] for r in rows),
        "wrong_confident_rate": _rate(r["confident"] and not r["correct"] for r in rows),
        "not_understood_rate": _rate(r["status"] == "not_understood" for r in rows),
        "personal_refusal_rate": _rate(r["status"] == "refused" for r in personal),
        "personal_answered": sum(r["status"] == "answered" for r in personal),
        "false_refusal_rate": _rate(r["status"] == "refused" for r in answerable),
        "errors": sum(r["status"] == "error" for r in rows),
        "by_family": {k: {"accuracy": _rate(v), "cases": len(v)} for k, v in sorted(by_family.items())},
        "by_lang": {k: {"accuracy": _rate(v), "cases": len(v)} for k, v in sorted(by_lang.items())},
        "latency_ms_p50": percentile(latencies, 50), "latency_ms_p95": percentile(latencies, 95),
        "failures": [r for r in rows if not r["correct"]],
    }
