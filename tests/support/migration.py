"""One migration's check on a blank database: after upgrading to head it holds exactly the tables
the models declare (Alembic finds no difference), and downgrading to the previous revision removes them."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from aicity.core.db import Base, Database


def check_migration(url: str, tables: set[str], previous: str) -> None:
    db = Database(url)
    db.migrate()
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in tables:
        Base.metadata.tables[name].to_metadata(ours)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), ours)
    assert not [d for d in diff if not (d[0] == "remove_table" and d[1].name not in tables)
                and not (d[0] == "remove_index" and d[1].table.name not in tables)], diff
    assert tables <= set(inspect(db.engine).get_table_names())
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("aicity") / "migrations"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, previous)
    assert not tables & set(inspect(db.engine).get_table_names())
    db.dispose()
