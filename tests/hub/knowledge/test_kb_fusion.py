"""Hybrid retrieval is at least as good as either signal alone, on the development set the
fusion was tuned on (the evaluation set is reported by `aicity eval kb`, never asserted on)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aicity.hub.knowledge.service import FUSION_DEPTH, LEGAL_FUSION_DEPTH, _scaled
from aicity.ops.evaluation import default_kb_set, evaluate_kb, load_cases


def test_hybrid_beats_keyword_and_dense_on_the_dev_set(city: Path) -> None:
    cases = load_cases(default_kb_set("kb_dev"))
    recall = {mode: evaluate_kb(cases, mode)["recall@5"] for mode in ("keyword", "dense", "hybrid")}
    assert recall["hybrid"] >= max(recall["keyword"], recall["dense"]) and recall["hybrid"] >= 0.9


def test_scaled_puts_the_depth_th_best_at_zero() -> None:
    scores, visible = np.arange(10, dtype=float), np.ones(10, dtype=bool)
    visible[9] = False  # an unreadable chunk neither sets the scale nor scores
    assert LEGAL_FUSION_DEPTH < FUSION_DEPTH  # the legal answerer scales over fewer candidates than other searches
    legal = _scaled(scores, visible, 4)
    assert legal[8] == 1.0 and legal[9] == 0.0 and legal[5] == 0.0 and legal[4] == 0.0
    assert legal[6] == pytest.approx(1 / 3)
    assert _scaled(scores, visible)[4] == pytest.approx(4 / 8)  # all of them within FUSION_DEPTH: the worst at 0
