"""Evaluation of the assistant's routing on a labelled set (JSON Lines).

Two sets ship with the demo city: `eval/assistant.jsonl` (120 requests written apart from
the router and never used to tune it: the figure to quote) and `eval/assistant_dev.jsonl`
(207 requests the cue lexicons and weights were tuned on: expect it to read higher).

A case: {"q", "role"?, "skills": ["agent.skill", …], "departments": [ids], "target"?: id}.
Skills are right when the planned set equals the expected set; departments when every
expected department is in the answer; a target when the planned params name it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from aicity.assistant.service import assistant
from aicity.identity.service import Principal, parse_role


def default_set() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "eval" / "assistant.jsonl"))


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: {exc.msg}") from exc
    return cases


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    bot = assistant()
    rows, latencies = [], []
    by_role: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        principal = Principal(role=parse_role(case.get("role", "citizen")))
        t0 = time.perf_counter()
        events = dict(bot.run(case["q"], principal))
        result = events["answer"]
        latencies.append((time.perf_counter() - t0) * 1000)
        got_skills = {f"{s.agent}.{s.skill}" for s in result.skills}
        skills_ok = got_skills == set(case["skills"])
        depts_ok = set(case.get("departments", [])) <= set(result.departments)
        targets = {v for t in events["plan"]["subtasks"] for v in t["params"].values()}
        target_ok = case.get("target") is None or case["target"] in targets
        ok = skills_ok and depts_ok and target_ok
        by_role[principal.role.value].append(ok)
        rows.append({"q": case["q"], "role": principal.role.value, "ok": ok, "skills_ok": skills_ok,
                     "departments_ok": depts_ok, "target_ok": target_ok, "expected": case,
                     "got": {"skills": sorted(got_skills), "departments": result.departments,
                             "targets": sorted(targets)}})
    n = len(rows) or 1
    return {
        "cases": len(rows),
        "accuracy": round(sum(r["ok"] for r in rows) / n, 4),
        "skill_accuracy": round(sum(r["skills_ok"] for r in rows) / n, 4),
        "department_accuracy": round(sum(r["departments_ok"] for r in rows) / n, 4),
        "target_accuracy": round(sum(r["target_ok"] for r in rows) / n, 4),
        "by_role": {k: round(sum(v) / len(v), 4) for k, v in by_role.items()},
        "latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None,
        "failures": [r for r in rows if not r["ok"]],
    }
