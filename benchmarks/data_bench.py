"""Data-hub benchmark: importing the whole demo pack (read, type checks, quality checks, grading
suggestions, metadata) and the grading suggestions' precision and recall per column against the
pack README's "Classification and grading" table.

    .venv/bin/python benchmarks/data_bench.py [--rounds 3] [--json]

`heldout` in the output: the same scores on the tables of `data_grading_heldout.py`, written
after the rules and never used to tune them (suggestions only, no import).

Each round imports the eight files into a fresh data dir (migrated, no other demo data) with
their declarations stripped of every grade, so the suggestions come from the column names, the
values and the declared classification domain only. Timings are medians over the rounds.

The gold below is transcribed from `../shared/city/datasets/README.md` (columns it names as
personal / sensitive personal information, the tables' suggested levels, and the `enterprises`
columns it puts at 1级 and 3级). The suggestion rules were written with that README in view:
these are development figures, not held-out ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

#: README: column-level PI summary
GOLD_PII = {
    ("enterprises", "legal_representative"): ("personal", "name"),
    ("enterprises", "contact_mobile"): ("personal", "mobile"),
    ("low_income_households", "head_name"): ("personal", "name"),
    ("low_income_households", "id_number"): ("sensitive", "resident_id"),
    ("low_income_households", "mobile"): ("personal", "mobile"),
    ("low_income_households", "community"): ("personal", "address"),
    ("low_income_households", "has_disabled_member"): ("sensitive", "health"),
    ("low_income_households", "monthly_allowance_yuan"): ("sensitive", "property"),
}
#: README: suggested level per table (all 一般数据)
GOLD_LEVEL = {"districts": 1, "chain_nodes": 1, "air_quality_daily": 1, "traffic_flow_hourly": 2,
              "hotline_tickets": 2, "investment_leads": 2, "enterprises": 3, "low_income_households": 4}
#: README: enterprises' registration columns are 1级, revenue and tax 3级
GOLD_ENTERPRISE_LEVELS = {**{c: 1 for c in ("uscc", "name", "address", "industry_code", "industry_name",
                                            "registered_capital_10k_yuan", "founded_date", "status")},
                          "revenue_2024_10k_yuan": 3, "tax_2024_10k_yuan": 3}


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "tp": tp, "fp": fp, "fn": fn}


def one_round() -> tuple[dict[str, float], dict[str, dict], float]:
    from aicity.core.config import configure
    from aicity.core.db import use_database
    from aicity.demo.loader import data_dir
    from aicity.hub.data import store
    from aicity.hub.data.demo import pack
    from aicity.hub.data.importer import import_path
    from aicity.hub.data.service import suggestions

    tmp = Path(tempfile.mkdtemp(prefix="aicity-data-bench-"))
    cfg = configure(data_dir=tmp)
    use_database(cfg.resolved_database_url).migrate()
    times: dict[str, float] = {}
    started = time.perf_counter()
    for path, spec in pack(data_dir()):
        bare = spec.model_copy(update={"grade": None, "columns": [
            c.model_copy(update={"level": None, "pii": None, "pii_kind": None}) for c in spec.columns]})
        t = time.perf_counter()
        import_path(path, spec=bare, actor="bench")
        times[spec.id] = time.perf_counter() - t
    total = time.perf_counter() - started
    graded = {d.id: suggestions(d.id) for d in store.list_datasets()}
    store.close()
    return times, graded, total


def score(graded: dict[str, dict]) -> dict:
    tp = fp = fn = stp = sfp = sfn = kinds = 0
    wrong: list[str] = []
    for ds, g in graded.items():
        for c in g["columns"]:
            got = c["suggested"]["pii"]
            gold = GOLD_PII.get((ds, c["name"]))
            if got and gold:
                tp += 1
                kinds += c["suggested"]["pii_kind"] == gold[1]
            elif got:
                fp += 1
                wrong.append(f"FP {ds}.{c['name']}={got}")
            elif gold:
                fn += 1
                wrong.append(f"FN {ds}.{c['name']}")
            s_got, s_gold = got == "sensitive", bool(gold and gold[0] == "sensitive")
            stp += s_got and s_gold
            sfp += s_got and not s_gold
            sfn += s_gold and not s_got
    levels = {ds: g["suggested"]["sensitivity_level"] for ds, g in graded.items()}
    ent = {c["name"]: c["suggested"]["sensitivity_level"] for c in graded["enterprises"]["columns"]}
    return {
        "columns": sum(len(g["columns"]) for g in graded.values()),
        "personal_information": prf(tp, fp, fn),
        "sensitive_personal_information": prf(stp, sfp, sfn),
        "pii_kind_accuracy_on_true_positives": round(kinds / tp, 3) if tp else None,
        "dataset_level_accuracy": f"{sum(levels[d] == lv for d, lv in GOLD_LEVEL.items())}/{len(GOLD_LEVEL)}",
        "dataset_level_misses": {d: {"suggested": levels[d], "gold": lv} for d, lv in GOLD_LEVEL.items()
                                 if levels[d] != lv},
        "enterprise_column_level_accuracy":
            f"{sum(ent[c] == lv for c, lv in GOLD_ENTERPRISE_LEVELS.items())}/{len(GOLD_ENTERPRISE_LEVELS)}",
        "errors": wrong,
    }


def heldout() -> dict:
    from data_grading_heldout import tables  # benchmarks/ is on sys.path when run as a script

    from aicity.hub.data.grading import suggest

    tp = fp = fn = stp = sfp = sfn = kinds = 0
    wrong = []
    for t in tables():
        got = suggest(t["columns"], category=t["category"], rows=len(next(iter(t["columns"].values()))))
        for col, s in got.columns.items():
            gold = t["gold"].get(col)
            if s.pii and gold:
                tp += 1
                kinds += s.pii_kind == gold[1]
            elif s.pii:
                fp += 1
                wrong.append(f"FP {t['id']}.{col}={s.pii}/{s.pii_kind}")
            elif gold:
                fn += 1
                wrong.append(f"FN {t['id']}.{col} (gold {gold[0]}/{gold[1]})")
            s_got, s_gold = s.pii == "sensitive", bool(gold and gold[0] == "sensitive")
            stp += s_got and s_gold
            sfp += s_got and not s_gold
            sfn += s_gold and not s_got
            if s_got != s_gold and gold and s.pii:
                wrong.append(f"level {t['id']}.{col}: {s.pii} vs gold {gold[0]}")
    return {"columns": sum(len(t["columns"]) for t in tables()), "personal_information": prf(tp, fp, fn),
            "sensitive_personal_information": prf(stp, sfp, sfn),
            "pii_kind_accuracy_on_true_positives": round(kinds / tp, 3) if tp else None, "errors": wrong}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rounds = [one_round() for _ in range(args.rounds)]
    per_ds = {ds: round(statistics.median(r[0][ds] for r in rounds), 3) for ds in rounds[0][0]}
    result = {
        "pack_import_seconds_median": round(statistics.median(r[2] for r in rounds), 3),
        "pack_import_seconds_all": [round(r[2], 3) for r in rounds],
        "per_dataset_seconds_median": per_ds,
        "rows": 46073,
        "grading": score(rounds[-1][1]),
        "heldout": heldout(),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()


if __name__ == "__main__":
    main()
