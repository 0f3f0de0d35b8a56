"""Choose the article prior's neighbours, temperature and weight by leave-one-set-out over the legal development sets.

    .venv/bin/python scripts/legal_training/article_prior_study.py [--articles FILE ...] [--grid] [--dev-voters]

Each development set `eval/legal_rules_dev*.jsonl` is answered with the law prior fitted on the article questions
(`training/legal_articles.jsonl`, or the FILEs given) and the OTHER development sets' rows, never its own, so every
figure is out of sample; the article questions are not development data. Reported per set: the first provision
governing, the rule stated, superseded provisions presented as the rule; first without the article prior (the law
prior on the other sets' rows alone: the code before the article prior), then with it. The held-out sets
(`legal_rules.jsonl`, `legal_rules2…7.jsonl`) are never read. `--dev-voters`: the other development sets' questions
vote for their articles beside the article questions, as every development set does in the shipped votes
(`training/legal_laws.jsonl`), never the set measured.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aicity.assistant.cli import ready_assistant
from aicity.core import slices
from aicity.core.cli import open_city, set_city_loader
from aicity.demo.loader import ensure_city
from aicity.hub.knowledge import article_ranker, law_prior
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.relations import relations
from aicity.hub.knowledge.service import article_lift
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops.evaluation import evaluate_legal

DATA = Path(__file__).resolve().parents[2] / "src" / "aicity" / "demo" / "data"


def _cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _summary(report: dict[str, Any]) -> tuple[int, int, int]:
    n = report["cases"]
    return round(report["first_provision_governing"] * n), round(report["states_rule"] * n), report["superseded_as_rule"]


def study_city(prefix: str, names: list[str] | None) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """The demo city opened in a fresh data dir with the assistant ready; every development set's cases by name,
    and those of `names` (all when None)."""
    slices.activate()
    # the shipped article ranker was fitted on every development set: a study answers without it
    # (article_ranker.py fits its own, leave-one-set-out)
    article_ranker.model = lambda: None  # type: ignore[assignment]
    set_city_loader(ensure_city)
    open_city(Path(tempfile.mkdtemp(prefix=prefix)))
    ready_assistant()
    everything = {p.stem: _cases(p) for p in sorted((DATA / "eval").glob("legal_rules_dev*.jsonl"))}
    return everything, {name: everything[name] for name in names or everything}


def vote_with(rows: list[dict[str, Any]], embedder: Any) -> None:
    """The article votes from `rows` ({"q", "doc", "article"}) alone, their query vectors computed before it returns."""
    rows_file = Path(tempfile.mkdtemp()) / "legal_articles.jsonl"
    rows_file.write_text("".join(json.dumps({k: r[k] for k in ("q", "doc", "article")}, ensure_ascii=False) + "\n"
                                 for r in rows), encoding="utf-8")
    law_prior.article_paths = lambda: [rows_file]  # type: ignore[assignment]
    held = law_prior._articles(embedder)
    t0 = time.process_time()
    assert held is not None and held.vectors.wait() is not None
    print(f"{len(held.articles)} article questions embedded ({time.process_time() - t0:.0f} s CPU)", file=sys.stderr)
    index_docs = {key for key, _ in knowledge._index.get().documents.values()}
    unknown = {doc for doc, _ in held.articles} - index_docs
    if unknown:
        print(f"article questions on laws the corpus lacks: {sorted(unknown)}", file=sys.stderr)


def without_set(name: str, written: list[dict[str, Any]], everything: dict[str, list[dict[str, Any]]],
                embedder: Any) -> None:
    """Answer as if development set `name` were never seen: the law prior fitted on the article questions (`written`)
    and the other sets' questions, and the article votes of both likewise."""
    others = [c for other, cases in everything.items() if other != name for c in cases]
    rows = {c["q"].strip(): law_prior.law_key(c["doc"]) for c in others}
    rows.update((r["q"].strip(), law_prior.law_key(r["doc"])) for r in written)
    vote_with([*written, *others], embedder)
    model = law_prior._fit(list(rows.items()))
    law_prior._model = lambda model=model: model  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", nargs="*", type=Path, default=[DATA / "training" / "legal_articles.jsonl"])
    parser.add_argument("--grid", action="store_true", help="try the neighbours × temperature × weight grid")
    parser.add_argument("--sets", nargs="*", default=None, help="development set names (default: all)")
    parser.add_argument("--answer", nargs="*", default=[], help="sets answered in full, before and after")
    parser.add_argument("--dev-voters", action="store_true",
                        help="the other development sets' questions vote for their articles as the shipped rows do")
    args = parser.parse_args()
    everything, sets = study_city("aicity-article-prior-", args.sets)
    articles = [row for path in args.articles for row in law_prior.read_jsonl(path)]
    embedder = knowledge._index.get().embedder
    vote_with(articles, embedder)

    def law_rows(skip: str, with_articles: bool) -> list[tuple[str, str]]:
        rows = {c["q"].strip(): law_prior.law_key(c["doc"]) for name, cases in everything.items() if name != skip
                for c in cases}
        if with_articles:
            rows.update({r["q"].strip(): law_prior.law_key(r["doc"]) for r in articles})
        return list(rows.items())

    chosen = (law_prior.ARTICLE_NEIGHBOURS, law_prior.ARTICLE_TEMPERATURE, knowledge.ARTICLE_PRIOR_WEIGHT)
    grid = list(itertools.product([3, 5, 10, 20, 40], [0.01, 0.02, 0.05, 1.0])) if args.grid else [chosen[:2]]
    weights = [0.25, 0.5, 0.75, 1.0, 1.5] if args.grid else [chosen[2]]
    reader = Principal(role=Role.citizen)
    index, rel = knowledge._index.get(), relations()

    def use(config: tuple[int, float, float] | None) -> None:
        law_prior.ARTICLE_NEIGHBOURS, law_prior.ARTICLE_TEMPERATURE, knowledge.ARTICLE_PRIOR_WEIGHT = \
            config or (*chosen[:2], 0.0)

    ranks: dict[Any, list[int]] = {}
    answers: dict[Any, list[int]] = {}
    for name, cases in sets.items():
        if args.dev_voters:  # the other development sets' questions vote for their articles too, never this set's
            vote_with([*articles, *(c for other, rows in everything.items() if other != name for c in rows)], embedder)
        for with_articles in (False, True):
            model = law_prior._fit(law_rows(name, with_articles))
            law_prior._model = lambda model=model: model  # type: ignore[assignment]
            if name in args.answer:
                for label, config in [("after", chosen)] if with_articles else [("before", None)]:
                    use(config)
                    gov, states, sup = _summary(evaluate_legal(cases))
                    row = answers.setdefault((name, label), [0, 0, 0, 0])
                    for i, v in enumerate((gov, states, sup, len(cases))):
                        row[i] += v
                    print(f"{name:20} {label:6} governs {gov:3}/{len(cases)} states {states:3} superseded {sup}",
                          flush=True)
            # the grid by retrieval alone: the governing article's rank among the articles of one search without the
            # votes, each article's best chunk plus its lift (the lift is the same for all its chunks)
            for case in cases:
                use(None)
                base: dict[tuple[str, str], float] = {}
                for h in knowledge.search(case["q"], reader, top_k=300, exhaustive=True):
                    base.setdefault((law_prior.law_key(h.doc_key), h.locator.split()[0]), h.score)
                want = (law_prior.law_key(case["doc"]), case["article"])
                query_vector = knowledge._query_vector(index, case["q"])
                for k, temperature in [(0, 0.0), *grid] if with_articles else [(0, 0.0)]:
                    law_prior.ARTICLE_NEIGHBOURS, law_prior.ARTICLE_TEMPERATURE = k, temperature
                    lift = article_lift(law_prior.article_votes(query_vector, embedder), rel) if k else {}
                    for weight in weights if k else [0.0]:
                        scores = dict(base)
                        for key, v in lift.items():
                            scores[key] = scores.get(key, 0.0) + weight * v
                        top = sorted(scores, key=lambda a: -scores[a])[:4]
                        at = ranks.setdefault((with_articles, k, temperature, weight), [0, 0, 0])
                        at[0] += top[:1] == [want]
                        at[1] += want in top
                        at[2] += 1
            print(f"{name} {'with' if with_articles else 'without'} the article rows: searched", flush=True)
        _print_ranks(ranks)
    for (name, label), (gov, states, sup, n) in answers.items():
        print(f"ANSWERS {name:20} {label:6} governs {gov}/{n} states {states}/{n} superseded {sup}")
    return 0


def _print_ranks(ranks: dict[Any, list[int]]) -> None:
    """The sets so far: the governing article's rank without the article rows, with them in the law prior alone,
    and the ten best settings of the votes."""
    plain = [kv for kv in ranks.items() if not kv[0][1]]
    best = sorted((kv for kv in ranks.items() if kv[0][1]), key=lambda kv: (-kv[1][0], -kv[1][1]))[:10]
    for (with_articles, k, temperature, weight), (one, four, n) in [*plain, *best]:
        print(f"RETRIEVAL law prior{' +articles' if with_articles else '          '} k={k} T={temperature} "
              f"w={weight} @1 {one}/{n} @4 {four}/{n}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
