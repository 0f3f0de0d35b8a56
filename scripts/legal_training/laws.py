"""Build the law prior's training rows (`src/aicity/demo/data/training/legal_laws.jsonl`).

Each development question of `eval/legal_rules_dev*.jsonl` with the law and the article its rule is in, as
{"q", "doc", "article"}: `doc` named as the knowledge base keys laws (no 中华人民共和国 prefix). They train the law
prior and vote for their article beside the article questions (`law_prior.article_votes`). The held-out sets
(`legal_rules.jsonl`, `legal_rules2…7.jsonl`) are never read. The runtime reads only the file written here
(hub/knowledge/law_prior.py), never eval/.

    .venv/bin/python scripts/legal_training/laws.py
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "src" / "aicity" / "demo" / "data"


def main() -> None:
    rows: dict[str, tuple[str, str]] = {}
    for path in sorted((DATA / "eval").glob("legal_rules_dev*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                rows.setdefault(case["q"].strip(), (case["doc"].strip().removeprefix("中华人民共和国"), case["article"]))
    out = DATA / "training" / "legal_laws.jsonl"
    out.write_text("".join(json.dumps({"q": q, "doc": doc, "article": article}, ensure_ascii=False) + "\n"
                           for q, (doc, article) in rows.items()), encoding="utf-8")
    print(f"{len(rows)} rows, {len({doc for doc, _ in rows.values()})} laws → {out}")


if __name__ == "__main__":
    main()
