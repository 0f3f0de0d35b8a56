"""Migration 0018 creates exactly the tables `agents/industry/models.py` declares (Alembic finds no
difference) on SQLite and PostgreSQL, and downgrading to 0017 removes them."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from aicity.agents.industry import models  # noqa: F401  (its tables on Base.metadata)
from aicity.core.db import Base, Database

OURS = {"industry_projects", "industry_project_history"}


def test_0018_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    db = Database(blank_database[1])
    db.migrate()
    declared = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in sorted(OURS):
        Base.metadata.tables[name].to_metadata(declared)
    with db.engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), declared)
    ours = [d for d in found if (d[1].name if d[0].endswith("_table") else d[1].table.name) in OURS]
    assert ours == [], ours
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("aicity") / "migrations"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0017")
    assert not OURS & set(inspect(db.engine).get_table_names())
    db.dispose()
