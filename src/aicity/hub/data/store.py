"""The analytical store: one DuckDB file (`<data_dir>/data/hub.duckdb`), or PostgreSQL when
`[aicity.data] store_url` names one (`pgstore.py`: every process shares it).

Every version of a dataset is a table `<id>__v<N>`; the current version is also a view named
exactly the dataset id, so `SELECT … FROM hotline_tickets` reads the newest rows and
`SELECT … FROM hotline_tickets__v1` an older one. What the rows mean (titles, columns, grades,
versions, quality, lineage) is metadata in the platform database (`models.py`).

    read_connection() -> Cursor          # a cursor for read-only queries, in DuckDB's SQL on either backend
    import_transaction() -> ContextManager[Import]   # one import: stage, check, publish; all or nothing
    tables() / table_exists(name) / column_types(name) / drop(name)
    list_datasets() -> list[DatasetInfo]
    dataset(id) -> DatasetInfo                         # UnknownDataset (a 404 problem) if none

DuckDB lets one process write a file: the process that opens the store first (the server, or a
CLI command while no server runs) holds it until it ends or calls `close()`. PostgreSQL has no
such limit.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, Field
from sqlalchemy import make_url, select

from aicity.core.config import settings
from aicity.core.db import PerDatabase, database
from aicity.core.errors import Problem
from aicity.hub.data import pgstore
from aicity.hub.data.models import Dataset, DatasetColumn, DatasetVersion
from aicity.hub.data.settings import DataSettings

Grade = Literal["core", "important", "general"]
Pii = Literal["personal", "sensitive"]
#: a dataset id: lower-case snake case, no double underscore (that separates the version)
DATASET_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
GRADE_NAMES = {"core": "核心数据", "important": "重要数据", "general": "一般数据"}


class UnknownDataset(Problem):
    """No dataset with this id (answered as a 404 problem)."""

    def __init__(self, dataset_id: str) -> None:
        super().__init__(404, "未找到 Not found", f"没有数据集 no dataset '{dataset_id}'", "unknown-dataset")
        self.dataset_id = dataset_id


class StoreBusy(Problem):
    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(503, "暂不可用 Not ready",
                         f"分析库被另一个进程占用（如正在运行的 aicity serve），请经 REST 导入或先停止它 "
                         f"the store {path} is held by another process (a running server?): {cause}", "store-busy")


class ColumnInfo(BaseModel):
    name: str
    type: str = Field(description="DuckDB type: VARCHAR, BIGINT, DOUBLE, DATE, TIMESTAMP …")
    title: str = ""
    meaning: str = ""
    unit: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    grade: Grade = "general"
    sensitivity_level: int = Field(default=1, ge=1, le=4, description="within general data; 1 = lowest")
    pii: Pii | None = Field(default=None, description="personal | sensitive (个人信息 / 敏感个人信息)")
    pii_kind: str | None = Field(default=None, description="resident_id, mobile, name, address, bank_card …")


class DatasetInfo(BaseModel):
    id: str
    title: str
    description: str = ""
    owner_department: str | None = None
    category: str = ""
    cadence: str = ""
    keywords: list[str] = Field(default_factory=list)
    relations: list[dict[str, str]] = Field(default_factory=list)
    source: str = "file"
    grade: Grade = "general"
    sensitivity_level: int = Field(default=2, ge=1, le=4)
    confirmed: bool = Field(default=False, description="a data officer confirmed the grade")
    version: int
    rows: int
    quality_score: float | None = None
    updated_at: datetime | None = None
    columns: list[ColumnInfo] = Field(default_factory=list)

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


# ---- the DuckDB file ---------------------------------------------------------------------

#: guards the table of open connections (held for an instant)
_lock = threading.RLock()
#: serialises writes (held for a whole import; reads never wait for it)
_write_lock = threading.RLock()
_connections: dict[Path, duckdb.DuckDBPyConnection] = {}


def store_path() -> Path:
    """`store_path` if set; else `<data_dir>/data/hub.duckdb` for the data dir's own SQLite database,
    and `hub-<digest of the database URL>.duckdb` beside it for any other metadata database, so
    that two metadata databases never share (and overwrite) one store's version tables."""
    cfg = settings()
    configured = cfg.section(DataSettings).store_path
    if configured is not None:
        return configured.resolve()
    url = database().url
    if url == cfg.resolved_database_url and url.startswith("sqlite"):
        return (cfg.data_dir / "data" / "hub.duckdb").resolve()
    shown = make_url(url).render_as_string(hide_password=True)
    return (cfg.data_dir / "data" / f"hub-{hashlib.sha256(shown.encode()).hexdigest()[:12]}.duckdb").resolve()


def _connection() -> duckdb.DuckDBPyConnection:
    path = store_path()
    with _lock:
        conn = _connections.get(path)
        if conn is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = duckdb.connect(str(path))
            except duckdb.IOException as exc:
                raise StoreBusy(path, str(exc).splitlines()[0]) from exc
            _connections[path] = conn
        return conn


#: what a failed store query raises, on either backend
QUERY_ERRORS: tuple[type[Exception], ...] = (duckdb.Error, *pgstore.ERRORS)
#: a cursor of either backend: `duckdb.DuckDBPyConnection` or `pgstore.PgCursor`
Cursor = Any
_pools: dict[tuple[str, str, bool], pgstore.Pool] = {}
_schemas: set[tuple[str, str]] = set()


def backend() -> Literal["duckdb", "postgres"]:
    return "postgres" if settings().section(DataSettings).store_url is not None else "duckdb"


def _pool(read_only: bool) -> pgstore.Pool:
    cfg = settings().section(DataSettings)
    assert cfg.store_url is not None
    url = cfg.store_url.get_secret_value()
    if read_only and cfg.store_read_url is not None:
        url = cfg.store_read_url.get_secret_value()
    key = (url, cfg.store_schema, read_only)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = pgstore.Pool(url, cfg.store_schema, read_only, int(cfg.query_timeout_s * 1000))
    return pool


def location() -> str:
    """Where the store is, as shown (no password)."""
    if backend() == "postgres":
        pool = _pool(False)
        return f"{pool.shown}#{pool.schema}"
    return str(store_path())


def read_connection() -> Cursor:
    """A cursor of the store for read-only queries (its own cursor: safe to use in one thread).
    On PostgreSQL a read-only transaction with a statement timeout; the SQL is DuckDB's."""
    if backend() == "postgres":
        return pgstore.PgCursor(_pool(True))
    return _connection().cursor()


class DuckImport:
    """One import into the DuckDB file: staged, typed and checked in the store's own transaction."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        #: (dataset id, the new table, the table the view showed before or None), once published
        self.published: tuple[str, str, str | None] | None = None

    def lock(self, dataset_id: str) -> None:
        return None  # imports are serialised by `_write_lock` (one process holds the file)

    def tables(self) -> set[str]:
        return {r[0] for r in self.cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}

    def drop(self, table: str) -> None:
        self.cur.execute(f"DROP TABLE IF EXISTS {quote(table)}")

    def mirror(self, table: str, columns: set[str]) -> None:
        return None  # the referenced tables are in this very database

    def publish(self, dataset_id: str, table: str, columns: list[tuple[str, str]], previous: str | None) -> None:
        self.cur.execute(f"CREATE OR REPLACE VIEW {quote(dataset_id)} AS SELECT * FROM {quote(table)}")
        self.published = (dataset_id, table, previous)

    def undo(self) -> None:
        """After the COMMIT, in a second transaction: the published table dropped, the view back on
        the previous version (or gone, for a first version)."""
        if self.published is None:
            return
        dataset_id, table, previous = self.published
        with write_transaction() as cur:
            if previous is None:
                cur.execute(f"DROP VIEW IF EXISTS {quote(dataset_id)}")
            else:
                cur.execute(f"CREATE OR REPLACE VIEW {quote(dataset_id)} AS SELECT * FROM {quote(previous)}")
            cur.execute(f"DROP TABLE IF EXISTS {quote(table)}")


Import = DuckImport | pgstore.PgImport


@contextmanager
def import_transaction(then: Callable[[], None] | None = None) -> Iterator[Import]:
    """One import as one transaction of the store: committed when the block ends, rolled back on
    any error (nothing half-written). Then `then` runs (the importer's metadata commit) while the
    dataset is still locked; if it fails, a second short transaction undoes the publication (the
    new table dropped, the view back on the previous version) and its error goes on. DuckDB:
    serialised with the process's other writes; PostgreSQL: staged in memory, loaded with COPY,
    serialised per dataset across processes."""
    if backend() == "postgres":
        pool = _pool(False)
        cfg = settings().section(DataSettings)
        if (pool.shown, cfg.store_schema) not in _schemas:
            pgstore.ensure_schema(pool)
            _schemas.add((pool.shown, cfg.store_schema))
        with pgstore.import_transaction(pool, then) as imp:
            yield imp
        return
    with _write_lock:
        with write_transaction() as cur:
            duck = DuckImport(cur)
            yield duck
        if then is not None:
            pgstore.then_or_undo(then, duck.undo)


@contextmanager
def write_transaction() -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction, serialised with the process's other writes: committed when the
    block ends, rolled back on any error (nothing half-written)."""
    with _write_lock:
        cur = _connection().cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            cur.close()
            raise
        cur.execute("COMMIT")
        cur.close()


def close() -> None:
    """Release the store file (tests, tools that hand it to another process), and the idle
    PostgreSQL connections."""
    with _write_lock, _lock:
        conn = _connections.pop(store_path(), None)
        if conn is not None:
            conn.close()
        pools = list(_pools.values())
        _pools.clear()
        _schemas.clear()
    for pool in pools:
        pool.close()


@atexit.register
def _close_all() -> None:
    with _lock:
        for conn in _connections.values():
            conn.close()
        _connections.clear()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_name(dataset_id: str, version: int) -> str:
    return f"{dataset_id}__v{version}"


def check_id(dataset_id: str) -> str:
    if not DATASET_ID.match(dataset_id) or len(dataset_id) > 60:
        raise Problem(422, "请求内容不合法 Unprocessable",
                      f"数据集 id 须为小写字母、数字和单个下划线 dataset id '{dataset_id}': use a-z, 0-9 and single _",
                      "invalid-dataset-id")
    return dataset_id


def tables() -> set[str]:
    """The store's tables and views."""
    if backend() == "postgres":
        return pgstore.tables(_pool(True))
    cur = read_connection()
    try:
        return {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        cur.close()


def size_bytes() -> int:
    """What the store takes on disk: the DuckDB file, or the PostgreSQL schema's tables."""
    if backend() == "postgres":
        return pgstore.size_bytes(_pool(True))
    path = store_path()
    return path.stat().st_size if path.exists() else 0


def table_exists(name: str) -> bool:
    return name in tables()


def column_types(name: str, cur: Cursor | None = None) -> list[tuple[str, str]]:
    """(column, DuckDB type name) of a table or view, read through `cur` (default: a new cursor);
    `cur` may also be another DuckDB connection (the demo pack in memory)."""
    own = cur is None
    cur = cur if cur is not None else read_connection()
    try:
        if isinstance(cur, pgstore.PgCursor):
            return cur.columns(name)
        return [(r[0], r[1]) for r in cur.execute(f"DESCRIBE {quote(name)}").fetchall()]
    finally:
        if own:
            cur.close()


def drop(name: str) -> None:
    """Drop one table of the store (with the views over it), in its own transaction."""
    with import_transaction() as imp:
        imp.drop(name)


# ---- the metadata ------------------------------------------------------------------------

def _read_infos() -> dict[str, DatasetInfo]:
    with database().session() as s:
        datasets = s.scalars(select(Dataset).where(Dataset.current_version > 0).order_by(Dataset.id)).all()
        cols = s.scalars(select(DatasetColumn).order_by(DatasetColumn.dataset_id, DatasetColumn.ord)).all()
        facts = {(r[0], r[1]): (r[2], r[3]) for r in s.execute(select(
            DatasetVersion.dataset_id, DatasetVersion.version, DatasetVersion.rows, DatasetVersion.quality_score))}
        by_ds: dict[str, list[ColumnInfo]] = {}
        for c in cols:
            by_ds.setdefault(c.dataset_id, []).append(ColumnInfo(
                name=c.name, type=c.type, title=c.title, meaning=c.meaning, unit=c.unit, synonyms=c.synonyms or [],
                grade=c.grade, sensitivity_level=c.sensitivity_level, pii=c.pii, pii_kind=c.pii_kind))  # type: ignore[arg-type]
        return {d.id: _info(d, by_ds.get(d.id, []), facts.get((d.id, d.current_version), (0, None)))
                for d in datasets}


def _info(d: Dataset, columns: list[ColumnInfo], facts: tuple[int, float | None]) -> DatasetInfo:
    return DatasetInfo(
        id=d.id, title=d.title, description=d.description, owner_department=d.owner_department,
        category=d.category, cadence=d.cadence, keywords=d.keywords or [], relations=d.relations or [],
        source=d.source, grade=d.grade, sensitivity_level=d.sensitivity_level,  # type: ignore[arg-type]
        confirmed=d.confirmed_by is not None, version=d.current_version, rows=facts[0],
        quality_score=facts[1], updated_at=d.updated_at, columns=columns)


_infos: PerDatabase[dict[str, DatasetInfo]] = PerDatabase(_read_infos)


def invalidate() -> None:
    """Forget the cached metadata (after an import, a grade confirmation, a derivation)."""
    _infos.invalidate()


def list_datasets() -> list[DatasetInfo]:
    return list(_infos.get().values())


def dataset(dataset_id: str) -> DatasetInfo:
    found = _infos.get().get(dataset_id)
    if found is None:
        raise UnknownDataset(dataset_id)
    return found
