"""Model gateway benchmark: the latency and throughput the gateway adds, and failover.

    .venv/bin/python benchmarks/gateway_bench.py [--requests 2000] [--clients 16]
    .venv/bin/python benchmarks/gateway_bench.py --model-url http://127.0.0.1:8080/v1 --model qwen2.5-7b

Three scripted OpenAI-compatible upstreams (tests/upstream.py) and `aicity serve` run as
separate processes on loopback. In one run it measures:

1. overhead: the same chat completion sent straight to an upstream and through the gateway
   (sequential: p50/p99 and the difference; concurrent: requests/s and their ratio);
2. failover: a group of three weighted deployments, all healthy (baseline), then with one
   answering 500 to everything: the share of requests that still succeed and the added latency;
3. with `--model-url` (a real model you run: vLLM, Ollama, llama.cpp server …): the
   assistant's routing accuracy on its evaluation set with the LLM planner beside the
   embedded one. Without it, that part says it was skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BODY = {"messages": [{"role": "user", "content": "网关开销测试"}], "max_tokens": 8}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def spawn_upstream(name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.upstream", "--port", str(port), "--name", name], cwd=ROOT)
    wait_for(f"http://127.0.0.1:{port}/_requests", proc)
    return proc, f"http://127.0.0.1:{port}/v1"


def spawn_gateway(upstreams: list[str], data_dir: str) -> tuple[subprocess.Popen, str, str]:
    deployments = "".join(
        f'[[aicity.gateway.deployments]]\nname = "{name}"\ngroup = "{group}"\nbase_url = "{url}"\nmodel = "m"\n'
        f"timeout_s = 5\n"
        for group, pairs in (("bench-one", [("direct-a", upstreams[0])]),
                             ("bench-three", [(f"u{i}", u) for i, u in enumerate(upstreams)]))
        for name, url in pairs)
    groups = '[[aicity.gateway.groups]]\nname = "bench-three"\nstrategy = "weighted"\nretries = 2\n'
    config = Path(data_dir) / "aicity.toml"
    config.write_text(f"[aicity]\n[aicity.gateway]\nbackoff_s = 0.01\n{deployments}{groups}", encoding="utf-8")
    env = {**os.environ, "AICITY_CONFIG": str(config), "AICITY_DATA_DIR": data_dir}
    key = subprocess.run([sys.executable, "-m", "aicity.cli", "gateway", "keys", "create", "--name", "bench",
                          "--owner", "bench", "--json"], env=env, capture_output=True, text=True, check=True)
    plaintext = __import__("json").loads(key.stdout)["key"]
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "aicity.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/api/v1/gateway/health", proc)
    return proc, f"http://127.0.0.1:{port}/v1", plaintext


def sequential(url: str, model: str, headers: dict, n: int) -> list[float]:
    times = []
    with httpx.Client(headers=headers, timeout=10) as client:
        for i in range(n + 50):
            t0 = time.perf_counter()
            resp = client.post(f"{url}/chat/completions", json={"model": model, **BODY})
            elapsed = (time.perf_counter() - t0) * 1000
            resp.raise_for_status()
            if i >= 50:  # the first calls warm connections and caches
                times.append(elapsed)
    return times


def concurrent(url: str, model: str, headers: dict, n: int, clients: int) -> tuple[float, list[float], int]:
    """requests/s, latencies (ms) and failures with `clients` threads sharing `n` requests."""
    times: list[float] = []
    failures = 0
    with httpx.Client(headers=headers, timeout=10, limits=httpx.Limits(max_connections=clients)) as client:
        def one(_: int) -> None:
            nonlocal failures
            t0 = time.perf_counter()
            resp = client.post(f"{url}/chat/completions", json={"model": model, **BODY})
            times.append((time.perf_counter() - t0) * 1000)
            failures += resp.status_code != 200

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(n)))
        return n / (time.perf_counter() - t0), times, failures


def control(upstream_v1: str, **behaviour: object) -> None:
    httpx.post(upstream_v1.removesuffix("/v1") + "/_control", json=behaviour).raise_for_status()


def llm_accuracy(model_url: str, model: str) -> None:
    from aicity.assistant.cli import ready_assistant
    from aicity.core.config import settings
    from aicity.demo.loader import open_demo_city
    from aicity.hub.gateway import service as gateway
    from aicity.ops.evaluation import default_set, evaluate, load_cases

    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-bench-llm-")))
    ready_assistant()
    cases = load_cases(default_set())
    gateway.set_config({"deployments": [{"name": "bench-llm", "group": settings().planner_group,
                                         "base_url": model_url, "model": model, "timeout_s": 120}]})
    for mode in ("embedded", "auto"):
        settings().planner = mode
        report = evaluate(cases)
        print(f"  planner {mode:8s} accuracy {report['accuracy']:.3f}  p50 {report['latency_ms']['p50']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--model-url", help="a real OpenAI-compatible model for the accuracy comparison")
    parser.add_argument("--model", default="default", help="its model name")
    args = parser.parse_args()

    procs = []
    try:
        ups = []
        for name in ("a", "b", "c"):
            proc, url = spawn_upstream(name)
            procs.append(proc)
            ups.append(url)
        gw_proc, gw_url, key = spawn_gateway(ups, tempfile.mkdtemp(prefix="aicity-bench-gw-"))
        procs.append(gw_proc)
        auth = {"Authorization": f"Bearer {key}"}

        print(f"1. overhead: {args.requests} sequential requests each way, then {args.clients} concurrent clients")
        direct = sequential(ups[0], "m", {}, args.requests)
        through = sequential(gw_url, "bench-one", auth, args.requests)
        for label, t in (("direct to upstream", direct), ("through the gateway", through)):
            print(f"  {label:22s} p50 {statistics.median(t):6.2f} ms  p99 {pct(t, 0.99):6.2f} ms")
        print(f"  added by the gateway   p50 {statistics.median(through) - statistics.median(direct):6.2f} ms  "
              f"p99 {pct(through, 0.99) - pct(direct, 0.99):6.2f} ms")
        rps_direct, _, _ = concurrent(ups[0], "m", {}, args.requests, args.clients)
        rps_gw, _, fails = concurrent(gw_url, "bench-one", auth, args.requests, args.clients)
        print(f"  throughput             direct {rps_direct:7.0f} req/s  gateway {rps_gw:7.0f} req/s  "
              f"ratio {rps_gw / rps_direct:.2f}  (failures {fails})")

        n = max(300, args.requests // 4)
        print(f"2. failover: {n} requests over three weighted deployments, {args.clients} clients")
        _, healthy, fails_ok = concurrent(gw_url, "bench-three", auth, n, args.clients)
        control(ups[1], fail_status=500, fail_count=-1)
        _, degraded, fails_bad = concurrent(gw_url, "bench-three", auth, n, args.clients)
        print(f"  all healthy            success {(n - fails_ok) / n:.1%}  p50 {statistics.median(healthy):6.2f} ms  "
              f"p99 {pct(healthy, 0.99):6.2f} ms")
        print(f"  one of three failing   success {(n - fails_bad) / n:.1%}  p50 {statistics.median(degraded):6.2f} ms  "
              f"p99 {pct(degraded, 0.99):6.2f} ms  (added p50 "
              f"{statistics.median(degraded) - statistics.median(healthy):+.2f} ms)")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)

    print("3. assistant accuracy, LLM planner beside the embedded planner")
    if args.model_url:
        llm_accuracy(args.model_url, args.model)
    else:
        print("  skipped: no model given (--model-url URL --model NAME); no model ships with aicity and none is "
              "downloaded")


if __name__ == "__main__":
    main()
