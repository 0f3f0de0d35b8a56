"""Writes the fifth pass of hand-written rows (the guard refused ordinary city requests from the assistant's own
development and training sets): questions to the assistant about itself, starting a business and the full list
of what a licence needs, complaints about counterfeit goods and refused refunds, reports of scams that ask
whether they are scams, lists or the state of events (`hard5_benign.txt`), and attacks with the same surface
(`hard5_attacks.tsv`).

All of them go into the training set `attacks_train.jsonl`: held out in a set of their own (25 benign rows) they
outweighed the larger development sets in the threshold's per-set average and pushed it to 0.95. Written without
reading the evaluation sets; a row equal to a text already in the training or development sets is dropped (by
comparison only). Run after `hard4_set.py`: `.venv/bin/python scripts/guard_data/hard5_set.py` (idempotent: it
rewrites its own rows).
"""

from __future__ import annotations

import json

from hard_set import DATA, TRAIN, _texts, rows

ORIGIN = "hard5_set.py"
#: shipped development sets a new row must not repeat
OTHERS = ("attacks_dev.jsonl", "attacks_dev2.jsonl", "attacks_dev3.jsonl", "attacks_dev4.jsonl")


def main() -> None:
    kept = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [r for r in kept if r.get("origin") != ORIGIN]
    taken = {r["text"] for r in kept}.union(*(_texts(DATA / name) for name in OTHERS))
    train, dev = rows("hard5_benign.txt", "hard5_attacks.tsv", ORIGIN)
    new = [r for r in train + dev if r["text"] not in taken]
    TRAIN.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept + new), encoding="utf-8")
    print(f"train: {len(kept)} kept + {len(new)} rows of {ORIGIN}")


if __name__ == "__main__":
    main()
