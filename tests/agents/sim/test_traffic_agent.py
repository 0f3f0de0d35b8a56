"""The traffic skill in one sentence: "解放大道早高峰配时能不能优化" reaches the simulation agent's
`traffic_simulation`, which reads the corridor and the peak and starts a SUMO job with the current and
the optimised plan (answering with the job when the run outlasts the wait); a road that is no corridor
is answered with the corridors there are, offered as options; citizens do not get simulations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aicity.agents.sim.traffic import parse
from aicity.hub.sim import jobs
from aicity.identity import service as identity
from aicity.server import create_app

KNOWN = ["东湖路", "光谷大道", "关山大道", "北湖大道", "建设大道", "沿江大道", "解放大道", "雄楚大道"]


@pytest.fixture(scope="module")
def app(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.mark.parametrize("text, expected", [
    ("解放大道早高峰配时能不能优化", {"corridor": "解放大道", "period": "am"}),
    ("光谷大道晚高峰的红绿灯怎么调", {"corridor": "光谷大道", "period": "pm"}),
    ("幸福路的配时能不能优化", {"period": "am"}),
])
def test_the_sentence_is_read(text: str, expected: dict) -> None:
    assert parse(text, KNOWN) == expected


def _ask(app: TestClient, text: str, key: str | None) -> dict:
    headers = {"X-API-Key": key} if key else {}
    return app.post("/api/v1/assistant/ask", json={"text": text}, headers=headers).json()


def test_one_sentence_starts_the_corridor_simulation(app: TestClient) -> None:
    _, official = identity.create_api_key("traffic-ask-official", "official")
    body = _ask(app, "解放大道早高峰配时能不能优化", official)
    try:
        assert [(s["agent"], s["skill"]) for s in body["skills"]] == [("simulation", "traffic_simulation")], body
        assert "解放大道" in body["answer"]
        assert "仿真进行中" in body["answer"] or "配时优化仿真结果" in body["answer"], body["answer"]
        started = jobs.history("traffic", limit=1)[0][0]
        assert started["params"] == {**started["params"], "corridor": "解放大道", "period": "am", "optimize": True}
    finally:  # the full peak hour is not needed here
        for job in jobs.history("traffic", "running")[0] + jobs.history("traffic", "queued")[0]:
            jobs.cancel(job["id"], "test")


def test_bad_requests_get_clear_answers(app: TestClient) -> None:
    _, official = identity.create_api_key("traffic-ask-official-2", "official")
    body = _ask(app, "火星大道早高峰配时能不能优化", official)
    assert "可仿真的干道" in body["answer"] and "解放大道" in body["answer"]
    # the corridors there are, offered as the answer's options (buttons in the console)
    assert body["clarification"]["slot"] == "corridor" and "解放大道" in [o["value"] for o in body["clarification"]["options"]]
    citizen = _ask(app, "解放大道早高峰配时能不能优化", None)
    assert ("simulation", "traffic_simulation") not in [(s["agent"], s["skill"]) for s in citizen["skills"]]
