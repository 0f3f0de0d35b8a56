"""Migration 0025 creates exactly the tables `ops/centre_models.py` declares (Alembic finds no
difference), and downgrading to 0024 removes them."""

from __future__ import annotations

from aicity.ops import centre_models  # noqa: F401  (its tables on Base.metadata)
from tests.support.migration import check_migration


def test_0025_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    check_migration(blank_database[1], {"ops_corpus_items", "ops_corpus_versions", "ops_model_versions",
                                        "ops_kb_reviews"}, "0024")
