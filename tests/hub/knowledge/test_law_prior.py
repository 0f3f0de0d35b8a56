"""The law prior: the law a legal question is likely about lifts that law's chunks in the legal answerer's
searches; no training rows, no change; trained on the training rows alone, never on the evaluation sets."""

from __future__ import annotations

import builtins
import threading
from pathlib import Path
from typing import Any

import pytest

from aicity.core import models_cache
from aicity.core.config import settings
from aicity.hub.knowledge import law_prior
from aicity.hub.knowledge.relations import relations
from aicity.hub.knowledge.service import LAW_PRIOR_WEIGHT, related_lift, search
from aicity.hub.knowledge.slice import knowledge
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)
QUESTION = "用人单位提前通知解除劳动合同要提前多少天？"


def _scores(question: str, **kw: Any) -> dict[tuple[str, str], float]:
    return {(h.doc_key, h.locator): h.score for h in search(question, CITIZEN, top_k=60, **kw)}


def test_the_predicted_law_lifts_its_chunks(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guessed = law_prior.probabilities(QUESTION)
    assert max(guessed, key=guessed.__getitem__) == "劳动合同法" and sum(guessed.values()) == pytest.approx(1.0)
    with monkeypatch.context() as m:
        m.setattr(law_prior, "probabilities", lambda _q: {})
        plain = _scores(QUESTION, exhaustive=True)
    # a law ranked below the first, said to be certain: each of its chunks gains LAW_PRIOR_WEIGHT and rises
    other = next(doc for doc, _ in list(plain)[1:] if doc != next(iter(plain))[0])
    monkeypatch.setattr(law_prior, "probabilities", lambda _q: {other: 1.0})
    lifted = _scores(QUESTION, exhaustive=True)
    first = [doc for doc, _ in lifted].index(other)
    assert first < [doc for doc, _ in plain].index(other)
    # and the texts related to it (`related_lift`) as much; the rest nothing
    by_law, by_article = related_lift({other: 1.0}, relations())
    assert set(by_law) - {other}
    for key, score in plain.items():
        if key in lifted:
            lift = max(by_law.get(key[0], 0.0), by_article.get((key[0], key[1].split()[0]), 0.0))
            assert lifted[key] == pytest.approx(score + LAW_PRIOR_WEIGHT * lift, abs=1e-3)
    assert _scores(QUESTION) == _scores(QUESTION, exhaustive=False)  # other searches never ask the prior
    monkeypatch.setattr(law_prior, "probabilities", lambda _q: pytest.fail("asked outside the legal answerer"))
    search(QUESTION, CITIZEN)


def test_no_training_rows_no_change(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(law_prior, "probabilities", lambda _q: {})
        plain = _scores(QUESTION, exhaustive=True)
    monkeypatch.setattr(law_prior, "training_paths", lambda: [tmp_path / "legal_laws.jsonl"])
    assert law_prior.probabilities(QUESTION) == {}
    assert _scores(QUESTION, exhaustive=True) == plain


def test_trained_on_training_rows_never_on_eval(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    city_rows = settings().data_dir / "training" / "city_legal_laws.jsonl"
    city_rows.parent.mkdir(parents=True, exist_ok=True)
    city_rows.write_text("", encoding="utf-8")
    try:  # a city's own rows are read beside the built-in ones
        assert city_rows in law_prior.training_paths()
    finally:
        city_rows.unlink()
    read: list[str] = []
    read_text, open_ = Path.read_text, builtins.open
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **kw: read.append(str(self)) or read_text(self, *a, **kw))
    monkeypatch.setattr(builtins, "open", lambda file, *a, **kw: read.append(str(file)) or open_(file, *a, **kw))
    monkeypatch.setattr(law_prior, "_fitted", None)  # fitted afresh, reading its rows now
    assert law_prior.probabilities(QUESTION)
    assert any(p.endswith("training/legal_laws.jsonl") for p in read)
    assert not any("/eval/" in p for p in read)


def test_fitted_once_then_loaded_from_disk(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_cache, "model_cache", lambda: tmp_path)
    monkeypatch.setattr(models_cache, "_held", {})
    monkeypatch.setattr(law_prior, "_fitted", None)
    fitted = law_prior.probabilities(QUESTION)
    assert [p.name.split("-")[0] for p in tmp_path.glob("*.joblib")] == ["law_prior"]
    # a fresh process: nothing held, the kept model is read instead of fitting again
    monkeypatch.setattr(models_cache, "_held", {})
    monkeypatch.setattr(law_prior, "_fitted", None)
    monkeypatch.setattr(law_prior, "_fit", lambda _rows: pytest.fail("fitted again"))
    assert law_prior.probabilities(QUESTION) == fitted


def test_warmed_in_the_background_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "aicity.hub.knowledge.law_prior:warm" in knowledge.startup
    warmed, release, done = threading.Event(), threading.Event(), threading.Event()
    monkeypatch.setattr(law_prior, "_model", lambda: (warmed.set(), release.wait(5), done.set()))
    law_prior.warm()
    assert warmed.wait(5) and not done.is_set()  # start-up did not wait for the fit
    release.set()
    assert done.wait(5)
