"""Initialise a data dir with the demo city: the schema, then each installed slice's demo
data (`Slice.demo`, in dependency order: departments, laws, catalog, the twin's devices …).

Idempotent: a city already loaded from the same data and slices is left alone (a start costs
one query); changed demo data (a new release) or a new slice is re-applied, each loader
idempotent (documents content-hashed).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from aicity.core import scale, slices
from aicity.core.cli import open_city, set_city_loader
from aicity.core.db import database
from aicity.core.meta import get_meta, set_meta
from aicity.core.slices import Progress

VERSION_KEY = "demo_city_version"
#: the demo data files' fingerprint (`files_fingerprint`) when VERSION_KEY was stored
FILES_KEY = "demo_city_files"


def data_dir() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data"))


def files_fingerprint() -> str:
    """The demo data's file names, sizes and modification times, and the slices with demo data: when it equals the
    one stored with the loaded version, no file changed since and the content need not be hashed again (about
    20 MB: a noticeable share of every command's start)."""
    digest = hashlib.sha256()
    for path in sorted(data_dir().rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(data_dir()).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    digest.update(" ".join(s.id for s in slices.slices() if s.demo).encode())
    return digest.hexdigest()


def data_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir().rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(data_dir()).as_posix().encode())
            digest.update(path.read_bytes())
    digest.update(" ".join(s.id for s in slices.slices() if s.demo).encode())
    return digest.hexdigest()


def ensure_city(progress: Progress | None = None) -> bool:
    """Migrate and load the demo city if needed; True when something was loaded."""
    db = database()
    with scale.cluster_lock("city-load"):  # several processes starting at once: one migrates and loads
        db.migrate()
        fingerprint = files_fingerprint()
        if get_meta(FILES_KEY) == fingerprint:
            return False
        version = data_version()
        if get_meta(VERSION_KEY) == version:  # touched, not changed
            set_meta(FILES_KEY, fingerprint)
            return False
        # the slices' subscriptions on: the loaders' events (catalog.loaded, kb.document.ingested …)
        # reach the audit ledger and the twin even when the first command is one that activates nothing
        stop = slices.activate()
        try:
            slices.load_demo(data_dir(), progress or (lambda *_: None))
        finally:
            stop()
        set_meta(VERSION_KEY, version)
        set_meta(FILES_KEY, fingerprint)
        return True


def open_demo_city(data_dir: Path | None = None) -> slices.Stop:
    """Open the data dir with the demo city loaded into it, the slices activated as a command
    has them (scripts and benchmarks); returns the function that deactivates them."""
    deactivate = slices.activate()
    set_city_loader(ensure_city)
    open_city(data_dir)
    return deactivate
