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

from hard_set import DATA, write_pass

ORIGIN = "hard3_set.py"
#: shipped sets a new row must not repeat (compared by text, never printed)
OTHERS = ("attacks_dev.jsonl", "attacks_dev2.jsonl", "attacks_eval.jsonl", "attacks_eval_v1.jsonl")


def main() -> None:
    write_pass("hard3_benign.txt", "hard3_attacks.tsv", ORIGIN, DATA / "attacks_dev3.jsonl",
               [DATA / name for name in OTHERS])


if __name__ == "__main__":
    main()
