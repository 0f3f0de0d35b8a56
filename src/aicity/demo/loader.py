"""Initialise a data dir with the demo city: schema, departments, laws, catalog.

Idempotent: a city already loaded from the same data is left alone (a start costs one
query); changed demo data (a new release) is re-applied, content-hashed per document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import yaml

from aicity.core.db import database
from aicity.core.meta import get_meta, set_meta
from aicity.hub.catalog import service as catalog
from aicity.hub.knowledge import service as knowledge
from aicity.hub.twin.seed import seed_demo_twin
from aicity.identity import service as identity

Progress = Callable[[str, int, int], None]
VERSION_KEY = "demo_city_version"


def data_dir() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data"))


def data_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir().rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(data_dir()).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_city(progress: Progress | None = None) -> bool:
    """Migrate and load the demo city if needed; True when something was loaded."""
    db = database()
    db.migrate()
    version = data_version()
    if get_meta(VERSION_KEY) == version:
        return False
    root = data_dir()
    report = progress or (lambda *_: None)
    departments = yaml.safe_load((root / "departments.yaml").read_text(encoding="utf-8"))
    identity.load_departments(departments)
    knowledge.ensure_kb(knowledge.GLOBAL_KB, "全局法律法规库 National laws and regulations", "global")
    meta = yaml.safe_load((root / "laws.yaml").read_text(encoding="utf-8")) or {}
    knowledge.load_law_dir(root / "laws", meta.get("superseded", {}),
                           lambda i, n: report("法律法规知识库 laws", i, n))
    report("事项库 catalog", 0, 1)
    catalog.store_catalog(catalog.read_catalog_dir(root / "catalog"), {d["id"] for d in departments})
    report("事项库 catalog", 1, 1)
    seed_demo_twin()  # the districts' sensors, valves, cameras and street lights (idempotent)
    set_meta(VERSION_KEY, version)
    return True
