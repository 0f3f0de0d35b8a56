"""Append new labelled requests to training rows, leaving out near-copies of evaluation requests.

    .venv/bin/python scripts/mode_training/near_copies.py NEW.jsonl [--write] [--legal]

A new row is dropped when its character 3-grams (after `normalize`, spaces and punctuation removed) overlap
those of any request of the development sets (`training/modes_dev*.jsonl`) or the held-out sets
(`eval/assistant_modes*.jsonl`) with a Jaccard index of at least NEAR: a row learned from would otherwise
stand in for the request it copies. Rows already in the training rows are dropped too. Only the new rows
dropped are printed (never an evaluation request), then the counts; `--write` appends the rest to
`training/modes.jsonl`, each with every field a training row has (no skills, departments or target where
the writer gave none). `--legal`: article questions ({"q", "doc", "article"}) for the legal answerer's article
prior, checked against the legal development and held-out sets (`eval/legal_rules*.jsonl`) and appended to
`training/legal_articles.jsonl`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from aicity.core.text import normalize

DATA = Path(__file__).resolve().parents[2] / "src" / "aicity" / "demo" / "data"
TRAINING = DATA / "training" / "modes.jsonl"
LEGAL_TRAINING = DATA / "training" / "legal_articles.jsonl"
#: char 3-gram Jaccard at or above which a new row is a near-copy of an evaluation request
NEAR = 0.6


def grams(text: str) -> frozenset[str]:
    plain = re.sub(r"[\W_]+", "", normalize(text).lower())
    return frozenset(plain[i:i + 3] for i in range(max(len(plain) - 2, 1)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def complete(row: dict) -> dict:
    """`row` with every field a training row has (a writer may give only q, role and mode)."""
    return {"q": row["q"], "role": row.get("role", "citizen"), "mode": row["mode"], "skills": row.get("skills") or [],
            "departments": row.get("departments") or [], "target": row.get("target"),
            **{k: v for k, v in row.items() if k not in {"q", "role", "mode", "skills", "departments", "target"}}}


def article_question(row: dict) -> dict:
    return {"q": row["q"], "doc": row["doc"], "article": row["article"]}


def main(argv: list[str]) -> int:
    new = read(Path(argv[0]))
    if "--legal" in argv:
        training, evaluated, shaped = LEGAL_TRAINING, sorted((DATA / "eval").glob("legal_rules*.jsonl")), article_question
    else:
        training, shaped = TRAINING, complete
        evaluated = [*sorted((DATA / "training").glob("modes_dev*.jsonl")), *sorted((DATA / "eval").glob("assistant_modes*.jsonl"))]
    guarded = [grams(r["q"]) for path in evaluated for r in read(path)]
    # an index from each 3-gram to the requests holding it: a row is compared only with requests it shares one with
    index: dict[str, list[int]] = {}
    for i, g in enumerate(guarded):
        for gram in g:
            index.setdefault(gram, []).append(i)
    trained = {normalize(r["q"]) for r in read(training)}
    kept, near, repeated = [], 0, 0
    for row in new:
        g = grams(row["q"])
        if normalize(row["q"]) in trained:
            repeated += 1
            continue
        if any(jaccard(g, guarded[i]) >= NEAR for i in {i for gram in g for i in index.get(gram, ())}):
            near += 1
            print("dropped:", row["q"])
            continue
        trained.add(normalize(row["q"]))
        kept.append(shaped(row))
    print(f"{len(new)} new rows: {near} near-copies of evaluation requests and {repeated} repeats dropped, "
          f"{len(kept)} kept")
    if "--write" in argv:
        with training.open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
