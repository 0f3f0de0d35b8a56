"""Database engine and sessions (SQLAlchemy 2), migrations (Alembic).

SQLite in WAL mode is the embedded default; any SQLAlchemy URL works (PostgreSQL is
tested in CI). Only portable SQL is used: no SQLite-only constructs.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from aicity.core.bus import bus
from aicity.core.config import settings

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


#: the unit of work `Database.together` opened on this thread or task
_unit: ContextVar[tuple[Database, Session] | None] = ContextVar("aicity_db_unit", default=None)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error. Inside `together()` (same
        thread or task, same database) it is the enclosing unit's session, flushed at the end of the
        block (so a constraint error surfaces here) and committed once, with the enclosing unit."""
        outer = _unit.get()
        if outer is not None and outer[0] is self:
            yield outer[1]
            outer[1].flush()
            return
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def together(self) -> Iterator[Session]:
        """One transaction for several writers: every `session()` opened inside on this thread (or
        task) joins it, and it commits once at the end (or rolls everything back). Work on other
        threads keeps its own sessions."""
        outer = _unit.get()
        if outer is not None and outer[0] is self:
            yield outer[1]
            return
        with self.session() as s:
            token = _unit.set((self, s))
            try:
                yield s
            finally:
                _unit.reset(token)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision. A database already there is only checked:
        the upgrade itself imports every table module, about a second of each CLI command's start."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("aicity") / "migrations"))
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current == ScriptDirectory.from_config(cfg).get_current_head():
            return
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()


_current: Database | None = None


def database() -> Database:
    """The process-wide database, opened from the settings on first use."""
    global _current
    if _current is None:
        _current = Database(settings().resolved_database_url)
    return _current


def use_database(url: str) -> Database:
    """Switch the process to another database (CLI `--data-dir`, tests)."""
    global _current
    if _current is not None:
        _current.dispose()
    _current = Database(url)
    return _current


#: the bus topic on which `PerDatabase.invalidate()` tells the city's other processes (a
#: `broadcast` subscription in the distributed mode, core/streams.py)
INVALIDATED = "core.cache.invalidated"


class PerDatabase(Generic[T]):
    """A value derived from the current database (an index, a cache), built on first use
    and rebuilt after `invalidate()`; one per database URL, so tests and tools can switch.
    When the city runs as several processes, `invalidate()` reaches every process's copy."""

    #: every instance by its builder's name (`module:qualname`), for invalidations from other processes
    registry: ClassVar[dict[str, PerDatabase[Any]]] = {}

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._values: dict[str, T] = {}
        self._lock = threading.Lock()
        self.name = f"{build.__module__}:{build.__qualname__}"
        PerDatabase.registry[self.name] = self

    def get(self) -> T:
        url = database().url
        with self._lock:
            if url not in self._values:
                self._values[url] = self._build()
            return self._values[url]

    def invalidate(self) -> None:
        with self._lock:
            self._values.pop(database().url, None)
        self.updated()

    def updated(self) -> None:
        """This process changed its value in place (an index took a document): the city's other
        processes drop theirs and rebuild on next use."""
        bus.publish(INVALIDATED, {"cache": self.name, "origin": _PROCESS})

    def drop(self) -> None:
        """Forget every value (another process changed what they were built from)."""
        with self._lock:
            self._values.clear()


#: this process among the city's (`invalidate` does not drop what it has just rebuilt or updated)
_PROCESS = f"{socket.gethostname()}-{os.getpid()}"


def on_invalidated(_topic: str, payload: dict[str, Any]) -> None:
    """Another process invalidated or updated a `PerDatabase` value: drop this process's copy."""
    found = PerDatabase.registry.get(str(payload.get("cache")))
    if found is not None and payload.get("origin") != _PROCESS:
        found.drop()
