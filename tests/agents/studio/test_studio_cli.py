"""`aicity agents import|export|test|list` as a person types them (a real process on the demo city's data
dir); `aicity agents --json` still lists the agents (tests/test_cli.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aicity.agents.studio import templates
from aicity.agents.studio.spec import AgentDefinition, dump

AICITY = [sys.executable, "-m", "aicity.cli"]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AICITY_DATA_DIR": str(data_dir), "COLUMNS": "160"}
    return subprocess.run([*AICITY, *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_round_trip(city: Path, tmp_path: Path) -> None:
    data = next(d for d in templates.demo_definitions() if d["id"] == "noise_helper")
    file = tmp_path / "cli_noise.yaml"
    file.write_text(dump(AgentDefinition.model_validate({**data, "id": "cli_noise"})), encoding="utf-8")
    out = run(["agents", "import", str(file), "--publish", "personal"], city)
    assert out.returncode == 0, out.stderr
    assert "cli_noise v1" in out.stdout
    exported = run(["agents", "export", "cli_noise"], city)
    assert exported.stdout == file.read_text(encoding="utf-8")
    tried = json.loads(run(["agents", "test", "cli_noise", "夜间施工噪声有什么规定", "--json"], city).stdout)
    assert tried["citations"] and tried["citations"][0]["doc_key"] == "噪声污染防治法"
    assert any(s.get("agent") == "cli_noise" for s in tried["trace"])
    # bad input: the field is named, nothing is written
    bad = tmp_path / "bad.yaml"
    bad.write_text(dump(AgentDefinition.model_validate({**data, "id": "cli_bad"})).replace("workflow: []",
                                                                                         "workflow: []\ncolour: red"),
                   encoding="utf-8")
    refused = run(["agents", "import", str(bad)], city)
    assert refused.returncode != 0 and "colour" in refused.stderr
    listed = json.loads(run(["agents", "list", "--mine", "--json"], city).stdout)
    assert "cli_noise" in [a["id"] for a in listed] and "cli_bad" not in [a["id"] for a in listed]
