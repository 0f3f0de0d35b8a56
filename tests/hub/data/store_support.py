"""What several data-hub store tests share: the packaged pack's row counts, and a metadata commit
that fails for real (a SQLite trigger) after the store has committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aicity.core.db import database

#: rows of each dataset of the pack, as imported
PACK_ROWS = {"districts": 30, "chain_nodes": 51, "enterprises": 4004, "investment_leads": 300,
             "hotline_tickets": 25013, "air_quality_daily": 3644, "low_income_households": 1511,
             "traffic_flow_hourly": 11520}


@contextmanager
def failing_metadata(*dataset_ids: str) -> Iterator[None]:
    """Every new version row of these datasets refused by the (SQLite) metadata database: the
    importer's metadata commit fails after the store's COMMIT."""
    names = ", ".join(f"'{d}'" for d in dataset_ids)
    with database().engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TRIGGER versions_refused BEFORE INSERT ON data_versions WHEN NEW.dataset_id "
                             f"IN ({names}) BEGIN SELECT RAISE(ABORT, 'version refused'); END")
    try:
        yield
    finally:
        with database().engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER versions_refused")
