"""Migration 0023 creates exactly the tables `agents/studio/models.py` declares (Alembic finds no
difference) on SQLite and PostgreSQL, and downgrading to 0022 removes them."""

from __future__ import annotations

from aicity.agents.studio import models  # noqa: F401  (its tables on Base.metadata)
from tests.support.migration import check_migration


def test_0023_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    check_migration(blank_database[1], {"studio_agents", "studio_versions", "studio_reactions"}, "0022")
