"""A fitted text classifier's probabilities without scikit-learn's per-call overhead: the events classifier and the
assistant's mode classifier (the same recipe, `hub.events.classify.fit`) answer each request with one call, where
scikit-learn's checks, its FeatureUnion's joblib dispatch and one sigmoid per class and fold cost ten times the
arithmetic."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


class Tfidf:
    """A fitted `TfidfVectorizer`'s `transform` without scikit-learn's checks on every call (about 0.3 ms a part a
    request, a third of the linear model's time): the same numbers in the same order (the analyzer's features
    counted in the vocabulary, sorted by column, 1 + log of the counts when sublinear, times the idf, each row
    divided by its length, the squares summed column by column as scikit-learn's own loop does). `of` keeps any
    other part (another norm, binary counts) as it is."""

    def __init__(self, part: Any) -> None:
        self.analyze = part.build_analyzer()
        self.vocabulary: dict[str, int] = part.vocabulary_
        self.idf: np.ndarray = part.idf_
        self.sublinear: bool = part.sublinear_tf

    @staticmethod
    def of(part: Any) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        plain = type(part) is TfidfVectorizer and part.norm == "l2" and part.use_idf and not part.binary \
            and part.dtype == np.float64
        return Tfidf(part) if plain else part

    def transform(self, texts: list[str]) -> Any:
        from scipy import sparse

        data, indices, indptr = [], [], [0]
        for text in texts:
            counts: dict[int, int] = {}
            for feature in self.analyze(text):
                column = self.vocabulary.get(feature)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            columns = sorted(counts)
            row = np.array([counts[c] for c in columns], dtype=np.float64)
            if self.sublinear:
                np.log(row, row)
                row += 1.0
            row *= self.idf[np.array(columns, dtype=np.intp)]
            squares = 0.0
            for value in row.tolist():
                squares += value * value
            if squares != 0.0:
                row /= math.sqrt(squares)
            data.append(row)
            indices.extend(columns)
            indptr.append(len(indices))
        return sparse.csr_matrix((np.concatenate(data) if data else np.zeros(0), np.array(indices, dtype=np.int32),
                                  np.array(indptr, dtype=np.int32)), shape=(len(texts), len(self.idf)))


class Calibrated:
    """The calibrated SVMs' probabilities in a few array operations: scikit-learn's own
    `predict_proba` calls one sigmoid per class and fold (about 10 ms a request); this computes
    the same numbers (one-vs-rest sigmoids, normalised per fold, averaged over the folds)."""

    def __init__(self, model: Pipeline) -> None:
        from scipy import sparse

        self._hstack = sparse.hstack
        self.parts = [(name, Tfidf.of(part)) for name, part in model[0].transformer_list if part != "drop"]
        calibrated = model[-1]
        classes = list(calibrated.classes_)
        self.folds = []
        for fold in calibrated.calibrated_classifiers_:
            rows = np.array([classes.index(c) for c in fold.estimator.classes_])
            a = np.array([c.a_ for c in fold.calibrators])
            b = np.array([c.b_ for c in fold.calibrators])
            self.folds.append((fold.estimator.coef_.T.copy(), fold.estimator.intercept_, a, b, rows))
        self.n = len(classes)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        # the union's parts one after the other: FeatureUnion.transform goes through joblib for each call
        x = self._hstack([part.transform(texts) for _, part in self.parts]).tocsr()
        total = np.zeros((x.shape[0], self.n))
        for coef, intercept, a, b, rows in self.folds:
            p = np.zeros_like(total)
            p[:, rows] = 1.0 / (1.0 + np.exp(a * (x @ coef + intercept) + b))
            sums = p.sum(axis=1, keepdims=True)
            total += np.divide(p, sums, out=np.full_like(p, 1.0 / self.n), where=sums != 0)
        return total / len(self.folds)
