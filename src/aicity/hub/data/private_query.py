"""Aggregate-only queries that run next to the data ("usable but invisible", 可用不可见).

A consumer sends a structured request, not SQL: a metric (count, sum or mean) over a column
with declared bounds, group-by dimensions and filters. The engine builds the SQL itself (quoted
identifiers that exist in the dataset, values as parameters), runs it in DuckDB on the agreed
version of the dataset, drops every group smaller than the agreement's minimum group size, and
adds noise calibrated to the request's epsilon with IBM's diffprivlib:

- count: the geometric mechanism (the discrete Laplace), sensitivity 1 (one person's row more or less);
- sum: the Laplace mechanism, values clipped to [lower, upper], sensitivity max(|lower|, |upper|);
- mean: a noisy sum over a noisy count, the epsilon split in half between them.

Every row belongs to one group, so one request costs its epsilon however many groups it has
(parallel composition); requests add up (sequential composition). What leaves is the group's
key and its noisy value — never a row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from diffprivlib.mechanisms import Geometric, Laplace
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aicity.core.errors import Problem
from aicity.hub.data import access, store
from aicity.hub.data.store import DatasetInfo

#: identifying columns: never a group-by dimension, a filter or a metric column
IDENTIFIERS = access.IDENTIFYING | {"id_number"}
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "REAL")
MECHANISMS = {"count": "diffprivlib Geometric (sensitivity 1)",
              "sum": "diffprivlib Laplace (sensitivity max(|lower|, |upper|))",
              "mean": "diffprivlib Laplace sum / Geometric count (ε split in half)"}
#: a plain DuckDB type name (what a filter's value is cast to)
_TYPE = re.compile(r"[A-Z]+(?:\([0-9]+(?:, ?[0-9]+)?\))?")
MAX_GROUP_BY = 3
MAX_FILTERS = 8
Scalar = str | int | float


class Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str = Field(max_length=100)
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in"] = "="
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _shape(self) -> Filter:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError("'in' takes a list of values; every other operator one value")
        if isinstance(self.value, list) and not 1 <= len(self.value) <= 50:
            raise ValueError("'in' takes 1 to 50 values")
        return self


class AggregateRequest(BaseModel):
    """One aggregate query under an agreement."""

    model_config = ConfigDict(extra="forbid")

    metric: Literal["count", "sum", "mean"]
    column: str | None = Field(default=None, max_length=100, description="the summed or averaged column")
    lower: float | None = Field(default=None, description="declared lower bound of the column (values are clipped)")
    upper: float | None = Field(default=None, description="declared upper bound of the column")
    group_by: list[str] = Field(default_factory=list, max_length=MAX_GROUP_BY)
    filters: list[Filter] = Field(default_factory=list, max_length=MAX_FILTERS)
    epsilon: float = Field(gt=0, le=10, description="privacy budget this query spends")

    @model_validator(mode="after")
    def _bounds(self) -> AggregateRequest:
        if self.metric == "count":
            if self.column is not None or self.lower is not None or self.upper is not None:
                raise ValueError("count takes no column and no bounds")
        else:
            if self.column is None or self.lower is None or self.upper is None:
                raise ValueError(f"{self.metric} needs a column and its bounds (lower, upper)")
            if not (math.isfinite(self.lower) and math.isfinite(self.upper)) or self.lower >= self.upper:
                raise ValueError("bounds must be finite with lower < upper")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("a group-by column is named twice")
        return self


class ReleasedGroup(BaseModel):
    key: dict[str, Any] = Field(description="the group's dimension values")
    value: float = Field(description="the noisy aggregate")


class Release(BaseModel):
    metric: str
    column: str | None
    group_by: list[str]
    groups: list[ReleasedGroup]
    suppressed: int = Field(description="groups left out: smaller than the minimum group size")
    epsilon: float
    mechanism: str


@dataclass(frozen=True)
class Truth:
    """What the query found before noise (kept inside this module and the benchmark)."""

    key: tuple[Any, ...]
    rows: int
    total: float


def bad_query(detail: str) -> Problem:
    return Problem(422, "聚合请求不合法 Invalid aggregate request", detail, "invalid-aggregate")


def _column(info: DatasetInfo, name: str, use: str) -> str:
    col = info.column(name)
    if col is None:
        raise bad_query(f"{use}: 数据集 {info.id} 没有列 '{name}' dataset {info.id} has no column '{name}'")
    if col.pii_kind in IDENTIFIERS or name in IDENTIFIERS:
        raise bad_query(f"{use}: 列 {name} 可识别个人（{col.pii_kind or name}），不能用于聚合请求 "
                        f"column {name} identifies a person and cannot be used")
    return col.type.upper()


def _where(info: DatasetInfo, filters: list[Filter]) -> tuple[str, list[Any]]:
    parts, params = [], []
    for f in filters:
        kind = _column(info, f.column, "filter")
        # the value is cast to the column's type, never the column to the value's: a failed cast
        # then names the consumer's own value, not a row's ("could not convert '幸福路社区' …")
        value = f"CAST(? AS {kind})" if _TYPE.fullmatch(kind) else "?"
        if isinstance(f.value, list):
            parts.append(f"{store.quote(f.column)} IN ({', '.join(value for _ in f.value)})")
            params.extend(f.value)
        else:
            parts.append(f"{store.quote(f.column)} {f.op} {value}")
            params.append(f.value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def truth(info: DatasetInfo, version: int, request: AggregateRequest) -> list[Truth]:
    """The exact aggregates per group (rows and clipped sum), computed in DuckDB."""
    for g in request.group_by:
        _column(info, g, "group_by")
    value = "0"
    if request.column is not None:
        kind = _column(info, request.column, request.metric)
        if not kind.startswith(NUMERIC) and not kind.startswith("DECIMAL"):
            raise bad_query(f"{request.metric}: 列 {request.column} 不是数值列（{kind}）column is not numeric")
        value = f"SUM(LEAST(GREATEST(CAST({store.quote(request.column)} AS DOUBLE), ?), ?))"
    dims = ", ".join(store.quote(g) for g in request.group_by)
    where, params = _where(info, request.filters)
    bounds = [request.lower, request.upper] if request.column is not None else []
    sql = (f"SELECT {dims + ', ' if dims else ''}COUNT(*), COALESCE({value}, 0) "
           f"FROM {store.quote(store.table_name(info.id, version))}{where}"
           f"{' GROUP BY ' + dims if dims else ''}")
    cur = store.read_connection()
    try:
        rows = cur.execute(sql, bounds + params).fetchall()
    except store.QUERY_ERRORS as exc:
        raise bad_query(f"查询无法执行 the query cannot run: {str(exc).splitlines()[0]}") from None
    finally:
        cur.close()
    n = len(request.group_by)
    if not n and not rows:
        rows = [(0, 0)]
    return [Truth(tuple(r[:n]), int(r[n]), float(r[n + 1])) for r in rows]


def _noisy(request: AggregateRequest, group: Truth) -> float:
    if request.metric == "count":
        return float(max(0, Geometric(epsilon=request.epsilon, sensitivity=1).randomise(group.rows)))
    assert request.lower is not None and request.upper is not None
    bound = max(abs(request.lower), abs(request.upper))
    if request.metric == "sum":
        return float(Laplace(epsilon=request.epsilon, sensitivity=bound).randomise(group.total))
    half = request.epsilon / 2
    count = max(1, Geometric(epsilon=half, sensitivity=1).randomise(group.rows))
    total = Laplace(epsilon=half, sensitivity=bound).randomise(group.total)
    return float(min(request.upper, max(request.lower, total / count)))


def noisy_release(request: AggregateRequest, found: list[Truth], min_group_size: int) -> Release:
    """The noisy aggregates of the groups of at least `min_group_size` rows; the rest suppressed."""
    kept = [g for g in found if g.rows >= min_group_size]
    groups = [ReleasedGroup(key=dict(zip(request.group_by, g.key, strict=True)), value=round(_noisy(request, g), 4))
              for g in kept]
    groups.sort(key=lambda g: [str(v) for v in g.key.values()])
    return Release(metric=request.metric, column=request.column, group_by=request.group_by, groups=groups,
                   suppressed=len(found) - len(kept), epsilon=request.epsilon, mechanism=MECHANISMS[request.metric])


def release(info: DatasetInfo, version: int, request: AggregateRequest, min_group_size: int) -> Release:
    """Query and release in one step (the benchmark; the service checks the budget in between)."""
    return noisy_release(request, truth(info, version, request), min_group_size)
