"""Knowledge-center benchmark.

    .venv/bin/python benchmarks/kb_bench.py

Prints, on the bundled law corpus and the question sets `demo/data/eval/kb.jsonl` (evaluation)
and `kb_dev.jsonl` (development: the hybrid fusion was tuned on it):
- recall@5 and MRR@10 for keyword, dense and hybrid search, beside a plain BM25 baseline
  over fixed-size 300-character windows (no structure, no synonyms);
- search latency p50/p95 on the corpus and keyword latency on a synthetic 100k-chunk index;
- ingestion throughput (articles per second) into an empty SQLite data dir;
- one document ingested into the knowledge base holding the 80 laws and then searched: with
  the index updated for that document (as `ingest_document` does) beside a full rebuild (as
  it did before), until the first keyword answer and until hybrid search is ready again.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from aicity.assistant.cli import ready_assistant
from aicity.core.text import Bm25Index, tokenize
from aicity.demo.loader import data_dir, open_demo_city
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.chunking import parse_law
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops.evaluation import default_kb_set, evaluate_kb, load_cases

WINDOW = 300


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def baseline(cases: list[dict]) -> dict:
    """BM25 over fixed-size windows; a window answers when it holds the labelled article's start."""
    windows: list[tuple[str, str]] = []
    for path in sorted((data_dir() / "laws").glob("*.md")):
        key = knowledge.law_key_and_date(path)[0]
        text = path.read_text(encoding="utf-8").split("<!-- INFO END -->")[-1]
        windows += [(key, text[i : i + WINDOW]) for i in range(0, len(text), WINDOW)]
    index = Bm25Index([tokenize(t) for _, t in windows])
    recall, rr = 0, 0.0
    for case in cases:
        wanted = [(case["doc"], case["article"]), *((a["doc"], a["article"]) for a in case.get("also", []))]
        top = index.top(tokenize(case["q"]), 10)
        ranks = [r for r, (i, _) in enumerate(top, start=1)
                 if any(windows[i][0] == d and f"\n{a}" in "\n" + windows[i][1] for d, a in wanted)]
        recall += bool(ranks and ranks[0] <= 5)
        rr += 1.0 / ranks[0] if ranks else 0.0
    return {"mode": "baseline bm25, 300-char windows", "windows": len(windows),
            "recall@5": round(recall / len(cases), 4), "mrr@10": round(rr / len(cases), 4)}


def synthetic_latency(n_chunks: int = 100_000, queries: int = 200) -> dict:
    """Keyword search at city scale: 100k chunks recombined from the corpus's sentences."""
    sentences = []
    for path in sorted((data_dir() / "laws").glob("*.md")):
        for art in parse_law(path.read_text(encoding="utf-8")).articles:
            sentences += [s for s in art.text.replace("\n", "").split("。") if len(s) > 8]
    rng = random.Random(7)
    t0 = time.perf_counter()
    docs = [tokenize("。".join(rng.sample(sentences, 3))) for _ in range(n_chunks)]
    tokenise_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = Bm25Index(docs)
    build_s = time.perf_counter() - t0
    cases = load_cases(default_kb_set())
    lat = []
    for case in (cases * 2)[:queries]:
        t = time.perf_counter()
        scores = index.scores(knowledge.query_tokens(case["q"]))
        np.argpartition(-scores, 10)[:10]
        lat.append((time.perf_counter() - t) * 1000)
    return {"chunks": n_chunks, "tokenise_s": round(tokenise_s, 1), "index_build_s": round(build_s, 1),
            "keyword_p50_ms": round(statistics.median(lat), 2), "keyword_p95_ms": round(pct(lat, .95), 2)}


def corpus_latency(cases: list[dict]) -> dict:
    reader = Principal(Role.citizen)
    out = {}
    for mode in ("keyword", "hybrid"):
        lat = []
        for case in cases:
            t = time.perf_counter()
            knowledge.search(case["q"], reader, top_k=5, mode=mode)
            lat.append((time.perf_counter() - t) * 1000)
        out[mode] = {"p50_ms": round(statistics.median(lat), 2), "p95_ms": round(pct(lat, .95), 2)}
    return out


def ingestion() -> dict:
    """Articles per second, loading the 80 laws into an empty data dir (parse, chunk, store)."""
    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-kb-ingest-")))
    files = sorted((data_dir() / "laws").glob("*.md"))
    articles = sum(len(parse_law(p.read_text(encoding="utf-8")).articles) for p in files)
    knowledge.ensure_kb("bench", "bench", "global")
    t0 = time.perf_counter()
    for path in files:
        knowledge.ingest_document(path.name, path.read_bytes(), kb="bench")
    seconds = time.perf_counter() - t0
    return {"documents": len(files), "articles": articles, "seconds": round(seconds, 2),
            "articles_per_s": round(articles / seconds, 1)}


def ingest_then_search(rebuild: bool, runs: int = 7) -> dict:
    """Median seconds from ingesting one law (a copy of 食品安全法 in its own knowledge base,
    deleted after each run) to its first keyword answer and to hybrid being ready again.
    The copy's vectors are cached after the first run, so this measures the index alone."""
    reader = Principal(Role.citizen)
    path = next((data_dir() / "laws").glob("食品安全法(*.md"))
    knowledge.ensure_kb("bench_copy", "bench copy", "global")
    first, ready = [], []
    for _ in range(runs + 1):  # the first run computes and caches the copy's vectors
        t0 = time.perf_counter()
        knowledge.ingest_document(path.name, path.read_bytes(), kb="bench_copy", key="食品安全法副本")
        if rebuild:
            knowledge._index.invalidate()  # what every ingest did before
        assert knowledge.search("仅销售预包装食品 备案", reader, mode="keyword")
        first.append(time.perf_counter() - t0)
        job = knowledge.dense_job()
        if job is not None:
            job.wait()
        knowledge.search("仅销售预包装食品 备案", reader, mode="hybrid")
        ready.append(time.perf_counter() - t0)
        knowledge.delete_document("bench_copy", "食品安全法副本")
    return {"update": "full rebuild" if rebuild else "incremental", "chunks": knowledge.document_stats()["chunks"],
            "to_first_search_ms": round(statistics.median(first[1:]) * 1000, 1),
            "to_hybrid_ready_ms": round(statistics.median(ready[1:]) * 1000, 1)}


def main() -> None:
    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-kb-bench-")))
    ready_assistant()  # the chunk vectors (cached on disk after the first run)
    quality = {}
    for name in ("kb", "kb_dev"):
        questions = load_cases(default_kb_set(name))
        quality[name] = [baseline(questions)] + [{k: v for k, v in evaluate_kb(questions, mode).items() if k != "misses"}
                                                 for mode in ("keyword", "dense", "hybrid")]
    cases = load_cases(default_kb_set())
    report = {"quality": quality, "corpus_latency": corpus_latency(cases),
              "ingest_one_document": [ingest_then_search(rebuild) for rebuild in (True, False)],
              "synthetic": synthetic_latency(), "ingestion": ingestion()}
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
