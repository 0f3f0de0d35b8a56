"""The article prior: the training questions nearest a legal question vote for their article, whose chunks (and the
provisions overriding it or overridden by it) the legal answerer's searches lift; no rows, no votes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aicity.core.config import settings
from aicity.hub.knowledge import law_prior
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.relations import relations
from aicity.hub.knowledge.service import ARTICLE_PRIOR_WEIGHT, article_lift, related_laws, search
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)
ROWS = [
    {"q": "入职半年了公司一直不跟我签劳动合同", "doc": "中华人民共和国劳动合同法", "article": "第八十二条"},
    {"q": "公司不给我交社保可以吗", "doc": "社会保险法", "article": "第五十八条"},
    {"q": "开个茶馆要办卫生许可证吗", "doc": "公共场所卫生管理条例", "article": "第四条"},
]


@pytest.fixture
def city_rows(city: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = settings().data_dir / "training" / "city_legal_articles.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    monkeypatch.setattr(law_prior, "article_paths", lambda: [path])
    monkeypatch.setattr(law_prior, "_article_questions", None)
    yield path
    path.unlink()


def test_the_nearest_questions_vote_for_their_article(city_rows: Path) -> None:
    embedder = knowledge._index.get().embedder
    assert embedder is not None
    held = law_prior._articles(embedder)
    assert held is not None and held.vectors.wait(60) is not None
    assert held.articles[0] == ("劳动合同法", "第八十二条")  # keyed as the knowledge base keys laws
    votes = law_prior.article_votes(embedder.query("老板拖着不跟我签合同，能要双倍工资吗"), embedder)
    assert sum(votes.values()) == pytest.approx(1.0)
    assert max(votes, key=votes.__getitem__) == ("劳动合同法", "第八十二条")
    assert law_prior.training_paths()[-1] == city_rows  # the law prior learns from them too


def test_no_rows_no_votes(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(law_prior, "article_paths", lambda: [tmp_path / "legal_articles.jsonl"])
    monkeypatch.setattr(law_prior, "_article_questions", None)
    embedder = knowledge._index.get().embedder
    assert embedder is not None
    assert law_prior.article_votes(embedder.query("房东不退押金"), embedder) == {}


def _scores(question: str, **kw: Any) -> dict[tuple[str, str], float]:
    return {(h.doc_key, h.locator): h.score for h in search(question, CITIZEN, top_k=5000, **kw)}


def test_voted_articles_lift_their_chunks_and_the_provisions_overriding_them(
        city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = relations().overrides[0]
    voted = (override.provision.doc, override.provision.article)
    partner = (override.governed_by.doc, override.governed_by.article)
    question = "单位拖欠工资怎么办"
    monkeypatch.setattr(law_prior, "article_votes", lambda _v, _e: {})
    plain = _scores(question, exhaustive=True)
    monkeypatch.setattr(law_prior, "article_votes", lambda _v, _e: {voted: 0.8})
    lifted = _scores(question, exhaustive=True)
    assert article_lift({voted: 0.8}, relations())[partner] == 0.8
    # the voted article and the one overriding it rise, found even where the question's words missed them
    risen = {(doc, locator.split()[0]) for doc, locator in lifted if (doc, locator.split()[0]) in (voted, partner)}
    assert risen == {voted, partner}
    related: set[tuple[str, str]] = set()
    for (doc, locator), score in lifted.items():
        gained = score - plain.get((doc, locator), 0.0)
        if (doc, locator.split()[0]) in (voted, partner):
            assert gained == pytest.approx(ARTICLE_PRIOR_WEIGHT * 0.8, abs=2e-3)
        elif gained > 2e-3:  # a text related to the voted one: its best article rises as much, the rest nothing
            assert doc in related_laws(voted[0], relations())
            assert gained == pytest.approx(ARTICLE_PRIOR_WEIGHT * 0.8, abs=2e-3)
            related.add((doc, locator.split()[0]))
    assert len(related) <= len(related_laws(voted[0], relations()))
    monkeypatch.setattr(law_prior, "article_votes", lambda _v, _e: pytest.fail("asked outside the legal answerer"))
    search(question, CITIZEN)


def test_development_questions_vote_and_law_only_rows_do_not(city: Path, tmp_path: Path) -> None:
    shipped = [p.name for p in law_prior.shipped_article_paths()]
    assert shipped == ["legal_articles.jsonl", "legal_laws.jsonl"]  # both ship their query vectors
    assert all(isinstance(r.get("article"), str) for r in law_prior.read_jsonl(law_prior.shipped_article_paths()[1]))
    mixed = tmp_path / "city_legal_laws.jsonl"
    mixed.write_text(json.dumps({"q": "只标了法律的问题", "doc": "劳动合同法"}, ensure_ascii=False) + "\n"
                     + json.dumps(ROWS[1], ensure_ascii=False) + "\n", encoding="utf-8")
    assert law_prior.article_rows([mixed]) == {ROWS[1]["q"]: ("社会保险法", "第五十八条")}
