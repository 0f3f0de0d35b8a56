"""Labelled requests of the decided mode vote for the target (`router._Votes`, `Router._voted`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aicity.assistant.router import Candidate
from aicity.assistant.service import assistant
from aicity.core.embeddings import query_cache
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)
GUIDE = ("gov_service", "guide")


def test_a_labelled_request_votes_for_its_own_target(city: Path) -> None:
    votes = assistant().router.votes
    assert votes is not None
    vectors = votes.vectors.get()
    assert vectors is not None  # shipped with the package: the mode classifier's query vectors
    rows = votes.rows("service_guide", GUIDE)
    assert len(rows) > 500  # the development sets are never among them
    first = int(rows[0])
    shares, nearest = votes.shares(vectors, rows, vectors[first])
    assert max(shares, key=lambda key: shares[key]) == votes.labels[first][2]
    assert abs(sum(shares.values()) - 1.0) < 1e-6
    assert nearest > 0.999  # the row itself


def test_a_duty_row_with_one_department_votes_for_it(city: Path) -> None:
    from aicity.assistant.service import load_examples

    rows = [{"q": "楼下烧烤的烟找谁", "mode": "duty", "skills": ["city_ops.department_duty"],
             "departments": ["ecology"], "target": None},
            {"q": "烧烤和占道分别找谁", "mode": "duty", "skills": ["city_ops.department_duty"],
             "departments": ["ecology", "urban"], "target": None},
            {"q": "楼下烧烤冒烟着火了", "mode": "emergency", "skills": ["city_safety.emergency"],
             "departments": ["fire"], "target": None}]
    training = city / "training"
    training.mkdir(exist_ok=True)
    (training / "my_modes.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                             encoding="utf-8")
    voting = {row["q"]: row for row in load_examples() if row.get("votes")}
    assert voting["楼下烧烤的烟找谁"]["target"] == "ecology"
    # two departments name no one target; an emergency's department is where it is sent, not what it asks
    assert "烧烤和占道分别找谁" not in voting and "楼下烧烤冒烟着火了" not in voting


def test_votes_outweigh_a_route_that_barely_leads(city: Path) -> None:
    router = assistant().router
    scores = np.zeros(len(router.entries), dtype=np.float32)
    first = next(i for i, e in enumerate(router.entries) if dict(e.params).get("item") == "gas.account_transfer")
    second = next(i for i, e in enumerate(router.entries)
                  if dict(e.params).get("item") == "gas.indoor_facility_modification")
    scores[first], scores[second] = 5.0, 4.0
    cand = Candidate(*GUIDE, {"item": "gas.account_transfer"}, 5.0, "route")
    voted = router._voted(cand, scores, {("item", "gas.indoor_facility_modification"): 1.0}, CITIZEN)
    assert voted.params["item"] == "gas.indoor_facility_modification"
    # a share too small to close the gap leaves the route's target
    kept = router._voted(cand, scores, {("item", "gas.indoor_facility_modification"): 0.1}, CITIZEN)
    assert kept.params["item"] == "gas.account_transfer"
    # among siblings too
    assert router._sibling(scores, "", CITIZEN, "gas.account_transfer",
                           {("item", "gas.indoor_facility_modification"): 1.0}) == "gas.indoor_facility_modification"


def test_a_clear_route_is_not_embedded_for_the_votes(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    router = assistant().router
    scores = np.zeros(len(router.entries), dtype=np.float32)
    cand = Candidate(*GUIDE, {"item": "gas.account_transfer"}, 9.0, "route")
    asked: list[str] = []
    monkeypatch.setattr(router, "_votes", lambda text, *_: asked.append(text) or ({}, 0.0))
    monkeypatch.setattr(router, "sure", lambda *_: True)
    query_cache.clear()
    router._resolve(cand, scores, CITIZEN, "service_guide", "燃气过户怎么办")
    assert asked == []  # the best route leads clearly and the request has no query vector yet
    monkeypatch.setattr(query_cache, "peek", lambda *_: np.ones(1, dtype=np.float32))
    router._resolve(cand, scores, CITIZEN, "service_guide", "燃气过户怎么办")
    assert asked == ["燃气过户怎么办"]  # another part paid for the vector: the votes cost a product
    monkeypatch.setattr(router, "sure", lambda *_: False)
    monkeypatch.setattr(query_cache, "peek", lambda *_: None)
    router._resolve(cand, scores, CITIZEN, "service_guide", "燃气过户怎么办")
    assert len(asked) == 2  # a close call is worth the embedding


def test_a_department_is_always_weighed_with_the_votes(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    router = assistant().router
    scores = np.zeros(len(router.entries), dtype=np.float32)
    cand = Candidate("city_ops", "department_duty", {"department": "public_security"}, 9.0, "cue", by="cue")
    asked: list[str] = []
    monkeypatch.setattr(router, "_votes", lambda text, *_: asked.append(text) or ({}, 0.0))
    monkeypatch.setattr(router, "sure", lambda *_: True)
    query_cache.clear()
    router._resolve(cand, scores, CITIZEN, "duty", "餐饮油烟扰民该找哪个部门")
    assert asked == ["餐饮油烟扰民该找哪个部门"]  # however clearly one department route leads


def test_a_catalog_item_speaks_for_its_department(city: Path) -> None:
    router = assistant().router
    scores = np.zeros(len(router.entries), dtype=np.float32)
    duty = next(i for i, e in enumerate(router.entries) if e.skill == "department_duty"
                and dict(e.params).get("department") == "public_security")
    item = next(i for i, e in enumerate(router.entries[:router._own_routes])
                if dict(e.params).get("item") == "ecology.catering_fume_and_bbq")
    scores[duty], scores[item] = 10.0, 12.0
    cand = Candidate("city_ops", "department_duty", {"department": "public_security"}, 10.0, "cue", by="cue")
    votes = {("department", "ecology"): 0.3, ("department", "public_security"): 0.2}
    assert router._voted(cand, scores, votes, CITIZEN).params["department"] == "ecology"
    # a labelled request's route for an item is not the catalog's word on who handles it
    labelled = next(i for i, e in enumerate(router.entries) if i >= router._own_routes
                    and dict(e.params).get("item", "").startswith("ecology."))
    scores[item], scores[labelled] = 0.0, 12.0
    assert router._voted(cand, scores, votes, CITIZEN).params["department"] == "public_security"


def test_an_english_request_is_voted_on_by_requests_not_in_latin_letters(city: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    router = assistant().router
    votes = router.votes
    assert votes is not None and votes.vectors.get() is not None
    rows = votes.rows("service_guide", GUIDE)
    assert votes.latin[rows].any()  # English requests are among the labelled ones
    voters: list[np.ndarray] = []
    monkeypatch.setattr(votes, "shares", lambda vectors, rows, q: voters.append(rows) or ({}, 0.0))
    router._votes("How do I renew my driving licence?", "service_guide", GUIDE, ("item",))
    router._votes("驾驶证到期了怎么换", "service_guide", GUIDE, ("item",))
    english, chinese = voters
    assert not votes.latin[english].any() and len(chinese) == len(rows)


def test_a_bundle_said_outright_outweighs_the_votes(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    router = assistant().router
    monkeypatch.setattr(router, "_votes", lambda *args: ({("bundle", "restaurant_opening"): 1.0}, 0.95))
    cand = router.route("I want to open an internet cafe. Which permits do I need?", CITIZEN,
                        frozenset({("gov_service", "bundle")}), "bundle")
    assert cand is not None and cand.params["bundle"] == "internet_cafe_opening"
    # a keyword too short to say which bundle (退休 is also the pension's) leaves the choice to the routes and votes
    assert router._named_bundle("我爸下个月退休了") is None
