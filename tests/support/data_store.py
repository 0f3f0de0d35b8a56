"""A pack dataset in the analytical store for the data-space tests: the one the demo loader
imported when it is there, else the package's CSV loaded as version 1 with the metadata of its
declaration (`demo/data/datasets/<id>.yaml`) — real DuckDB, real metadata tables."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.data import store
from aicity.hub.data.models import Dataset, DatasetColumn, DatasetVersion
from aicity.hub.data.schema import load_spec
from aicity.hub.data.store import DatasetInfo, UnknownDataset

PACK = Path(str(resources.files("aicity") / "demo" / "data" / "datasets"))


def pack_dataset(dataset_id: str) -> DatasetInfo:
    try:
        return store.dataset(dataset_id)
    except UnknownDataset:
        pass
    spec = load_spec(PACK / f"{dataset_id}.yaml")
    table = store.table_name(dataset_id, 1)
    types = {c.name: c.type for c in spec.columns}
    with store.write_transaction() as cur:
        cur.execute(f"CREATE OR REPLACE TABLE {store.quote(table)} AS SELECT * FROM read_csv(?, header = true, "
                    "columns = ?)", [str(PACK / f"{dataset_id}.csv"), types])
        cur.execute(f"CREATE OR REPLACE VIEW {store.quote(dataset_id)} AS SELECT * FROM {store.quote(table)}")
        rows = cur.execute(f"SELECT COUNT(*) FROM {store.quote(table)}").fetchone()[0]
    now = utcnow()
    with database().session() as s:
        s.add(Dataset(id=dataset_id, title=spec.title, description=spec.description,
                      owner_department=spec.owner_department, category=spec.category, cadence=spec.cadence,
                      keywords=spec.keywords, relations=[], grade_reasons=[], current_version=1,
                      sensitivity_level=spec.grade.level if spec.grade else 2, created_at=now, updated_at=now))
        s.flush()
        s.add(DatasetVersion(dataset_id=dataset_id, version=1, table_name=table, rows=rows, created_by="test",
                             created_at=now))
        for i, c in enumerate(spec.columns):
            s.add(DatasetColumn(dataset_id=dataset_id, ord=i, name=c.name, type=c.type, title=c.title,
                                synonyms=[], pii=c.pii, pii_kind=c.pii_kind, reasons=[]))
    store.invalidate()
    return store.dataset(dataset_id)
