"""Measuring the prompt-attack detector (issue 21): recall per attack class, the per-class
average, the false-positive rate on benign look-alikes, and input-check latency — on the
held-out evaluation sets (never used to train or tune) and, beside them, 5-fold cross-validation
on the training set (each fold's threshold chosen on the development sets, as in production).

    evaluate(rows) -> report            # a labelled set through `attacks.assess` (rules + classifier)
    cross_validated(folds=5) -> report  # the same figures, training rows held out in turn
    held_out_sets() -> {name: rows}     # attacks_eval.jsonl (v2) and attacks_eval_v1.jsonl
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aicity.security import attacks
from aicity.security.normalize import normalize

#: the sets `aicity eval guard` and `benchmarks/guard_bench.py` report, newest first
EVAL_SETS = ("attacks_eval.jsonl", "attacks_eval_v1.jsonl")


def held_out_sets() -> dict[str, list[dict]]:
    return {name: attacks.training_rows(name) for name in EVAL_SETS}


def _report(rows: list[dict], flagged: list[bool]) -> dict[str, Any]:
    by_class: dict[str, list[bool]] = defaultdict(list)
    false = benign = 0
    for row, hit in zip(rows, flagged, strict=True):
        if row["label"] == "attack":
            by_class[row.get("family", "other")].append(hit)
        else:
            benign += 1
            false += hit
    recall = {k: round(sum(v) / len(v), 3) for k, v in sorted(by_class.items())}
    attacks_n = sum(len(v) for v in by_class.values())
    return {"attacks": attacks_n, "benign": benign, "recall_by_class": recall,
            "count_by_class": {k: len(v) for k, v in sorted(by_class.items())},
            "recall_class_average": round(statistics.mean(recall.values()), 3) if recall else None,
            "recall_overall": round(sum(sum(v) for v in by_class.values()) / attacks_n, 3) if attacks_n else None,
            "false_positive_rate": round(false / benign, 4) if benign else None, "false_positives": false}


def evaluate(rows: list[dict], failures: int = 0) -> dict[str, Any]:
    """Rules and classifier together (what the input guard blocks), and each alone."""
    model = attacks.classifier()
    probabilities = model.probabilities([r["text"] for r in rows])
    rules = [attacks.assess(r["text"], r["source"], use_classifier=False).flagged for r in rows]
    combined = [attacks.assess(r["text"], r["source"]).flagged for r in rows]
    report = _report(rows, combined)
    report["rules_only"] = _report(rows, rules)["recall_class_average"]
    report["rules_only_false_positive_rate"] = _report(rows, rules)["false_positive_rate"]
    report["classifier_only"] = _report(rows, [bool(p >= model.threshold) for p in probabilities])["recall_class_average"]
    report["threshold"] = model.threshold
    report["failures"] = [{"family": r.get("family", "benign"), "text": r["text"]}
                          for r, hit in zip(rows, combined, strict=True) if hit != (r["label"] == "attack")][:failures]
    return report


def cross_validated(folds: int = 5, seed: int = 21) -> dict[str, Any]:
    """k-fold cross-validation on the training rows: the classifier is refitted on each k-1 folds,
    its threshold chosen on the development sets, and the held-out fold judged by rules + classifier."""
    from sklearn.model_selection import StratifiedKFold  # with the models it fits: `eval --help` does not load it

    rows = attacks.training_rows()
    strata = [r.get("family", "benign") for r in rows]
    rules = [attacks.assess(r["text"], r["source"], use_classifier=False).flagged for r in rows]
    flagged = [False] * len(rows)
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, strata):
        model = attacks.with_dev_threshold(attacks.fit([rows[i] for i in train_idx]))
        for i in test_idx:
            flagged[i] = rules[i] or model.probability(normalize(rows[i]["text"]).text, rows[i]["text"]) >= model.threshold
    report = _report(rows, flagged)
    report["folds"] = folds
    return report


def latency(texts: list[str], check: Callable[[str], object] = attacks.assess) -> dict[str, float]:
    """Per-text time of `check` in milliseconds (p50, p95), the classifier already trained."""
    attacks.classifier()
    times = []
    for text in texts:
        start = time.perf_counter()
        check(text)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(times), 3), "p95_ms": round(statistics.quantiles(times, n=20)[-1], 3)}
