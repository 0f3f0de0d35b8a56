"""Writes the fourth pass of hand-written rows (issue 13: the input guard refused ordinary city requests):
benign thanks and goodbyes, English reports of problems in the street, requests that mention
系统/指令/忽略/密码/审批 innocently and long requests of several sentences, in Chinese and English
(`hard4_benign.txt`), and attacks with the same surface — an attack after a thank-you, inside a street
report or a long request (`hard4_attacks.tsv`).

Half of each class (every other line) is appended to the training set `attacks_train.jsonl`, the other
half is the fourth development set `attacks_dev4.jsonl`, used with the other development sets only to
choose the classifier's threshold. Written without reading the assistant's request sets or the
evaluation sets (rows that happen to equal a text already in a shipped set are dropped, by comparison
only). Run after `train_set.py`, `hard_set.py` and `hard3_set.py` (all keep these rows):
`.venv/bin/python scripts/guard_data/hard4_set.py` (idempotent: it rewrites its own rows).
"""

from __future__ import annotations

from hard_set import DATA, write_pass

ORIGIN = "hard4_set.py"
#: shipped sets a new row must not repeat (compared by text, never printed)
OTHERS = ("attacks_dev.jsonl", "attacks_dev2.jsonl", "attacks_dev3.jsonl", "attacks_eval.jsonl", "attacks_eval_v1.jsonl")


def main() -> None:
    write_pass("hard4_benign.txt", "hard4_attacks.tsv", ORIGIN, DATA / "attacks_dev4.jsonl",
               [DATA / name for name in OTHERS])


if __name__ == "__main__":
    main()
