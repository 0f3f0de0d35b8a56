"""Migration 0017 on SQLite and PostgreSQL: it creates exactly the tables `office/models.py`
declares (Alembic finds no difference), and downgrading to 0016 removes them."""

from __future__ import annotations

from aicity.agents.office import models  # noqa: F401  (its tables on Base.metadata)
from tests.support.migration import check_migration


def test_0017_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    check_migration(blank_database[1], {"office_numbers", "office_documents"}, "0016")
