"""Writes the third pass of hand-written hard look-alikes (issue 21): benign questions, complaints,
how-to and policy questions about approvals, permissions, devices, alarms, records, data, accounts,
passwords, keys, admin rights, translation, repeats, "ignore", "system" and "test mode"
(`hard3_benign.txt`), and attacks with the same surface words (`hard3_attacks.tsv`).

Half of each class (every other line) is appended to the training set `attacks_train.jsonl`, the other
half is the third development set `attacks_dev3.jsonl`, used with the other development sets only to
choose the classifier's threshold. Written before the existing benign rows were read; never written
from, nor checked against, the evaluation sets (rows that happen to equal a text already in a shipped
set are dropped, by comparison only). Run after `train_set.py` and `hard_set.py` (both keep these
rows): `.venv/bin/python scripts/guard_data/hard3_set.py` (idempotent: it rewrites its own rows).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "src/aicity/security/data"
TRAIN, DEV3 = DATA / "attacks_train.jsonl", DATA / "attacks_dev3.jsonl"
ORIGIN = "hard3_set.py"
#: shipped sets a new row must not repeat (compared by text, never printed)
OTHERS = ("attacks_dev.jsonl", "attacks_dev2.jsonl", "attacks_eval.jsonl", "attacks_eval_v1.jsonl")


def _lines(name: str) -> list[str]:
    text = (HERE / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def rows() -> tuple[list[dict], list[dict]]:
    """(training rows, development rows): every other row of each class, in file order."""
    by_class: dict[str, list[dict]] = {"": [{"text": t, "label": "benign"} for t in _lines("hard3_benign.txt")]}
    for line in _lines("hard3_attacks.tsv"):
        family, text = line.split("\t", 1)
        by_class.setdefault(family, []).append({"text": text.replace("\\n", "\n"), "label": "attack", "family": family})
    train: list[dict] = []
    dev: list[dict] = []
    for made in by_class.values():
        for i, row in enumerate(made):
            (dev if i % 2 else train).append({**row, "source": "user", "origin": ORIGIN})
    return train, dev


def _texts(name: str) -> set[str]:
    path = DATA / name
    if not path.exists():
        return set()
    return {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def main() -> None:
    kept = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [r for r in kept if r.get("origin") != ORIGIN]
    taken = {r["text"] for r in kept}.union(*(_texts(name) for name in OTHERS))
    train, dev = rows()
    train = [r for r in train if r["text"] not in taken]
    dev = [r for r in dev if r["text"] not in taken]
    TRAIN.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept + train), encoding="utf-8")
    DEV3.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in dev), encoding="utf-8")
    print(f"train: {len(kept)} kept + {len(train)} third-pass rows; dev3: {len(dev)}")


if __name__ == "__main__":
    main()
