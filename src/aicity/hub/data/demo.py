"""The demo city's data pack (`demo/data/datasets/*.csv`, declared by `<id>.yaml`), imported as
datasets on the demo load; the pack README's grades are confirmed by the demo data officer."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from aicity.core.db import database
from aicity.core.slices import Progress
from aicity.hub.data import store
from aicity.hub.data.importer import import_path
from aicity.hub.data.models import DatasetVersion
from aicity.hub.data.schema import DatasetSpec, load_spec
from aicity.hub.data.spaces_demo import load_demo as load_spaces_demo

DEMO_OFFICER = "demo:data_officer"


def pack(root: Path) -> list[tuple[Path, DatasetSpec]]:
    """The pack's files with their declarations, referenced datasets first."""
    folder = root / "datasets"
    found = {p.stem: (p, load_spec(p.with_suffix(".yaml"))) for p in sorted(folder.glob("*.csv"))
             if p.with_suffix(".yaml").exists()}
    ordered: list[str] = []

    def visit(ds_id: str, trail: tuple[str, ...] = ()) -> None:
        if ds_id in ordered or ds_id not in found or ds_id in trail:
            return
        spec = found[ds_id][1]
        for ref in {c.references.split(".")[0] for c in spec.checks if c.references} | {
                r.references.split(".")[0] for r in spec.relations}:
            visit(ref, (*trail, ds_id))
        ordered.append(ds_id)

    for ds_id in found:
        visit(ds_id)
    return [found[i] for i in ordered]


def _loaded_hashes() -> dict[str, str]:
    with database().session() as s:
        rows = s.execute(select(DatasetVersion.dataset_id, DatasetVersion.sha256)
                         .order_by(DatasetVersion.dataset_id, DatasetVersion.version)).all()
    return {ds: sha for ds, sha in rows if sha}


def load_demo(root: Path, progress: Progress) -> None:
    files = pack(root)
    loaded = _loaded_hashes()
    for i, (path, spec) in enumerate(files):
        progress("数据集 datasets", i, len(files))
        if loaded.get(spec.id) == hashlib.sha256(path.read_bytes()).hexdigest():
            continue  # this file is the current version already
        import_path(path, spec=spec, actor=DEMO_OFFICER, confirm=True)
    progress("数据集 datasets", len(files), len(files))
    load_spaces_demo(root, progress)  # the data space over the imported datasets (spaces_demo.py)
    # one process may hold the DuckDB file: let go, so the process that serves data (in a cluster, an API
    # worker rather than the worker that happened to load the city) opens it on its first query
    store.close()


def health() -> dict[str, int]:
    """Datasets and their rows (metadata only: no store query)."""
    infos = store.list_datasets()
    return {"datasets": len(infos), "rows": sum(d.rows for d in infos)}
