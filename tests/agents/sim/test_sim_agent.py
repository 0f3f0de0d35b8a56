"""The simulation mode in one sentence: "模拟一下五十年一遇的暴雨下江滨区哪里会积水" reaches the
simulation agent, which reads the return period, district and duration, runs the SWMM job and
answers with the flooded places; an unknown district, a return period out of range and a
question it cannot simulate are answered clearly; citizens do not get simulations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aicity.agents.sim.agent import parse, spoken_number
from aicity.identity import service as identity
from aicity.server import create_app


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.mark.parametrize("text, expected", [
    ("模拟一下五十年一遇的暴雨下江滨区哪里会积水", {"return_period": 50.0, "district": "jiangbin"}),
    ("二十年一遇暴雨持续三小时，南湖区会淹哪些路", {"return_period": 20.0, "duration_min": 180, "district": "nanhu"}),
    ("百年一遇的暴雨下了90分钟", {"return_period": 100.0, "duration_min": 90}),
    ("两年一遇的雨下在火星区", {"return_period": 2.0, "unknown_district": "火星区"}),
    # the whole city, not a district named 市各区; a 小区 is no district
    ("要是暴雨重现期是五年，全市各区积水点有几个", {"return_period": 5.0}),
    ("按20年重现期模拟西城区", {"return_period": 20.0, "district": "xicheng"}),
    ("五年一遇的雨，我们小区会不会淹", {"return_period": 5.0}),
])
def test_the_sentence_is_read(text: str, expected: dict) -> None:
    assert parse(text) == expected


def test_chinese_numbers() -> None:
    assert [spoken_number(t) for t in ("五十", "十", "二十五", "一百", "两", "3")] == [50, 10, 25, 100, 2, 3]


def _ask(app: TestClient, text: str, key: str | None) -> dict:
    headers = {"X-API-Key": key} if key else {}
    return app.post("/api/v1/assistant/ask", json={"text": text}, headers=headers).json()


def test_one_sentence_runs_the_simulation(app: TestClient) -> None:
    _, official = identity.create_api_key("sim-ask-official", "official")
    body = _ask(app, "模拟一下五十年一遇的暴雨下江滨区哪里会积水", official)
    assert [(s["agent"], s["skill"]) for s in body["skills"]] == [("simulation", "flood_simulation")], body
    assert "内涝模拟结果" in body["answer"] and "50 年一遇" in body["answer"], body["answer"]
    assert "江滨区" in body["answer"] and "一致率" in body["answer"]


def test_bad_requests_get_clear_answers(app: TestClient) -> None:
    _, official = identity.create_api_key("sim-ask-official-2", "official")
    assert "示范城市没有“火星区”" in _ask(app, "模拟一下五十年一遇的暴雨下火星区哪里会积水", official)["answer"]
    assert "2–100" in _ask(app, "模拟一下五百年一遇的暴雨下江滨区哪里会积水", official)["answer"]
    citizen = _ask(app, "模拟一下五十年一遇的暴雨下江滨区哪里会积水", None)
    assert ("simulation", "flood_simulation") not in [(s["agent"], s["skill"]) for s in citizen["skills"]]
