"""The embedder retrieval uses (knowledge search, the assistant's routes): the gateway's
`embed` group, so dense search runs on whatever model the city configured there — by
default the offline e5 model shipped with aicity — metered like every other model call."""

from __future__ import annotations

import numpy as np

from aicity.core.embeddings import unit
from aicity.hub.gateway import service


class GatewayEmbedder:
    def __init__(self, name: str, agent: str) -> None:
        #: names the vectors' model: the cache keeps vectors of different models apart
        self.name = name
        self.agent = agent

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def query(self, text: str) -> np.ndarray:
        """Raises `Problem` when the embedding group fails; callers search by keyword then."""
        return self._embed([text], "query")[0]

    def _embed(self, texts: list[str], input_type: str) -> np.ndarray:
        served = service.embed(texts, agent=self.agent, input_type=input_type)
        rows = sorted(served.data["data"], key=lambda r: r["index"])
        return unit(np.asarray([r["embedding"] for r in rows], dtype=np.float32).reshape(len(texts), -1))


def retrieval_embedder(agent: str) -> GatewayEmbedder | None:
    name = service.embedding_model()
    return GatewayEmbedder(name, agent) if name else None
