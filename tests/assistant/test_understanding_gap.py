"""A service the catalog has is not answered "not in our catalog" when the routes' item is the wrong one
(`Understanding.plan`, `Router.voted`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.assistant.modes import ModeGuess
from aicity.assistant.service import assistant
from aicity.assistant.understanding import _tokens, item_topics
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
    # votes for the routes' own item say nothing new
    monkeypatch.setattr(understanding.router, "voted", lambda *_: (("item", "gas.account_transfer"),
                                                                   [("item", "power.account_transfer")]))
    assert _plan("燃气过户怎么办").reply == "gap"


def test_the_words_of_an_items_labelled_requests_speak_for_it(city: Path) -> None:
    """电驴 is no catalog word for the e-bike plate, but people's requests for it use it: a request in those words is
    about the item, not a gap; a word the requests of many items use (我要) speaks for none."""
    ebike = "traffic_police.ebike_registration"
    assert not set(_tokens("电驴咋上牌")) & item_topics()[ebike]
    assert assistant().understanding.covers("电驴咋上牌", ebike)
    topics = item_topics({ebike: ["我要给电驴上牌", "我要电驴牌照", "电驴牌照去哪挂"],
                          "gas.account_transfer": ["我要燃气过户", "我要燃气开户"],
                          "power.account_transfer": ["我要电费户名改名", "我要电表过户"]})
    assert {"电驴", "牌照"} <= topics[ebike]
    assert "我要" not in topics[ebike]  # 2 of the 6 requests using it
    assert "上牌" not in item_topics({ebike: ["我要给电驴上牌", "电驴牌照去哪挂"]})[ebike]  # one request's word

