"""The analytical store on PostgreSQL (`[aicity.data] store_url = "postgresql+psycopg://…"`).

Every process (API workers, CLI commands, background workers) reads and writes the same store at
once, where the embedded DuckDB file admits one process. The layout is DuckDB's: each version a
table `<id>__v<N>`, the current one a view `<id>`, all in their own schema (`store_schema`,
default `hub_data`), apart from the platform's tables.

- Reads go through `PgCursor`, which speaks DuckDB's SQL (the dialect every generated query is
  written in): each statement is transpiled by sqlglot to PostgreSQL (`to_postgres`). Its
  connections are read only (every transaction `BEGIN READ ONLY`), with `statement_timeout` set
  and `search_path` the store's schema alone; `store_read_url`, when set, logs in as a role that
  may only read that schema.
- An import checks and types the file in an in-memory DuckDB (the same code, hence the same
  errors, quality figures and grading as the embedded store) and then loads the typed table with
  COPY, creates the view, all in one PostgreSQL transaction under an advisory lock on the
  dataset: committed with the metadata, or nothing at all.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError
from sqlglot import exp

from aicity.core.errors import Problem

try:  # the `postgres` extra
    import psycopg
    from psycopg import sql as pgsql
except ImportError:  # pragma: no cover — only without the extra
    psycopg = None  # type: ignore[assignment]
    pgsql = None  # type: ignore[assignment]

SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
#: DuckDB's column types (schema.TYPE_NAMES) as PostgreSQL's
PG_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "DOUBLE": "double precision", "DATE": "date",
            "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}
#: PostgreSQL's types as DuckDB names them (what `column_types` reports)
DUCK_TYPES = {"text": "VARCHAR", "character varying": "VARCHAR", "bigint": "BIGINT", "integer": "INTEGER",
              "double precision": "DOUBLE", "numeric": "DECIMAL", "date": "DATE", "boolean": "BOOLEAN",
              "timestamp without time zone": "TIMESTAMP", "timestamp with time zone": "TIMESTAMP WITH TIME ZONE"}
IDLE_CONNECTIONS = 8
ERRORS: tuple[type[Exception], ...] = (psycopg.Error,) if psycopg is not None else ()


class StoreUnavailable(Problem):
    """The PostgreSQL store cannot be reached or is misconfigured (a 503 problem)."""

    def __init__(self, shown: str, cause: str) -> None:
        super().__init__(503, "暂不可用 Not ready",
                         f"无法连接分析库 cannot reach the analytical store {shown}: {cause}", "store-unavailable")


def bad_url(url: str, why: str) -> Problem:
    return Problem(500, "配置错误 Misconfigured",
                   f"data.store_url 无效 invalid store URL '{url}': {why}；应为 postgresql+psycopg://user@host/db "
                   f"或留空使用内置 DuckDB leave it empty for the embedded DuckDB file", "invalid-store-url")


def conninfo(url: str) -> tuple[str, str]:
    """The libpq connection string of a `postgresql+psycopg://…` URL, and the URL as shown (no password)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise bad_url(url, str(exc)) from exc
    if parsed.drivername not in SCHEMES:
        raise bad_url(parsed.render_as_string(hide_password=True),
                      f"不支持的协议 unsupported scheme '{parsed.drivername}' (postgresql+psycopg only)")
    if psycopg is None:
        raise bad_url(parsed.render_as_string(hide_password=True),
                      "未安装 psycopg the `postgres` extra is not installed (pip install 'aicity[postgres]')")
    params: dict[str, Any] = {k: v for k, v in {"host": parsed.host, "port": parsed.port, "dbname": parsed.database,
                                                "user": parsed.username, "password": parsed.password}.items()
                              if v is not None}
    params.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    return psycopg.conninfo.make_conninfo(**params), parsed.render_as_string(hide_password=True)


# ---- DuckDB's SQL as PostgreSQL's ---------------------------------------------------------------

def _group_by_all(node: exp.Expression) -> exp.Expression:
    """`GROUP BY ALL` (DuckDB) as the positions of the projections that aggregate nothing."""
    if isinstance(node, exp.Select):
        group = node.args.get("group")
        if group is not None and group.args.get("all"):
            keys = [exp.Literal.number(i) for i, p in enumerate(node.expressions, start=1)
                    if p.find(exp.AggFunc) is None and p.find(exp.Window) is None]
            node.set("group", exp.Group(expressions=keys) if keys else None)
    return node


def _aliased(tree: exp.Expression) -> exp.Expression:
    """A name for every subquery in FROM or JOIN (DuckDB, PostgreSQL 16 need none; 15 does)."""
    for n, sub in enumerate(tree.find_all(exp.Subquery)):
        if not sub.alias and isinstance(sub.parent, exp.From | exp.Join):
            sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_sq{n}")))
    return tree


#: DuckDB's date-part functions as PostgreSQL's EXTRACT fields (by sqlglot's node name, or the
#: function's name where sqlglot does not type it)
_EXTRACT = {"Quarter": "QUARTER", "Hour": "HOUR", "Minute": "MINUTE", "Second": "SECOND", "Week": "WEEK",
            "WeekOfYear": "WEEK", "DayOfMonth": "DAY", "DayOfYear": "DOY", "DayOfWeek": "DOW",
            "DayOfWeekIso": "ISODOW", "isodow": "ISODOW", "dayofweek": "DOW", "weekofyear": "WEEK",
            "quarter": "QUARTER", "hour": "HOUR", "minute": "MINUTE", "second": "SECOND", "week": "WEEK",
            "dayofmonth": "DAY", "dayofyear": "DOY"}


def _pg(template: str, *args: exp.Expression) -> exp.Expression:
    """`template` (PostgreSQL) with the arguments, themselves translated, in its {0}, {1} …"""
    shown = (a.transform(_functions).sql(dialect="postgres") for a in args)
    return sqlglot.parse_one(template.format(*shown), read="postgres")


def _functions(node: exp.Expression) -> exp.Expression:
    """DuckDB's functions that PostgreSQL lacks or names otherwise, as PostgreSQL's."""
    name = node.name.lower() if isinstance(node, exp.Anonymous) else type(node).__name__
    if name in _EXTRACT and isinstance(node, exp.Func):
        return exp.Extract(this=exp.var(_EXTRACT[name]), expression=node.this if not isinstance(
            node, exp.Anonymous) else node.expressions[0])
    if name == "datepart" and isinstance(node, exp.Anonymous):
        return exp.Anonymous(this="DATE_PART", expressions=node.expressions)
    if isinstance(node, exp.DateFromParts):
        return exp.Anonymous(this="MAKE_DATE", expressions=[node.args[k] for k in ("year", "month", "day")])
    if isinstance(node, exp.ArgMax | exp.ArgMin):
        order = "DESC" if isinstance(node, exp.ArgMax) else "ASC"
        return _pg(f"(ARRAY_AGG({{0}} ORDER BY {{1}} {order} NULLS LAST))[1]", node.this, node.expression)
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
        return exp.Min(this=node.this.this)  # PostgreSQL 15 has no any_value: the least is one of the values
    if isinstance(node, exp.AnyValue):
        return exp.Min(this=node.this)
    if isinstance(node, exp.Mode):
        return _pg("MODE() WITHIN GROUP (ORDER BY {0})", node.this)
    if isinstance(node, exp.Contains):
        return _pg("(STRPOS({0}, {1}) > 0)", node.this, node.expression)
    if isinstance(node, exp.EndsWith) or name == "suffix":
        this, suffix = (node.this, node.expression) if isinstance(node, exp.EndsWith) else node.expressions
        return _pg("(RIGHT({0}, LENGTH({1})) = {1})", this, suffix)
    if name == "prefix":
        return _pg("STARTS_WITH({0}, {1})", *node.expressions)
    return node


@lru_cache(maxsize=2048)
def to_postgres(sql: str, with_params: bool = False) -> str:
    """A DuckDB statement in PostgreSQL's dialect; with parameters, `?` becomes `%s` and a literal
    `%` is doubled (psycopg's placeholders)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = _aliased(tree.transform(_group_by_all).transform(_functions))
    if with_params:
        for lit in tree.find_all(exp.Literal):
            if lit.is_string and "%" in lit.this:
                lit.set("this", lit.this.replace("%", "%%"))
    return tree.sql(dialect="postgres")


# ---- connections ---------------------------------------------------------------------------------

class Pool:
    """Connections of one store URL, kept open between uses (at most `IDLE_CONNECTIONS` idle)."""

    def __init__(self, url: str, schema: str, read_only: bool, timeout_ms: int) -> None:
        self.info, self.shown = conninfo(url)
        self.schema, self.read_only, self.timeout_ms = schema, read_only, timeout_ms
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        try:
            conn = psycopg.connect(self.info, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(self.shown, str(exc).strip().splitlines()[0]) from exc
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        if self.read_only:
            conn.execute(f"SET statement_timeout = {int(self.timeout_ms)}")
        conn.autocommit = False
        conn.read_only = self.read_only  # every transaction BEGIN READ ONLY
        return conn

    def put(self, conn: Any) -> None:
        if conn.closed:
            return
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        with self._lock:
            if not conn.broken and len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _duck_value(value: Any) -> Any:
    """PostgreSQL's `numeric` (a SUM of integers, an AVG) as DuckDB hands it back: an integer
    when whole (HUGEINT), else a float (DOUBLE)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value


def _duck_row(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_duck_value(v) for v in row)


class PgCursor:
    """The store read as a DuckDB cursor is (`execute(sql, params)`, `fetchone`, `fetchall`,
    `description`, `interrupt`, `close`): DuckDB's SQL in, PostgreSQL's out, in a read-only
    transaction. A failed statement rolls the transaction back, so the cursor stays usable."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._conn = pool.get()
        self._cur = self._conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        query = to_postgres(sql, bool(params))
        try:
            self._cur.execute(query, list(params) if params else None)
        except psycopg.Error:
            self._conn.rollback()
            raise
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cur.fetchone()
        return _duck_row(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [_duck_row(r) for r in self._cur.fetchall()]

    @property
    def description(self) -> Any:
        return self._cur.description

    def interrupt(self) -> None:
        self._conn.cancel_safe()

    def cursor(self) -> PgCursor:
        return PgCursor(self._pool)

    def close(self) -> None:
        if self._conn is not None:
            self._cur.close()
            self._pool.put(self._conn)
            self._conn = None

    def columns(self, table: str) -> list[tuple[str, str]]:
        self._cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                          "AND table_name = %s ORDER BY ordinal_position", [self._pool.schema, table])
        return [(n, DUCK_TYPES.get(t, t.upper())) for n, t in self._cur.fetchall()]


def tables(pool: Pool) -> set[str]:
    conn = pool.get()
    try:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                            [pool.schema]).fetchall()
    finally:
        pool.put(conn)
    return {r[0] for r in rows}


def ensure_schema(pool: Pool) -> None:
    conn = pool.get()
    try:
        conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(pool.schema)))
        conn.commit()
    finally:
        pool.put(conn)


# ---- imports -------------------------------------------------------------------------------------

class PgImport:
    """One import: `cur` is an in-memory DuckDB where the file is staged, typed and checked; the
    typed table is then loaded into PostgreSQL (`publish`), in the transaction `conn` holds."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.conn = pool.get()
        self._duck = duckdb.connect()
        self.cur = self._duck.cursor()

    def _name(self, table: str) -> Any:
        return pgsql.Identifier(self.pool.schema, table)

    def lock(self, dataset_id: str) -> None:
        """Imports of one dataset, in any process, one after another (the next version number)."""
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"aicity.hub_data:{dataset_id}"])

    def tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                                                "table_schema = %s", [self.pool.schema]).fetchall()}

    def drop(self, table: str) -> None:
        self.conn.execute(pgsql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(self._name(table)))

    def mirror(self, table: str, columns: set[str]) -> None:
        """A stored table's columns copied into the DuckDB, typed as stored (a reference check reads
        them there), through COPY … TO STDOUT."""
        types = dict(self.conn.execute("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                       "table_schema = %s AND table_name = %s", [self.pool.schema, table]).fetchall())
        cols = sorted(c for c in columns if c in types)
        if not cols:
            return
        with tempfile.TemporaryDirectory(prefix="aicity-pgcopy-") as tmp:
            path = Path(tmp) / "rows.csv"
            with path.open("wb") as f, self.conn.cursor().copy(pgsql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT csv)")
                                                               .format(pgsql.SQL(", ").join(pgsql.Identifier(c) for c in cols),
                                                                       self._name(table))) as copy:
                for block in copy:
                    f.write(block)
            spec = "{" + ", ".join(f"'{c}': '{DUCK_TYPES.get(types[c], 'VARCHAR')}'" for c in cols) + "}"
            self.cur.execute(f"CREATE OR REPLACE TEMP TABLE {_quote(table)} AS SELECT * FROM read_csv("
                             f"'{path.as_posix()}', header=false, auto_detect=false, columns={spec})")

    def publish(self, dataset_id: str, table: str, columns: list[tuple[str, str]]) -> None:
        """The DuckDB table `table` as a PostgreSQL table (COPY), and the view `dataset_id` over it."""
        defs = pgsql.SQL(", ").join(pgsql.SQL("{} {}").format(pgsql.Identifier(n), pgsql.SQL(PG_TYPES[t]))
                                    for n, t in columns)
        self.conn.execute(pgsql.SQL("CREATE TABLE {} ({})").format(self._name(table), defs))
        with tempfile.TemporaryDirectory(prefix="aicity-pgcopy-") as tmp:
            path = Path(tmp) / "rows.csv"
            self.cur.execute(f"COPY {_quote(table)} TO '{path.as_posix()}' (FORMAT csv, HEADER false)")
            try:
                with self.conn.cursor().copy(pgsql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(
                        self._name(table))) as copy, path.open("rb") as f:
                    while block := f.read(1 << 20):
                        copy.write(block)
            except psycopg.DataError as exc:  # a value PostgreSQL cannot hold (a NUL character, a far date)
                raise Problem(422, "文件无法导入 Unprocessable file",
                              f"分析库拒绝了这些行 the store refused the rows: {str(exc).strip().splitlines()[0]}",
                              "store-refused") from exc
        self.conn.execute(pgsql.SQL("DROP VIEW IF EXISTS {}").format(self._name(dataset_id)))
        self.conn.execute(pgsql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
            self._name(dataset_id), self._name(table)))

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.conn.rollback()

    def close(self) -> None:
        self.cur.close()
        self._duck.close()
        self.pool.put(self.conn)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextlib.contextmanager
def import_transaction(pool: Pool) -> Iterator[PgImport]:
    imp = PgImport(pool)
    try:
        yield imp
    except BaseException:
        imp.rollback()
        imp.close()
        raise
    try:
        imp.commit()
    finally:
        imp.close()
