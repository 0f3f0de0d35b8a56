"""Aggregate SQL under a data-space agreement: parsed with sqlglot and accepted only when it is
one aggregate-only SELECT, which becomes the structured `AggregateRequest` — so SQL gets exactly
the checks, suppression and noise of a structured request, and never runs as written.

Accepted: `SELECT [dims,] COUNT(*) | SUM(col) | AVG(col) FROM <dataset> [WHERE c op literal AND …]
[GROUP BY dims]` — one aggregate, the same dimensions selected and grouped, comparisons
(= != <> < <= > >= IN) of a column with literals. Anything else (joins, subqueries, CTEs,
unions, HAVING, ORDER BY, LIMIT, DISTINCT, window functions, other functions, a bare column
that is not grouped, another table, several statements, writes) is a 422 naming it."""

from __future__ import annotations

from typing import Any

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from aicity.hub.data.private_query import AggregateRequest, bad_query

#: the Select's parts an aggregate-only query may use
_ALLOWED = {"expressions", "from_", "from", "where", "group", "kind"}
_OPS: dict[type[exp.Expression], str] = {exp.EQ: "=", exp.NEQ: "!=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">",
                                         exp.GTE: ">="}
_METRICS: dict[type[exp.Expression], str] = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "mean"}


class SqlAggregate(BaseModel):
    """An aggregate query written as SQL, with the bounds a sum or mean needs."""

    model_config = ConfigDict(extra="forbid")

    sql: str = Field(min_length=1, max_length=4000)
    lower: float | None = Field(default=None, description="declared lower bound of the summed/averaged column")
    upper: float | None = Field(default=None, description="declared upper bound")
    epsilon: float = Field(gt=0, le=10)


def _name(node: exp.Expression, what: str) -> str:
    if not isinstance(node, exp.Column) or node.table:
        raise bad_query(f"SQL：{what} 须为本数据集的列名 must be a plain column, got {node.sql()}")
    return node.name


def _literal(node: exp.Expression) -> str | int | float:
    negative = isinstance(node, exp.Neg)
    inner = node.this if negative else node
    if not isinstance(inner, exp.Literal):
        raise bad_query(f"SQL：比较的右边须为常量 the right side of a comparison must be a literal, got {node.sql()}")
    if inner.is_string:
        if negative:
            raise bad_query(f"SQL：无效常量 invalid literal {node.sql()}")
        return str(inner.this)
    number = float(inner.this)
    value: int | float = int(number) if number.is_integer() and "." not in inner.this else number
    return -value if negative else value


def _filters(node: exp.Expression | None) -> list[dict[str, Any]]:
    if node is None:
        return []
    if isinstance(node, exp.Paren):
        return _filters(node.this)
    if isinstance(node, exp.And):
        return _filters(node.this) + _filters(node.expression)
    if isinstance(node, exp.In) and not node.args.get("query"):
        return [{"column": _name(node.this, "IN 的左边"), "op": "in",
                 "value": [_literal(v) for v in node.expressions]}]
    op = _OPS.get(type(node))
    if op is None:
        raise bad_query(f"SQL：WHERE 只能是列与常量的比较，用 AND 连接 WHERE takes only column-literal comparisons "
                        f"joined by AND, got {node.sql()}")
    return [{"column": _name(node.this, "比较的左边"), "op": op, "value": _literal(node.expression)}]


def _metric(node: exp.Expression) -> tuple[str, str | None]:
    node = node.this if isinstance(node, exp.Alias) else node
    metric = _METRICS.get(type(node))
    if metric is None:
        raise bad_query(f"SQL：只允许 COUNT(*)、SUM(列)、AVG(列) only COUNT(*), SUM(col), AVG(col), got {node.sql()}")
    if metric == "count":
        if not isinstance(node.this, exp.Star):
            raise bad_query("SQL：计数只允许 COUNT(*) only COUNT(*) counts")
        return metric, None
    return metric, _name(node.this, f"{metric} 的参数")


def to_request(body: SqlAggregate, dataset_id: str) -> AggregateRequest:
    """The structured request the SQL means, or a 422 naming what is not allowed."""
    try:
        statements = [s for s in sqlglot.parse(body.sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise bad_query(f"SQL 无法解析 cannot parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise bad_query("SQL：只允许一条 SELECT 语句 exactly one SELECT statement")
    select = statements[0]
    extra = sorted(k for k, v in select.args.items() if v and k not in _ALLOWED)
    if extra:
        raise bad_query(f"SQL：不允许 {', '.join(extra)} not allowed in an aggregate-only query")
    source = select.args.get("from_") or select.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.db or table.catalog or table.name != dataset_id:
        raise bad_query(f"SQL：只能查询协议约定的数据集 FROM must be the agreed dataset '{dataset_id}'")
    if any(select.find_all(exp.Subquery, exp.Window)) or len(list(select.find_all(exp.Select))) > 1:
        raise bad_query("SQL：不允许子查询或窗口函数 no subqueries or window functions")
    groups = [_name(g, "GROUP BY 的项") for g in (select.args["group"].expressions if select.args.get("group") else [])]
    dims, metrics = [], []
    for item in select.expressions:
        plain = item.this if isinstance(item, exp.Alias) else item
        if isinstance(plain, exp.Column):
            dims.append(_name(plain, "选择的列"))
        else:
            metrics.append(_metric(item))
    if len(metrics) != 1:
        raise bad_query("SQL：须恰好有一个聚合（COUNT/SUM/AVG）exactly one aggregate")
    if sorted(dims) != sorted(groups):
        raise bad_query("SQL：选择的列须与 GROUP BY 一致（不得返回未分组的列）the selected columns must be the grouped ones")
    metric, column = metrics[0]
    where = select.args.get("where")
    try:
        return AggregateRequest.model_validate({
            "metric": metric, "column": column, "group_by": groups, "filters": _filters(where.this if where else None),
            "epsilon": body.epsilon, **({} if metric == "count" else {"lower": body.lower, "upper": body.upper})})
    except ValidationError as exc:
        raise bad_query("SQL：" + "; ".join(e["msg"] for e in exc.errors())) from None
