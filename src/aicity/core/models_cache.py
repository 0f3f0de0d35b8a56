"""Fitted scikit-learn models kept on disk, so that each is fitted once per machine, not once per process.

A model is named by what it is (`kind`), how it is fitted (`recipe`), a digest of its training rows and the
scikit-learn version: other rows, another recipe or another scikit-learn fit afresh. Files sit beside the
embedding cache; the newest few of each kind are kept. joblib and scikit-learn are imported only here, on use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aicity.core.config import settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: fitted models kept on disk, per kind (the newest)
KEEP_MODELS = 3
_held: dict[str, tuple[str, Any]] = {}  # kind -> (the file's name, the model): one model per kind per process
_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def model_cache() -> Path:
    """Fitted models are kept beside the embedding cache (a model depends only on its rows)."""
    return settings().embedding_cache.expanduser().parent / "models"


def kept(kind: str, recipe: str, rows: object, fit: Callable[[], T]) -> T:
    """The model that `fit()` makes from `rows` (anything JSON can write): loaded from disk when one was kept,
    fitted and kept otherwise, and held once per process. Kinds fit side by side; one kind fits once."""
    import joblib  # type: ignore[import-untyped]
    import sklearn

    key = hashlib.sha1(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    name = f"{kind}-{key[:16]}-{recipe}-sklearn{sklearn.__version__}.joblib"
    with _locks_lock:
        lock = _locks.setdefault(kind, threading.Lock())
    with lock:
        held = _held.get(kind)
        if held is not None and held[0] == name:
            model: T = held[1]
            return model
        path = model_cache() / name
        loaded: T | None = None
        if path.is_file():
            try:
                loaded = joblib.load(path)
            except Exception:  # a damaged or foreign file: fit again
                log.warning("%s could not be read; fitting %s again", path, kind)
        if loaded is None:
            loaded = fit()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two processes may fit at once
            joblib.dump(loaded, tmp)
            tmp.replace(path)
            for old in sorted(path.parent.glob(f"{kind}-*.joblib"), key=lambda p: p.stat().st_mtime)[:-KEEP_MODELS]:
                old.unlink(missing_ok=True)  # models of rows that changed since
        _held[kind] = (name, loaded)
        return loaded
