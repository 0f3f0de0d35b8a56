"""Scale-out benchmark: API workers on PostgreSQL (and Redis) against the embedded process.

    .venv/bin/python benchmarks/scale_bench.py [--seconds 10] [--clients 8] [--workers 1,2,4]
                                               [--parts embedded,postgres,redis,bus]

For each configuration a real `aicity serve` is spawned and loaded for `--seconds` by
`--clients` concurrent httpx async clients (one process, asyncio), first with assistant
questions (`POST /api/v1/assistant/ask`, the built-in evaluation questions of the public
roles, with a citizen API key), then with HTTP telemetry (`POST /api/v1/iot/telemetry`, batches
of 20 readings over 100 devices, with an operator key). The keys are not throttled: the
spawned servers get `AICITY_AUTH_ASSISTANT_RATE` / `ANONYMOUS_RATE` of a million a minute.
Connections are not kept alive, so the kernel spreads them over the workers as a load
balancer would spread requests.

Configurations, all in one run on the same machine:
- `embedded`: `aicity serve` with its SQLite data dir, one process, no other service;
- `postgres`: `aicity serve --workers N` on a private PostgreSQL (Debian's postgresql-15),
  N = 1, 2, 4 (rate limits per process: the benchmark's are off anyway);
- `redis`: the same with `redis_url` (a private redis-server): shared limits, the durable bus
  on Redis Streams, and one `aicity worker` beside the API workers, as deployed;
- `bus`: the Redis-Streams bus alone, in this process: durable events published as fast as
  one thread can (events/s until all are handled by one consumer), then at a steady rate
  (end-to-end lag from publish to the durable handler, p50/p99).

The load generator runs on the same cores as the servers; on a shared machine the figures
are a floor, and the ratios between configurations are what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aicity.core import streams
from aicity.core.bus import bus
from aicity.core.config import configure
from aicity.core.db import use_database
from aicity.hub.iot import service as iot
from aicity.identity import service as identity
from aicity.ops.evaluation import default_set, load_cases
from tests.support.net import free_port

AICITY = [sys.executable, "-m", "aicity.cli"]
UNLIMITED = {"AICITY_AUTH_ANONYMOUS_RATE": "1000000/minute", "AICITY_AUTH_ASSISTANT_RATE": "1000000/minute"}
#: a spawned server may load the demo city first (into PostgreSQL: minutes on a busy machine)
START_LIMIT_S = 900
BATCH = 20
DEVICES = 100


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


# ---- services ---------------------------------------------------------------------------------

def start_postgres(root: Path) -> tuple[Callable[[], None], str]:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1].parent
    data, port = root / "pg", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "aicity", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "pg.log"), "-o",
                    f"-p {port} -h 127.0.0.1 -k {root} -c max_connections=200", "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)

    return stop, f"postgresql+psycopg://aicity@127.0.0.1:{port}/postgres"


def start_redis(root: Path) -> tuple[Callable[[], None], str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(root)], stdout=subprocess.DEVNULL)
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
        time.sleep(0.1)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=30)

    return stop, f"redis://127.0.0.1:{port}/0"


class Server:
    """`aicity serve --workers N` (and `aicity worker` with redis_url), ready when every
    worker process has finished its start-up."""

    def __init__(self, root: Path, workers: int, env: dict[str, str], background: bool = False) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = root / f"serve-{workers}-{self.port}.log"
        full = {**os.environ, **UNLIMITED, **env}
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([*AICITY, "serve", "--port", str(self.port), "--workers", str(workers)],
                                         stdout=out, stderr=subprocess.STDOUT, env=full)
        self.worker = None
        if background:
            with (root / f"worker-{self.port}.log").open("w") as out:
                self.worker = subprocess.Popen([*AICITY, "worker"], stdout=out, stderr=subprocess.STDOUT, env=full)
        t0 = time.perf_counter()
        while self.log.read_text(errors="replace").count("Application startup complete") < workers:
            if self.proc.poll() is not None or time.perf_counter() - t0 > START_LIMIT_S:
                self.stop()
                raise RuntimeError(f"aicity serve --workers {workers} did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        self.started_s = time.perf_counter() - t0

    def rss_mb(self) -> list[int]:
        """Resident memory of each API process (the worker processes of `--workers N`, or the one)."""
        found = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        pids = [int(p) for p in found] or [self.proc.pid]
        out = []
        for pid in pids:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                rss = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmRSS")), "0")
                if int(rss) > 50_000:  # leave out uvicorn's small helper processes
                    out.append(int(rss) // 1024)
        return out

    def stop(self) -> None:
        for proc in (self.worker, self.proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()


def prepare(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """Keys and devices in a loaded city's database (this process writes them directly)."""
    configure(data_dir=data_dir, database_url=database_url)
    use_database(database_url or f"sqlite:///{(data_dir / 'aicity.db').resolve()}")
    _, citizen = identity.create_api_key("scale-bench-citizen", "citizen")
    _, operator = identity.create_api_key("scale-bench-gateway", "operator", "water")
    _, admin = identity.create_api_key("scale-bench-admin", "admin")
    for i in range(DEVICES):
        device_id = f"scale-wl-{i}"
        try:
            iot.get_device(device_id)
        except Exception:  # not there yet
            iot.create_device(iot.DeviceSpec(type="WaterLevelObserved", id=device_id), "bench")
    return {"citizen": citizen, "operator": operator, "admin": admin}


# ---- load -------------------------------------------------------------------------------------

async def _load(base: str, seconds: float, clients: int, request: Callable[[httpx.AsyncClient, int], Any]) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as c:
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                try:
                    r = await request(c, next(counter))
                    status = str(r.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                if status.startswith("2"):
                    latencies.append(time.perf_counter() - t)
                else:
                    errors[status] = errors.get(status, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - start
    return {"ok_per_s": round(len(latencies) / wall, 1), "p50_ms": round(statistics.median(latencies) * 1000, 1)
            if latencies else None, "p95_ms": round(pct(latencies, .95) * 1000, 1), "ok": len(latencies),
            "errors": errors}


def measure(base: str, keys: dict[str, str], seconds: float, clients: int) -> dict:
    cases = [c for c in load_cases(default_set()) if c.get("role", "citizen") in ("citizen", "enterprise")]
    ask_headers = {"Authorization": f"Bearer {keys['citizen']}"}
    tel_headers = {"Authorization": f"Bearer {keys['operator']}"}

    def ask(c: httpx.AsyncClient, i: int) -> Any:
        return c.post("/api/v1/assistant/ask", json={"text": cases[i % len(cases)]["q"]}, headers=ask_headers)

    def telemetry(c: httpx.AsyncClient, i: int) -> Any:
        readings = [{"device_id": f"scale-wl-{(i * BATCH + k) % DEVICES}", "attribute": "waterLevel",
                     "value": 1.0 + ((i + k) % 100) / 100, "unit": "m"} for k in range(BATCH)]
        return c.post("/api/v1/iot/telemetry", json={"readings": readings}, headers=tel_headers)

    asyncio.run(_load(base, 2, clients, ask))  # warm-up: each worker's caches and first queries
    out = {"assistant": asyncio.run(_load(base, seconds, clients, ask))}
    asyncio.run(_load(base, 1, clients, telemetry))
    tel = asyncio.run(_load(base, seconds, clients, telemetry))
    tel["readings_per_s"] = round(tel["ok_per_s"] * BATCH, 1)
    out["telemetry"] = tel
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    statuses: dict[str, int] = {}
    for _ in range(8):  # the data hub's DuckDB store: one process may hold it (hub/data/store.py)
        with httpx.Client(base_url=base, timeout=60) as c:
            code = str(c.get("/api/v1/data/datasets/districts", headers=admin).status_code)
        statuses[code] = statuses.get(code, 0) + 1
    out["data_hub_detail_statuses"] = statuses
    return out


def run_config(name: str, root: Path, workers: int, env: dict[str, str], keys: dict[str, str], args: argparse.Namespace,
               background: bool = False) -> dict:
    server = Server(root, workers, env, background)
    try:
        result = {"config": name, "workers": workers, "start_s": round(server.started_s, 1),
                  **measure(server.base, keys, args.seconds, args.clients), "rss_mb": server.rss_mb()}
    finally:
        server.stop()
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


# ---- the bus ----------------------------------------------------------------------------------

def bus_bench(redis_url: str, root: Path, n: int, rate: float, seconds: float) -> dict:
    """Durable events through Redis Streams to one consumer in this process."""
    configure(data_dir=root / "bus-city", redis_url=redis_url, redis_prefix="scalebench")
    seen: dict[int, float] = {}
    done = threading.Event()
    target = [0]

    def handler(_topic: str, payload: dict[str, Any]) -> None:
        seen[payload["n"]] = time.time() - payload["t"]
        if len(seen) >= target[0]:
            done.set()

    unsubscribe = bus.subscribe("bench.tick", handler, "durable")
    detach = streams.connect(bus, consume=True)
    try:
        target[0] = n
        start = time.perf_counter()
        for i in range(n):
            bus.publish("bench.tick", {"n": i, "t": time.time()})
        published = time.perf_counter() - start
        done.wait(300)
        burst = {"events": n, "published_per_s": round(n / published), "handled_per_s": round(len(seen) / (time.perf_counter() - start))}
        seen.clear()
        done.clear()
        steady_n = int(rate * seconds)
        target[0] = steady_n
        start = time.perf_counter()
        for i in range(steady_n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            bus.publish("bench.tick", {"n": i, "t": time.time()})
        done.wait(120)
        lags = list(seen.values())
        steady = {"rate_per_s": rate, "events": steady_n, "handled": len(lags),
                  "lag_p50_ms": round(pct(lags, .5) * 1000, 2), "lag_p99_ms": round(pct(lags, .99) * 1000, 2)}
    finally:
        detach()
        unsubscribe()
    return {"config": "bus", "burst": burst, "steady": steady}


# ---- main -------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--parts", default="embedded,postgres,redis,bus")
    ap.add_argument("--bus-events", type=int, default=5000)
    ap.add_argument("--bus-rate", type=float, default=500)
    args = ap.parse_args()
    parts, counts = args.parts.split(","), [int(w) for w in args.workers.split(",")]
    root = Path(tempfile.mkdtemp(prefix="aicity-scale-bench-"))
    os.chmod(root, 0o755)
    stops: list[Callable[[], None]] = []
    load = os.getloadavg()
    print(json.dumps({"machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load]},
                      "seconds": args.seconds, "clients": args.clients}), flush=True)
    try:
        if "embedded" in parts:
            city = root / "embedded"
            env = {"AICITY_DATA_DIR": str(city)}
            Server(root, 1, env).stop()  # load the demo city once (not measured)
            run_config("embedded", root, 1, env, prepare(city, None), args)
        need_redis = "redis" in parts or "bus" in parts
        if "postgres" in parts or "redis" in parts:
            pg_root = Path(tempfile.mkdtemp(prefix="aicity-scale-pg-"))
            stop_pg, pg_url = start_postgres(pg_root)
            stops.append(stop_pg)
            city = root / "pg-city"
            env = {"AICITY_DATA_DIR": str(city), "AICITY_DATABASE_URL": pg_url}
            Server(root, 1, env).stop()  # load the demo city into PostgreSQL once (not measured)
            keys = prepare(city, pg_url)
            if "postgres" in parts:
                for w in counts:
                    run_config("postgres", root, w, env, keys, args)
        if need_redis:
            stop_redis, redis_url = start_redis(root)
            stops.append(stop_redis)
            if "redis" in parts:
                for w in counts:
                    run_config("postgres+redis", root, w, {**env, "AICITY_REDIS_URL": redis_url}, keys, args,
                               background=True)
            if "bus" in parts:
                print(json.dumps(bus_bench(redis_url, root, args.bus_events, args.bus_rate, args.seconds)), flush=True)
    finally:
        for stop in reversed(stops):
            stop()
        print(json.dumps({"loadavg_after": [round(x, 2) for x in os.getloadavg()]}), flush=True)


if __name__ == "__main__":
    main()
