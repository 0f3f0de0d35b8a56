"""Migration 0024 creates exactly the table `ops/models.py` declares (Alembic finds no difference),
and downgrading to 0023 removes it."""

from __future__ import annotations

from aicity.ops import models  # noqa: F401  (its table on Base.metadata)
from tests.support.migration import check_migration


def test_0024_matches_the_model_and_downgrades(blank_database: tuple[str, str]) -> None:
    check_migration(blank_database[1], {"ops_feedback"}, "0023")
