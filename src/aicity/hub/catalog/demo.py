"""The demo city's service catalog (`catalog/`), checked against the departments and laws loaded before it."""

from __future__ import annotations

from pathlib import Path

from aicity.core.slices import Progress
from aicity.hub.catalog import service as catalog
from aicity.identity.service import list_departments


def load_demo(root: Path, progress: Progress) -> None:
    progress("事项库 catalog", 0, 1)
    catalog.store_catalog(catalog.read_catalog_dir(root / "catalog"), {d.id for d in list_departments()})
    progress("事项库 catalog", 1, 1)
