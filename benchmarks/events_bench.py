"""Event classification and dispatch benchmark.

    .venv/bin/python benchmarks/events_bench.py            # on the held-out eval.jsonl
    .venv/bin/python benchmarks/events_bench.py --tune     # on a dev split of train.jsonl

Prints, on `demo/data/events/eval.jsonl` (never trained or tuned on): classification and
dispatch (department) accuracy (targets ≥ 0.95 both), the most frequent confusions, the share
sent to a human dispatcher, classification latency p50/p99 per report and reports classified
per second; beside it, in the same run, a keyword baseline that knows only each category's
name and examples. `--tune` fits on 75 % of train.jsonl and scores the other 25 % (the split
the module's constants were chosen on): accuracy linear alone and blended, and the share kept
automatic and its accuracy at several human-queue thresholds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from tempfile import mkdtemp

import numpy as np
from sklearn.model_selection import train_test_split

from aicity.core.text import tokenize
from aicity.demo.loader import open_demo_city
from aicity.hub.events import classify as events
from aicity.hub.events.cli import evaluation, ready


def keyword_baseline(rows: list[dict[str, str]]) -> tuple[float, float]:
    """The category whose name and examples share the most tokens with the report."""
    known = events.categories()
    vocab = {c.id: set(tokenize(" ".join([c.name, *c.examples]))) for c in known.values()}
    right = dispatched = 0
    for row in rows:
        tokens = set(tokenize(row["text"]))
        guess = max(vocab, key=lambda c: len(tokens & vocab[c]))
        right += guess == row["category"]
        dispatched += known[guess].department == known[row["category"]].department
    return right / len(rows), dispatched / len(rows)


def held_out() -> None:
    rows = events.eval_rows()
    start = time.perf_counter()
    model = events.classifier()
    fitted = time.perf_counter() - start
    ready()
    report = evaluation(rows)
    base_cat, base_dep = keyword_baseline(rows)
    print(f"held-out eval.jsonl: {report['reports']} reports, {len(events.categories())} categories; "
          f"trained on {len(model.labels)} reports in {fitted:.2f} s; dense {'on' if model.vectors else 'off'}")
    print(f"  classifier      category {report['category_accuracy']:.3f}  department {report['department_accuracy']:.3f}"
          "  (targets ≥ 0.95)")
    print(f"  keyword baseline category {base_cat:.3f}  department {base_dep:.3f}")
    print(f"  needs_human {report['needs_human']} ({report['needs_human'] / report['reports']:.1%}) "
          f"at confidence < {events.NEEDS_HUMAN_BELOW}")
    p50, p99 = report["latency_ms"]["p50"], report["latency_ms"]["p99"]
    print(f"  latency per report p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    start = time.perf_counter()
    for row in rows:
        events.classify(row["text"])
    print(f"  throughput {len(rows) / (time.perf_counter() - start):.0f} reports/s (one thread)")
    print("  confusions (gold → predicted × n): " + ", ".join(
        f"{c['gold']}→{c['predicted']}×{c['count']}" for c in report["confusions"][:12]))
    weak = sorted(report["per_category"].items(), key=lambda kv: kv[1]["f1"])[:6]
    print("  lowest F1: " + ", ".join(f"{k} {v['f1']:.2f}" for k, v in weak))


def tune() -> None:
    rows = events.training_rows()
    fit_rows, dev = train_test_split(rows, test_size=0.25, random_state=0, stratify=[r["category"] for r in rows])
    model = events.build(fit_rows)
    if model.vectors is not None:
        model.vectors.wait()
    gold = np.array([r["category"] for r in dev])
    for weight in sorted({0.0, events.DENSE_WEIGHT}):
        model.dense_weight = weight
        probs = np.stack([model.probabilities(events.normalize(r["text"])) for r in dev])
        pred, conf = np.array(model.classes)[probs.argmax(1)], probs.max(1)
        print(f"dev split ({len(dev)} of train.jsonl), dense weight {weight}: accuracy {(pred == gold).mean():.3f}")
        for threshold in (0.3, 0.4, 0.5):
            kept = conf >= threshold
            print(f"  threshold {threshold}: automatic {kept.mean():.1%}, right {(pred[kept] == gold[kept]).mean():.3f}")


def report_to_dispatch() -> None:
    """The whole report path (classify, locate, merge check, store, dispatch, history, audit
    entry) per event, sequentially, on the held-out reports as new events."""
    from aicity.hub.events import service

    rows = events.eval_rows()
    times, dispatched = [], 0
    start = time.perf_counter()
    for n, row in enumerate(rows):
        t0 = time.perf_counter()
        filed = service.report(row["text"], source="citizen", reporter=service.Reporter(ref=f"bench-{n}"))
        times.append((time.perf_counter() - t0) * 1000)
        dispatched += filed.event.status == "dispatched"
    elapsed = time.perf_counter() - start
    times.sort()
    print(f"report → stored and dispatched: {len(rows)} reports, {dispatched} dispatched at once "
          f"({dispatched / len(rows):.0%}; the rest wait in the human queue or merged)")
    print(f"  latency p50 {times[len(times) // 2]:.1f} ms  p99 {times[int(len(times) * 0.99)]:.1f} ms  "
          f"(target ≤ 200 ms)  ·  {len(rows) / elapsed:.0f} events/s (one thread, SQLite)")


if __name__ == "__main__":
    open_demo_city(Path(mkdtemp(prefix="aicity-events-bench-")))
    if "--tune" in sys.argv:
        tune()
    else:
        held_out()
        report_to_dispatch()
