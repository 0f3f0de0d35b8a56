"""Write the vectors the package ships for the demo city's bundled texts.

    .venv/bin/python scripts/ship_vectors.py

Loads the demo city into an empty data dir, collects every text the first answers embed (the
knowledge base's passages, the assistant's routes and labelled requests, the events classifier's
labelled reports),
computes their vectors with the bundled embedding model (or takes them from the machine's cache)
and writes `src/aicity/demo/data/vectors/<model>.npz`: SHA-1 keys of the texts, int8 vectors with a
scale each,
and the model's name and package version (`core.embeddings` uses the file only for that model
and version). The mode classifier's labelled requests and the legal answerer's article questions
(`hub/knowledge/law_prior.py`) are compared with a request's query vector, so their query vectors go beside them in
`<model>+query.npz` (`core.embeddings.AsQueries`). Run it again
after the bundled laws, catalog or training rows change; texts it does not cover are computed in the background as before.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aicity.assistant.service import assistant
from aicity.core import slices
from aicity.core.cli import open_city, set_city_loader
from aicity.core.embeddings import AsQueries, Embedder, embed_cached, model_version, shipped_path
from aicity.demo.loader import ensure_city
from aicity.hub.gateway.embedder import retrieval_embedder
from aicity.hub.knowledge import law_prior
from aicity.hub.knowledge import service as knowledge


def bundled_texts() -> list[str]:
    bot = assistant()
    index = knowledge._index.get()
    texts = [r.passage for r in index.rows]
    texts += [e.text for e in bot.router.entries]
    texts += mode_texts()
    return list(dict.fromkeys(texts))


def mode_texts() -> list[str]:
    return [r["text"] for r in assistant().understanding.classifier.rows]


def query_texts() -> list[str]:
    """The texts embedded as queries: the mode classifier's rows and the built-in article questions."""
    return list(dict.fromkeys([*mode_texts(), *law_prior.article_rows(law_prior.shipped_article_paths())]))


def ship(embedder: Embedder, texts: list[str]) -> None:
    """The vectors of `texts` by `embedder` written to the package's file for its model."""
    t0 = time.perf_counter()
    vectors = embed_cached(embedder, texts, progress=lambda d, t: print(f"\r{d}/{t}", end="", file=sys.stderr))
    print(f"\n{embedder.name}: {len(texts)} texts, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    keys = np.frombuffer(b"".join(hashlib.sha1(t.encode()).digest() for t in texts), dtype=np.uint8)
    path = shipped_path(embedder.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"model": embedder.name, "version": model_version(), "count": len(texts)})
    # 8 bits per component with one scale per vector (cosines change by well under 0.01): half of float16
    scales = np.abs(vectors).max(axis=1, keepdims=True)
    quantised = np.round(vectors / scales * 127).astype(np.int8)
    np.savez_compressed(path, keys=keys.reshape(len(texts), 20), vectors=quantised,
                        scales=scales.astype(np.float32).ravel(), meta=np.array(meta))
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)


def main() -> int:
    slices.activate()
    set_city_loader(ensure_city)
    open_city(Path(tempfile.mkdtemp(prefix="aicity-ship-")))
    embedder = retrieval_embedder("ship-vectors")
    if embedder is None:
        print("dense retrieval is off (AICITY_DENSE=false or no embed group): nothing to ship", file=sys.stderr)
        return 1
    ship(embedder, bundled_texts())
    ship(AsQueries(embedder), query_texts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
