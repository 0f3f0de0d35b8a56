"""Which law a legal question is about, as probabilities: a prior for the legal answerer's searches.

Logistic regression over TF-IDF character 1–3-grams, trained on {"q", "doc"} rows: the built-in
`demo/data/training/legal_laws.jsonl` (written by `scripts/legal_training/laws.py` from the legal development
sets) and the city's `<data dir>/training/*legal_laws*.jsonl`. `doc` is a law as the knowledge base keys it
(no 中华人民共和国 prefix). Fitted on first use and kept per process while those files are unchanged;
scikit-learn is imported only then.
"""

from __future__ import annotations

import json
import logging
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from aicity.core.config import settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_fitted: tuple[tuple[tuple[str, int], ...], Any] | None = None  # (the files' names and mtimes, the model)


def training_paths() -> list[Path]:
    builtin = Path(str(resources.files("aicity") / "demo" / "data" / "training" / "legal_laws.jsonl"))
    return [builtin, *sorted((settings().data_dir / "training").glob("*legal_laws*.jsonl"))]


def _rows(paths: list[Path]) -> list[tuple[str, str]]:
    rows: dict[str, str] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                log.warning("%s: a line that is not JSON was skipped", path)
                continue
            if isinstance(row, dict) and isinstance(row.get("q"), str) and isinstance(row.get("doc"), str):
                rows[row["q"].strip()] = row["doc"].strip().removeprefix("中华人民共和国")
    return list(rows.items())


def _fit(rows: list[tuple[str, str]]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                          LogisticRegression(C=10, max_iter=2000))
    return model.fit([q for q, _ in rows], [doc for _, doc in rows])


def _model() -> Any:
    global _fitted
    paths = [p for p in training_paths() if p.is_file()]
    key = tuple((str(p), p.stat().st_mtime_ns) for p in paths)
    with _lock:
        if _fitted is None or _fitted[0] != key:
            rows = _rows(paths)
            # one law alone is no prior
            _fitted = (key, _fit(rows) if len({doc for _, doc in rows}) >= 2 else None)
        return _fitted[1]


def probabilities(question: str) -> dict[str, float]:
    """{law key: probability that `question` is about it} over the laws of the training rows; {} without rows."""
    model = _model()
    if model is None:
        return {}
    return {str(doc): float(p) for doc, p in zip(model.classes_, model.predict_proba([question])[0], strict=True)}
