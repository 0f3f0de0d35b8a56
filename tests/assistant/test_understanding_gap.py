"""A service the catalog has is not answered "not in our catalog" when the routes' item is the wrong one
(`Understanding.plan`, `Router.voted`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.assistant.modes import ModeGuess
from aicity.assistant.service import assistant
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)
ASKED = "gas.indoor_facility_modification"


def _plan(text: str):
    bot = assistant()
    return bot.understanding.plan(text, CITIZEN, bot.planner, ModeGuess("service_guide", 1.0, ()),
                                  forced="service_guide")


def test_agreeing_votes_name_the_item_the_routes_missed(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    understanding = assistant().understanding
    # the request is about the item the votes give, not the one its routes found
    monkeypatch.setattr(understanding, "covers", lambda text, item: item in (None, ASKED))
    monkeypatch.setattr(understanding.router, "voted", lambda *_: (("item", ASKED), [("item", ASKED)]))
    plan = _plan("燃气过户怎么办")
    assert plan.reply is None and plan.subtasks[0].params["item"] == ASKED


def test_without_agreeing_votes_the_most_voted_item_the_request_covers_is_taken(
        city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    understanding = assistant().understanding
    monkeypatch.setattr(understanding, "covers", lambda text, item: item in (None, ASKED))
    # the routes' own item and an item the request's words do not cover are passed over
    monkeypatch.setattr(understanding.router, "voted", lambda *_: (None, [
        ("item", "gas.account_transfer"), ("item", "power.account_transfer"), ("item", ASKED)]))
    plan = _plan("燃气过户怎么办")
    assert plan.reply is None and plan.subtasks[0].params["item"] == ASKED


def test_without_votes_for_a_covered_item_the_catalog_lacks_it(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    understanding = assistant().understanding
    monkeypatch.setattr(understanding, "covers", lambda text, item: item in (None, ASKED))
    monkeypatch.setattr(understanding.router, "voted", lambda *_: (None, [("item", "power.account_transfer")]))
    assert _plan("燃气过户怎么办").reply == "gap"


def test_agreeing_votes_for_the_routes_own_item_keep_it(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request's words are not the catalog's (电驴 for 电动自行车), but near labelled requests agree on the item the
    routes found: it is answered, not called missing."""
    understanding = assistant().understanding
    monkeypatch.setattr(understanding, "covers", lambda text, item: item is None)
    monkeypatch.setattr(understanding.router, "voted", lambda *_: (("item", "gas.account_transfer"),
                                                                   [("item", "gas.account_transfer")]))
    plan = _plan("燃气过户怎么办")
    assert plan.reply is None and plan.subtasks[0].params["item"] == "gas.account_transfer"
    # without agreeing votes the same request is a gap
    monkeypatch.setattr(understanding.router, "voted", lambda *_: (None, [("item", "gas.account_transfer")]))
    assert _plan("燃气过户怎么办").reply == "gap"
