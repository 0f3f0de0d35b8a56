"""Connections to outside MCP servers, from synchronous code (worker threads, the CLI).

HTTP connections follow the platform's egress policy (`core/egress.py`): each TCP connection goes
to the address the policy checked (the name resolved once), no redirects are followed across
origins (the SDK's rule), environment proxies are not used. One TLS context is built once and
shared (building one costs tens of milliseconds).

`once(spec, work)` opens a connection, does `work`, closes it (registration and refresh: a
check). `pooled(key, spec, work)` keeps one open session per registered server on a background
event loop — an MCP session over Streamable HTTP, or the stdio server's process — so a call costs
one request, not a connection, a handshake and (stdio) a process start. A session that fails is
closed and opened again on the next call; a call that failed on a reused session because its
connection broke is retried once on a fresh one. `close(key)` / `close_all()` end sessions (a
server removed; the slice deactivated).

Failures are problems: unreachable → 502 `mcp-unreachable`, too slow → 504 `mcp-timeout`, an error
answered by the protocol → 502 `mcp-error`; nothing the server sent is echoed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpcore2
import httpx2

from aicity.core import egress
from aicity.core.config import settings
from aicity.core.errors import Problem
from aicity.core.slices import Stop
from aicity.hub.mcp_bridge.settings import McpSettings

if TYPE_CHECKING:  # the MCP SDK loads with the first connection (`_client`): a command that never connects to an
    # outside server (`aicity ask --help`, `aicity agents`) does not pay its import (about a second on 2 cores)
    from mcp import Client

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[["Client"], Awaitable[Any]]


def timeout_s() -> float:
    return settings().section(McpSettings).timeout_s


@dataclass(frozen=True)
class Spec:
    """How to reach a server: `http` with `url` (and extra `headers`), or `stdio` with `command`."""

    transport: str
    url: str | None = None
    command: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def where(self) -> str:
        return self.url or (self.command[0] if self.command else "")


# ---- transports -------------------------------------------------------------------------------------

@cache
def _tls() -> ssl.SSLContext:
    return httpx2.create_ssl_context(trust_env=False)


class _PinnedBackend(httpcore2.AnyIOBackend):
    """Each connection to the address the egress policy checked (resolved once; TLS for the name)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Any = None) -> httpcore2.AsyncNetworkStream:
        try:
            address = await anyio.to_thread.run_sync(egress.checked_address, host, port)
        except egress.EgressDenied as exc:
            raise httpcore2.ConnectError(str(exc)) from None
        return await super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                         socket_options=socket_options)


class _EgressTransport(httpx2.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__(verify=_tls(), trust_env=False)
        # as core/egress.py does for httpx: the pool over the pinned backend replaces the one built
        self._pool = httpcore2.AsyncConnectionPool(ssl_context=_tls(), network_backend=_PinnedBackend())


@asynccontextmanager
async def _client(spec: Spec) -> AsyncIterator[Client]:
    from mcp import Client, StdioServerParameters  # the SDK's natural load point: the first connection
    from mcp.client.streamable_http import streamable_http_client

    limit = timeout_s()
    if spec.transport == "http":
        assert spec.url is not None
        async with httpx2.AsyncClient(transport=_EgressTransport(), headers=dict(spec.headers), verify=_tls(),
                                      follow_redirects=False, trust_env=False, timeout=httpx2.Timeout(limit)) as http:
            async with Client(streamable_http_client(spec.url, http_client=http), cache=None,
                              read_timeout_seconds=limit) as client:
                yield client
    else:
        params = StdioServerParameters(command=spec.command[0], args=list(spec.command[1:]))
        async with Client(params, cache=None, read_timeout_seconds=limit) as client:
            yield client


# ---- failures as problems ---------------------------------------------------------------------------

def _mcp_error(exc: BaseException) -> bool:
    """Whether `exc` is an error the server answered (the SDK's `MCPError`; there is none before it was loaded)."""
    errors = sys.modules.get("mcp.shared.exceptions")
    return errors is not None and isinstance(exc, errors.MCPError)


def _innermost(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    """A short, safe reason: the egress policy's own words, else the kind of failure."""
    exc = _innermost(exc)
    if isinstance(exc, httpx2.ConnectError | httpcore2.ConnectError) and "egress_allow" in str(exc):
        return str(exc)
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, FileNotFoundError):
        return "命令不存在 the command was not found"
    return type(exc).__name__


def _problem(spec: Spec, exc: BaseException) -> Problem:
    inner = _innermost(exc)
    if isinstance(inner, TimeoutError | concurrent.futures.TimeoutError):
        return Problem(504, "外部 MCP 服务超时 MCP server timed out",
                       f"{spec.where} 在 {timeout_s():g} 秒内没有应答", "mcp-timeout")
    if _mcp_error(inner):
        log.warning("MCP server %s answered an error: %s", spec.where, inner)
        return Problem(502, "外部 MCP 服务出错 MCP server error", f"{spec.where} 答复了错误（代码 {inner.error.code}）",
                       "mcp-error")
    log.warning("MCP server %s unreachable: %r", spec.where, exc)
    return Problem(502, "外部 MCP 服务不可达 MCP server unreachable", f"无法连接 {spec.where}：{_reason(exc)}",
                   "mcp-unreachable")


def once(spec: Spec, work: Callable[[Client], Awaitable[T]]) -> T:
    """Open a connection, do `work`, close it."""

    async def main() -> T:
        with anyio.fail_after(timeout_s()):
            async with _client(spec) as client:
                return await work(client)

    try:
        return anyio.run(main)
    except Exception as exc:  # connection refused, DNS, egress refusal, a missing command, a broken stream
        raise _problem(spec, exc) from None


# ---- the pool of open sessions ----------------------------------------------------------------------

@dataclass(eq=False)
class _Session:
    """One open session, living in its own task on the pool's loop (anyio scopes end where they began)."""

    spec: Spec
    queue: asyncio.Queue[tuple[Work, asyncio.Future[Any]] | None] = field(default_factory=asyncio.Queue)
    dead: bool = False
    served: int = 0

    async def main(self) -> None:
        try:
            async with _client(self.spec) as client, anyio.create_task_group() as tg:
                while (item := await self.queue.get()) is not None:
                    tg.start_soon(self._serve, client, *item)
                tg.cancel_scope.cancel()
        except BaseException as exc:  # noqa: BLE001 — handed to every waiting call
            self._fail_waiting(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self.dead = True
            self._fail_waiting(ConnectionError("session closed"))

    async def _serve(self, client: Client, work: Work, done: asyncio.Future[Any]) -> None:
        try:
            with anyio.fail_after(timeout_s()):
                result = await work(client)
        except Exception as exc:
            if not _mcp_error(_innermost(exc)):  # the connection is in doubt: start afresh next time
                self.close()
            if not done.done():
                done.set_exception(exc)
        else:
            self.served += 1
            if not done.done():
                done.set_result(result)
        finally:  # cancelled with its session: the caller hears so at once
            if not done.done():
                done.set_exception(ConnectionError("session closed"))

    def _fail_waiting(self, exc: BaseException) -> None:
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is not None and not item[1].done():
                item[1].set_exception(exc)

    def close(self) -> None:
        if not self.dead:
            self.dead = True
            self.queue.put_nowait(None)


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sessions: dict[str, _Session] = {}

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="mcp-sessions", daemon=True).start()
                self._loop = loop
            return self._loop

    async def _submit(self, key: str, spec: Spec, work: Work) -> tuple[bool, asyncio.Future[Any]]:
        session = self._sessions.get(key)
        reused = session is not None and not session.dead and session.spec == spec and session.served > 0
        if session is None or session.dead or session.spec != spec:
            if session is not None:
                session.close()
            session = self._sessions[key] = _Session(spec)
            asyncio.get_running_loop().create_task(session.main())
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.queue.put_nowait((work, done))
        return reused, done

    async def _call(self, key: str, spec: Spec, work: Work) -> Any:
        reused, done = await self._submit(key, spec, work)
        try:
            return await done
        except Exception as exc:
            inner = _innermost(exc)
            if not reused or _mcp_error(inner) or isinstance(inner, TimeoutError):
                raise
            log.info("MCP session to %s broke (%r); one retry on a fresh session", spec.where, inner)
            _, again = await self._submit(key, spec, work)
            return await again

    def call(self, key: str, spec: Spec, work: Callable[[Client], Awaitable[T]]) -> T:
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self._call(key, spec, work), loop)
        try:
            result: T = future.result(timeout=2 * timeout_s() + 5)  # connect, then the call, each bounded
            return result
        except Exception as exc:
            future.cancel()
            if isinstance(exc, concurrent.futures.TimeoutError):
                self.close(key)
            raise _problem(spec, exc) from None

    def close(self, key: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._close, key)

    def _close(self, key: str) -> None:
        session = self._sessions.pop(key, None)
        if session is not None:
            session.close()

    def close_all(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        async def close_every() -> None:
            for key in list(self._sessions):
                self._close(key)
            await asyncio.sleep(0)

        try:
            asyncio.run_coroutine_threadsafe(close_every(), loop).result(timeout=5)
        except Exception:  # noqa: BLE001 — closing is best effort (the loop may be stopping)
            log.warning("closing MCP sessions failed", exc_info=True)

    def open_sessions(self) -> int:
        return sum(1 for s in self._sessions.values() if not s.dead)


_pool = _Pool()


def pooled(key: str, spec: Spec, work: Callable[[Client], Awaitable[T]]) -> T:
    """`work` on the open session of server `key` (opened, or opened again, as needed)."""
    return _pool.call(key, spec, work)


def close(key: str) -> None:
    _pool.close(key)


def close_all() -> None:
    _pool.close_all()


def activate() -> Stop:
    """Activation (the MCP slice): open sessions are closed when the slices are released (the
    server's shutdown, the end of a CLI command), so no stdio server process outlives them."""
    return close_all
