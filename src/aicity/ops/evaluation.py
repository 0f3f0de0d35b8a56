"""Evaluation of the assistant's routing on a labelled set (JSON Lines).

`eval/assistant.jsonl` (120 requests) was written apart from the router and is never used
to tune it or to train it. The 207 labelled requests the cue lexicons and weights were tuned
on ship as routing examples in `training/assistant_examples.jsonl` instead.

A case: {"q", "role"?, "skills": ["agent.skill", …], "departments": [ids], "target"?: id}.
Skills are right when the planned set equals the expected set; departments when every
expected department is in the answer; a target when the planned params name it.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from aicity.assistant.service import assistant
from aicity.core.errors import Problem
from aicity.core.text import cn_number
from aicity.hub.catalog import service as catalog_service
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.extractive import extractive_answer
from aicity.hub.knowledge.law_prior import law_key
from aicity.hub.knowledge.relations import relations
from aicity.identity.models import Role
from aicity.identity.service import Principal, parse_role
from aicity.security import attack_eval


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
    by_skill: dict[str, list[bool]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    for case in cases:
        principal = Principal(role=parse_role(case.get("role", "citizen")))
        t0 = time.perf_counter()
        try:
            events = dict(bot.run(case["q"], principal))
        except Problem as exc:  # refused before routing (the guard): a miss
            rows.append({"q": case["q"], "role": principal.role.value, "ok": False, "skills_ok": False,
                         "departments_ok": False, "target_ok": False, "expected": case,
                         "got": {"refused": exc.type_}})
            by_role[principal.role.value].append(False)
            by_skill["+".join(sorted(case["skills"]))].append(False)
            continue
        result = events["answer"]
        latencies.append((time.perf_counter() - t0) * 1000)
        got_skills = {f"{s.agent}.{s.skill}" for s in result.skills}
        skills_ok = got_skills == set(case["skills"])
        depts_ok = set(case.get("departments", [])) <= set(result.departments)
        targets = {v for t in events["plan"]["subtasks"] for v in t["params"].values()}
        target_ok = case.get("target") is None or case["target"] in targets
        ok = skills_ok and depts_ok and target_ok
        by_role[principal.role.value].append(ok)
        expected_key = "+".join(sorted(case["skills"]))
        by_skill[expected_key].append(ok)
        if not skills_ok:
            confusion[(expected_key, "+".join(sorted(got_skills)) or "(none)")] += 1
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
        "by_skill": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_skill.items())},
        "confusion": [{"expected": e, "got": g, "count": n} for (e, g), n in confusion.most_common()],
        "latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None,
        "failures": [r for r in rows if not r["ok"]],
    }


def default_kb_set(name: str = "kb") -> Path:
    """The knowledge-retrieval evaluation set (`kb`: never used to tune retrieval), or the
    development set that the hybrid fusion was tuned on (`kb_dev`)."""
    return Path(str(resources.files("aicity") / "demo" / "data" / "eval" / f"{name}.jsonl"))


def kb_hit(hit_doc: str, hit_locator: str, case: dict[str, Any]) -> bool:
    """A hit answers a case when it is the labelled article (or one of `also`), whole or a 款 of it."""
    wanted = [(case["doc"], case["article"]), *((a["doc"], a["article"]) for a in case.get("also", []))]
    return any(hit_doc == doc and (hit_locator == art or hit_locator.startswith(art + " ")) for doc, art in wanted)


def evaluate_kb(cases: list[dict[str, Any]], mode: str, k: int = 5) -> dict[str, Any]:
    """recall@k and MRR@10 of knowledge search in `mode` (keyword, dense or hybrid)."""
    reader = Principal(role=Role.citizen)
    recall, rr, latencies, misses = 0, 0.0, [], []
    for case in cases:
        t0 = time.perf_counter()
        hits = knowledge.search(case["q"], reader, top_k=10, mode=mode)
        latencies.append((time.perf_counter() - t0) * 1000)
        ranks = [i for i, h in enumerate(hits, start=1) if kb_hit(h.doc_key, h.locator, case)]
        recall += bool(ranks and ranks[0] <= k)
        rr += 1.0 / ranks[0] if ranks else 0.0
        if not ranks or ranks[0] > k:
            misses.append({"q": case["q"], "expected": f"{case['doc']} {case['article']}",
                           "got": [f"{h.doc_key} {h.locator}" for h in hits[:3]]})
    n = len(cases) or 1
    return {"mode": mode, "cases": len(cases), f"recall@{k}": round(recall / n, 4), "mrr@10": round(rr / n, 4),
            "latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None, "misses": misses}


def _squash(text: str) -> str:
    return "".join(text.split())


_NUMERAL_RUN = re.compile(r"[\d零〇一二两三四五六七八九十百千万]+")
_PERCENT = re.compile(rf"百分之({_NUMERAL_RUN.pattern})")
#: a unit word alone is not a number (千万 "by all means")
_NOT_NUMBERS = frozenset({"十", "百", "千", "万", "千万", "万万"})


def _digits(run: str) -> str:
    value = None if run in _NOT_NUMBERS else cn_number(run)
    return run if value is None else str(value)


def _numbers_alike(text: str) -> str:
    """Text with its numbers written one way: 三十日 and 30日, 百分之五 and 5%, 五万元 and 5万元, 30天 and 30日."""
    text = _PERCENT.sub(r"\1%", _squash(unicodedata.normalize("NFKC", text)))
    return re.sub(r"(?<=\d)天", "日", _NUMERAL_RUN.sub(lambda m: _digits(m.group()), text))


def rule_stated(rule: str, answer: str) -> bool:
    """Whether an answer states a rule phrase, its numbers written either way (30日内 and 三十日内), but a
    number only as a whole: 五日内 is not stated by 十五日内, 1年 not by 11年."""
    phrase = _numbers_alike(rule)
    if not phrase:
        return False
    pattern = (r"(?<!\d)" if phrase[0].isdigit() else "") + re.escape(phrase) + (r"(?!\d)" if phrase[-1].isdigit() else "")
    return re.search(pattern, _numbers_alike(answer)) is not None


def evaluate_legal(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The legal answers as a reviewer reads them (`eval/legal_rules.jsonl`: written apart from
    the answerer, never tuned on; `legal_rules_dev.jsonl` is the set it was tuned on).

    A case: {"q", "rule": the phrase that states the rule, "doc", "article": the governing
    provision, "not"?: [{"doc", "article"}] provisions that must not be presented as the rule}.
    Reported: the share whose answer text states the rule (and whose lead sentence does), the
    share whose first provision is the governing one, and how often a superseded or overridden
    provision was presented as the rule (first citation or lead)."""
    reader = Principal(role=Role.citizen)
    rel = relations()
    states = lead_states = governing = superseded = numbers_alike = 0
    latencies: list[float] = []
    failures: list[dict[str, Any]] = []
    for case in cases:
        t0 = time.perf_counter()
        found = extractive_answer(case["q"], reader)
        latencies.append((time.perf_counter() - t0) * 1000)
        rule = _squash(case["rule"])
        first = found.citations[0] if found.citations else None
        article = first.locator.split()[0] if first else ""
        banned = {(law_key(n["doc"]), n["article"]) for n in case.get("not", [])}
        ok_text = rule in _squash(found.answer)
        ok_numbers = rule_stated(case["rule"], found.answer)
        ok_lead = rule in _squash(found.rule or "")
        ok_gov = first is not None and (law_key(first.doc_key), article) == (law_key(case["doc"]), case["article"])
        bad = first is not None and (first.status != "in_force" or (law_key(first.doc_key), article) in banned
                                     or rel.is_overridden(first.doc_key, article, case["q"]))
        states, lead_states, governing, superseded = (states + ok_text, lead_states + ok_lead, governing + ok_gov,
                                                      superseded + bad)
        numbers_alike += ok_numbers
        if not (ok_text and ok_gov and ok_numbers) or bad:
            failures.append({"id": case.get("id"), "q": case["q"], "rule": case["rule"],
                             "expected": f"{case['doc']} {case['article']}",
                             "got": f"{first.doc_key} {first.locator}" if first else None, "lead": found.rule,
                             "states_rule": ok_text, "states_rule_numbers_checked": ok_numbers, "governing": ok_gov, "superseded_as_rule": bad})
    n = len(cases) or 1
    # states_rule: the phrase verbatim (comparable with earlier figures); states_rule_numbers_checked: its
    # numbers written either way but only as whole numbers (rule_stated)
    return {"cases": len(cases), "states_rule": round(states / n, 4),
            "states_rule_numbers_checked": round(numbers_alike / n, 4), "lead_states_rule": round(lead_states / n, 4),
            "first_provision_governing": round(governing / n, 4), "superseded_as_rule": superseded,
            "latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None, "failures": failures}


_BOLD = re.compile(r"\*\*(.+?)\*\*")
#: sections that open a service's part of an answer (their title is the item's or bundle's name)
SERVICE_OPENERS = ("overview",)


def off_request_sections(sections: list[dict[str, Any]], case: dict[str, Any], services: dict[str, str]) -> list[str]:
    """The sections of an answer that do not answer the labelled request: a service the request
    does not ask for (and every section under it), a policy that does not fit the asker and the
    service. `services` maps a catalog item's or bundle's name to its id."""
    wanted, fitting = set(case["services"]), set(case["policies"])
    off: list[str] = []
    current: str | None = None
    for sec in sections:
        if sec["kind"] in SERVICE_OPENERS:
            current = services.get(sec["title"], sec["title"])
            if current not in wanted:
                off.append(f"service {current}")
        elif sec["kind"] == "policies":
            off += [f"policy {name}" for name in _BOLD.findall(sec["body"]) if name not in fitting]
        elif current is not None and current not in wanted:
            off.append(f"{sec['kind']} of {current}")
    return off


def evaluate_sections(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The assistant's answers section by section on a labelled set (`eval/assistant_sections.jsonl`:
    requests written apart from the composer, each with the services that answer it and the
    policies that fit its asker): the share of answers with at least one section that does not
    answer the request (target ≤ 5 %)."""
    bot = assistant()
    cat = catalog_service.catalog()
    services = {e.name: e.id for e in [*cat.items.values(), *cat.bundles.values()]}
    rows, sections = [], 0
    for case in cases:
        principal = Principal(role=parse_role(case.get("role", "citizen")))
        answer = dict(bot.run(case["q"], principal))["answer"]
        found = [s if isinstance(s, dict) else s.model_dump() for s in answer.sections]
        sections += len(found)
        rows.append({"id": case.get("id"), "q": case["q"], "sections": len(found),
                     "off": off_request_sections(found, case, services)})
    noisy = [r for r in rows if r["off"]]
    n = len(rows) or 1
    return {"cases": len(rows), "sections": sections, "answers_with_off_request_section": len(noisy),
            "share": round(len(noisy) / n, 4), "off_request_sections": sum(len(r["off"]) for r in rows),
            "failures": noisy}


#: the other slices' held-out request sets: real-style requests that the input guard must let pass
CITY_REQUEST_SETS = {"eval/assistant_modes.jsonl": "q", "eval/assistant.jsonl": "q", "eval/kb.jsonl": "q",
                     "events/eval.jsonl": "text"}


def city_requests() -> list[str]:
    root = resources.files("aicity") / "demo" / "data"
    return [json.loads(line)[field] for path, field in CITY_REQUEST_SETS.items()
            for line in (root / path).read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate_guard(cv: bool = True, failures: int = 0) -> dict[str, Any]:
    """The input guard's prompt-attack figures (issue 21): recall per class, the per-class
    average and the false-positive rate on benign look-alikes, on each held-out set
    (`attacks_eval.jsonl`, written first and apart; `attacks_eval_v1.jsonl`, the previous one),
    the development set the threshold was chosen on, and — beside them — 5-fold
    cross-validation on the training set; the share of the other slices' held-out requests
    (assistant, knowledge, events) it would block; and the input check's latency."""
    sets = attack_eval.held_out_sets()
    dev = attack_eval.attacks.training_rows("attacks_dev.jsonl")
    texts = [r["text"] for rows in sets.values() for r in rows if r["source"] == "user"]
    city = [{"text": text, "label": "benign", "source": "user"} for text in city_requests()]
    return {"held_out": {name: attack_eval.evaluate(rows, failures) for name, rows in sets.items()},
            "city_requests": {"false_positive_rate": attack_eval.evaluate(city)["false_positive_rate"],
                              "requests": len(city), "sets": list(CITY_REQUEST_SETS)},
            "dev": attack_eval.evaluate(dev), "cross_validated": attack_eval.cross_validated() if cv else None,
            "threshold": attack_eval.attacks.classifier().threshold, "latency": attack_eval.latency(texts),
            "training_rows": len(attack_eval.attacks.training_rows())}
