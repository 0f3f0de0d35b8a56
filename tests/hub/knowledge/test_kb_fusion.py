"""Hybrid retrieval is at least as good as either signal alone, on the development set the
fusion was tuned on (the evaluation set is reported by `aicity eval kb`, never asserted on)."""

from __future__ import annotations

from pathlib import Path

from aicity.ops.evaluation import default_kb_set, evaluate_kb, load_cases


def test_hybrid_beats_keyword_and_dense_on_the_dev_set(city: Path) -> None:
    cases = load_cases(default_kb_set("kb_dev"))
    recall = {mode: evaluate_kb(cases, mode)["recall@5"] for mode in ("keyword", "dense", "hybrid")}
    assert recall["hybrid"] >= max(recall["keyword"], recall["dense"]) and recall["hybrid"] >= 0.9
