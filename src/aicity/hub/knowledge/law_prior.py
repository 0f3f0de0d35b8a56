"""Which law, and which article, a legal question is about: priors for the legal answerer's searches.

The law: logistic regression over TF-IDF character 1–3-grams, trained on {"q", "doc"} rows: the built-in
`demo/data/training/legal_laws.jsonl` (written by `scripts/legal_training/laws.py` from the legal development
sets) and `legal_articles.jsonl`, and the city's `<data dir>/training/*legal_laws*.jsonl` and
`*legal_articles*.jsonl`. `doc` is a law as the knowledge base keys it
(no 中华人民共和国 prefix). Fitted once per machine and kept on disk for the same rows (`core/models_cache.py`),
held per process while those files are unchanged; warmed in the background at start-up (`warm`, the knowledge
slice's start-up), so the first legal question does not wait for it. scikit-learn is imported only then.

The article (`article_votes`, doc2query): everyday questions written for one article each, {"q", "doc", "article"}
(`legal_articles.jsonl`), and the development questions with their article (`legal_laws.jsonl`), embedded as
queries (`AsQueries`: shipped for the built-in rows, a city's own computed in the background); a request's query vector (the one its search computes anyway) against theirs, one matrix
product: the ARTICLE_NEIGHBOURS most similar vote for their article, weighted by softmax(cosine /
ARTICLE_TEMPERATURE).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from aicity.core.config import settings
from aicity.core.embeddings import AsQueries, BackgroundVectors, Embedder, vote_shares
from aicity.core.models_cache import kept
from aicity.core.text import read_jsonl

#: the recipe of `_fit`, part of a kept model's name (a model fitted by an earlier recipe is not reused)
RECIPE = "char13-sag1"
#: the article votes: how many of the most similar training questions vote, and how sharply the more similar
#: count more. On legal_rules_dev9 by retrieval (service.ARTICLE_PRIOR_WEIGHT), 3–40 neighbours at 0.01–0.02
#: were within 2 of 150 of each other at @1; none at 0.05 or above (near-equal votes) among the ten best
ARTICLE_NEIGHBOURS = 10
ARTICLE_TEMPERATURE = 0.02

_lock = threading.Lock()
_fitted: tuple[tuple[tuple[str, int], ...], Any] | None = None  # (the files' names and mtimes, the model)


def _builtin() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "training"))


def _paths(name: str) -> list[Path]:
    return [_builtin() / f"{name}.jsonl", *sorted((settings().data_dir / "training").glob(f"*{name}*.jsonl"))]


def training_paths() -> list[Path]:
    """The law prior's rows: the questions labelled with their law, and those labelled with their article."""
    return [*_paths("legal_laws"), *_paths("legal_articles")]


def article_paths() -> list[Path]:
    """The rows that vote for an article: the questions written for one article each, and the development questions
    (`legal_laws.jsonl`, each with its article; a city's rows without an article train the law prior only)."""
    return [*_paths("legal_articles"), *_paths("legal_laws")]


def shipped_article_paths() -> list[Path]:
    """The built-in voting rows, whose query vectors ship with the package (scripts/ship_vectors.py)."""
    return [p for p in article_paths() if p.parent == _builtin()]


def law_key(doc: str) -> str:
    """A text's key as the training rows and votes name it (中华人民共和国劳动合同法 → 劳动合同法)."""
    return doc.strip().removeprefix("中华人民共和国")


def _rows(paths: list[Path]) -> list[tuple[str, str]]:
    rows: dict[str, str] = {}
    for path in paths:
        for row in read_jsonl(path):
            if isinstance(row.get("doc"), str):
                rows[row["q"].strip()] = law_key(row["doc"])
    return list(rows.items())


def _fit(rows: list[tuple[str, str]]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                          # sag: the lbfgs solution (same top law on every training row, probabilities within
                          # 0.015) in a tenth of the CPU time (about 1 s against 11 s for 641 rows, 76 laws)
                          LogisticRegression(C=10, solver="sag", max_iter=2000, random_state=0))
    return model.fit([q for q, _ in rows], [doc for _, doc in rows])


def _stamp(paths: list[Path]) -> tuple[tuple[str, int], ...]:
    return tuple((str(p), p.stat().st_mtime_ns) for p in paths if p.is_file())


def _model() -> Any:
    global _fitted
    key = _stamp(training_paths())
    paths = [Path(p) for p, _ in key]
    with _lock:
        if _fitted is None or _fitted[0] != key:
            rows = _rows(paths)
            # one law alone is no prior
            _fitted = (key, kept("law_prior", RECIPE, rows, lambda: _fit(rows))
                       if len({doc for _, doc in rows}) >= 2 else None)
        return _fitted[1]


def warm() -> None:
    """Fit or load the model, and start the article questions' vectors, in the background at start-up, so the
    first legal question waits for neither."""
    threading.Thread(target=_model, name="law-prior", daemon=True).start()
    from aicity.hub.gateway.embedder import retrieval_embedder

    embedder = retrieval_embedder("knowledge.search")
    if embedder is not None:
        _articles(embedder)


def probabilities(question: str) -> dict[str, float]:
    """{law key: probability that `question` is about it} over the laws of the training rows; {} without rows."""
    model = _model()
    if model is None:
        return {}
    vectorizer, weights, intercept = _scorer(model)
    # the multinomial model's softmax, as `predict_proba` computes it (the same figures): its pipeline multiplies by
    # the transposed coefficients, copying all 94 × 66,150 of them per call (about 14 ms); these are copied once
    scores = np.asarray(vectorizer.transform([question]) @ weights).ravel() + intercept
    exp = np.exp(scores - scores.max())
    return {str(doc): float(p) for doc, p in zip(model.classes_, exp / exp.sum(), strict=True)}


_scored: tuple[Any, Any, np.ndarray, np.ndarray] | None = None  # (the model, and what `_scorer` gives for it)


def _scorer(model: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    """The model's vectorizer, its coefficients transposed into one contiguous array, and its intercepts, kept for
    the latest model asked about."""
    global _scored
    held = _scored
    if held is None or held[0] is not model:
        vectorizer, classifier = model.steps[0][1], model.steps[-1][1]
        held = _scored = (model, vectorizer, np.ascontiguousarray(classifier.coef_.T), classifier.intercept_)
    return held[1], held[2], held[3]


def article_rows(paths: list[Path]) -> dict[str, tuple[str, str]]:
    """{question: (law key, article)} of the article questions in `paths`."""
    rows: dict[str, tuple[str, str]] = {}
    for path in paths:
        for row in read_jsonl(path):
            if isinstance(row.get("doc"), str) and isinstance(row.get("article"), str):
                rows[row["q"].strip()] = (law_key(row["doc"]), row["article"].strip())
    return rows


@dataclass(frozen=True)
class _ArticleQuestions:
    stamp: tuple[tuple[str, int], ...]
    model: str
    articles: list[tuple[str, str]]  # (law key, article) of each question, in order
    vectors: BackgroundVectors


_article_lock = threading.Lock()
_article_questions: _ArticleQuestions | None = None


def _articles(embedder: Embedder) -> _ArticleQuestions | None:
    """The article questions and their query vectors (computing in the background until ready), held per process
    while the files and the model are unchanged; None without rows."""
    global _article_questions
    stamp = _stamp(article_paths())
    with _article_lock:
        held = _article_questions
        if held is None or held.stamp != stamp or held.model != embedder.name:
            rows = article_rows([Path(p) for p, _ in stamp])
            held = _ArticleQuestions(stamp, embedder.name, list(rows.values()),
                                     BackgroundVectors(AsQueries(embedder), list(rows), "legal-articles"))
            _article_questions = held
        return held if held.articles else None


def article_votes(query_vector: np.ndarray, embedder: Embedder) -> dict[tuple[str, str], float]:
    """{(law key, article): share of the vote} of the training questions nearest the request's query vector
    (by `embedder`, whose query vectors theirs are); {} without rows or while their vectors are computed."""
    held = _articles(embedder)
    vectors = held.vectors.get() if held is not None else None
    if held is None or vectors is None or not len(vectors):
        return {}
    return vote_shares(vectors @ query_vector, held.articles.__getitem__, ARTICLE_NEIGHBOURS, ARTICLE_TEMPERATURE)
