"""The analytical store: one DuckDB file (`<data_dir>/data/hub.duckdb`).

Every version of a dataset is a table `<id>__v<N>`; the current version is also a view named
exactly the dataset id, so `SELECT … FROM hotline_tickets` reads the newest rows and
`SELECT … FROM hotline_tickets__v1` an older one. What the rows mean (titles, columns, grades,
versions, quality, lineage) is metadata in the platform database (`models.py`).

    read_connection() -> duckdb.DuckDBPyConnection    # a cursor for read-only queries
    list_datasets() -> list[DatasetInfo]
    dataset(id) -> DatasetInfo                         # UnknownDataset (a 404 problem) if none

DuckDB lets one process write a file: the process that opens the store first (the server, or a
CLI command while no server runs) holds it until it ends or calls `close()`.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, Field
from sqlalchemy import make_url, select

from aicity.core.config import settings
from aicity.core.db import PerDatabase, database
from aicity.core.errors import Problem
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


def read_connection() -> duckdb.DuckDBPyConnection:
    """A cursor of the store for read-only queries (its own cursor: safe to use in one thread)."""
    return _connection().cursor()


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
    """Release the store file (tests, tools that hand it to another process)."""
    with _write_lock, _lock:
        conn = _connections.pop(store_path(), None)
        if conn is not None:
            conn.close()


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
    cur = read_connection()
    try:
        return {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        cur.close()


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
