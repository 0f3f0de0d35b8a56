"""A private redis-server on loopback (Debian's `redis-server`), for the distributed mode's tests,
and switching the process's settings to it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from aicity.core import config
from tests.support.net import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class RedisServer:
    port: int
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # append-only with fsync on every write: a restart keeps every acknowledged entry
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.time() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.time() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def private_redis(root: Path) -> RedisServer:
    server = RedisServer(free_port(), root)
    server.start()
    return server


def available() -> bool:
    return Path(REDIS_SERVER).is_file()


@contextmanager
def redis_mode(url: str, **more: object) -> Iterator[None]:
    """The process's settings with `redis_url` (and `more`) added; the previous settings after."""
    before = dict(config._overrides)
    config.configure(**{**before, "redis_url": url, **more})
    try:
        yield
    finally:
        config.configure(**before)
