"""`ready_assistant` (the one-shot commands' warm-up) loads the models fitted or loaded on first use in the
background, in the threads BACKGROUND_MODELS names, so the first legal question or report does not pay for them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aicity.assistant import cli
from aicity.hub.events import classify as events
from aicity.hub.knowledge import law_prior


def test_first_use_models_load_in_the_background(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: dict[str, str] = {}
    done = threading.Event()

    def events_warm_up() -> None:
        loaded["events"] = threading.current_thread().name
        done.set()

    monkeypatch.setattr(law_prior, "warm", lambda: loaded.setdefault("law prior", threading.current_thread().name))
    monkeypatch.setattr(events, "warm_up", events_warm_up)
    cli.ready_assistant()
    assert done.wait(10)
    assert loaded["events"] in cli.BACKGROUND_MODELS  # not the caller's thread
    assert "law prior" in loaded  # law_prior.warm starts its own "law-prior" thread
    assert "law-prior" in cli.BACKGROUND_MODELS
