"""The events classifier in the model centre (kind `events`): its development split, the rows a round
fits, how a model is scored, and the file a promoted version is written to.

- **The development split** (decides): `demo/data/events/train.jsonl` has no development file of its
  own, so one is cut from it by a fixed hash: a report is in the development split when the first
  byte of the SHA-256 of its normalised text is below 256 / DEV_ONE_IN (one report in five; 195 of
  the 1,018 now). The split depends on the text alone, so it does not move when rows are added or
  reordered. A round fits both sides on the other four fifths and scores them on this fifth.
- **The held-out evaluation set** (`demo/data/events/eval.jsonl`, 376 reports written apart): scored
  and recorded only; it never decides anything.
- Corpus examples whose text is a development or evaluation report are left out (and counted).
- Scoring: the linear model alone (the dense votes need the embedding model and each side's vectors;
  leaving them out treats both alike), with the classifier's own decision rule (`Classifier.classify_linear`:
  the urgency rules, `NEEDS_HUMAN_BELOW`): category accuracy, the share sent to a person, and the share
  wrong yet dispatched automatically.

The gate's models lack the development fifth; the model the city then runs is the same recipe fitted
on all of train.jsonl plus the promoted examples (`hub/events/classify.classifier`).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from aicity.core.text import normalize
from aicity.hub.events import classify as event_classify

#: one training report in DEV_ONE_IN is in the development split
DEV_ONE_IN = 5


def in_dev(text: str) -> bool:
    """Whether a report is in the development split (a fixed hash of its normalised text)."""
    return hashlib.sha256(normalize(text).encode("utf-8")).digest()[0] < 256 // DEV_ONE_IN


def split() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(the rows a round fits on, the development split) of the package's training file."""
    rows = event_classify.training_rows()
    return [r for r in rows if not in_dev(r["text"])], [r for r in rows if in_dev(r["text"])]


def examples_of(items: list[dict[str, Any]]) -> tuple[list[dict[str, str]], int]:
    """A corpus version's examples as rows {"text", "category"}, less those whose text is a development
    or evaluation report; and how many were left out."""
    held_apart = {normalize(r["text"]) for r in [*split()[1], *event_classify.eval_rows()]}
    usable = [{"text": e["text"], "category": e["category"]} for e in items if normalize(e["text"]) not in held_apart]
    return usable, len(items) - len(usable)


def subset(rows: list[dict[str, str]], per_category: int) -> list[dict[str, str]]:
    """The first `per_category` rows of each category (or mode: the router's rows carry it as `category`),
    in order."""
    taken: dict[str, int] = defaultdict(int)
    out = []
    for row in rows:
        if taken[row["category"]] < per_category:
            taken[row["category"]] += 1
            out.append(row)
    return out


def score(classifier: event_classify.Classifier, rows: list[dict[str, str]]) -> dict[str, Any]:
    """Category accuracy, the share a person must look at, and the share wrong yet dispatched."""
    if not rows:
        return {"cases": 0, "accuracy": None, "needs_human_rate": None, "wrong_dispatched_rate": None}
    right = human = wrong_dispatched = 0
    for row, got in zip(rows, classifier.classify_linear([r["text"] for r in rows]), strict=True):
        right += got.category == row["category"]
        human += got.needs_human
        wrong_dispatched += got.category != row["category"] and not got.needs_human
    n = len(rows)
    return {"cases": n, "accuracy": round(right / n, 4), "needs_human_rate": round(human / n, 4),
            "wrong_dispatched_rate": round(wrong_dispatched / n, 4)}


def linear(rows: list[dict[str, str]]) -> event_classify.Classifier:
    """The classifier's recipe fitted on `rows`, without the dense votes."""
    return event_classify.Classifier(event_classify.fit(rows), [r["category"] for r in rows])


def evaluate(usable: list[dict[str, str]], sample: int | None
             ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    """The incumbent's figures, the candidate's and the candidate's rows. Incumbent: the fitting rows
    and the promoted file's examples; candidate: the same rows with the version's examples instead."""
    base, dev = split()
    if sample is not None:
        base = subset(base, sample)
    promoted = event_classify.validate_rows(event_classify.read_rows(event_classify.promoted_path()))
    held_out = event_classify.eval_rows()
    figures, rows = [], []
    for extra in (promoted, usable):
        rows = event_classify.merged_rows(base, extra)
        model = linear(rows)
        figures.append({"rows": len(rows), "dev": score(model, dev), "eval": score(model, held_out)})
    return figures[0], figures[1], rows


def write(rows: list[dict[str, str]] | None) -> None:
    """The promoted file the classifier learns from: these rows, or none (the package's rows alone)."""
    path = event_classify.promoted_path()
    if rows is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps({"text": r["text"], "category": r["category"], "source": "ops-corpus"},
                                      ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)
