"""The knowledge index follows ingest and delete per document: BM25 postings and corpus
statistics, dense vectors and row metadata are updated in place, and the results are exactly
those of a full rebuild from the database."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from aicity.core.text import Bm25Index, tokenize
from aicity.demo.loader import data_dir
from aicity.hub.knowledge import service as kb
from aicity.hub.knowledge.chunking import chunk_article, parse_law
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)
KB = "incremental_test"
RULES = """# 示范城市共享单车停放管理办法

第一条 为规范共享单车停放秩序，制定本办法。

第二条 共享单车应当停放在施划的停放区内，不得停放在盲道、消防通道上。

第三条 运营企业应当在接到通知后两小时内清理违规停放的车辆。

第四条 违反本办法第二条的，由城市管理部门责令改正，可以处五十元罚款。
"""
NOTICE = "# 便民通知\n\n古城片区停车场春节期间免费开放，时间为除夕至初六。\n"
QUERIES = ["共享单车乱停在盲道上怎么处理", "停车场春节免费吗", "食品经营许可证怎么办", "消防通道被堵", "试用期最长多久"]


def law_chunks(limit: int = 400) -> list[list[str]]:
    docs = []
    for path in sorted((data_dir() / "laws").glob("*.md")):  # the first laws, up to `limit` chunks
        if len(docs) >= limit:
            break
        for article in parse_law(path.read_text(encoding="utf-8")).articles:
            docs += [tokenize(c.text) for c in chunk_article(article)]
    return docs[:limit]


def test_bm25_added_and_removed_rows_score_as_a_fresh_build() -> None:
    docs = law_chunks()
    fresh = Bm25Index(docs[:300])
    grown = Bm25Index(docs[:100])
    for start in range(100, 400, 7):  # many small additions: segments merge as they go
        grown.add(docs[start:start + 7])
    grown.remove(range(300, 400))
    for query in QUERIES:
        tokens = tokenize(query)
        assert np.array_equal(grown.scores(tokens)[:300], fresh.scores(tokens))
        assert not grown.scores(tokens)[300:].any()
    kept = grown.compact()
    assert list(kept) == list(range(300)) and grown.size == 300 and grown.removed == 0
    assert all(np.array_equal(grown.scores(tokenize(q)), fresh.scores(tokenize(q))) for q in QUERIES)


def test_bm25_scores_are_those_of_bm25s() -> None:
    docs = law_chunks()
    reference = bm25s.BM25(k1=1.5, b=0.75)
    reference.index(docs, show_progress=False)
    ours = Bm25Index(docs)
    for query in ("食品生产经营许可", "县级以上人民政府 监督管理", "违法 罚款 责令改正"):
        tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
        assert tokens and np.allclose(ours.scores(tokens), reference.get_scores(tokens), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def test_kb(city: Path) -> str:
    kb.ensure_kb(KB, "增量索引测试库", "global")
    return KB


def wait_for_vectors() -> None:
    job = kb.dense_job()
    assert job is not None and job.wait(300) is not None


def results() -> list[list[tuple[str, str, str, float]]]:
    return [[(h.kb, h.doc_key, h.locator, h.score) for h in kb.search(q, CITIZEN, top_k=10, mode=mode)]
            for q in QUERIES for mode in kb.SEARCH_MODES]


def test_an_ingested_document_is_found_at_once_and_gone_after_delete(test_kb: str) -> None:
    doc, changed = kb.ingest_document("rules.md", RULES.encode(), kb=test_kb, key="共享单车办法")
    assert changed and doc.kind == "law"
    hit = kb.search("共享单车乱停在盲道上怎么处理", CITIZEN, top_k=1)[0]  # at once: keyword until vectors
    assert (hit.doc_key, hit.locator) == ("共享单车办法", "第二条")
    wait_for_vectors()
    for mode in kb.SEARCH_MODES:
        assert kb.search("共享单车乱停在盲道上怎么处理", CITIZEN, top_k=3, mode=mode)[0].doc_key == "共享单车办法"
    kb.delete_document(test_kb, "共享单车办法")
    for mode in kb.SEARCH_MODES:
        assert all(h.doc_key != "共享单车办法" for h in kb.search("共享单车停放", CITIZEN, top_k=50, mode=mode))


def test_incremental_results_equal_a_full_rebuild(test_kb: str) -> None:
    kb.ingest_document("rules.md", RULES.encode(), kb=test_kb, key="共享单车办法")
    kb.ingest_document("notice.md", NOTICE.encode(), kb=test_kb, key="停车通知")
    kb.ingest_document("notice.md", NOTICE.replace("初六", "初八").encode(), kb=test_kb, key="停车通知")  # replaced
    kb.ingest_document("rules.md", RULES.encode(), kb=test_kb, key="共享单车办法", status="superseded")  # status only
    kb.ingest_document("other.md", "# 临时通知\n\n本周六市民中心暂停办公。\n".encode(), kb=test_kb, key="临时通知")
    kb.delete_document(test_kb, "临时通知")
    wait_for_vectors()
    incremental = results()
    assert any(hit[1] == "停车通知" for hits in incremental for hit in hits)
    assert any(hit[1] == "共享单车办法" for hits in incremental for hit in hits)
    assert all(hit[1] != "临时通知" for hits in incremental for hit in hits)
    kb._index.invalidate()  # the full rebuild from the database
    wait_for_vectors()
    assert results() == incremental
    for key in ("共享单车办法", "停车通知"):
        kb.delete_document(test_kb, key)


def test_removed_rows_are_dropped_once_they_are_a_quarter(test_kb: str) -> None:
    rows = [kb._Row(f"doc{d}", KB, f"文件{d}", f"文件{d}", "in_force", f"第{i}段", f"第{i}段",
                    f"文件{d}的第{i}段内容：停车收费标准。") for d in range(4) for i in range(1, 4)]
    index = kb._Index(rows)
    kept = kb._Index([r for r in rows if r.document_id in ("doc1", "doc3")])
    for index_ in (index, kept):
        assert index_.dense is None or index_.dense.wait(60) is not None
    index.remove("doc0")
    assert index.bm25.size == 12  # a quarter: filtered, not dropped yet
    index.remove("doc2")
    assert index.bm25.size == 6 and [r.document_id for r in index.rows] == [r.document_id for r in kept.rows]
    tokens = kb.query_tokens("停车收费标准")
    assert np.array_equal(index.bm25.scores(tokens), kept.bm25.scores(tokens))
    assert all(list(index.columns[name]) == list(kept.columns[name]) for name in kb._Index.COLUMNS)
    if index.dense is not None and kept.dense is not None:
        assert np.array_equal(index.dense.get(), kept.dense.get())
