"""The SQL checker every question's SQL passes before it runs (the embedded parser's and a
model's alike), with sqlglot's parser and scope analysis:

- exactly one statement, a read-only SELECT (or a set operation of SELECTs): no DDL, DML,
  COPY, ATTACH, PRAGMA, SET, INSTALL/LOAD, SELECT … INTO, no commands sqlglot cannot parse;
- no table functions and no file reads (`read_csv`, `'file.csv'` as a table, `glob`, …), no
  system functions (`getenv`, `current_setting`, `duckdb_*`, `query` …): typed functions are
  allowed unless they read outside the database, unknown ones only from a short list;
- only the tables the caller may use, unqualified (no `main.x`, no other catalog); every column
  checked against the caller's allowed columns after `*` is expanded and every column is tied
  to its table through subqueries and CTEs;
- a table the caller may not read row by row is only read inside an aggregate (GROUP BY or
  aggregate functions in that very SELECT), never through an aggregate that hands back the
  values themselves (`list`, `string_agg`, `first` …) nor a condition inside an aggregate (`FILTER`,
  `CASE`, a comparison, `count_if`: a subgroup's count), and every group it releases holds at
  least `min_group_size` rows (a HAVING is added), so grouping by every column rebuilds nothing
  (a SUM of a 0/1 column still counts a subgroup: such columns should be graded so that the
  caller reads the table through a data-space agreement, whose answers carry noise);
- a table or alias is never used as a value (`first(t)`, `SELECT t FROM x t`: the whole row as a
  struct, past every column check);
- a row limit on the outermost query.

Dialects: the SQL is read in DuckDB's dialect unless told otherwise (`dialect="postgres"` reads
PostgreSQL's, where the store is PostgreSQL and a caller writes for it); what passes comes back in
DuckDB's dialect, the one the store's cursor takes on either backend (`pgstore.PgCursor`
transpiles it to PostgreSQL's), so the same checked tree runs wherever the store is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

DIALECT = "duckdb"
#: the dialects SQL may be written in (sqlglot's names)
DIALECTS = ("duckdb", "postgres")
#: functions sqlglot does not type that a question's SQL may still call
ANONYMOUS_OK = frozenset({"dayofweek", "isodow", "dayofmonth", "dayofyear", "week", "weekofyear", "quarter",
                          "month", "year", "hour", "date_part", "datepart", "strftime", "date_trunc", "round",
                          "any_value", "median", "mode", "quantile_cont", "quantile_disc", "stddev", "stddev_samp",
                          "stddev_pop", "variance", "corr", "greatest", "least", "ifnull", "nullif", "try_cast",
                          "count_if", "bool_and", "bool_or", "list", "string_agg", "arg_max", "arg_min",
                          "make_date", "epoch", "abs", "floor", "ceil", "ln", "log10", "sqrt", "power", "lower",
                          "upper", "length", "left", "right", "regexp_matches", "contains", "prefix", "suffix",
                          "starts_with", "ends_with", "date_diff", "datediff", "date_sub", "age", "last_day"})
#: typed functions that read outside the database or the session
_FORBIDDEN_FUNC_PREFIXES = ("read", "scan", "import", "export")
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in (
        "Insert", "Update", "Delete", "Create", "Drop", "Alter", "Command", "Copy", "Set", "Pragma", "Use",
        "Merge", "TruncateTable", "Transaction", "Commit", "Rollback", "LoadData", "Describe", "Attach",
        "Detach", "Install", "Show", "Into", "Grant", "Revoke", "Analyze", "Summarize", "Export", "Refresh",
        "Cache", "Uncache", "Kill", "Lock")
    if hasattr(exp, name))

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to parsing as a Command" is refused anyway


class SqlRefused(Exception):
    """SQL that may not run, with the reason (Chinese, then English)."""

    def __init__(self, reason: str, kind: str = "sql-refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass
class Access:
    """What one caller may use: the allowed columns of each table (a table absent: not allowed),
    the tables they may read row by row, and every column of each table (to expand `*`)."""

    columns: dict[str, set[str]]
    row_tables: set[str]
    all_columns: dict[str, list[str]]
    personal: dict[str, set[str]] = field(default_factory=dict)
    min_group_size: int = 5


@dataclass
class Checked:
    sql: str
    tables: list[str]
    columns: dict[str, set[str]]


def _statement(sql: str, dialect: str = DIALECT) -> exp.Expression:
    if not sql or not sql.strip():
        raise SqlRefused("SQL 为空 empty SQL", "sql-empty")
    if dialect not in DIALECTS:
        raise SqlRefused(f"不支持的 SQL 方言 unsupported SQL dialect '{dialect}' ({', '.join(DIALECTS)})",
                         "sql-dialect")
    try:
        parsed = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, sqlglot.errors.TokenError) as exc:
        raise SqlRefused(f"SQL 无法解析 cannot parse the SQL: {str(exc).splitlines()[0][:160]}", "sql-syntax") from exc
    if len(parsed) != 1:
        raise SqlRefused(f"只允许一条语句，收到 {len(parsed)} 条 exactly one statement allowed, got {len(parsed)}",
                         "sql-multiple")
    stmt = parsed[0]
    if not isinstance(stmt, exp.Select | exp.SetOperation):
        raise SqlRefused(f"只允许只读查询（SELECT），收到 {type(stmt).__name__.upper()} "
                         f"only a read-only SELECT is allowed", "sql-not-select")
    return stmt


def _check_nodes(stmt: exp.Expression) -> None:
    for node in stmt.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise SqlRefused(f"不允许的语句成分 forbidden clause: {type(node).__name__.upper()}", "sql-forbidden")
        if isinstance(node, exp.Anonymous):
            name = str(node.name).lower()
            if name not in ANONYMOUS_OK:
                raise SqlRefused(f"不允许的函数 function not allowed: {name}", "sql-function")
        elif isinstance(node, exp.Func):
            name = node.sql_name().lower()
            if name.startswith(_FORBIDDEN_FUNC_PREFIXES) or type(node).__name__.startswith("Read"):
                raise SqlRefused(f"不允许读取文件或外部数据 no file or external reads: {name}", "sql-function")


def _check_tables(stmt: exp.Expression, access: Access) -> list[str]:
    ctes = {c.alias_or_name.lower() for c in stmt.find_all(exp.CTE)}
    used = []
    for table in stmt.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise SqlRefused("不允许表函数 table functions are not allowed", "sql-function")
        if table.args.get("db") or table.args.get("catalog"):
            raise SqlRefused(f"不允许带库名的表 qualified table names are not allowed: {table.sql(DIALECT)}",
                             "sql-table")
        name = table.name
        if name.lower() in ctes:
            continue
        if name not in access.columns:
            raise SqlRefused(f"不能查询数据集 you may not query dataset: {name}", "sql-table")
        used.append(name)
    if not used:
        raise SqlRefused("查询没有使用任何数据集 the query reads no dataset", "sql-table")
    return sorted(set(used))


#: aggregates that hand back the values they aggregate, refused over aggregate-only tables
_VALUE_AGGREGATES = frozenset({"list", "array_agg", "string_agg", "group_concat", "listagg", "first", "last",
                               "any_value", "arg_max", "arg_min", "argmax", "argmin", "max_by", "min_by", "mode",
                               "histogram", "array_unique_agg", "bitstring_agg", "arbitrary"})


def _check_no_row_values(stmt: exp.Expression, access: Access) -> None:
    """Refuse a table or alias used as a value: DuckDB turns it into the whole row as a struct."""
    sources = {t.alias_or_name.lower() for t in stmt.find_all(exp.Table)} | \
        {t.name.lower() for t in stmt.find_all(exp.Table)} | \
        {s.alias.lower() for s in stmt.find_all(exp.Subquery) if s.alias} | \
        {c.alias_or_name.lower() for c in stmt.find_all(exp.CTE)}
    real_columns = {c.lower() for cols in access.all_columns.values() for c in cols}
    for column in stmt.find_all(exp.Column):
        name = column.name.lower()
        if not column.table and name in sources and name not in real_columns:
            raise SqlRefused(f"不能把整行（{column.name}）当作值查询 a whole row may not be used as a value",
                             "sql-row-value")


def _aggregate_only_selects(stmt: exp.Expression, access: Access) -> list[exp.Select]:
    ctes = {c.alias_or_name.lower() for c in stmt.find_all(exp.CTE)}
    found = []
    for select in stmt.find_all(exp.Select):
        from_ = select.args.get("from_")
        direct = [from_.this] if from_ is not None else []
        direct += [join.this for join in select.args.get("joins") or []]
        if any(isinstance(t, exp.Table) and t.name.lower() not in ctes and t.name not in access.row_tables
               for t in direct):
            found.append(select)
    return found


def _check_aggregate_only(stmt: exp.Expression, access: Access) -> None:
    """Over a table read only in aggregate: no value-returning aggregates, and small groups suppressed."""
    for select in _aggregate_only_selects(stmt, access):
        for func in select.find_all(exp.Func):
            name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
            if name in _VALUE_AGGREGATES or type(func).__name__ in ("ArrayAgg", "GroupConcat", "First", "Last",
                                                                    "AnyValue", "ArgMax", "ArgMin"):
                raise SqlRefused(f"该数据集只允许汇总查询，{name} 会返回逐条的值 "
                                 f"this dataset answers aggregates only; {name} returns the values themselves",
                                 "sql-aggregate-only")
            if isinstance(func, exp.AggFunc) and _conditional(func):
                raise SqlRefused("该数据集只允许汇总查询，聚合内不能带条件（FILTER、CASE、比较），"
                                 "请把条件写在 WHERE 中 this dataset answers aggregates only; a condition inside an "
                                 "aggregate would count a subgroup below the minimum group size: put it in WHERE",
                                 "sql-aggregate-only")
        having = exp.GTE(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(access.min_group_size))
        select.having(having, copy=False)


#: what makes an aggregate count a subgroup of its group (`COUNT(*) FILTER (WHERE …)`,
#: `SUM(CASE WHEN … THEN 1 END)`, `SUM(x = 'a')`, `count_if(…)`): the HAVING that suppresses small
#: groups would not see that subgroup's size
_CONDITIONS = (exp.Case, exp.If, exp.Predicate, exp.Connector, exp.Not)


def _conditional(func: exp.AggFunc) -> bool:
    return (isinstance(func.parent, exp.Filter) or func.find(*_CONDITIONS) is not None
            or (isinstance(func, exp.Anonymous) and str(func.name).lower() == "count_if"))


def _is_aggregated(select: exp.Select) -> bool:
    if select.args.get("group"):
        return True
    projections = select.expressions
    return bool(projections) and all(p.find(exp.AggFunc) is not None for p in projections)


def _check_columns(stmt: exp.Expression, access: Access, tables: list[str]) -> tuple[exp.Expression, dict]:
    schema = {t: {c: "VARCHAR" for c in access.all_columns.get(t, [])} for t in tables}
    try:
        qualified = qualify(stmt.copy(), schema=schema, dialect=DIALECT, expand_stars=True,
                            validate_qualify_columns=True, quote_identifiers=False, identify=False)
    except OptimizeError as exc:
        raise SqlRefused(f"查询引用了不存在或不明确的列 unknown or ambiguous column: {exc}", "sql-column") from exc
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(qualified):
        _check_scope(scope, access, read)
    return qualified, read


def _check_scope(scope: Scope, access: Access, read: dict[str, set[str]]) -> None:
    aggregate_only = False
    for column in scope.columns:
        source = scope.sources.get(column.table)
        if not isinstance(source, exp.Table):
            continue  # a CTE or subquery: its own columns were checked in its scope
        table, name = source.name, column.name
        if name in access.personal.get(table, set()):
            raise SqlRefused(f"{table}.{name} 是个人信息列，不能通过问数查询 is a personal-information column",
                             "sql-personal")
        if name not in access.columns.get(table, set()):
            raise SqlRefused(f"无权查询列 you may not query column {table}.{name}", "sql-column")
        read.setdefault(table, set()).add(name)
    for source in scope.sources.values():
        if isinstance(source, exp.Table) and source.name not in access.row_tables:
            aggregate_only = True
    if aggregate_only:
        select = scope.expression
        if not isinstance(select, exp.Select) or not _is_aggregated(select):
            raise SqlRefused("该数据集只允许汇总查询（按组计数、求和、平均），不能返回明细行 "
                             "this dataset answers aggregate queries only, never rows", "sql-aggregate-only")


def _limit(stmt: exp.Expression, row_limit: int) -> exp.Expression:
    current = stmt.args.get("limit")
    value = None
    if current is not None:
        expr = current.expression if isinstance(current, exp.Limit) else current
        if isinstance(expr, exp.Literal) and expr.is_int:
            value = int(expr.this)
        else:
            raise SqlRefused("LIMIT 必须是整数 LIMIT must be an integer", "sql-limit")
    if value is None or value > row_limit:
        stmt = stmt.limit(row_limit, copy=False) if isinstance(stmt, exp.Select) else \
            exp.select("*").from_(stmt.subquery("q")).limit(row_limit)
    return stmt


def check(sql: str, access: Access, row_limit: int, dialect: str = DIALECT) -> Checked:
    """`sql` (written in `dialect`) checked for `access`, with the row limit applied, as DuckDB's SQL;
    raises `SqlRefused`."""
    stmt = _statement(sql, dialect)
    _check_nodes(stmt)
    tables = _check_tables(stmt, access)
    _check_no_row_values(stmt, access)
    _, read = _check_columns(stmt, access, tables)
    _check_aggregate_only(stmt, access)
    limited = _limit(stmt, row_limit)
    return Checked(sql=limited.sql(dialect=DIALECT), tables=tables, columns=read)
