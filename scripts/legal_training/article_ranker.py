"""Fit the legal answerer's article ranker (`hub/knowledge/article_ranker.py`) and report its study, leave-one-set-out.

    .venv/bin/python scripts/legal_training/article_ranker.py [--articles FILE ...] [--sets NAME ...] [--write]
        [--recorded FILE] [--c C] [--limit N]

Each development set `eval/legal_rules_dev*.jsonl` is answered with the law prior fitted on the article questions
(`training/legal_articles.jsonl`, or the FILEs given) and the OTHER development sets' rows, never its own, and with
the article votes of both likewise (`article_prior_study.without_set`), first without a ranker: that run records each
question's candidate articles, their features and which is the governing one. Then for each set a ranker fitted on
the other sets' rows alone leads its answers, and the set is answered again. Reported per set and pooled, before →
after: the first provision governing, the rule stated, superseded provisions presented as the rule; offline, the
governing article ranked first among the candidates by pointwise and pairwise logistic regressions at a few
regularisations (C; the best is used unless --c is given: chosen on the same pooled figure, so it leans optimistic),
and the features' weights. `--write` fits on every set and writes
`demo/data/training/article_ranker.json`, the weights the answerer ships. The held-out sets are never read.
"""

from __future__ import annotations

import argparse
import functools
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from article_prior_study import study_city, without_set
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from aicity.hub.knowledge import article_ranker, extractive, law_prior
from aicity.hub.knowledge import service as knowledge
from aicity.ops.evaluation import evaluate_legal

CS = (0.01, 0.1, 1.0, 10.0)


def _fit(rows: list[dict[str, Any]], c: float) -> dict[str, Any]:
    """Pointwise logistic regression over the candidates of the questions whose governing article is one."""
    x = np.vstack([r["x"] for r in rows if any(r["y"])])
    y = np.concatenate([r["y"] for r in rows if any(r["y"])])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(x), y)
    return {"features": list(article_ranker.FEATURES), "C": c, "mean": scaler.mean_.round(6).tolist(),
            "scale": scaler.scale_.round(6).tolist(), "coef": model.coef_[0].round(6).tolist()}


def _fit_pairwise(rows: list[dict[str, Any]], c: float) -> dict[str, Any]:
    """Pairwise logistic regression (RankNet's linear form): the governing article against each other candidate of
    its question, on the same standardised features."""
    kept = [r for r in rows if any(r["y"])]
    scaler = StandardScaler().fit(np.vstack([r["x"] for r in kept]))
    diffs = [scaler.transform(r["x"][r["y"] == 1])[0] - z for r in kept
             for z in scaler.transform(r["x"][r["y"] == 0])]
    x = np.vstack([np.array(diffs), -np.array(diffs)])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000).fit(x, y)
    return {"features": list(article_ranker.FEATURES), "C": c, "pairwise": True,
            "mean": scaler.mean_.round(6).tolist(), "scale": scaler.scale_.round(6).tolist(),
            "coef": model.coef_[0].round(6).tolist()}


def _first_right(rows: list[dict[str, Any]], weights: dict[str, Any] | None) -> int:
    """Questions whose pick (the ranker's, or the answerer's own lead article) is the governing article."""
    right = 0
    for r in rows:
        if weights is None:
            pick = int(np.argmax(r["x"][:, article_ranker.FEATURES.index("is_lead")]))
        else:
            ranked = article_ranker.scores(r["x"], weights)
            pick = max(r["speaks"], key=lambda i: ranked[i])
        right += bool(r["y"][pick])
    return right


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", nargs="*", type=Path, default=None,
                        help="article question files (default: the shipped training/legal_articles.jsonl)")
    parser.add_argument("--sets", nargs="*", default=None, help="development sets answered after (default: all)")
    parser.add_argument("--c", type=float, default=None, help="the regularisation (default: the best offline)")
    parser.add_argument("--limit", type=int, default=None, help="the first LIMIT cases of each set (a smoke test)")
    parser.add_argument("--recorded", type=Path, default=None,
                        help="keep the first run's records in this file, or read them from it when it exists (the same "
                             "article files and features)")
    parser.add_argument("--write", action="store_true", help="fit on every set and write the shipped weights")
    args = parser.parse_args()
    everything, _ = study_city("aicity-article-ranker-", None)
    everything = {name: cases[:args.limit] for name, cases in everything.items()}
    sets = args.sets or list(everything)
    # the article questions (not the development questions, which vote only for the other sets' answers)
    written = [r for path in args.articles or law_prior.article_paths()[:1] for r in law_prior.read_jsonl(path)]
    embedder = knowledge._index.get().embedder
    print(f"{len(written)} article questions", file=sys.stderr)

    # the answerer's calls, recorded: each question's candidates, their features and whether each governs
    calls: list[dict[str, Any]] = []
    ranker_cpu = [0.0]
    weights: dict[str, Any] | None = None
    ranked = article_ranker.ranked

    def recorder(question: str, reading: Any, cands: list[Any], found: list[Any]) -> list[int]:
        t0 = time.process_time()
        order = ranked(question, reading, cands, found)
        ranker_cpu[0] += time.process_time() - t0 if weights is not None else 0.0
        calls.append({"x": article_ranker.features(question, reading, cands, found), "keys": [(law_prior.law_key(a.hit.doc_key), a.hit.locator.split()[0]) for a in cands],
                      "speaks": sorted({s.article for s in found})})
        return order

    article_ranker.ranked = recorder  # type: ignore[assignment]
    article_ranker.model = lambda: weights  # type: ignore[assignment]
    search = extractive.search
    rows: dict[str, list[dict[str, Any]]] = {}
    outcome: dict[tuple[str, str], list[tuple[bool, bool, bool]]] = {}

    def answer(name: str, label: str, cases: list[dict[str, Any]]) -> None:
        for case in cases:
            calls.clear()
            report = evaluate_legal([case])
            outcome.setdefault((name, label), []).append(
                (report["first_provision_governing"] == 1, report["states_rule"] == 1, report["superseded_as_rule"] > 0))
            if label == "before" and calls:
                want = (law_prior.law_key(case["doc"]), case["article"])
                rows[name].append({**calls[-1], "y": np.array([k == want for k in calls[-1]["keys"]], dtype=int)})

    def with_prior_without(name: str) -> None:
        without_set(name, written, everything, embedder)
        # the searches do not depend on the ranker: each is run once per set
        extractive.search = functools.lru_cache(maxsize=None)(search)  # type: ignore[assignment]

    if args.recorded is not None and args.recorded.is_file():
        rows, before = pickle.loads(args.recorded.read_bytes())
        outcome.update({(name, "before"): got for name, got in before.items()})
    else:
        for name, cases in everything.items():
            with_prior_without(name)
            rows[name] = []
            answer(name, "before", cases)
            print(f"{name}: recorded {len(rows[name])} of {len(cases)}", flush=True)
        if args.recorded is not None:
            args.recorded.write_bytes(pickle.dumps((rows, {name: outcome[(name, "before")] for name in rows})))
    pooled = [r for rs in rows.values() for r in rs]
    print(f"governing article among the candidates: {sum(any(r['y']) for r in pooled)}/{len(pooled)}; "
          f"the answerer's own lead article governs {_first_right(pooled, None)}")
    best, best_right = (_fit, CS[0]), -1
    for fit in (_fit, _fit_pairwise):
        for c in CS:
            right = sum(_first_right(rs, fit([r for other, o in rows.items() if other != name for r in o], c))
                        for name, rs in rows.items())
            print(f"OFFLINE {fit.__name__} C={c}: governing article first {right}/{len(pooled)} (leave-one-set-out)")
            if right > best_right:
                best, best_right = (fit, c), right
    fit, chosen = best[0], args.c if args.c is not None else best[1]
    for name, rs in rows.items():
        print(f"  {name:20} own lead {_first_right(rs, None):3} ranker "
              f"{_first_right(rs, fit([r for o, orows in rows.items() if o != name for r in orows], chosen)):3}"
              f" of {len(rs)}")
    full = fit(pooled, chosen)
    print(f"WEIGHTS ({fit.__name__}, C={chosen}): " + ", ".join(f"{f} {w:+.2f}" for f, w in zip(full["features"], full["coef"],
                                                                                         strict=True)))
    for name in sets:
        weights = fit([r for other, o in rows.items() if other != name for r in o], chosen)
        with_prior_without(name)
        answer(name, "after", everything[name])
        weights = None
    totals: dict[str, list[int]] = {}
    for name in sets:
        for label in ("before", "after"):
            got = outcome[(name, label)]
            gov, states, sup = (sum(g[i] for g in got) for i in range(3))
            for i, v in enumerate((gov, states, sup, len(got))):
                totals.setdefault(label, [0, 0, 0, 0])[i] += v
            print(f"{name:20} {label:6} governs {gov:3}/{len(got)} states {states:3} superseded {sup}")
    for label, (gov, states, sup, n) in totals.items():
        print(f"POOLED {label:6} governs {gov}/{n} states {states}/{n} superseded {sup}")
    print(f"the ranker's own CPU (features, law prior, scores): {1000 * ranker_cpu[0] / max(totals['after'][3], 1):.2f}"
          " ms per question")
    if args.write:
        path = article_ranker.weights_path()
        path.write_text(json.dumps(full, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    extractive.search = search  # type: ignore[assignment]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
