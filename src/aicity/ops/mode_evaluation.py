"""Evaluation of the assistant's understanding (issue 13): the mode, the skills, the target, the
departments, the emergencies, the abstentions and the calibration.

A case: {"q", "role", "mode", "skills": [agent.skill …], "departments": [ids], "target": id | null}.
`eval/assistant_modes.jsonl` was written apart from the training rows and the rules, and is never
trained or tuned on; `cross_validated` gives the 5-fold figure on the training rows beside it.

- mode accuracy: the mode answered equals the expected one (an abstention counts as not right);
- end to end: right mode, the planned skills equal the expected set, every expected department
  in the answer and the expected target among the planned params;
- wrong confident: answered (no abstention) and the mode is wrong; abstentions are not wrong;
- emergency recall over expected emergencies; false alarms over every other case;
- calibration: for each confidence threshold, how many answers reach it and how often those are right.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from aicity.assistant import modes as mode_data
from aicity.assistant.service import assistant
from aicity.core.errors import Problem
from aicity.core.text import normalize
from aicity.identity.service import Principal, parse_role

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def default_set() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "eval" / "assistant_modes.jsonl"))


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _calibration(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in THRESHOLDS:
        above = [r for r in rows if r["confidence"] >= t]
        out.append({"threshold": t, "share": _rate([r["confidence"] >= t for r in rows]),
                    "accuracy": _rate([r["mode_ok"] for r in above])})
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures over rows {expected, got, confidence, abstained, mode_ok, ok?, role, agent}."""
    n = len(rows)
    emergencies = [r for r in rows if r["expected"] == mode_data.EMERGENCY]
    others = [r for r in rows if r["expected"] != mode_data.EMERGENCY]
    by_mode: dict[str, list[bool]] = defaultdict(list)
    by_role: dict[str, list[bool]] = defaultdict(list)
    by_agent: dict[str, list[bool]] = defaultdict(list)
    key = "ok" if rows and "ok" in rows[0] else "mode_ok"
    for r in rows:
        by_mode[r["expected"]].append(r[key])
        by_role[r["role"]].append(r[key])
        for agent in r.get("agents") or ["(none)"]:
            by_agent[agent].append(r[key])
    confusion = Counter((r["expected"], "(abstain)" if r["abstained"] else r["got"]) for r in rows
                        if r["abstained"] or r["got"] != r["expected"])
    out = {
        "cases": n,
        "mode_accuracy": _rate([r["mode_ok"] for r in rows]),
        "answered_accuracy": _rate([r["mode_ok"] for r in rows if not r["abstained"]]),
        "abstention_rate": _rate([r["abstained"] for r in rows]),
        "wrong_confident_rate": _rate([not r["abstained"] and not r["mode_ok"] for r in rows]),
        "emergency_recall": _rate([r["got"] == mode_data.EMERGENCY and not r["abstained"] for r in emergencies]),
        "emergency_false_alarm_rate": _rate([r["got"] == mode_data.EMERGENCY for r in others]),
        "refused_by_guard": sum(r["got"].startswith("(refused") for r in rows),
        "by_mode": {k: _rate(v) for k, v in sorted(by_mode.items())},
        "by_role": {k: _rate(v) for k, v in sorted(by_role.items())},
        "by_agent": {k: _rate(v) for k, v in sorted(by_agent.items())},
        "calibration": _calibration(rows),
        "confusion": [{"expected": e, "got": g, "count": c} for (e, g), c in confusion.most_common()],
    }
    if key == "ok":
        out["end_to_end_accuracy"] = _rate([r["ok"] for r in rows])
        out["wrong_confident_end_to_end_rate"] = _rate([not r["abstained"] and not r["ok"] for r in rows])
        out["end_to_end_misses"] = _misses_by_part(rows)
        out.update(_department_precision(rows))
    return out


def _department_precision(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """How honest the departments named are (end to end only asks that the gold ones are among them, which naming
    more can only help): over answers in the right mode to cases with gold departments, the mean share of named
    departments that are gold (answers naming none have no precision and are left out of that mean), and the share
    of those answers that name a department outside gold."""
    scored = [(set(r["expected_departments"]), set(r["got_departments"])) for r in rows
              if r["mode_ok"] and r.get("expected_departments")]
    precisions = [len(gold & named) / len(named) for gold, named in scored if named]
    return {"department_precision": round(sum(precisions) / len(precisions), 4) if precisions else None,
            "extra_department_rate": _rate([bool(named - gold) for gold, named in scored])}


def _missed_part(row: dict[str, Any]) -> str:
    """The first part an end-to-end miss got wrong, in the order the assistant decides them."""
    if not row["mode_ok"]:
        return "mode"
    if set(row["got_skills"]) != set(row["expected_skills"]):
        return "skills"
    if row["expected_target"] is not None and row["expected_target"] not in row["got_targets"]:
        return "target"
    return "departments"


def _misses_by_part(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per expected mode, how many end-to-end misses fail first at mode, skills, target or departments:
    an aggregate that says where a set's failures sit without printing its requests."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        if not r["ok"]:
            counts[r["expected"]][_missed_part(r)] += 1
    return {mode: dict(c) for mode, c in sorted(counts.items())}


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Every case through the whole assistant (as `ask`), scored as the module says."""
    bot = assistant()
    rows, latencies = [], []
    for case in cases:
        principal = Principal(role=parse_role(case.get("role", "citizen")))
        t0 = time.perf_counter()
        try:
            events = dict(bot.run(case["q"], principal))
        except Problem as exc:  # refused before understanding (the guard): wrong, and counted apart
            rows.append({"q": case["q"], "role": principal.role.value, "expected": case["mode"],
                         "got": f"(refused: {exc.type_})", "confidence": 0.0, "abstained": False, "mode_ok": False,
                         "ok": False, "agents": sorted({s.split(".")[0] for s in case.get("skills", [])}),
                         "expected_skills": sorted(case.get("skills", [])), "got_skills": [],
                         "expected_target": case.get("target"), "got_targets": [],
                         "expected_departments": case.get("departments", []), "got_departments": []})
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        result = events["answer"]
        abstained = bool(result.clarification and result.clarification.get("slot") == "mode")
        got_skills = {f"{s.agent}.{s.skill}" for s in result.skills}
        targets = {v for t in events["plan"]["subtasks"] for v in t["params"].values()}
        mode_ok = not abstained and result.mode == case["mode"]
        ok = (mode_ok and got_skills == set(case.get("skills", []))
              and set(case.get("departments", [])) <= set(result.departments)
              and (case.get("target") is None or case["target"] in targets))
        rows.append({"q": case["q"], "role": principal.role.value, "expected": case["mode"], "got": result.mode or "",
                     "confidence": result.mode_confidence or 0.0, "abstained": abstained, "mode_ok": mode_ok,
                     "ok": ok, "agents": sorted({s.split(".")[0] for s in case.get("skills", [])}),
                     "expected_skills": sorted(case.get("skills", [])), "got_skills": sorted(got_skills),
                     "expected_target": case.get("target"), "got_targets": sorted(targets),
                     "expected_departments": case.get("departments", []), "got_departments": result.departments})
    report = summarise(rows)
    report["latency_ms_p50"] = round(statistics.median(latencies), 2) if latencies else None
    report["failures"] = [r for r in rows if not r["ok"]]
    return report


def cross_validated(folds: int = 5) -> dict[str, Any]:
    """The mode figures of `folds`-fold cross-validation on the training rows (never the evaluation set)."""
    bot = assistant()
    rows = bot.understanding.classifier.rows
    roles = _roles()
    vectors = bot.understanding.classifier.vectors
    guesses = mode_data.cross_validated(rows, folds, vectors=vectors.get() if vectors is not None else None)
    scored = []
    for row, guess in zip(rows, guesses, strict=True):
        abstained = mode_data.asks(guess)
        scored.append({"expected": row["category"], "got": guess.mode, "confidence": guess.confidence,
                       "abstained": abstained, "mode_ok": not abstained and guess.mode == row["category"],
                       "role": roles.get(row["text"], "(example)"), "agents": []})
    report = summarise(scored)
    report["folds"] = folds
    report["tuning"] = tuning(rows, guesses)
    report["emergency_tuning"] = emergency_tuning(rows, guesses)
    return report


def _roles() -> dict[str, str]:
    out = {}
    for path in mode_data.mode_rows_paths():
        for row in mode_data.read_jsonl(path):
            out[normalize(row["q"])] = row.get("role", "citizen")
    return out


def tuning(rows: list[dict[str, str]], guesses: list[mode_data.ModeGuess]) -> list[dict[str, Any]]:
    """Wrong-confident and abstention rates of cross-validated guesses per abstention threshold: with the same
    table of every development set, what `ABSTAIN_BELOW` is chosen from (the lowest threshold with cross-validated
    wrong-confident ≤ 4.5 % and every development set ≤ 2.5 %; `assistant.modes`)."""
    out = []
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        answered = [g.emergency or g.confidence >= t or g.mode == mode_data.OUT_OF_SCOPE for g in guesses]
        wrong = [a and g.mode != r["category"] for a, g, r in zip(answered, guesses, rows, strict=True)]
        out.append({"abstain_below": t, "abstention_rate": _rate([not a for a in answered]),
                    "wrong_confident_rate": _rate(wrong)})
    return out


def emergency_tuning(rows: list[dict[str, str]], guesses: list[mode_data.ModeGuess]) -> list[dict[str, Any]]:
    """Emergency recall and false alarms of cross-validated guesses for pairs (P alone, P with a rule):
    the table `EMERGENCY_P` and `EMERGENCY_P_WITH_RULE` are chosen from."""
    out = []
    for alone in (0.3, 0.4, 0.5, 0.6):
        for with_rule in (0.05, 0.1, 0.2, 0.3):
            hits = []
            for g in guesses:
                p = dict(g.ranked).get(mode_data.EMERGENCY, 0.0)
                hits.append(p >= alone or (bool(g.urgent_reasons) and p >= with_rule))
            expected = [r["category"] == mode_data.EMERGENCY for r in rows]
            out.append({"p": alone, "p_with_rule": with_rule,
                        "recall": _rate([h for h, e in zip(hits, expected, strict=True) if e]),
                        "false_alarm_rate": _rate([h for h, e in zip(hits, expected, strict=True) if not e])})
    return out
