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
    text = (HERE / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def rows(benign: str, attacks: str, origin: str) -> tuple[list[dict], list[dict]]:
    """(training rows, development rows): every other row of each class, in file order."""
    by_class: dict[str, list[dict]] = {"": [{"text": t, "label": "benign"} for t in _lines(benign)]}
    for line in _lines(attacks):
        family, text = line.split("\t", 1)
        by_class.setdefault(family, []).append({"text": text.replace("\\n", "\n"), "label": "attack", "family": family})
    train: list[dict] = []
    dev: list[dict] = []
    for made in by_class.values():
        for i, row in enumerate(made):
            (dev if i % 2 else train).append({**row, "source": "user", "origin": origin})
    return train, dev


def _texts(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def write_pass(benign: str, attacks: str, origin: str, dev_path: Path, others: list[Path]) -> None:
    """Replace this pass's rows in the training set and write its development set; a row equal to a text
    already in the training set (other passes) or in `others` is dropped, by comparison only."""
    kept = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [r for r in kept if r.get("origin") != origin]
    taken = {r["text"] for r in kept}.union(*(_texts(path) for path in others))
    train, dev = rows(benign, attacks, origin)
    train = [r for r in train if r["text"] not in taken]
    dev = [r for r in dev if r["text"] not in taken]
    TRAIN.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept + train), encoding="utf-8")
    dev_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in dev), encoding="utf-8")
    print(f"train: {len(kept)} kept + {len(train)} rows of {origin}; {dev_path.name}: {len(dev)}")


def main() -> None:
    write_pass("hard_benign.txt", "hard_attacks.tsv", ORIGIN, DEV2, [DATA / "attacks_dev.jsonl"])


if __name__ == "__main__":
    main()
