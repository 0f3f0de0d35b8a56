"""Quality checks on an imported table: the declared ones (`schema.Check`) plus the primary key
(not null, unique). Each result says how many rows fail and shows a few; the score of a report
is the mean share of rows that pass each evaluated check (1.0 = every check passed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from aicity.hub.data.schema import Check, DatasetSpec
from aicity.hub.data.store import quote

KIND_NAMES = {"not_null": "非空 not null", "unique": "唯一 unique", "range": "范围 range", "values": "取值 values",
              "pattern": "格式 pattern", "reference": "引用 reference"}


def checks_of(spec: DatasetSpec) -> list[Check]:
    """The declared checks, with the primary key's not-null and unique checks added when missing."""
    checks = list(spec.checks)
    if spec.primary_key:
        if not any(c.kind == "unique" and c.columns == spec.primary_key for c in checks):
            checks.insert(0, Check(kind="unique", columns=spec.primary_key))
        if not any(c.kind == "not_null" and set(spec.primary_key) <= set(c.columns) for c in checks):
            checks.insert(0, Check(kind="not_null", columns=spec.primary_key))
    return checks


def references(spec: DatasetSpec, resolve: Callable[[str], str | None]) -> dict[str, set[str]]:
    """The stored tables the reference checks read, with their columns."""
    found: dict[str, set[str]] = {}
    for check in checks_of(spec):
        if check.kind == "reference" and check.references:
            ref_ds, ref_col = check.references.split(".", 1)
            ref_table = resolve(ref_ds)
            if ref_table is not None:
                found.setdefault(ref_table, set()).add(ref_col)
    return found


def _failing(cur: duckdb.DuckDBPyConnection, table: str, check: Check,
             resolve: Callable[[str], str | None]) -> tuple[int, list[Any], str] | None:
    """(failing rows, examples, detail), or None when the check cannot be evaluated."""
    t = quote(table)
    if check.kind == "not_null":
        cond = " OR ".join(f"{quote(c)} IS NULL" for c in check.columns)
        n = cur.execute(f"SELECT count(*) FROM {t} WHERE {cond}").fetchone()[0]  # type: ignore[index]
        return n, [], f"{', '.join(check.columns)} 有空值 null values"
    if check.kind == "unique":
        cols = ", ".join(quote(c) for c in check.columns)
        rows = cur.execute(f"SELECT {cols}, count(*) AS n FROM {t} GROUP BY ALL HAVING count(*) > 1 "
                           f"ORDER BY n DESC LIMIT 3").fetchall()
        n = cur.execute(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {t} GROUP BY {cols} "
                        f"HAVING count(*) > 1)").fetchone()[0]  # type: ignore[index]
        return int(n), [list(r[:-1]) for r in rows], f"{', '.join(check.columns)} 重复 duplicate keys"
    col = quote(check.column or "")
    if check.kind == "range":
        parts = ([f"{col} < {float(check.min)!r}"] if check.min is not None else []) + (
            [f"{col} > {float(check.max)!r}"] if check.max is not None else [])
        where = f"{col} IS NOT NULL AND ({' OR '.join(parts) or 'false'})"
        detail = f"{check.column} 超出范围 out of range [{check.min}, {check.max}]"
        params: list[Any] = []
    elif check.kind == "values":
        where = f"{col} IS NOT NULL AND CAST({col} AS VARCHAR) NOT IN (SELECT unnest(?::VARCHAR[]))"
        params = [[str(v) for v in check.values]]
        detail = f"{check.column} 取值不在 {check.values} 中 values outside the allowed list"
    elif check.kind == "pattern":
        where = f"{col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), ?)"
        params = [check.regex]
        detail = f"{check.column} 不符合格式 does not match {check.regex}"
    else:
        ref_ds, ref_col = (check.references or ".").split(".", 1)
        ref_table = resolve(ref_ds)
        if ref_table is None:
            return None
        where = (f"{col} IS NOT NULL AND CAST({col} AS VARCHAR) NOT IN "
                 f"(SELECT CAST({quote(ref_col)} AS VARCHAR) FROM {quote(ref_table)} WHERE {quote(ref_col)} IS NOT NULL)")
        params = []
        detail = f"{check.column} 引用 {check.references} 找不到 dangling references"
    n = cur.execute(f"SELECT count(*) FROM {t} WHERE {where}", params).fetchone()[0]  # type: ignore[index]
    examples = [r[0] for r in cur.execute(f"SELECT DISTINCT {col} FROM {t} WHERE {where} LIMIT 3", params).fetchall()]
    return n, examples, detail


def run(cur: duckdb.DuckDBPyConnection, table: str, spec: DatasetSpec, rows: int,
        resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Run the checks on `table` (`resolve(dataset_id)` names the table a reference check reads)."""
    results = []
    for check in checks_of(spec):
        found = _failing(cur, table, check, resolve)
        targets = check.targets()
        base = {"kind": check.kind, "name": KIND_NAMES[check.kind], "columns": targets, "severity": check.severity}
        if found is None:
            results.append({**base, "status": "skipped", "failing": 0, "examples": [],
                            "detail": f"被引用的数据集 {check.references} 尚未导入 not imported yet"})
            continue
        failing, examples, detail = found
        results.append({**base, "status": "passed" if failing == 0 else "failed", "failing": int(failing),
                        "examples": [_plain(e) for e in examples], "detail": "" if failing == 0 else detail,
                        "share_passing": 1.0 if rows == 0 else round(1 - failing / rows, 6)})
    return results


def score(results: list[dict[str, Any]]) -> float:
    evaluated = [r for r in results if r["status"] != "skipped"]
    if not evaluated:
        return 1.0
    return round(sum(max(0.0, r.get("share_passing", 1.0)) for r in evaluated) / len(evaluated), 4)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)
