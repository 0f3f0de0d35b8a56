"""A city in the distributed mode on this machine: its own PostgreSQL and redis-server, API
processes (`aicity serve`, one port each) and background workers (`aicity worker`), each a real
process that the fault tests kill with SIGKILL; and an HTTP receiver for NGSI-LD notifications."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import redis

from tests.support.net import free_port
from tests.support.pg import PgServer
from tests.support.redis import RedisServer

ROOT = Path(__file__).resolve().parents[2]
AICITY = Path(sys.executable).parent / "aicity"


class Receiver:
    """Counts the JSON bodies POSTed to it (NGSI-LD notifications)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/notify"

    def close(self) -> None:
        self.server.shutdown()


@dataclass
class Cluster:
    pg: PgServer
    redis_server: RedisServer
    data_dir: Path
    logs: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    apis: list[tuple[int, subprocess.Popen[bytes]]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: an admin API key (made with `aicity keys create` once the city is loaded)
    key: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "AICITY_DATABASE_URL": self.pg.url, "AICITY_REDIS_URL": self.redis_server.url,
                "AICITY_DATA_DIR": str(self.data_dir), "AICITY_DENSE": "false", "PYTHONPATH": str(ROOT),
                **self.extra_env}

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(AICITY), *args], env={**self.env, **(env or {})}, cwd=ROOT,
                                stdout=(self.logs / f"{name}.log").open("ab"), stderr=subprocess.STDOUT)

    def start_api(self, workers: int = 1, env: dict[str, str] | None = None) -> int:
        """One more API process (`serve --workers N` when `workers` > 1: N uvicorn workers on its one
        port; `env` over the cluster's); returns its index (`url(i)`)."""
        port = free_port()
        args = ("serve", "--port", str(port)) + (("--workers", str(workers)) if workers > 1 else ())
        self.apis.append((port, self._spawn(f"api-{len(self.apis)}", *args, env=env)))
        return len(self.apis) - 1

    def start_worker(self, queues: str | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = self._spawn(f"worker-{len(self.workers)}", "worker", *(("--queues", queues) if queues else ()), env=env)
        self.workers.append(proc)
        return proc

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.apis[i][0]}"

    def wait_ready(self, i: int, timeout: float = 600) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.apis[i][1].poll() is not None:
                raise RuntimeError(f"API process {i} exited: {self.log(f'api-{i}')[-3000:]}")
            try:
                if httpx.get(f"{self.url(i)}/api/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"API process {i} did not start")

    def live_workers(self) -> int:
        return len(self.redis().keys("aicity:workers:*"))

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_server.url)

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(AICITY), *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"aicity {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def close(self) -> None:
        procs = [p for _, p in self.apis] + self.workers
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
