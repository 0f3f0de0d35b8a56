"""A retraining round from feedback, end to end, on all the training rows (issue 19, "Measured").

    .venv/bin/python benchmarks/retraining_round.py [--data-dir DIR] [--json]

A demo city (a temp dir unless given). Each request of `retraining/requests.jsonl` (48 requests over
the 17 modes with the mode an operator says is right, written for this benchmark apart from the
training, development and evaluation sets) is asked; the asker rates the answer 👍 when the assistant
understood the mode and 👎 otherwise; the operator collects the ratings into the corpus, reviews them
(accepting each with the right mode), freezes a corpus version and retrains the mode router from it.
The round prints the gate's figures before (the running model) and after (the candidate): mode accuracy
on the development sets (what the gate decides on) and on the evaluation set (reported only).

Then a second round from the same requests reworded ("请问，…") with deliberately wrong labels (each given
the next mode) shows the gate refusing; the promoted version is rolled back so the city ends as it began.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aicity.assistant import modes as mode_data
from aicity.assistant.service import assistant
from aicity.demo.loader import open_demo_city
from aicity.identity.models import Role
from aicity.identity.service import Principal, parse_role
from aicity.ops import agents, corpus, model_centre

HERE = Path(__file__).parent
OPERATOR = Principal(role=Role.operator, key_id="benchmark")


def round_from(labels: dict[str, str]) -> dict[str, Any]:
    """Collect the ratings, review them with `labels` (trace id → mode), freeze, retrain."""
    corpus.collect(1)
    for item in corpus.items("pending"):
        if item["trace_id"] in labels:
            corpus.accept(item["id"], OPERATOR, labels[item["trace_id"]])
    version = corpus.freeze(OPERATOR)["version"]
    t0 = time.perf_counter()
    result = model_centre.retrain("router", version, OPERATOR)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="aicity-retrain-"))
    open_demo_city(data_dir)
    rows = mode_data.read_jsonl(HERE / "retraining" / "requests.jsonl")
    bot = assistant()
    traces: dict[str, str] = {}
    understood = 0
    for row in rows:
        answer = bot.ask(row["q"], Principal(role=parse_role(row["role"])))
        right = answer.mode == row["mode"]
        understood += right
        agents.give_feedback(answer.trace_id, "up" if right else "down", "" if right else "没理解我要办的事",
                             Principal(role=Role.admin))
        traces[answer.trace_id] = row["mode"]
    good = round_from(traces)
    modes = sorted(mode_data.modes())
    wrong_labels = {}
    for row in rows:  # asked again (a new wording), reviewed by a careless operator: each the next mode
        answer = assistant().ask(f"请问，{row['q']}", Principal(role=parse_role(row["role"])))
        agents.give_feedback(answer.trace_id, "down", "", Principal(role=Role.admin))
        wrong_labels[answer.trace_id] = modes[(modes.index(row["mode"]) + 1) % len(modes)]
    wrong = round_from(wrong_labels)
    if good["status"] == "active":
        model_centre.rollback("router", OPERATOR)
    out = {"requests": len(rows), "understood_before": understood,
           "rounds": [{k: r[k] for k in ("version", "status", "decision", "before", "after", "seconds")}
                      for r in (good, wrong)]}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    print(f"{len(rows)} requests, the mode understood for {understood} before retraining")
    for r in out["rounds"]:
        b, a = r["before"], r["after"]
        print(f"v{r['version']} {r['status']} ({r['seconds']} s): dev {b['dev']['mode_accuracy']} → "
              f"{a['dev']['mode_accuracy']} (wrong-confident {b['dev']['wrong_confident_rate']} → "
              f"{a['dev']['wrong_confident_rate']}), eval {b['eval']['mode_accuracy']} → {a['eval']['mode_accuracy']}"
              f"; rows {b['rows']} → {a['rows']}")


if __name__ == "__main__":
    main()
