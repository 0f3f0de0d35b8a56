"""CLI start-up: a help page imports only the module of the command it shows, the settings are
checked when a command runs (not for its help), and `aicity agents` lists the agents without
building the assistant. Each check runs in a fresh interpreter (imports are per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import json, sys
from typer.testing import CliRunner
from aicity.cli import app

runner = CliRunner()
seen = set(sys.modules)
report = {}
for name, args in [("root", ["--help"]), ("eval", ["eval", "--help"]), ("data", ["data", "--help"]),
                   ("keys", ["keys", "list"])]:
    result = runner.invoke(app, args)
    report[name] = {"code": result.exit_code, "output": result.output,
                    "imported": sorted(m for m in set(sys.modules) - seen if m.startswith("aicity."))}
    seen = set(sys.modules)
print(json.dumps(report))
"""


def _probe(tmp_path: Path, **env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "AICITY_DATA_DIR": str(tmp_path / "city"), **env}, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_only_the_group_it_shows_and_settings_are_checked_when_a_command_runs(tmp_path: Path) -> None:
    report = _probe(tmp_path, AICITY_GUARD_ENABLED="maybe")
    root = report["root"]
    assert root["code"] == 0 and "数据中枢 datasets" in root["output"] and "评测 Evaluations" in root["output"]
    assert not [m for m in root["imported"] if m.endswith(("cli", "_cli"))]  # listed from the declarations
    evals = report["eval"]
    assert evals["code"] == 0 and "aicity.ops.cli" in evals["imported"]
    assert "guard" in evals["output"] and "收文登记评测" in evals["output"]  # other slices' eval commands, declared
    assert not {"aicity.security.guard_cli", "aicity.agents.office.cli_text"} & set(evals["imported"])
    data = report["data"]
    assert data["code"] == 0 and "一句话问数" in data["output"] and "aicity.hub.data.ask_cli" not in data["imported"]
    # the wrong setting did not stop the help pages; the command that runs is refused, naming the key
    keys = report["keys"]
    assert keys["code"] == 2 and "aicity.guard.enabled" in keys["output"]


def test_agents_lists_the_declared_agents_without_building_the_assistant(city: Path) -> None:
    probe = ("import json, sys\nfrom typer.testing import CliRunner\nfrom aicity.cli import app\n"
             "r = CliRunner().invoke(app, ['agents', '--json'])\n"
             "print(json.dumps({'code': r.exit_code, 'out': r.output,"
             " 'assistant': 'aicity.assistant.service' in sys.modules}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "AICITY_DATA_DIR": str(city)}, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, report["out"]
    agents = json.loads(report["out"].strip().splitlines()[-1])["agents"]
    assert {"gov_service", "policy", "city_ops", "fire_safety"} <= {a["id"] for a in agents}
    assert all(s["risk"] for a in agents for s in a["skills"])
    assert not report["assistant"]
