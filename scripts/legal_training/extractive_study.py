"""Choose a constant of the extractive answerer (`hub/knowledge/extractive.py`) by leave-one-set-out over the legal
development sets.

    .venv/bin/python scripts/legal_training/extractive_study.py NAME VALUE [VALUE ...] [--sets NAME ...]

Each development set `eval/legal_rules_dev*.jsonl` is answered with the law prior fitted on the article questions
and the OTHER development sets' rows, never its own, and its article votes likewise (as `article_prior_study.py`
does), once per VALUE of the constant NAME (e.g. SAME_ARTICLE_SHARE 0.6 0.35). Reported per set and pooled: the
first provision governing, the rule stated, superseded provisions presented as the rule; and the cases whose figures
each value after the first changes. The held-out sets are never read.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from article_prior_study import study_city, without_set

from aicity.hub.knowledge import extractive, law_prior
from aicity.hub.knowledge import service as knowledge
from aicity.ops.evaluation import evaluate_legal


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", help="a constant of hub/knowledge/extractive.py")
    parser.add_argument("values", nargs="+", type=float)
    parser.add_argument("--sets", nargs="*", default=None, help="development set names (default: all)")
    args = parser.parse_args()
    if not hasattr(extractive, args.name):
        parser.error(f"extractive.py has no {args.name}")
    everything, sets = study_city("aicity-extractive-", args.sets)
    written = law_prior.read_jsonl(law_prior.article_paths()[0])  # the article questions, not the dev questions
    embedder = knowledge._index.get().embedder
    search = extractive.search
    pooled: dict[float, list[int]] = {value: [0, 0, 0, 0] for value in args.values}
    for name, cases in sets.items():
        without_set(name, written, everything, embedder)
        # the searches do not depend on the answerer's constants: each is run once per set
        extractive.search = functools.lru_cache(maxsize=None)(search)  # type: ignore[assignment]
        outcomes: dict[float, dict[str, Any]] = {}
        for value in args.values:
            setattr(extractive, args.name, value)
            report = evaluate_legal(cases)
            failed = {f["id"]: f for f in report["failures"]}
            outcomes[value] = {c["id"]: (failed[c["id"]]["governing"], failed[c["id"]]["states_rule"])
                               if c["id"] in failed else (True, True) for c in cases}
            n = report["cases"]
            gov, states = round(report["first_provision_governing"] * n), round(report["states_rule"] * n)
            for i, v in enumerate((gov, states, report["superseded_as_rule"], n)):
                pooled[value][i] += v
            print(f"{name:20} {args.name} {value:<6} governs {gov:3}/{n} states {states:3} superseded "
                  f"{report['superseded_as_rule']}", flush=True)
        for value in args.values[1:]:
            for case_id, now in outcomes[value].items():
                if now != outcomes[args.values[0]][case_id]:
                    print(f"  {value} {case_id} (governs, states) {outcomes[args.values[0]][case_id]} → {now}")
        extractive.search = search  # type: ignore[assignment]
    for value, (gov, states, sup, n) in pooled.items():
        print(f"POOLED {args.name} {value:<6} governs {gov}/{n} states {states}/{n} superseded {sup}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
