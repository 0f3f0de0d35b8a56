"""The mode classifier's dense votes compare a request's query vector with the labelled rows' query vectors
(e5 embeds "query: " and "passage: " texts differently), kept apart from the same texts' passage vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aicity.core import embeddings
from aicity.core.embeddings import AsQueries, BackgroundVectors


class TwoSided:
    """A stand-in model whose passage and query vectors of a text differ."""

    name = "two-sided-test-embedder"

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t), 0.0] for t in texts], dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        return np.array([len(text), 1.0], dtype=np.float32)


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
    # the query vector, not the passage vector, of a row
    text = classifier.rows[0]["text"]
    assert float(held[0] @ bot.router.embedder.query(text)) > 0.99
