"""`Database.together`: several writers, one transaction (the assistant's per-answer writes)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, select
from sqlalchemy.exc import IntegrityError

from aicity.core.db import Database

META = MetaData()
ROWS = Table("rows", META, Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'unit.db'}")
    META.create_all(database.engine)
    return database


def _count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ROWS)).scalar_one())


def _commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: seen.append(1))
    return seen


def test_writers_inside_together_commit_once(db: Database) -> None:
    commits = _commits(db)
    with db.together():
        for i in range(3):
            with db.session() as s:
                s.execute(ROWS.insert().values(id=i, name=f"r{i}"))
        with db.session() as s:  # a writer sees what the earlier ones wrote
            assert s.execute(select(func.count()).select_from(ROWS)).scalar_one() == 3
        assert _count(db) == 0  # nothing committed yet
    assert _count(db) == 3 and len(commits) == 1


def test_a_failure_rolls_every_writer_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.together():
        with db.session() as s:
            s.execute(ROWS.insert().values(id=1, name="a"))
        raise RuntimeError("composition failed")
    assert _count(db) == 0


def test_a_constraint_error_surfaces_in_the_writer_that_caused_it(db: Database) -> None:
    with db.session() as s:
        s.execute(ROWS.insert().values(id=1, name="a"))
    caught = []
    with pytest.raises(IntegrityError), db.together():
        try:
            with db.session() as s:
                s.add_all([])  # ORM flush at the block's end; a Core insert fails at once
                s.execute(ROWS.insert().values(id=1, name="again"))
        except IntegrityError:
            caught.append(True)
            raise
    assert caught and _count(db) == 1


def test_other_threads_keep_their_own_transactions(db: Database) -> None:
    def write() -> None:
        with db.session() as s:
            s.execute(ROWS.insert().values(id=9, name="thread"))

    with db.together():
        worker = threading.Thread(target=write)
        worker.start()
        worker.join()
        assert _count(db) == 1  # committed by the thread, not held by the unit
