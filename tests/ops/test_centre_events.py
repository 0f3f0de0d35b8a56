"""The events classifier in the corpus and model centre: event corrections become corpus examples of kind
events, a round is gated on the hash development split of train.jsonl (never on eval.jsonl), an equal model
is promoted into the data dir and a worse one refused, rollback restores, and only operators may act.

Rounds fit on a per-category subset of the fitting rows (`sample`) to stay fast; both sides of the gate use
the same subset."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core.errors import Problem
from aicity.core.text import normalize
from aicity.hub.events import classify as event_classify
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import centre_events, corpus, model_centre
from tests.support.http import problem

SAMPLE = 5
OPERATOR = Principal(role=Role.operator, key_id="test-operator")


def fitting(start: int, per_category: int) -> list[dict[str, str]]:
    """Fitting rows (train.jsonl less the development split) from the `start`-th of each category on,
    without digits (so that masking leaves them as they are)."""
    seen: dict[str, int] = {}
    out = []
    for row in centre_events.split()[0]:
        if any(ch.isdigit() for ch in row["text"]):
            continue
        index = seen[row["category"]] = seen.get(row["category"], -1) + 1
        if start <= index < start + per_category:
            out.append(row)
    return out


def propose_and_accept(city: Path, rows: list[dict[str, str]]) -> None:
    """Rows proposed through the older corrections file (`collect`), then accepted by an operator."""
    legacy = city / "training" / corpus.LEGACY_EVENTS_FILE
    legacy.parent.mkdir(exist_ok=True)
    legacy.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    try:
        assert corpus.collect(kind="events")["added"] == len(rows)
    finally:
        legacy.unlink()
    for item in corpus.items("pending", kind="events"):
        if item["source"] == "legacy-file":
            corpus.accept(item["id"], OPERATOR)


@pytest.fixture
def clean(city: Path) -> Iterator[None]:
    yield
    event_classify.promoted_path().unlink(missing_ok=True)
    event_classify.reset()


def test_the_development_split_is_a_fixed_hash_apart_from_the_evaluation_set() -> None:
    base, dev = centre_events.split()
    assert len(base) + len(dev) == len(event_classify.training_rows()) and 150 <= len(dev) <= 250
    assert centre_events.split()[1] == dev and all(centre_events.in_dev(r["text"]) for r in dev)
    assert not {normalize(r["text"]) for r in dev} & {normalize(r["text"]) for r in event_classify.eval_rows()}
    # corpus examples that are development or evaluation reports are left out
    held = [{"text": dev[0]["text"], "category": dev[0]["category"]},
            {"text": event_classify.eval_rows()[0]["text"], "category": "fire"}, base[0]]
    usable, left_out = centre_events.examples_of(held)
    assert left_out == 2 and [u["text"] for u in usable] == [base[0]["text"]]


def test_the_gate_promotes_an_equal_model_refuses_a_worse_one_and_rollback_restores(city: Path,
                                                                                    clean: None) -> None:
    first_rows, more_rows = fitting(0, 2), fitting(2, 2)  # within the subset: the same model
    propose_and_accept(city, first_rows)
    first = model_centre.retrain("events", corpus.freeze(OPERATOR, "events")["version"], OPERATOR, sample=SAMPLE)
    assert first["status"] == "active", first
    assert first["after"]["dev"]["accuracy"] == first["before"]["dev"]["accuracy"]
    assert first["after"]["dev"]["cases"] == len(centre_events.split()[1])
    assert first["after"]["eval"]["cases"] == len(event_classify.eval_rows()), "eval recorded, not deciding"
    promoted = event_classify.read_rows(event_classify.promoted_path())
    assert [(r["text"], r["category"]) for r in promoted] == [(normalize(r["text"]), r["category"]) for r in first_rows]
    assert not event_classify._current, "ops.model.promoted dropped the process's classifier"

    propose_and_accept(city, more_rows)
    second = model_centre.retrain("events", corpus.freeze(OPERATOR, "events")["version"], OPERATOR, sample=SAMPLE)
    assert second["status"] == "active", second
    both = event_classify.read_rows(event_classify.promoted_path())
    assert len(both) == len(first_rows) + len(more_rows)

    # deliberately wrong labels (each row given the next category): worse on the development split, refused
    labels = sorted(event_classify.categories())
    propose_and_accept(city, [{"text": r["text"], "category": labels[(labels.index(r["category"]) + 1) % len(labels)]}
                              for r in fitting(SAMPLE, 3)])
    wrong = model_centre.retrain("events", corpus.freeze(OPERATOR, "events")["version"], OPERATOR, sample=SAMPLE)
    assert wrong["status"] == "refused", wrong
    assert wrong["after"]["dev"]["accuracy"] < wrong["before"]["dev"]["accuracy"]
    assert event_classify.read_rows(event_classify.promoted_path()) == both, "a refused model changes nothing"
    assert model_centre.registry("events")["active"] == second["version"]

    # rollback: the previous version, then the package's rows alone, then nothing left
    assert model_centre.rollback("events", OPERATOR) == {"kind": "events", "rolled_back": second["version"],
                                                         "active": first["version"]}
    assert event_classify.read_rows(event_classify.promoted_path()) == promoted
    assert model_centre.rollback("events", OPERATOR)["active"] is None
    assert not event_classify.promoted_path().exists()
    with pytest.raises(Problem) as refused:
        model_centre.rollback("events", OPERATOR)
    assert refused.value.status == 409


def test_event_corrections_review_and_permissions(client: TestClient, city: Path, clean: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_centre, "SAMPLE_PER_MODE", SAMPLE)
    _, plaintext = identity.create_api_key("events-models-operator", "operator")
    op = {"Authorization": f"Bearer {plaintext}"}
    _, official = identity.create_api_key("events-models-official", "official", "market")
    reported = client.post("/api/v1/events", json={"text": "小区楼下有人在烧烤，油烟很大", "category": "fire_hazard"})
    assert reported.status_code == 201, reported.text
    eid = reported.json()["id"]
    # the dispatch centre (an official) corrects the category through the events API
    fixed = client.post(f"/api/v1/events/{eid}/correction", json={"category": "open_bbq"},
                        headers={"Authorization": f"Bearer {official}"})
    assert fixed.status_code == 200, fixed.text
    queue = client.get("/api/v1/ops/corpus/items", params={"kind": "events"}, headers=op).json()
    item = next(i for i in queue if i["event_id"] == eid)
    assert (item["kind"], item["category"], item["predicted_category"]) == ("events", "open_bbq", "fire_hazard")
    problem(client.post(f"/api/v1/ops/corpus/items/{item['id']}/accept", json={"category": "ufo"}, headers=op), 400)
    accepted = client.post(f"/api/v1/ops/corpus/items/{item['id']}/accept", json={"category": "open_bbq"},
                           headers=op)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    frozen = client.post("/api/v1/ops/corpus/versions", params={"kind": "events"}, headers=op)
    assert frozen.status_code == 201 and frozen.json()["kind"] == "events", frozen.text
    version = frozen.json()["version"]
    assert version in [v["version"] for v in client.get("/api/v1/ops/corpus/versions", params={"kind": "events"},
                                                          headers=op).json()]
    problem(client.post("/api/v1/ops/corpus/versions", params={"kind": "weather"}, headers=op), 400)

    problem(client.get("/api/v1/ops/corpus/items", params={"kind": "events"},
                       headers={"Authorization": f"Bearer {official}"}), 403)
    for headers in ({}, {"Authorization": f"Bearer {official}"}):
        problem(client.get("/api/v1/ops/models/events", headers=headers), 403)
        problem(client.post("/api/v1/ops/models/events/retrain", json={"corpus_version": version}, headers=headers),
                403)
        problem(client.post("/api/v1/ops/models/events/rollback", headers=headers), 403)
    queued = client.post("/api/v1/ops/models/events/retrain", json={"corpus_version": version}, headers=op)
    assert queued.status_code == 202, queued.text
    number = queued.json()["version"]
    deadline = time.monotonic() + 120
    while (found := client.get(f"/api/v1/ops/models/events/{number}", headers=op).json())["status"] in (
            "queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found["status"] in ("active", "refused"), found
    assert found["sample"] == SAMPLE and found["before"]["dev"]["cases"] == found["after"]["dev"]["cases"]
    if found["status"] == "active":
        assert client.post("/api/v1/ops/models/events/rollback", headers=op).status_code == 200


def test_the_cli_takes_the_events_kind(city: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["ops", "models", "list", "--kind", "events", "--json", "--data-dir", str(city)])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["corpus_file"].endswith("ops_corpus_events.jsonl")
    refused = runner.invoke(cli, ["ops", "corpus", "freeze", "--kind", "weather", "--data-dir", str(city)])
    assert refused.exit_code == 2 and "modes, events" in refused.output, refused.output
    queue = runner.invoke(cli, ["ops", "corpus", "queue", "--kind", "events", "--data-dir", str(city)])
    assert queue.exit_code == 0, queue.output
