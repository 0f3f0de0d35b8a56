"""Migration 0017 on SQLite and PostgreSQL: it creates exactly the tables `office/models.py`
declares (Alembic finds no difference), and downgrading to 0016 removes them; the number register
hands out each number once under concurrent transactions on both engines."""

from __future__ import annotations

from aicity.agents.office import documents, models  # noqa: F401  (its tables on Base.metadata)
from aicity.core.db import Database
from tests.support.concurrency import run_together
from tests.support.migration import check_migration


def test_0017_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    check_migration(blank_database[1], {"office_numbers", "office_documents"}, "0016")


def test_numbers_are_taken_once_each_under_concurrent_transactions(blank_database: tuple[str, str]) -> None:
    """Eight transactions take numbers of one issuer at once (the first ones racing to create the
    register's row): every number is handed out once, with no gaps."""
    db = Database(blank_database[1])
    db.migrate()

    def take() -> int:
        with db.session() as s:
            return documents.take_number(s, "测试发", 2026)

    taken, errors = run_together(take, 8)
    db.dispose()
    assert not errors, errors
    assert sorted(taken) == list(range(1, 9))
