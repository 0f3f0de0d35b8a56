"""The model centre: a retraining round from a corpus version is gated on the development sets (a corpus
of deliberately wrong labels is refused, an equal or better one promoted), promotion makes the running
assistant learn from the data dir's corpus file, and rollback restores the previous version.

Rounds fit on a per-mode subset of the training rows (`sample`) to stay fast; both sides of the gate
use the same subset."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.assistant import modes as mode_data
from aicity.assistant import service as assistant_service
from aicity.cli import app as cli
from aicity.core.errors import Problem
from aicity.core.text import normalize
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import corpus, model_centre
from tests.support.http import problem

SAMPLE = 8
OPERATOR = Principal(role=Role.operator, key_id="test-operator")


def training(start: int, per_mode: int) -> list[tuple[str, str]]:
    """Rows of the package's training file from the `start`-th of each mode on (beyond the subset)."""
    path = Path(str(resources.files("aicity") / "demo" / "data" / "training" / "modes.jsonl"))
    seen: dict[str, int] = {}
    out = []
    for row in mode_data.read_jsonl(path):
        index = seen[row["mode"]] = seen.get(row["mode"], -1) + 1
        if start <= index < start + per_mode:
            out.append((row["q"], row["mode"]))
    return out


def accept_all(rows: list[tuple[str, str]]) -> None:
    for text, mode in rows:
        corpus.accept(corpus.correct(OPERATOR, mode, text=text)["id"], OPERATOR)


@pytest.fixture
def clean(city: Path) -> Iterator[None]:
    yield
    model_centre.corpus_path().unlink(missing_ok=True)
    assistant_service.reset("test", {})


#: an operator's correction the package's training rows do not have
NEW_TEXT = "小区东门的共享单车堆成一座山了，连消防通道都堵上了"


def test_the_gate_refuses_wrong_labels_promotes_equal_ones_and_rollback_restores(clean: None) -> None:
    accept_all([*training(40, 12), (NEW_TEXT, "report")])
    good = corpus.freeze(OPERATOR)["version"]
    first = model_centre.retrain("router", good, OPERATOR, sample=SAMPLE)
    assert first["status"] == "active", first
    assert first["after"]["dev"]["mode_accuracy"] >= first["before"]["dev"]["mode_accuracy"]
    assert first["after"]["rows"] > first["before"]["rows"] and first["after"]["eval"]["cases"] > 0
    promoted = mode_data.read_jsonl(model_centre.corpus_path())
    assert len(promoted) >= len(training(40, 12))
    # the running assistant learns from the promoted file after the reload
    learnt = {r["text"] for r in assistant_service.assistant().understanding.classifier.rows}
    assert normalize(NEW_TEXT) in [r["q"] for r in promoted]
    assert normalize(NEW_TEXT) in learnt

    # the same corpus again: equal, so promoted; the first version retires
    same = model_centre.retrain("router", corpus.freeze(OPERATOR)["version"], OPERATOR, sample=SAMPLE)
    assert same["status"] == "active" and same["after"]["dev"] == same["before"]["dev"]
    # deliberately wrong labels (each row given the next mode): worse on the development sets, refused
    labels = sorted(mode_data.modes())
    accept_all([(q, labels[(labels.index(m) + 1) % len(labels)]) for q, m in training(60, 12)])
    wrong = model_centre.retrain("router", corpus.freeze(OPERATOR)["version"], OPERATOR, sample=SAMPLE)
    assert wrong["status"] == "refused", wrong
    assert wrong["after"]["dev"]["mode_accuracy"] < wrong["before"]["dev"]["mode_accuracy"]
    assert mode_data.read_jsonl(model_centre.corpus_path()) == promoted, "a refused model changes nothing"
    reg = model_centre.registry("router")
    assert reg["active"] == same["version"]
    assert {v["version"]: v["status"] for v in reg["versions"]}[first["version"]] == "retired"

    # rollback: the previous version, then the built-in rows, then nothing left
    assert model_centre.rollback("router", OPERATOR) == {"kind": "router", "rolled_back": same["version"],
                                                         "active": first["version"]}
    assert mode_data.read_jsonl(model_centre.corpus_path()) == promoted
    assert model_centre.rollback("router", OPERATOR)["active"] is None
    assert not model_centre.corpus_path().exists()
    learnt = {r["text"] for r in assistant_service.assistant().understanding.classifier.rows}
    assert normalize(NEW_TEXT) not in learnt
    with pytest.raises(Problem) as refused:
        model_centre.rollback("router", OPERATOR)
    assert refused.value.status == 409


def test_retraining_over_http_is_a_job_for_operators(client: TestClient, clean: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_centre, "SAMPLE_PER_MODE", SAMPLE)
    _, plaintext = identity.create_api_key("models-operator", "operator")
    op = {"Authorization": f"Bearer {plaintext}"}
    _, official = identity.create_api_key("models-official", "official", "market")
    accept_all(training(80, 3))
    version = corpus.freeze(OPERATOR)["version"]
    for headers in ({}, {"Authorization": f"Bearer {official}"}):
        problem(client.get("/api/v1/ops/models/router", headers=headers), 403)
        problem(client.post("/api/v1/ops/models/router/retrain", json={"corpus_version": version}, headers=headers), 403)
        problem(client.post("/api/v1/ops/models/router/rollback", headers=headers), 403)
    problem(client.post("/api/v1/ops/models/router/retrain", json={"corpus_version": 9999}, headers=op), 404)
    problem(client.post("/api/v1/ops/models/weather/retrain", json={"corpus_version": version}, headers=op), 404)
    # a corpus version of the mode router's kind cannot retrain the events classifier
    problem(client.post("/api/v1/ops/models/events/retrain", json={"corpus_version": version}, headers=op), 400)
    problem(client.post("/api/v1/ops/models/router/retrain", json={"corpus_version": 0}, headers=op), 422)
    queued = client.post("/api/v1/ops/models/router/retrain", json={"corpus_version": version}, headers=op)
    assert queued.status_code == 202, queued.text
    number = queued.json()["version"]
    deadline = time.monotonic() + 120
    while (found := client.get(f"/api/v1/ops/models/router/{number}", headers=op).json())["status"] in (
            "queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found["status"] in ("active", "refused"), found
    assert found["before"]["dev"]["cases"] == found["after"]["dev"]["cases"] > 500 and found["decision"]
    assert found["sample"] == SAMPLE
    listed = client.get("/api/v1/ops/models/router", headers=op).json()
    assert number in [v["version"] for v in listed["versions"]]
    if found["status"] == "active":
        assert client.post("/api/v1/ops/models/router/rollback", headers=op).status_code == 200
    problem(client.get("/api/v1/ops/models/router/9999", headers=op), 404)


def test_the_cli_lists_versions_and_refuses_clearly(city: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["ops", "models", "list", "--json", "--data-dir", str(city)])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["kind"] == "router"
    assert runner.invoke(cli, ["ops", "models", "list", "--data-dir", str(city)]).exit_code == 0
    for args in (["retrain", "--corpus-version", "9999"], ["list", "--kind", "weather"]):
        refused = runner.invoke(cli, ["ops", "models", *args, "--data-dir", str(city)])
        assert refused.exit_code == 2 and "unknown" in refused.output, refused.output
    if model_centre.registry("router")["active"] is None:
        nothing = runner.invoke(cli, ["ops", "models", "rollback", "--data-dir", str(city)])
        assert nothing.exit_code == 2 and "Nothing to roll back" in nothing.output
