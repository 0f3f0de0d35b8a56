"""A pack dataset in the analytical store for the data-space tests: the one the demo loader
imported, or the package's CSV imported now through the data hub's own importer."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aicity.hub.data import store
from aicity.hub.data.importer import import_path
from aicity.hub.data.schema import load_spec
from aicity.hub.data.store import DatasetInfo, UnknownDataset

PACK = Path(str(resources.files("aicity") / "demo" / "data" / "datasets"))


def pack_dataset(dataset_id: str) -> DatasetInfo:
    try:
        return store.dataset(dataset_id)
    except UnknownDataset:
        path = PACK / f"{dataset_id}.csv"
        import_path(path, spec=load_spec(path.with_suffix(".yaml")), actor="test", confirm=True)
        return store.dataset(dataset_id)
