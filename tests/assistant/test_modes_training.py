"""The labelled mode requests (`demo/data/training/modes.jsonl`) use only ids the demo city has."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
import yaml

from aicity.agents.registry import default_registry

DATA = Path(str(resources.files("aicity") / "demo" / "data"))
ROLES = {"citizen", "enterprise", "official", "operator"}


def _ids(path: Path) -> set[str]:
    return {row["id"] for row in yaml.safe_load(path.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = (DATA / "training" / "modes.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_mode_has_enough_labelled_requests(rows: list[dict]) -> None:
    modes = _ids(DATA / "assistant" / "modes.yaml")
    counts = Counter(row["mode"] for row in rows)
    assert set(counts) == modes
    assert min(counts.values()) >= 100
    assert counts["emergency"] >= 350 and counts["report"] >= 350
    assert len({row["q"] for row in rows}) == len(rows)


def test_labels_name_skills_departments_and_targets_that_exist(rows: list[dict]) -> None:
    skill_modes = {f"{a.id}.{s.id}": s.modes for a in default_registry().agents() for s in a.skills}
    catalog = DATA / "catalog"
    departments = _ids(DATA / "departments.yaml")
    targets = departments | _ids(catalog / "bundles.yaml") | _ids(catalog / "life_events.yaml")
    targets |= _ids(catalog / "policies.yaml")
    # staff requests that name a district target it (labels.md: data, city_action, simulation, briefing)
    targets |= {f["properties"]["id"] for f in json.loads((DATA / "districts.geojson").read_text())["features"]}
    for path in sorted((catalog / "items").glob("*.yaml")):
        targets |= _ids(path)
    categories = _ids(DATA / "event_categories.yaml")
    problems = []
    for row in rows:
        if row["role"] not in ROLES:
            problems.append(f"role {row['role']}: {row['q']}")
        problems += [f"skill {s} does not serve {row['mode']}: {row['q']}" for s in row["skills"]
                     if row["mode"] not in skill_modes.get(s, ())]
        problems += [f"department {d}: {row['q']}" for d in row["departments"] if d not in departments]
        if row["target"] is not None and row["target"] not in targets:
            problems.append(f"target {row['target']}: {row['q']}")
        if row.get("category") is not None and row["category"] not in categories:
            problems.append(f"category {row['category']}: {row['q']}")
        if row["mode"] == "report" and not row["departments"]:
            problems.append(f"report without a department: {row['q']}")
    assert problems == []


def test_the_generator_refuses_to_drop_rows_added_to_the_training_file_directly() -> None:
    """modes.jsonl holds writers' rows appended by near_copies.py and lacks rows removed after reviews: regenerating
    it from the .txt files must not silently drop the one or revive the other."""
    import subprocess
    import sys

    out = DATA / "training" / "modes.jsonl"
    script = Path(__file__).resolve().parents[2] / "scripts" / "mode_training" / "generate.py"
    if not script.is_file():
        pytest.skip("the generator ships with the source tree, not the package")
    before = out.read_bytes()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "--force" in done.stderr
    assert out.read_bytes() == before
