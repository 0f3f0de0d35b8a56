"""Structure-aware chunking of the law corpus, retrieval and exact quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.core.text import normalize, tokenize
from aicity.demo.loader import data_dir
from aicity.hub.knowledge import service as kb
from aicity.hub.knowledge.chunking import MAX_CHUNK_CHARS, Article, chunk_article, parse_law, to_chinese_numeral
from aicity.identity.models import Role
from aicity.identity.service import Principal

LAWS = data_dir() / "laws"
CITIZEN = Principal(Role.citizen)


def law_text(key: str) -> str:
    return next(LAWS.glob(f"{key}(*.md")).read_text(encoding="utf-8")


def test_normalize_folds_full_width_and_zero_width() -> None:
    assert normalize("１３８\u200b００１３８０００") == "13800138000"
    assert "公积金" in tokenize("住房公积金怎么提取？")
    assert "的" not in tokenize("我的营业执照")


def test_every_bundled_law_parses_into_articles() -> None:
    files = sorted(LAWS.glob("*.md"))
    assert len(files) == 94
    for path in files:
        law = parse_law(path.read_text(encoding="utf-8"))
        assert law.title, path.name
        assert len(law.articles) >= 5, path.name
        # a book of the Civil Code keeps the whole Code's numbering
        assert law.articles[0].locator == "第一条" or path.name.startswith("民法典·"), path.name


def test_article_keeps_chapter_section_and_paragraphs() -> None:
    law = parse_law(law_text("食品安全法"))
    art = next(a for a in law.articles if a.locator == "第三十五条")
    assert art.headings == ["第四章 食品生产经营", "第一节 一般规定"]
    assert len(art.paragraphs) == 2
    assert "仅销售预包装食品的，应当报所在地" in art.paragraphs[0]  # full-width punctuation kept exactly


def test_items_stay_with_their_paragraph() -> None:
    law = parse_law(law_text("食品安全法"))
    art = next(a for a in law.articles if a.locator == "第二条")
    assert art.paragraphs[0].count("（") >= 6  # （一）…（六） are 项 of the first 款


def test_long_article_splits_on_sentence_ends_only() -> None:
    sentence = "这是一个用于测试的很长的句子，" * 10 + "到此结束。"
    art = Article(locator="第九十九条", headings=[], paragraphs=["第九十九条 " + sentence * 8, sentence])
    chunks = chunk_article(art)
    assert len(chunks) > 2
    assert all(c.text.endswith("。") for c in chunks)
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert {c.locator for c in chunks} == {"第九十九条 第一款", "第九十九条 第二款"}


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (10, "十"), (15, "十五"), (35, "三十五"), (101, "一百零一"),
                                         (110, "一百一十"), (235, "二百三十五")])
def test_chinese_numerals(n: int, text: str) -> None:
    assert to_chinese_numeral(n) == text


def test_search_finds_the_article_that_answers(city: Path) -> None:
    hits = kb.search("只卖预包装食品需要办许可证吗 备案", CITIZEN, top_k=5)
    assert any(h.doc_key == "食品安全法" and h.locator.startswith("第三十五条") for h in hits)


def test_named_article_ranks_first(city: Path) -> None:
    hits = kb.search("食品安全法第三十五条怎么规定的", CITIZEN, top_k=3)
    assert (hits[0].doc_key, hits[0].locator) == ("食品安全法", "第三十五条")


def test_superseded_law_ranks_below_the_one_in_force(city: Path) -> None:
    hits = kb.search("个体工商户 登记 经营者", CITIZEN, top_k=20)
    keys = [h.doc_key for h in hits]
    assert "促进个体工商户发展条例" in keys
    old = [h for h in hits if h.doc_key == "个体工商户条例"]
    assert all(h.status == "superseded" for h in old)
    if old:
        assert keys.index("促进个体工商户发展条例") < keys.index("个体工商户条例")


def test_quote_is_exactly_the_official_text(city: Path) -> None:
    cit = kb.get_article("食品安全法", "第三十五条")
    line = next(row for row in law_text("食品安全法").splitlines() if row.startswith("第三十五条"))
    assert cit is not None and cit.text.split("\n")[0] == line.strip()
    second = kb.get_article("食品安全法", "第三十五条", paragraph=2)
    assert second is not None and second.locator == "第三十五条 第二款"
    assert second.text.startswith("县级以上地方人民政府")
    assert kb.get_article("食品安全法", "第三十五条", paragraph=9) is None
    assert kb.get_article("食品安全法", "第九百条") is None
    assert kb.get_article("没有这部法", "第一条") is None


def test_reingesting_the_same_text_is_a_no_op(city: Path) -> None:
    before = kb.document_stats()
    doc, changed = kb.ingest_law(law_text("消防法"), "消防法", date="2021-04-29")
    assert not changed
    assert kb.document_stats() == before


def test_text_without_articles_is_a_generic_document(city: Path) -> None:
    doc, _ = kb.ingest_law("# 便民提示\n\n市民中心周六上午照常办公。", "便民提示")
    try:  # the session's shared city keeps its 94 documents for the other tests, whatever happens here
        assert doc.kind == "generic"
        assert kb.search("市民中心周六办公", CITIZEN, top_k=1)[0].doc_key == "便民提示"
    finally:
        kb.delete_document(kb.GLOBAL_KB, "便民提示")
    assert all(d.key != "便民提示" for d in kb.list_documents())
