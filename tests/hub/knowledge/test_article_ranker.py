"""The learned article ranker: its features, the article it picks, and the answer leading with that article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aicity.hub.knowledge import article_ranker, law_prior
from aicity.hub.knowledge import service as knowledge_service
from aicity.hub.knowledge.chunking import to_chinese_numeral
from aicity.hub.knowledge.extractive import (
    CANDIDATE_ARTICLES,
    VOTED_ARTICLES,
    VOTED_SHARE,
    Sentence,
    _Article,
    _candidates,
    extractive_answer,
    ranker_reading,
)
from aicity.hub.knowledge.relations import Override, relations
from aicity.hub.knowledge.service import Hit, get_article, search
from aicity.identity.models import Role
from aicity.identity.service import Principal

FEATURES = article_ranker.FEATURES


def _article(doc: str, where: str, text: str, score: float, override: Override | None = None) -> _Article:
    hit = Hit(kb="global", doc=doc, doc_key=doc, locator=where, text=text, score=score)
    return _Article(hit, text, override)


def _two_laws() -> tuple[list[_Article], list[Sentence]]:
    articles = [
        _article("劳动合同法", "第三条", "第三条　本法所称劳动者，是指与用人单位建立劳动关系的人。", 1.0),
        _article("劳动法", "第十条", "第十条　用人单位应当在三十日内支付工资。\n逾期的，应当支付赔偿金。", 0.5),
        _article("劳动法", "第十一条", "第十一条　劳动者可以申请调解。", 0.4),
    ]
    found = [
        Sentence("本法所称劳动者，是指与用人单位建立劳动关系的人。", "第三条", "", 0, score=2.0, own_score=2.0),
        Sentence("用人单位应当在三十日内支付工资。", "第十条 第一款", "", 1, score=2.5, own_score=3.0),
        Sentence("逾期的，应当支付赔偿金。", "第十条 第二款", "", 1, score=0.5, own_score=0.6),
    ]
    return articles, found


@pytest.fixture
def prior(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(law_prior, "probabilities", lambda q: {"劳动合同法": 0.7, "劳动法": 0.3})


def _column(x: np.ndarray, name: str) -> list[float]:
    return [round(float(v), 4) for v in x[:, FEATURES.index(name)]]


def test_features(prior: None) -> None:
    articles, found = _two_laws()
    x = article_ranker.features("工资多久内要发？", ranker_reading(["duration"], {}), articles, found)
    assert x.shape == (3, len(FEATURES))
    assert _column(x, "position") == [0.0, round(float(np.log(2)), 4), round(float(np.log(3)), 4)]
    assert _column(x, "search_share") == [1.0, 0.5, 0.4]
    assert _column(x, "best_share") == [round(2 / 3, 4), 1.0, 0.0]
    assert _column(x, "is_lead") == [0.0, 1.0, 0.0]  # the answerer's own lead: the best discounted sentence's article
    assert _column(x, "law_prior") == [0.7, 0.3, 0.3]
    assert _column(x, "law_top") == [1.0, 0.0, 0.0]
    assert _column(x, "typed") == [0.0, 1.0, 0.0]  # 三十日内 answers how long
    assert _column(x, "definition") == [1.0, 0.0, 0.0]
    assert _column(x, "paragraphs") == [round(float(np.log(2)), 4), round(float(np.log(3)), 4),
                                        round(float(np.log(2)), 4)]
    assert _column(x, "liability") == [0.0, 0.0, 0.0]
    penalty = _article("劳动法", "第九十一条", "第九十一条　用人单位拖欠工资的，处二千元以下罚款。", 0.3)
    fine = Sentence("用人单位拖欠工资的，处二千元以下罚款。", "第九十一条", "", 3, score=1.0, own_score=1.0)
    x = article_ranker.features("拖欠工资会被罚吗？", ranker_reading(["penalty"], {}), [*articles, penalty], [*found, fine])
    assert _column(x, "liability_asked") == [0.0, 0.0, 0.0, 1.0]  # a penalty article, for a question on what happens
    x = article_ranker.features("工资多久内要发？", ranker_reading(["duration"], {}), [*articles, penalty], [*found, fine])
    assert _column(x, "liability") == [0.0, 0.0, 0.0, 1.0] and _column(x, "liability_asked") == [0.0] * 4
    # found through the duty it names (第十条): ranked with that duty, and marked as such
    penalty.rank = 1
    x = article_ranker.features("拖欠工资会被罚吗？", ranker_reading(["penalty"], {}), [*articles, penalty], [*found, fine])
    assert _column(x, "penalty_extra") == [0.0, 0.0, 0.0, 1.0] and _column(x, "position")[3] == round(float(np.log(2)), 4)


def test_vote_features(prior: None) -> None:
    """The nearest article questions' votes, keyed by the law as the rows name it (中华人民共和国 dropped)."""
    articles, found = _two_laws()
    voted = _Article(Hit(kb="global", doc="中华人民共和国劳动法", doc_key="中华人民共和国劳动法", locator="第五十条",
                         text="第五十条　工资应当以货币形式按月支付给劳动者本人。", score=0.1),
                     "第五十条　工资应当以货币形式按月支付给劳动者本人。", voted=True)
    votes = {("劳动法", "第五十条"): 0.6, ("劳动法", "第十条"): 0.3}
    x = article_ranker.features("工资多久发一次？", ranker_reading(["duration"], votes), [*articles, voted], found)
    assert _column(x, "vote_share") == [0.0, 0.3, 0.0, 0.6]
    assert _column(x, "vote_top") == [0.0, 0.0, 0.0, 1.0]
    assert _column(x, "voted_extra") == [0.0, 0.0, 0.0, 1.0]
    assert _column(x, "superior_extra") == [0.0] * 4  # found by the vote, not as a higher text
    x = article_ranker.features("工资多久发一次？", ranker_reading(["duration"], {}), articles, found)
    assert _column(x, "vote_share") == [0.0] * 3 and _column(x, "vote_top") == [0.0] * 3


def _weights(**coef: float) -> dict[str, Any]:
    return {"features": list(FEATURES), "mean": [0.0] * len(FEATURES), "scale": [1.0] * len(FEATURES),
            "coef": [coef.get(name, 0.0) for name in FEATURES]}


def test_lead_article(prior: None, monkeypatch: pytest.MonkeyPatch) -> None:
    articles, found = _two_laws()
    reading = ranker_reading(["duration"], {})

    def lead() -> int | None:
        return article_ranker.lead_article(article_ranker.ranked("工资多久内要发？", reading, articles, found), found)

    monkeypatch.setattr(article_ranker, "model", lambda: None)
    assert article_ranker.ranked("工资多久内要发？", reading, articles, found) == [] and lead() is None  # no weights
    monkeypatch.setattr(article_ranker, "model", lambda: _weights(law_prior=1.0))
    assert lead() == 0
    monkeypatch.setattr(article_ranker, "model", lambda: _weights(definition=-1.0, search_share=0.1))
    assert lead() == 1
    # an article none of whose sentences was scored is never picked, though the ranker puts it first
    monkeypatch.setattr(article_ranker, "model", lambda: _weights(position=1.0))
    assert article_ranker.ranked("工资多久内要发？", reading, articles, found)[0] not in {s.article for s in found}
    assert lead() == 1


def test_shipped_weights() -> None:
    """The weights the answerer ships are for these features (a refit after a feature changes is required)."""
    weights = article_ranker.model()
    assert weights is not None and weights["features"] == list(FEATURES)
    assert len(weights["coef"]) == len(weights["mean"]) == len(weights["scale"]) == len(FEATURES)


def test_answer_leads_with_the_ranked_article(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer's first provision is the article the ranker ranks first, not the answerer's own lead; the other
    provisions follow in the ranker's order, not the search's."""
    orders: list[list[tuple[str, str]]] = []

    def reversed_order(question: str, reading: Any, articles: list[_Article], found: list[Sentence]) -> list[int]:
        own = max(found, key=lambda s: s.score).article
        other = max((s.article for s in found if s.article != own), default=None)
        if other is None:
            return []
        order = [other, *(i for i in reversed(range(len(articles))) if i != other)]
        orders.append([(articles[i].hit.doc_key, articles[i].hit.locator.split()[0]) for i in order])
        return order

    monkeypatch.setattr(article_ranker, "ranked", reversed_order)
    found = extractive_answer("公司拖欠工资，劳动者可以怎么办？", Principal(Role.citizen))
    assert orders and len(found.citations) >= 3
    assert [(c.doc_key, c.locator.split()[0]) for c in found.citations[:3]] == orders[0][:3]


def test_the_most_voted_article_further_down_competes(city: Path) -> None:
    """The articles the nearest article questions vote for most, found below the first candidates, join them (once,
    marked as such, at most VOTED_ARTICLES, the most voted first); one with too small a share of the vote does not."""
    question = "公司要解除劳动合同，要提前多久通知"
    hits = search(question, Principal(Role.citizen), top_k=16, exhaustive=True)
    plain, _ = _candidates(question, hits, relations())
    chosen = {(a.hit.doc_key, a.hit.locator.split()[0]) for a in plain}
    assert not any(a.voted for a in plain)
    rel = relations()
    below = list(dict.fromkeys((h.doc_key, h.locator.split()[0]) for h in hits[CANDIDATE_ARTICLES:]
                               if (h.doc_key, h.locator.split()[0]) not in chosen and h.locator.startswith("第")
                               and h.status == "in_force" and not rel.is_overridden(h.doc_key, h.locator.split()[0])))
    assert len(below) >= 3
    first, further, third = below[:3]
    # the most voted of the pool's articles join in the order of their votes, not as found, and no more than
    # VOTED_ARTICLES of them; an article the corpus lacks never does
    votes = {(law_prior.law_key(first[0]), first[1]): 0.3, (law_prior.law_key(further[0]), further[1]): 0.5,
             (law_prior.law_key(third[0]), third[1]): 0.25, (law_prior.law_key(next(iter(chosen))[0]), "第九百条"): 0.9}
    articles, _ = _candidates(question, hits, rel, (), votes)
    assert VOTED_ARTICLES == 2
    assert [(a.hit.doc_key, a.hit.locator.split()[0]) for a in articles if a.voted] == [further, first]
    assert articles[: len(plain)] == plain  # the others stay where they were
    few = {(law_prior.law_key(further[0]), further[1]): VOTED_SHARE / 2}
    assert not any(a.voted for a in _candidates(question, hits, relations(), (), few)[0])


def test_the_most_voted_article_outside_the_pool_comes_from_the_law_texts(city: Path) -> None:
    """The most voted article that retrieval did not find joins from the public law texts, unscored (the asker's words
    missed the statute's); not for an answer from another knowledge base, nor from texts the asker did not choose."""
    question = "公司要解除劳动合同，要提前多久通知"
    hits = search(question, Principal(Role.citizen), top_k=16, exhaustive=True)
    pooled = {(h.doc_key, h.locator.split()[0]) for h in hits}
    doc = "劳动合同法"
    article = next(a for a in (f"第{to_chinese_numeral(n)}条" for n in range(1, 40))
                   if (doc, a) not in pooled and get_article(doc, a) is not None)
    votes = {(doc, article): 0.5}
    articles, _ = _candidates(question, hits, relations(), (), votes)
    voted = [a for a in articles if a.voted]
    assert [(a.hit.doc_key, a.hit.locator.split()[0], a.hit.score) for a in voted] == [(doc, article, 0.0)]
    assert voted[0].text == get_article(doc, article).text  # type: ignore[union-attr]
    assert articles[:-1] == _candidates(question, hits, relations())[0]  # the others stay where they were
    assert not any(a.voted for a in _candidates(question, hits, relations(), (), votes, outside=False)[0])
    assert not any(a.voted for a in _candidates(question, hits, relations(), (), votes, docs={"民法典·继承编"})[0])


def test_the_votes_come_from_the_searchs_own_query_vector(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answerer's article votes reuse the query vector the search computed; a query never embedded (keyword search,
    or an embedding that failed) has none, and nothing is embedded again for it."""
    index = knowledge_service._index.get()
    assert index.embedder is not None

    def refuse(text: str) -> None:
        raise AssertionError("embedded again")

    question = "单位拖欠工资怎么办"
    search(question, Principal(Role.citizen), top_k=8, exhaustive=True)
    monkeypatch.setattr(index.embedder, "query", refuse)
    assert knowledge_service.article_votes(question)  # the search's vector, kept by the query cache
    assert knowledge_service.article_votes("一个从未检索过的问题：公司没签劳动合同") == {}
