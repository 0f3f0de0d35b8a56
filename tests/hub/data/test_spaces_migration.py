"""Migration 0015 on SQLite and PostgreSQL: it creates exactly the tables `spaces_models.py`
declares (Alembic finds no difference), and downgrading to 0014 removes them."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from aicity.core.db import Base, Database
from aicity.hub.data import spaces_models  # noqa: F401  (its tables on Base.metadata)

TABLES = {"data_spaces", "data_space_members", "data_offers", "data_agreements", "data_usage"}


def _downgrade(db: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("aicity") / "migrations"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_0015_matches_the_models_and_downgrades(blank_database: tuple[str, str]) -> None:
    _, url = blank_database
    db = Database(url)
    db.migrate()  # to head: 0015 and whatever follows it
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in TABLES:
        Base.metadata.tables[name].to_metadata(ours)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), ours)
    assert not [d for d in diff if not (d[0] == "remove_table" and d[1].name not in TABLES)
                and not (d[0] == "remove_index" and d[1].table.name not in TABLES)], diff
    assert TABLES <= set(inspect(db.engine).get_table_names())
    _downgrade(db, "0014")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    db.dispose()
