"""The embedder retrieval uses (knowledge search, the assistant's routes): the gateway's
`embed` group, so dense search runs on whatever model the city configured there — by
default the offline e5 model shipped with aicity — metered like every other model call."""

from __future__ import annotations

import numpy as np

from aicity.core.embeddings import AsQueries, embed_cached, query_cache, unit
from aicity.hub.gateway import service


class GatewayEmbedder:
    def __init__(self, name: str, agent: str) -> None:
        #: names the vectors' model: the cache keeps vectors of different models apart
        self.name = name
        self.agent = agent

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def query(self, text: str) -> np.ndarray:
        """Raises `Problem` when the embedding group fails; callers search by keyword then. A text embedded
        lately (by this or another part of the same request) is not embedded again (`query_cache`)."""
        return query_cache.get(self.name, text, self._query)

    def _query(self, text: str) -> np.ndarray:
        return self._embed([text], "query")[0]

    def queries(self, texts: list[str]) -> np.ndarray:
        """Stored texts' query vectors (`AsQueries`): one call for the batch, not kept in `query_cache`
        (it keeps the requests' vectors)."""
        return self._embed(texts, "query")

    def worker_job(self, input_type: str = "passage") -> tuple[str, tuple[str, ...]]:
        """How a background worker computes this embedder's vectors of `input_type` (core/embeddings.py
        `from_workers`)."""
        return "aicity.hub.gateway.embedder:embed_job", (self.name, self.agent, input_type)

    def _embed(self, texts: list[str], input_type: str) -> np.ndarray:
        served = service.embed(texts, agent=self.agent, input_type=input_type)
        rows = sorted(served.data["data"], key=lambda r: r["index"])
        return unit(np.asarray([r["embedding"] for r in rows], dtype=np.float32).reshape(len(texts), -1))


def retrieval_embedder(agent: str) -> GatewayEmbedder | None:
    name = service.embedding_model()
    return GatewayEmbedder(name, agent) if name else None


def embed_job(model: str, agent: str, input_type: str, texts: list[str]) -> int:
    """A background worker's share of the city's vectors (queue `embed`): `texts` embedded by the
    retrieval model as passages, or as queries ("query": the labelled requests, `AsQueries`), and kept
    in the database, where the API processes read them. A job for a model the city's `embed` group no
    longer serves fails (rq keeps it in its failed registry)."""
    serving = service.embedding_model(for_search=False)
    if serving != model:
        raise RuntimeError(f"embed job for {model}: the embed group now serves {serving}")
    embedder = GatewayEmbedder(model, agent)
    embed_cached(AsQueries(embedder) if input_type == "query" else embedder, texts)
    return len(texts)
