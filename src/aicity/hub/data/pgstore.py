"""The analytical store on PostgreSQL (`[aicity.data] store_url = "postgresql+psycopg://…"`).

Every process (API workers, CLI commands, background workers) reads and writes the same store at
once, where the embedded DuckDB file admits one process. The layout is DuckDB's: each version a
table `<id>__v<N>`, the current one a view `<id>`, all in their own schema (`store_schema`,
default `hub_data`), apart from the platform's tables.

- Reads go through `PgCursor`, which speaks DuckDB's SQL (the dialect every generated query is
  written in): each statement is transpiled by sqlglot to PostgreSQL (`to_postgres`; what has no
  faithful form, `TRY_CAST`, is refused). Each statement is its own READ ONLY transaction, ended
  once its rows are fetched, so a cursor kept through a request holds no lock; its connections
  have `statement_timeout`, `idle_in_transaction_session_timeout` and `search_path` the store's
  schema alone; `store_read_url`, when set, logs in as a role that may only read that schema.
- Connections come from a `psycopg_pool.ConnectionPool` that checks each one before handing it
  out (a PostgreSQL restart: fresh connections); a server out of reach, or a connection lost
  mid-statement, is a 503 `store-unavailable`.
- An import checks and types the file in an in-memory DuckDB (the same code, hence the same
  errors, quality figures and grading as the embedded store) and then loads the typed table with
  COPY and replaces the view in one PostgreSQL transaction, under a session advisory lock on the
  dataset. That transaction commits first, then the metadata (still under the lock). If the
  metadata's commit fails, a second short transaction drops the new table and points the view
  back at the previous version (drops it for a first version); if that undo fails too (the server
  gone), the table stays until the next import of the dataset drops it, and the view may show it
  while the catalog names the previous version. Write connections have `lock_timeout` (twice the
  query timeout): a view replacement that waits longer for readers is a 503 `store-busy`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
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
from aicity.hub.data.sqlcheck import SqlRefused

try:  # the `postgres` extra
    import psycopg
    from psycopg import sql as pgsql
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover — only without the extra
    psycopg = None  # type: ignore[assignment]
    pgsql = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
#: DuckDB's column types (schema.TYPE_NAMES) as PostgreSQL's
PG_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "DOUBLE": "double precision", "DATE": "date",
            "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}
#: PostgreSQL's types as DuckDB names them (what `column_types` reports)
DUCK_TYPES = {"text": "VARCHAR", "character varying": "VARCHAR", "bigint": "BIGINT", "integer": "INTEGER",
              "double precision": "DOUBLE", "numeric": "DECIMAL", "date": "DATE", "boolean": "BOOLEAN",
              "timestamp without time zone": "TIMESTAMP", "timestamp with time zone": "TIMESTAMP WITH TIME ZONE"}
#: connections one pool holds at most (idle ones are closed after 5 minutes)
MAX_CONNECTIONS = 16
#: seconds to wait for a connection before answering 503 `store-unavailable`
WAIT_S = 5
ERRORS: tuple[type[Exception], ...] = (psycopg.Error,) if psycopg is not None else ()


class StoreUnavailable(Problem):
    """The PostgreSQL store cannot be reached or is misconfigured (a 503 problem)."""

    def __init__(self, shown: str, cause: str) -> None:
        super().__init__(503, "暂不可用 Not ready",
                         f"无法连接分析库 cannot reach the analytical store {shown}: {masked(cause)}",
                         "store-unavailable")


_PASSWORD = re.compile(r"(?i)\b(password|passwd|pwd)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;]*)")


def masked(url: str) -> str:
    """`url` (a URL, a libpq key=value string, or anything unparsable) without what could be a
    password: `password=…` values and everything between the user name and the last `@`."""
    shown = _PASSWORD.sub(r"\1\2***", url)
    if "@" in shown:
        head, _, host = shown.rpartition("@")
        scheme, sep, user = head.partition("//")
        if not sep:
            scheme, user = "", head
        shown = f"{scheme}{sep}{user.split(':', 1)[0]}:***@{host}" if ":" in user else shown
    return shown


def bad_url(shown: str, why: str) -> Problem:
    """A 500 problem for a store URL that cannot be used; `shown` must already be masked."""
    return Problem(500, "配置错误 Misconfigured",
                   f"data.store_url 无效 invalid store URL '{shown}': {why}；应为 postgresql+psycopg://user@host/db "
                   f"或留空使用内置 DuckDB leave it empty for the embedded DuckDB file", "invalid-store-url")


def conninfo(url: str) -> tuple[str, str]:
    """The libpq connection string of a `postgresql+psycopg://…` URL, and the URL as shown (no password)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:  # its message repeats the URL: never shown
        raise bad_url(masked(url), "无法解析 cannot be parsed as a URL") from exc
    if parsed.drivername not in SCHEMES:
        raise bad_url(masked(parsed.render_as_string(hide_password=True)),
                      f"不支持的协议 unsupported scheme '{parsed.drivername}' (postgresql+psycopg only)")
    if psycopg is None:
        raise bad_url(masked(parsed.render_as_string(hide_password=True)),
                      "未安装 psycopg the `postgres` extra is not installed (pip install 'aicity[postgres]')")
    params: dict[str, Any] = {k: v for k, v in {"host": parsed.host, "port": parsed.port, "dbname": parsed.database,
                                                "user": parsed.username, "password": parsed.password}.items()
                              if v is not None}
    params.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    return psycopg.conninfo.make_conninfo(**params), masked(parsed.render_as_string(hide_password=True))


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
        part = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
        if _EXTRACT[name] == "SECOND":  # DuckDB's second() drops the fraction PostgreSQL's EXTRACT keeps
            return _pg("FLOOR(EXTRACT(SECOND FROM {0}))", part)
        return exp.Extract(this=exp.var(_EXTRACT[name]), expression=part)
    if name == "datepart" and isinstance(node, exp.Anonymous):
        return exp.Anonymous(this="DATE_PART", expressions=node.expressions)
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc) and node.args.get("unit") is not None:
        # DuckDB truncates a DATE to a TIMESTAMP; PostgreSQL would take the DATE as a timestamptz
        unit = node.args["unit"]
        unit_sql = unit.sql(dialect="postgres") if not isinstance(unit, exp.Var) else f"'{unit.name}'"
        return _pg(f"DATE_TRUNC({unit_sql}, CAST({{0}} AS TIMESTAMP))", node.this)
    if isinstance(node, exp.ApproxDistinct):  # exact on PostgreSQL (it has no HyperLogLog)
        return exp.Count(this=exp.Distinct(expressions=[node.this.transform(_functions)]))
    if isinstance(node, exp.TryCast):
        raise TranslationRefused("PostgreSQL 分析库不支持 TRY_CAST（无法转换时 DuckDB 返回 NULL，PostgreSQL 报错），"
                                 "请改用 CAST the PostgreSQL store has no TRY_CAST (a value that does not cast is NULL "
                                 "in DuckDB, an error in PostgreSQL): use CAST")
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
        return _pg("STARTS_WITH(REVERSE({0}), REVERSE({1}))", this, suffix)  # each argument once: a `?` too
    if name == "prefix":
        return _pg("STARTS_WITH({0}, {1})", *node.expressions)
    return node


def _having_aliases(node: exp.Expression) -> exp.Expression:
    """An output name in HAVING (DuckDB: `HAVING n > 1` for `count(*) AS n`) as its expression:
    PostgreSQL reads only the source's columns there."""
    if isinstance(node, exp.Select) and node.args.get("having") is not None:
        named = {p.alias: p.this for p in node.expressions if isinstance(p, exp.Alias)}
        having = node.args["having"]
        for col in list(having.find_all(exp.Column)):
            if not col.table and col.name in named and col.find_ancestor(exp.Select) is node:
                col.replace(named[col.name].copy())
    return node


class TranslationRefused(SqlRefused):
    """DuckDB's SQL that has no faithful PostgreSQL form: refused as the checker refuses SQL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "sql-unsupported-on-store")


#: where a parameter goes while the statement is generated (no `%`, nothing a statement would hold)
_PARAM = "aicity_param_7f3e9b"


@lru_cache(maxsize=2048)
def to_postgres(sql: str, with_params: bool = False) -> str:
    """A DuckDB statement in PostgreSQL's dialect. With parameters, each `?` becomes `%s` and every
    other `%` (an operator, a literal, a quoted name, a format that sqlglot writes) is doubled, as
    psycopg's placeholders require. Raises `TranslationRefused` for what PostgreSQL cannot do alike."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_having_aliases).transform(_group_by_all).transform(_functions)
    tree = _aliased(tree)
    if not with_params:
        return tree.sql(dialect="postgres")
    for holder in list(tree.find_all(exp.Placeholder)):
        holder.replace(exp.column(_PARAM))
    return tree.sql(dialect="postgres").replace("%", "%%").replace(_PARAM, "%s")


# ---- connections ---------------------------------------------------------------------------------

class Pool:
    """Connections of one store URL (`psycopg_pool.ConnectionPool`): each checked before it is handed
    out, so a connection that died with a PostgreSQL restart is replaced, and a server that cannot be
    reached within `WAIT_S` is a 503 `store-unavailable`. Read connections: `statement_timeout`,
    `idle_in_transaction_session_timeout`, every transaction READ ONLY; write connections:
    `lock_timeout` (an import waits that long for the readers of a view it replaces)."""

    def __init__(self, url: str, schema: str, read_only: bool, timeout_ms: int) -> None:
        self.info, self.shown = conninfo(url)
        self.schema, self.read_only, self.timeout_ms = schema, read_only, int(timeout_ms)
        self._pool = ConnectionPool(self.info, min_size=0, max_size=MAX_CONNECTIONS, open=True,
                                    kwargs={"connect_timeout": WAIT_S}, configure=self._configure,
                                    check=ConnectionPool.check_connection, timeout=WAIT_S, max_idle=300,
                                    name=f"aicity-store-{'read' if read_only else 'write'}")

    def _configure(self, conn: Any) -> None:
        conn.autocommit = True
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        if self.read_only:
            conn.execute(f"SET statement_timeout = {self.timeout_ms}")
            conn.execute(f"SET idle_in_transaction_session_timeout = {self.timeout_ms}")
        else:
            conn.execute(f"SET lock_timeout = {self.lock_timeout_ms}")
        conn.autocommit = False
        conn.read_only = self.read_only  # every transaction BEGIN READ ONLY

    @property
    def lock_timeout_ms(self) -> int:
        """How long a write waits for a lock: a reader's statement ends within `timeout_ms`."""
        return 2 * self.timeout_ms

    def get(self) -> Any:
        try:
            return self._pool.getconn()
        except PoolTimeout as exc:
            raise StoreUnavailable(self.shown, f"在 {WAIT_S} 秒内无可用连接 no connection within {WAIT_S} s") from exc

    def put(self, conn: Any) -> None:
        if not conn.closed and not conn.broken:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
        self._pool.putconn(conn)

    def close(self) -> None:
        self._pool.close()


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
    `description`, `interrupt`, `close`): DuckDB's SQL in, PostgreSQL's out. Each statement is its
    own READ ONLY transaction, ended as soon as its rows are fetched: a cursor held through a whole
    request (a model call included) holds no transaction and no lock between statements, so an
    import replacing a view never waits for it."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._conn = pool.get()
        self._rows: list[tuple[Any, ...]] = []
        self._next = 0
        self._description: Any = None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        return self._run(to_postgres(sql, bool(params)), list(params) if params else None)

    def _run(self, query: str, params: list[Any] | None) -> PgCursor:
        """`query` (PostgreSQL's) in one read-only transaction, its rows kept, the transaction ended."""
        self._rows, self._next, self._description = [], 0, None
        try:
            with self._conn.cursor() as cur:
                cur.execute(query, params)
                self._description = cur.description
                self._rows = [_duck_row(r) for r in cur.fetchall()] if cur.description is not None else []
        except psycopg.Error as exc:
            if self._conn.broken:  # the server went away (a restart): not the query's fault
                raise StoreUnavailable(self._pool.shown, str(exc).strip().splitlines()[0]) from exc
            raise
        finally:
            if not self._conn.broken:
                self._conn.rollback()
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    @property
    def description(self) -> Any:
        return self._description

    def interrupt(self) -> None:
        self._conn.cancel_safe()

    def cursor(self) -> PgCursor:
        return PgCursor(self._pool)

    def close(self) -> None:
        if self._conn is not None:
            self._pool.put(self._conn)
            self._conn = None

    def columns(self, table: str) -> list[tuple[str, str]]:
        self._run("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                  "AND table_name = %s ORDER BY ordinal_position", [self._pool.schema, table])
        return [(n, DUCK_TYPES.get(t, t.upper())) for n, t in self.fetchall()]


def tables(pool: Pool) -> set[str]:
    conn = pool.get()
    try:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                            [pool.schema]).fetchall()
    finally:
        pool.put(conn)
    return {r[0] for r in rows}


def size_bytes(pool: Pool) -> int:
    """The store's schema on disk: its tables with their indexes and TOAST (views take none)."""
    conn = pool.get()
    try:
        row = conn.execute("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
                           "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                           [pool.schema]).fetchone()
    finally:
        pool.put(conn)
    return int(row[0]) if row else 0


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
        #: (dataset id, the new table, the table the view showed before or None), once published
        self.published: tuple[str, str, str | None] | None = None

    def _name(self, table: str) -> Any:
        return pgsql.Identifier(self.pool.schema, table)

    def lock(self, dataset_id: str) -> None:
        """Imports of one dataset, in any process, one after another (the next version number): a
        session lock, held past the store's COMMIT until the metadata is committed (`close`). The
        wait for it has no `lock_timeout` (an import may take a while)."""
        self.conn.execute("SET LOCAL lock_timeout = 0")
        self.conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"aicity.hub_data:{dataset_id}"])
        self.conn.execute(f"SET LOCAL lock_timeout = {self.pool.lock_timeout_ms}")

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

    def publish(self, dataset_id: str, table: str, columns: list[tuple[str, str]], previous: str | None) -> None:
        """The DuckDB table `table` as a PostgreSQL table (COPY), and the view `dataset_id` over it
        (`previous`: the table it showed before, for `undo`)."""
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
        try:
            self._point(dataset_id, table)
        except psycopg.errors.LockNotAvailable as exc:  # readers held the view past `lock_timeout`
            raise Problem(503, "暂不可用 Not ready", "分析库的视图正被长查询占用，请稍后重试 the view is held by "
                          f"long-running reads: {str(exc).strip().splitlines()[0]}", "store-busy") from exc
        self.published = (dataset_id, table, previous)

    def _point(self, dataset_id: str, table: str | None) -> None:
        self.conn.execute(pgsql.SQL("DROP VIEW IF EXISTS {}").format(self._name(dataset_id)))
        if table is not None:
            self.conn.execute(pgsql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                self._name(dataset_id), self._name(table)))

    def undo(self) -> None:
        """After the store's COMMIT, in a second short transaction: the published table dropped and
        the view back on the previous version (or gone, for a first version)."""
        if self.published is None:
            return
        dataset_id, table, previous = self.published
        self._point(dataset_id, previous)
        self.drop(table)
        self.conn.commit()

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.conn.rollback()

    def close(self) -> None:
        self.cur.close()
        self._duck.close()
        if not self.conn.broken:
            with contextlib.suppress(psycopg.Error):
                self.conn.rollback()
                self.conn.execute("SELECT pg_advisory_unlock_all()")
        self.pool.put(self.conn)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextlib.contextmanager
def import_transaction(pool: Pool, then: Callable[[], None] | None = None) -> Iterator[PgImport]:
    """One import: the block's work committed when it ends (rolled back on any error), then `then`
    (the metadata's commit) while the dataset is still locked; if `then` fails, `undo` takes back
    what was published and the error goes on."""
    imp = PgImport(pool)
    try:
        yield imp
    except BaseException:
        imp.rollback()
        imp.close()
        raise
    try:
        imp.commit()
        if then is not None:
            then_or_undo(then, imp.undo)
    finally:
        imp.close()


def then_or_undo(then: Callable[[], None], undo: Callable[[], None]) -> None:
    """`then()`; if it fails, `undo()` (a failure of which is logged), and `then`'s error goes on."""
    try:
        then()
    except BaseException:
        try:
            undo()
        except Exception:  # the next import of the dataset drops the table left behind
            log.exception("could not undo a published store version after the metadata failed")
        raise
