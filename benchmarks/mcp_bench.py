"""MCP benchmark: what a tool call costs through the city's MCP client, and the round trip of the
city's own MCP server at /mcp.

    .venv/bin/python benchmarks/mcp_bench.py [--calls 100] [--data-dir DIR]

The outside server is the tests' (tests/hub/mcp_bridge/outside.py, the official SDK's server) in its
own process on loopback (Streamable HTTP), or spawned per call over stdio. The city (a demo city in a
temporary data dir unless --data-dir names one) is opened in this process, and its app is served by
uvicorn on a thread of this process, as the tests' `live_server` does (the client and the server
share the interpreter: the round trips include that contention). It measures, as p50/p95 in ms:

1. the tool's function called directly (the floor);
2. the same tool through the official SDK client on one open session (the protocol alone);
3. the same tool through the city's client (`client.call_tool`: rate limit, guard in, the call on the
   server's open session (connect.py's pool; HTTP under the egress policy, or the stdio server's
   process), guard out, audit) — HTTP, then stdio; and the first call of a fresh registration
   (connection, handshake, and for stdio the process start);
4. the city's server: `tools/list`, a skill call and `ask` over one open session, an `ask` over
   `POST /api/v1/assistant/ask` beside it, and a whole fresh connection (connect, list, call).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AICITY_EGRESS_ALLOW", '["127.0.0.1", "localhost"]')
# the rate limits would turn most measured calls into quick 429s
os.environ.setdefault("AICITY_AUTH_ASSISTANT_RATE", "100000/minute")
os.environ.setdefault("AICITY_MCP_CALL_RATE", "100000/minute")

from aicity.core import slices  # noqa: E402  (after the egress setting: settings are read once)
from aicity.core.cli import open_city, set_city_loader  # noqa: E402
from aicity.demo.loader import ensure_city  # noqa: E402
from aicity.hub.mcp_bridge import client as mcp_client  # noqa: E402
from aicity.identity.models import Role  # noqa: E402
from aicity.identity.service import Principal, create_api_key  # noqa: E402
from aicity.security import guard  # noqa: E402
from aicity.server import create_app  # noqa: E402
from tests.support.net import free_port  # noqa: E402

ADMIN = Principal(role=Role.admin, key_id="mcp-bench")
#: one TLS context for the bench's own HTTP clients (building one per client costs tens of ms, unrelated to MCP)
TLS = httpx2.create_ssl_context()
QUESTION = "办理居住证需要什么材料"
DUTY = {"text": "占道经营归哪个部门管", "department": "urban"}


def stats(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered):8.3f} ms   p95 {p95:8.3f} ms   (n={len(ordered)})"


def timed(n: int, fn: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def timed_async(n: int, fn: Callable[[], Awaitable[Any]]) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def wait_port(port: int, proc: subprocess.Popen | None = None, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"port {port}: the process exited with {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not come up")


def add(a: int, b: int) -> int:  # the outside tool's own body (tests/hub/mcp_bridge/outside.py)
    return a + b


async def sdk_one_session(url: str, n: int) -> list[float]:
    async with Client(url) as c:
        await c.call_tool("add", {"a": 1, "b": 1})
        return await timed_async(n, lambda: c.call_tool("add", {"a": 2, "b": 40}))


async def city_server(url: str, key: str, n: int, skill: str) -> dict[str, list[float]]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120, verify=TLS) as http:
        async with Client(streamable_http_client(url, http_client=http)) as c:
            await c.list_tools()
            for name, arguments in (("ask", {"text": QUESTION}), (skill, DUTY)):
                if (await c.call_tool(name, arguments)).is_error:
                    raise RuntimeError(f"{name} answered an error: the figures would measure refusals")
            out = {"tools/list": await timed_async(n, c.list_tools),
                   f"tools/call {skill}": await timed_async(n, lambda: c.call_tool(skill, DUTY)),
                   "tools/call ask": await timed_async(max(5, n // 4), lambda: c.call_tool("ask", {"text": QUESTION}))}

    async def fresh() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120, verify=TLS) as h:
            async with Client(streamable_http_client(url, http_client=h)) as c2:
                await c2.list_tools()
                await c2.call_tool(skill, DUTY)

    out["fresh connection: connect + list + call"] = await timed_async(max(5, n // 4), fresh)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    n = args.calls
    print(f"load average before: {os.getloadavg()}  cores: {os.cpu_count()}")

    port = free_port()
    outside = subprocess.Popen([sys.executable, "-m", "tests.hub.mcp_bridge.outside", "http", str(port)], cwd=ROOT)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="aicity-mcp-bench-"))
    deactivate = slices.activate()
    server = None
    try:
        set_city_loader(ensure_city)
        t0 = time.perf_counter()
        open_city(data_dir)
        print(f"city opened in {time.perf_counter() - t0:.1f} s ({data_dir})")
        t0 = time.perf_counter()
        guard.check("热身 warm-up", "input")  # the attack classifier loads on first use: not part of a call
        print(f"guard warmed up in {time.perf_counter() - t0:.1f} s")
        wait_port(port, outside)
        url = f"http://127.0.0.1:{port}/mcp"

        print("\n1–3. one tool (add) of an outside MCP server")
        print(f"  direct function call                      {stats(timed(max(n, 1000), lambda: add(2, 40)))}")
        print(f"  SDK client, one open session (HTTP)       {stats(asyncio.run(sdk_one_session(url, n)))}")
        for sid in ("bench-http", "bench-stdio"):
            try:
                mcp_client.remove_server(sid, ADMIN)
            except Exception:  # noqa: BLE001 — not there from an earlier run
                pass
        mcp_client.add_server("bench-http", ADMIN, url=url)
        mcp_client.add_server("bench-stdio", ADMIN, command=[sys.executable, "-m", "tests.hub.mcp_bridge.outside"])
        first = {sid: timed(1, lambda sid=sid: mcp_client.call_tool(sid, "add", {"a": 2, "b": 40}, ADMIN))[0]
                 for sid in ("bench-http", "bench-stdio")}
        print(f"  city client, first call (opens the session) HTTP {first['bench-http']:.1f} ms, "
              f"stdio {first['bench-stdio']:.1f} ms")
        print(f"  city client call_tool (HTTP)              "
              f"{stats(timed(n, lambda: mcp_client.call_tool('bench-http', 'add', {'a': 2, 'b': 40}, ADMIN)))}")
        print(f"  city client call_tool (stdio)             "
              f"{stats(timed(n, lambda: mcp_client.call_tool('bench-stdio', 'add', {'a': 2, 'b': 40}, ADMIN)))}")

        app_port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(load_city=False), host="127.0.0.1", port=app_port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        key = create_api_key("mcp-bench", "official")[1]
        base = f"http://127.0.0.1:{app_port}"
        print("\n4. the city's MCP server at /mcp (official key)")
        results = asyncio.run(city_server(f"{base}/mcp", key, n, "city_ops__department_duty"))
        for name, values in results.items():
            print(f"  {name:40s}  {stats(values)}")
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as rest:
            values = timed(max(5, n // 4), lambda: rest.post(f"{base}/api/v1/assistant/ask",
                                                              json={"text": QUESTION}).raise_for_status())
        print(f"  {'REST POST /api/v1/assistant/ask':40s}  {stats(values)}")
        mcp_client.remove_server("bench-http", ADMIN)
        mcp_client.remove_server("bench-stdio", ADMIN)
    finally:
        if server is not None:
            server.should_exit = True
        outside.terminate()
        outside.wait(timeout=10)
        deactivate()
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
