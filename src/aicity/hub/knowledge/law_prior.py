"""Which law a legal question is about, as probabilities: a prior for the legal answerer's searches.

Logistic regression over TF-IDF character 1–3-grams, trained on {"q", "doc"} rows: the built-in
`demo/data/training/legal_laws.jsonl` (written by `scripts/legal_training/laws.py` from the legal development
sets) and the city's `<data dir>/training/*legal_laws*.jsonl`. `doc` is a law as the knowledge base keys it
(no 中华人民共和国 prefix). Fitted once per machine and kept on disk for the same rows (`core/models_cache.py`),
held per process while those files are unchanged; warmed in the background at start-up (`warm`, the knowledge
slice's start-up), so the first legal question does not wait for it. scikit-learn is imported only then.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

from aicity.core.config import settings
from aicity.core.models_cache import kept
from aicity.core.text import read_jsonl

#: the recipe of `_fit`, part of a kept model's name (a model fitted by an earlier recipe is not reused)
RECIPE = "char13-sag1"

_lock = threading.Lock()
_fitted: tuple[tuple[tuple[str, int], ...], Any] | None = None  # (the files' names and mtimes, the model)


def training_paths() -> list[Path]:
    builtin = Path(str(resources.files("aicity") / "demo" / "data" / "training" / "legal_laws.jsonl"))
    return [builtin, *sorted((settings().data_dir / "training").glob("*legal_laws*.jsonl"))]


def _rows(paths: list[Path]) -> list[tuple[str, str]]:
    rows: dict[str, str] = {}
    for path in paths:
        for row in read_jsonl(path):
            if isinstance(row.get("doc"), str):
                rows[row["q"].strip()] = row["doc"].strip().removeprefix("中华人民共和国")
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


def _model() -> Any:
    global _fitted
    paths = [p for p in training_paths() if p.is_file()]
    key = tuple((str(p), p.stat().st_mtime_ns) for p in paths)
    with _lock:
        if _fitted is None or _fitted[0] != key:
            rows = _rows(paths)
            # one law alone is no prior
            _fitted = (key, kept("law_prior", RECIPE, rows, lambda: _fit(rows))
                       if len({doc for _, doc in rows}) >= 2 else None)
        return _fitted[1]


def warm() -> None:
    """Fit or load the model in the background at start-up, so the first legal question does not wait for it."""
    threading.Thread(target=_model, name="law-prior", daemon=True).start()


def probabilities(question: str) -> dict[str, float]:
    """{law key: probability that `question` is about it} over the laws of the training rows; {} without rows."""
    model = _model()
    if model is None:
        return {}
    return {str(doc): float(p) for doc, p in zip(model.classes_, model.predict_proba([question])[0], strict=True)}
