"""Super-assistant benchmark: in-process latency, HTTP throughput, cold start, first answer on a
fresh machine.

    .venv/bin/python benchmarks/assistant_bench.py [--requests 400] [--clients 8] [--before]

Prints medians and p95 over the built-in evaluation questions. Baselines in the same run:
the planner alone (routing cost) for in-process latency, and `/api/v1/health` (the HTTP
stack with no work) for throughput. Query vectors are not cached between measurements.
Cold start spawns `aicity serve` on an empty data dir (route vectors then compute in the
background: the first answers are keyword-only) and on the same data dir again (warm). The
spawned server gets its own rate limits (AICITY_AUTH_ANONYMOUS_RATE), so the load is not 429'd.
First answer on a fresh machine: `aicity ask` with an empty data dir and empty caches (vectors,
fitted models), with the vectors the package ships; `--before` also times it without them
(AICITY_SHIPPED_VECTORS=false: every bundled text is embedded first, many minutes on 2 cores).
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def questions() -> list[dict]:
    from aicity.ops.evaluation import default_set, load_cases

    return load_cases(default_set())


def in_process(cases: list[dict], rounds: int) -> dict:
    from aicity.assistant.cli import ready_assistant
    from aicity.assistant.router import Router
    from aicity.demo.loader import open_demo_city
    from aicity.identity.service import Principal, parse_role

    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-bench-")))
    bot = ready_assistant()
    for c in cases[:10]:  # warm caches (tokenizer, indexes)
        bot.ask(c["q"], Principal(parse_role(c.get("role", "citizen"))))
    plan_ms, ask_ms = [], []
    for _ in range(rounds):
        for c in cases:
            p = Principal(parse_role(c.get("role", "citizen")))
            Router._embed_query.cache_clear()  # measure uncached queries
            t0 = time.perf_counter()
            bot.planner.plan(c["q"], p)
            plan_ms.append((time.perf_counter() - t0) * 1000)
            Router._embed_query.cache_clear()
            t0 = time.perf_counter()
            bot.ask(c["q"], p)
            ask_ms.append((time.perf_counter() - t0) * 1000)
    return {"n": len(ask_ms), "ask_p50_ms": round(statistics.median(ask_ms), 2), "ask_p95_ms": round(pct(ask_ms, .95), 2),
            "plan_only_p50_ms": round(statistics.median(plan_ms), 2), "plan_only_p95_ms": round(pct(plan_ms, .95), 2)}


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
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--before", action="store_true", help="also time the first answer without the shipped vectors")
    ap.add_argument("--parts", default="fresh,in_process,http", help="which measurements, in order")
    args = ap.parse_args()
    cases = [c for c in questions() if c.get("role", "citizen") in ("citizen", "enterprise")]
    ap_parts = {"fresh": lambda: [fresh_first_answer(cases[0]["q"]),
                                  *([fresh_first_answer(cases[0]["q"], shipped=False)] if args.before else [])],
                "in_process": lambda: in_process(questions(), args.rounds),
                "http": lambda: over_http(cases, args.requests, args.clients)}
    for name in args.parts.split(","):  # each part printed when done: a later failure keeps the earlier figures
        print(json.dumps({name: ap_parts[name]()}, ensure_ascii=False, indent=2), flush=True)


if __name__ == "__main__":
    main()
