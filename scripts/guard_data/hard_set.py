"""Writes the hand-written hard look-alikes (issue 21, second pass): benign city requests full of the
words attacks use (`hard_benign.txt`) and attacks with the same surface (`hard_attacks.tsv`).

Half of each class (every other line) is appended to the training set `attacks_train.jsonl`, the other
half is the second development set `attacks_dev2.jsonl`, used with `attacks_dev.jsonl` only to choose
the classifier's threshold. Neither was written from, nor checked against, the evaluation sets.
Run after `train_set.py` (which keeps these rows): `.venv/bin/python scripts/guard_data/hard_set.py`
(idempotent: it rewrites its own rows).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "src/aicity/security/data"
TRAIN, DEV2 = DATA / "attacks_train.jsonl", DATA / "attacks_dev2.jsonl"
ORIGIN = "hard_set.py"


def _lines(name: str) -> list[str]:
    return [line for line in (HERE / name).read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def rows() -> tuple[list[dict], list[dict]]:
    """(training rows, development rows): every other row of each class, in file order."""
    by_class: dict[str, list[dict]] = {"": [{"text": t, "label": "benign"} for t in _lines("hard_benign.txt")]}
    for line in _lines("hard_attacks.tsv"):
        family, text = line.split("\t", 1)
        by_class.setdefault(family, []).append({"text": text.replace("\\n", "\n"), "label": "attack", "family": family})
    train: list[dict] = []
    dev: list[dict] = []
    for made in by_class.values():
        for i, row in enumerate(made):
            (dev if i % 2 else train).append({**row, "source": "user", "origin": ORIGIN})
    return train, dev


def main() -> None:
    kept = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [r for r in kept if r.get("origin") != ORIGIN]
    taken = {r["text"] for r in kept} | {json.loads(line)["text"] for line in
                                         (DATA / "attacks_dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    train, dev = rows()
    train = [r for r in train if r["text"] not in taken]
    dev = [r for r in dev if r["text"] not in taken]
    TRAIN.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept + train), encoding="utf-8")
    DEV2.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in dev), encoding="utf-8")
    print(f"train: {len(kept)} kept + {len(train)} hard rows; dev2: {len(dev)}")


if __name__ == "__main__":
    main()
