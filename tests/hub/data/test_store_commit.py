"""The embedded DuckDB store commits an import before the metadata; a metadata commit that fails
then takes back what the store published (the PostgreSQL store's case: test_pg_store.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.core.config import configure, settings
from aicity.core.db import database, use_database
from aicity.hub.data import store
from aicity.hub.data.importer import import_bytes
from aicity.hub.data.models import Dataset, DatasetVersion
from tests.hub.data.store_support import failing_metadata


@pytest.fixture
def bare_store(tmp_path: Path) -> Iterator[Path]:
    previous_db, previous_dir = database().url, settings().data_dir
    store.close()
    configure(data_dir=tmp_path)
    use_database(f"sqlite:///{tmp_path / 'meta.db'}").migrate()
    store.invalidate()
    try:
        yield tmp_path
    finally:
        store.close()
        configure(data_dir=previous_dir)
        use_database(previous_db)
        store.invalidate()


def test_a_failed_metadata_commit_undoes_the_duckdb_store(bare_store: Path) -> None:
    assert store.backend() == "duckdb"
    import_bytes(b"station,aqi\nA,50\n", "duck_meta.csv")
    with failing_metadata("duck_meta", "duck_first"):
        with pytest.raises(Exception, match="version refused"):
            import_bytes(b"station,aqi\nB,70\n", "duck_meta.csv")
        with pytest.raises(Exception, match="version refused"):
            import_bytes(b"station,aqi\nC,80\n", "duck_first.csv")
    left = store.tables()
    assert "duck_meta__v2" not in left and not {"duck_first", "duck_first__v1"} & left
    cur = store.read_connection()
    try:
        assert cur.execute("SELECT station, aqi FROM duck_meta").fetchall() == [("A", 50)]
    finally:
        cur.close()
    with database().session() as s:
        assert [v.version for v in s.query(DatasetVersion).filter_by(dataset_id="duck_meta")] == [1]
        assert s.get(Dataset, "duck_first") is None
    assert import_bytes(b"station,aqi\nD,90\n", "duck_meta.csv").version == 2
