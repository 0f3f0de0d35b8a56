"""A retraining round of the events classifier from the dispatch centre's corrections, end to end, on all
the fitting rows (issue 19, part 3).

    .venv/bin/python benchmarks/events_retraining_round.py [--data-dir DIR] [--json]

A demo city (a temp dir unless given). Each report of `retraining/event_reports.jsonl` (40 citizens'
reports over the 35 event categories with the right category, written for this benchmark apart from
train.jsonl and eval.jsonl) is filed; the classifier chooses its category; the dispatch centre (an
official) corrects every report filed under a wrong category through the events service, which the
corpus centre hears (`events.corrected`) and proposes; an operator accepts the proposals, freezes an
events corpus version and retrains the events classifier from it. The round prints the gate's figures
before (the running model) and after (the candidate): category accuracy on the development split (the
fixed hash fifth of train.jsonl, which decides) and on eval.jsonl (recorded only).

Then a second round: the same reports filed again in other words, each "corrected" by a careless
dispatcher to the next category and accepted, shows the gate refusing; the promoted version is rolled
back so that the city ends as it began.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aicity.demo.loader import open_demo_city
from aicity.hub.events import classify as event_classify
from aicity.hub.events import service as events
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import corpus, model_centre

HERE = Path(__file__).parent
OPERATOR = Principal(role=Role.operator, key_id="benchmark")
DISPATCHER = Principal(role=Role.official, key_id="benchmark-dispatch")


def file_and_correct(rows: list[dict[str, str]], prefix: str, label: Any) -> int:
    """File each report; where the event's category is not `label(row)`, the dispatcher corrects it.
    Returns how many the classifier got right."""
    right = 0
    for n, row in enumerate(rows):
        filed = events.report(prefix + row["text"], "citizen", events.Reporter(f"bench-{prefix}{n}"))
        wanted = label(row)
        if filed.event.category == wanted:
            right += 1
        else:
            events.record_correction(filed.event.id, wanted, DISPATCHER)
    return right


def round_from_queue() -> dict[str, Any]:
    """Accept every pending events proposal as proposed, freeze, retrain (all rows)."""
    for item in corpus.items("pending", kind="events"):
        corpus.accept(item["id"], OPERATOR)
    version = corpus.freeze(OPERATOR, "events")
    t0 = time.perf_counter()
    result = model_centre.retrain("events", version["version"], OPERATOR)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["corpus_size"] = version["size"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="aicity-events-retrain-"))
    open_demo_city(data_dir)
    rows = [json.loads(line) for line in (HERE / "retraining" / "event_reports.jsonl").read_text().splitlines()
            if line.strip()]
    right = file_and_correct(rows, "", lambda r: r["category"])
    good = round_from_queue()
    labels = sorted(event_classify.categories())
    file_and_correct(rows, "又有人反映：", lambda r: labels[(labels.index(r["category"]) + 1) % len(labels)])
    wrong = round_from_queue()
    if good["status"] == "active":
        model_centre.rollback("events", OPERATOR)
    out = {"reports": len(rows), "right_before": right,
           "rounds": [{k: r[k] for k in ("version", "status", "decision", "before", "after", "seconds", "corpus_size")}
                      for r in (good, wrong)]}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    print(f"{len(rows)} reports, the category right for {right} before retraining")
    for r in out["rounds"]:
        b, a = r["before"], r["after"]
        print(f"v{r['version']} {r['status']} ({r['seconds']} s, {r['corpus_size']} examples): dev "
              f"{b['dev']['accuracy']} → {a['dev']['accuracy']} (wrong yet dispatched "
              f"{b['dev']['wrong_dispatched_rate']} → {a['dev']['wrong_dispatched_rate']}, to a person "
              f"{b['dev']['needs_human_rate']} → {a['dev']['needs_human_rate']}), eval {b['eval']['accuracy']} → "
              f"{a['eval']['accuracy']}; rows {b['rows']} → {a['rows']}")


if __name__ == "__main__":
    main()
