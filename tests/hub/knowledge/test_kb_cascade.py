"""Knowledge search embeds the query only when BM25's lead is unclear; quoted articles are kept in
memory and follow every change of their document."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aicity.core.embeddings import query_cache
from aicity.hub.knowledge import service as kb
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)
KB = kb.GLOBAL_KB  # the shared city's own base: a test-made base would be the console's first, empty one
RULES = """# 示范城市共享单车停放管理办法

第一条 为规范共享单车停放秩序，制定本办法。

第二条 共享单车应当停放在施划的停放区内，不得停放在盲道、消防通道上。

第三条 运营企业应当在接到通知后两小时内清理违规停放的车辆。

第四条 违反本办法第二条的，由城市管理部门责令改正，可以处五十元罚款。
"""


@pytest.mark.parametrize(("scores", "sure"), [
    ([12.0, 8.0, 3.0], True),  # clear lead, strong enough
    ([12.0, 10.0, 3.0], False),  # a close second
    ([6.0, 1.0, 0.0], False),  # a clear lead, but weak
    ([0.0, 0.0, 0.0], False),
    ([9.0], False),
])
def test_keyword_sure(scores: list[float], sure: bool) -> None:
    assert kb.keyword_sure(np.array(scores)) is sure


def test_a_clear_keyword_lead_skips_the_query_vector(city: Path) -> None:
    job = kb.dense_job()
    if job is None:
        pytest.skip("dense search is off (AICITY_DENSE=false)")
    assert job.wait(300) is not None
    query_cache.clear()
    sure = "共享单车乱停在盲道上怎么处理：清理违规停放车辆 停放区 消防通道 盲道 共享单车"
    vague = "朋友借钱不还怎么办"
    kb.ingest_document("rules.md", RULES.encode(), kb=KB, key="单车办法")
    try:
        tokens = kb.query_tokens(sure)
        index = kb._index.get()
        assert kb.keyword_sure(index.bm25.scores(tokens))
        hits = kb.search(sure, CITIZEN, top_k=3)
        assert hits[0].doc_key == "单车办法" and query_cache.misses == 0  # BM25 alone: nothing embedded
        assert [h.locator for h in hits] == [h.locator for h in kb.search(sure, CITIZEN, top_k=3, mode="keyword")]
        kb.search(vague, CITIZEN, top_k=3)
        assert query_cache.misses == 1  # unclear: the hybrid embeds the query
        kb.search(sure, CITIZEN, top_k=3, mode="dense")
        assert query_cache.misses == 2  # dense search always does
    finally:
        kb.delete_document(KB, "单车办法")


def test_a_quoted_article_follows_its_document(city: Path) -> None:
    kb.ingest_document("rules.md", RULES.encode(), kb=KB, key="单车办法")
    try:
        first = kb.get_article("单车办法", "第三条", kb=KB)
        assert first is not None and "两小时" in first.text
        first.text = "changed by a caller"  # a caller's copy: the kept article is not touched
        assert "两小时" in kb.get_article("单车办法", "第三条", kb=KB).text
        kb.ingest_document("rules.md", RULES.replace("两小时", "一小时").encode(), kb=KB, key="单车办法")
        assert "一小时" in kb.get_article("单车办法", "第三条", kb=KB).text
        kb.ingest_document("rules.md", RULES.replace("两小时", "一小时").encode(), kb=KB, key="单车办法",
                           status="superseded")
        assert kb.get_article("单车办法", "第三条", kb=KB).status == "superseded"
        assert kb.get_article("单车办法", "第九条", kb=KB) is None
    finally:
        kb.delete_document(KB, "单车办法")
    assert kb.get_article("单车办法", "第三条", kb=KB) is None
