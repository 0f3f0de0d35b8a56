"""Shared fixtures: one demo city per test session (SQLite in a temp dir), an in-process
client, a real uvicorn server on loopback, a private PostgreSQL server when available, headless
Chromium, and a scripted OpenAI-compatible model serving the group chat-large (`llm`)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text

from aicity.assistant.cli import ready_assistant
from aicity.core import slices
from aicity.core.cli import open_city, set_city_loader
from aicity.core.db import database, use_database
from aicity.demo.loader import ensure_city
from aicity.hub.events.cli import ready as ready_events
from aicity.hub.gateway import service as gateway
from aicity.server import create_app
from tests.support.net import IN_CI, free_port
from tests.support.pg import PgServer, pg_bin
from tests.support.redis import RedisServer, private_redis
from tests.support.redis import available as redis_available
from tests.support.upstream import RunningUpstream

#: the scripted upstreams and notification receivers run on loopback: allow it (the egress policy
#: refuses loopback otherwise; tests/test_redteam.py checks that with the list emptied)
os.environ.setdefault("AICITY_EGRESS_ALLOW", '["127.0.0.1", "localhost"]')
#: /metrics needs a staff key or this token (tests.support.http.METRICS presents it)
os.environ.setdefault("AICITY_METRICS_TOKEN", "test-metrics-token")


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("city")
    deactivate = slices.activate()  # the slices' bus subscriptions, as the CLI and the app have them
    set_city_loader(ensure_city)
    open_city(data_dir)
    ready_assistant()  # routing results must not depend on whether the vectors are done
    ready_events()  # nor event classification (its e5 neighbours compute in the background)
    yield data_dir
    deactivate()


@pytest.fixture(scope="session")
def client(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(city: Path) -> Iterator[str]:
    """The real app over real HTTP on 127.0.0.1."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(load_city=False), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL server on loopback (AICITY_TEST_PG_URL overrides)."""
    if url := os.environ.get("AICITY_TEST_PG_URL"):
        yield url
        return
    bindir = pg_bin()
    if bindir is None:
        if IN_CI:
            pytest.fail("PostgreSQL is not installed; .ci/run must install it")
        pytest.skip("PostgreSQL not installed (apt-get install postgresql)")
    server = PgServer(bindir).init().start()
    yield server.url
    server.remove()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server on loopback for the distributed mode (Debian's redis-server)."""
    if not redis_available():
        if IN_CI:
            pytest.fail("redis-server is not installed; .ci/run must install it")
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="aicity-redis-"))
    server = private_redis(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The private Redis, emptied for this test."""
    redis_lib.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_database(request: pytest.FixtureRequest, city: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An empty database on each supported engine, as (engine, url); the process's database is
    restored afterwards."""
    previous = database().url
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'blank.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        with use_database(url).engine.begin() as conn:  # a clean schema for every case
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    yield request.param, url
    use_database(previous)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("/usr/bin/chromium is missing; .ci/run must install chromium")
        pytest.skip("Debian Chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def model(city: Path) -> Iterator[RunningUpstream]:
    server = RunningUpstream("llm", free_port())
    yield server
    server.stop()


@pytest.fixture
def llm(model: RunningUpstream) -> Iterator[RunningUpstream]:
    model.reset()
    gateway.set_config({"deployments": [{"name": "llm", "group": "chat-large", "base_url": model.url,
                                         "model": "qwen-test", "timeout_s": 2}],
                        "groups": [{"name": "chat-large", "retries": 0}], "backoff_s": 0})
    yield model
    gateway.reset_config()
