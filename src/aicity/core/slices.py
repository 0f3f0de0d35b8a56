"""The slice contract: every part of the city (a hub service, an agent with its own routes,
a security part, operations, the console) declares itself once, as a `Slice`, and the app,
the CLI, the models registry, the settings and the demo loader loop over the declared slices.

Built-in slices and a city's own plug-ins load the same way: from the `aicity.slices`
entry-point group (`[project.entry-points."aicity.slices"]` in a package's pyproject), in
dependency order. A declaration names its code by reference (`"package.module:attribute"`),
so discovering the slices imports only their small `slice.py` modules, and each part is
imported when it is used (a CLI command when it runs, the routers when the app is built).

Bus subscriptions and the work done on activation are not import side effects: `activate()`
registers them (the app at start, every CLI command) and the function it returns removes them.
"""

from __future__ import annotations

import heapq
import importlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aicity.core.bus import Delivery, bus

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aicity.slices"
_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

#: the demo loader's progress callback: (stage, done, total)
Progress = Callable[[str, int, int], None]
#: what start-up and activation work returns: the function that undoes it
Stop = Callable[[], None]


class SliceError(Exception):
    """A slice that cannot be loaded, a duplicate id, an unknown dependency or a cycle."""


def _check_ref(ref: str, what: str) -> None:
    if not _REF.match(ref):
        raise SliceError(f"{what}: '{ref}' is not a reference of the form 'package.module:attribute'")


def resolve(ref: str) -> Any:
    """The object a reference names: `"aicity.ops.metrics:counters.on_answer"`."""
    module_name, _, path = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


class LazyHandler:
    """A subscription's handler, imported when the first event reaches it: activating the slices
    (every CLI command does) then imports none of the handlers' modules, which took seconds.
    Its name on the bus (the idempotency key of durable deliveries) is its reference."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.__module__, _, self.__qualname__ = ref.partition(":")
        self._target: Callable[[str, dict[str, Any]], Any] | None = None

    def __call__(self, topic: str, payload: dict[str, Any]) -> Any:
        if self._target is None:
            self._target = resolve(self.ref)
        return self._target(topic, payload)


@dataclass(frozen=True)
class HttpRouter:
    """A FastAPI `APIRouter`. `problems`: its errors are RFC 9457 problems (documented as
    such); False for a router that answers errors in its own shape (NGSI-LD)."""

    ref: str
    problems: bool = True
    #: references to FastAPI dependencies applied to every route (e.g. a rate limit)
    dependencies: tuple[str, ...] = ()


#: an ASGI application: `await app(scope, receive, send)`
AsgiApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[MutableMapping[str, Any]]],
                    Callable[[MutableMapping[str, Any]], Awaitable[None]]], Awaitable[None]]


@dataclass(frozen=True)
class Mounted:
    """What a mount's factory returns: the ASGI app, and what must run around the server's life
    (`lifespan`: entered when the app starts, before it answers, and left at shutdown — e.g. a
    protocol library's session manager)."""

    app: AsgiApp
    lifespan: Callable[[], AbstractAsyncContextManager[None]] | None = None


@dataclass(frozen=True)
class Mount:
    """An ASGI sub-application (a protocol the slice serves with another library, e.g. MCP)
    served at `path` and below. `ref` names `() -> Mounted`, called once per app built. The
    app answers in its own shape: no problem documents, no OpenAPI entries."""

    path: str
    ref: str


@dataclass(frozen=True)
class Command:
    """A CLI command under `aicity`: a `typer.Typer` (a command group) or a function (one
    command). `ref` is imported only when the command runs or shows its own help; `help` is
    what its group's `--help` shows without importing it. `parent` puts it into another
    slice's group (`aicity report security`). `activate=False`: the command (a group: its own
    callback) only reads declarations and runs without the slices activated (`activate()`)."""

    name: str
    ref: str
    help: str
    parent: str | None = None
    activate: bool = True


@dataclass(frozen=True)
class Page:
    """A console page: a nav entry and an ES module under `web/static/` exporting `render(root, api)`."""

    id: str
    title: str
    module: str
    icon: str = ""
    #: place in the console's navigation (smaller first)
    order: int = 100


@dataclass(frozen=True)
class Subscription:
    """`handler(topic, payload)` for a bus topic (`*`: every topic). `delivery` matters when the
    city runs as several processes (core/bus.py): `local` (the publisher's process, as embedded),
    `broadcast` (every process: caches, indexes) or `durable` (once in the cluster, by a worker)."""

    topic: str
    handler: str
    delivery: Delivery = "local"


@dataclass(frozen=True)
class Section:
    """`[aicity.<name>]` in aicity.toml, validated by the pydantic model that `model` names;
    `AICITY_<NAME>_<KEY>` in the environment overrides one key."""

    name: str
    model: str


@dataclass(frozen=True)
class Slice:
    """One slice's declaration. Every field but `id` is optional."""

    id: str
    title: str = ""
    depends_on: tuple[str, ...] = ()
    #: modules whose import defines the slice's SQLAlchemy tables (Alembic reads them)
    tables: tuple[str, ...] = ()
    routers: tuple[HttpRouter, ...] = ()
    #: ASGI sub-applications served at their paths (`Mount`)
    mounts: tuple[Mount, ...] = ()
    commands: tuple[Command, ...] = ()
    pages: tuple[Page, ...] = ()
    #: `"package:folder"`: the slice's own console assets, served at `/static/<slice id>/`
    #: (a page of a plug-in slice names its module `"<slice id>/page.js"`)
    static: str | None = None
    #: `() -> Stop | None`: background work the server starts with the city and stops at shutdown
    startup: tuple[str, ...] = ()
    #: `() -> Stop | None`: periodic work (core/scale.py `every`) run by the embedded server, or in
    #: the distributed mode by the background workers (`aicity worker`), once per period in the cluster
    schedules: tuple[str, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    #: `() -> Stop | None`: wiring registered with the subscriptions (app start, every CLI command)
    activation: tuple[str, ...] = ()
    #: `() -> Agent`: the slice's agents (their routing data: each skill's `routes` hook)
    agents: tuple[str, ...] = ()
    #: the slice's typed settings sections
    settings: tuple[Section, ...] = ()
    #: `(data_dir: Path, progress: Progress) -> None`: loads the demo city's data (idempotently)
    demo: str | None = None
    #: `() -> dict`: a cheap check shown in `GET /api/v1/health`
    health: str | None = None

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z][a-z0-9_]*$", self.id):
            raise SliceError(f"slice id '{self.id}': use lower-case letters, digits and _")
        refs = [*(r.ref for r in self.routers), *(d for r in self.routers for d in r.dependencies),
                *(m.ref for m in self.mounts),
                *(c.ref for c in self.commands), *self.startup, *self.schedules, *(s.handler for s in self.subscriptions),
                *self.activation, *self.agents, *(sec.model for sec in self.settings),
                *((self.demo,) if self.demo else ()), *((self.health,) if self.health else ())]
        for ref in refs:
            _check_ref(ref, f"slice '{self.id}'")
        if self.static is not None and not re.match(r"^[A-Za-z_][\w.]*:[\w./-]+$", self.static):
            raise SliceError(f"slice '{self.id}': static '{self.static}' is not of the form 'package:folder'")
        for m in self.mounts:
            if not re.match(r"^(/[A-Za-z0-9_.-]+)+$", m.path):
                raise SliceError(f"slice '{self.id}': mount path '{m.path}': use /segments without a trailing /")
        for sec in self.settings:
            if not re.match(r"^[a-z][a-z0-9_]*$", sec.name):
                raise SliceError(f"slice '{self.id}': settings section '{sec.name}': use lower-case letters, digits and _")


# --- discovery ---------------------------------------------------------------------------------

def _load_entry_point(ep: metadata.EntryPoint) -> Slice:
    try:
        obj = ep.load()
    except Exception as exc:
        raise SliceError(f"slice entry point '{ep.name}' ({ep.value}) failed to load: {exc}") from exc
    if not isinstance(obj, Slice):
        raise SliceError(f"slice entry point '{ep.name}' ({ep.value}) is a {type(obj).__name__}, not a Slice")
    if obj.id != ep.name:
        raise SliceError(f"slice entry point '{ep.name}' declares the slice '{obj.id}'; the names must match")
    return obj


def order(declared: Iterable[Slice]) -> tuple[Slice, ...]:
    """The slices in dependency order (a slice after those it depends on; otherwise by id)."""
    by_id: dict[str, Slice] = {}
    for s in declared:
        if s.id in by_id:
            raise SliceError(f"slice '{s.id}' is declared twice")
        by_id[s.id] = s
    for s in by_id.values():
        for dep in s.depends_on:
            if dep not in by_id:
                raise SliceError(f"slice '{s.id}' depends on '{dep}', which is not installed "
                                 f"(installed: {', '.join(sorted(by_id))})")
    waiting = {s.id: set(s.depends_on) for s in by_id.values()}
    ready = [i for i, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    result: list[Slice] = []
    while ready:
        current = heapq.heappop(ready)
        result.append(by_id[current])
        for other, deps in waiting.items():
            if current in deps:
                deps.discard(current)
                if not deps:
                    heapq.heappush(ready, other)
    if len(result) < len(by_id):
        raise SliceError(f"slices depend on each other in a cycle: {_cycle(by_id, {s.id for s in result})}")
    return tuple(result)


def _cycle(by_id: dict[str, Slice], done: set[str]) -> str:
    """One cycle among the slices left over, as `a → b → a`."""
    start = min(set(by_id) - done)
    path = [start]
    while True:
        nxt = min(d for d in by_id[path[-1]].depends_on if d not in done)
        if nxt in path:
            return " → ".join([*path[path.index(nxt):], nxt])
        path.append(nxt)


@cache
def slices() -> tuple[Slice, ...]:
    """Every installed slice (the `aicity.slices` entry points), in dependency order."""
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    if not found:  # entry points are package metadata: an install older than the slices has none
        raise SliceError(f"no '{ENTRY_POINT_GROUP}' entry points are installed; reinstall aicity (pip install -e .)")
    return order(_load_entry_point(ep) for ep in found)


def refresh() -> tuple[Slice, ...]:
    """Discover again (after a package was installed, or `sys.path` changed)."""
    slices.cache_clear()
    importlib.invalidate_caches()
    return slices()


def get(slice_id: str) -> Slice:
    for s in slices():
        if s.id == slice_id:
            return s
    raise SliceError(f"no slice '{slice_id}' is installed")


# --- what the app, the CLI and the loaders share ------------------------------------------------

def settings_model(ref: str) -> type[BaseModel]:
    model = resolve(ref)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise SliceError(f"settings model '{ref}' is not a pydantic model class")
    return model


def static_dir(s: Slice) -> Path | None:
    """The folder of a slice's own console assets."""
    if s.static is None:
        return None
    package, _, folder = s.static.partition(":")
    return Path(str(resources.files(package) / folder))


def table_modules() -> list[str]:
    return [module for s in slices() for module in s.tables]


def mounted(selected: Iterable[Slice] | None = None) -> list[tuple[str, Mounted]]:
    """Each declared mount's path and what its factory built (called once per call of this)."""
    out: list[tuple[str, Mounted]] = []
    for s in (slices() if selected is None else selected):
        for m in s.mounts:
            built = resolve(m.ref)()
            if not isinstance(built, Mounted):
                raise SliceError(f"slice '{s.id}': mount '{m.ref}' returned a {type(built).__name__}, not Mounted")
            out.append((m.path, built))
    return out


def pages() -> list[Page]:
    """The console's pages, in navigation order."""
    return sorted((p for s in slices() for p in s.pages), key=lambda p: p.order)


def agent_builders() -> list[Callable[[], Any]]:
    return [resolve(ref) for s in slices() for ref in s.agents]


def load_demo(data_dir: Path, progress: Progress) -> None:
    for s in slices():
        if s.demo:
            resolve(s.demo)(data_dir, progress)


def health() -> dict[str, Any]:
    return {s.id: resolve(s.health)() for s in slices() if s.health}


def _run_all(refs: Iterable[str]) -> list[Stop]:
    stops: list[Stop] = []
    try:
        for ref in refs:
            stop = resolve(ref)()
            if stop is not None:
                stops.append(stop)
    except BaseException:
        _stop_all(stops)
        raise
    return stops


def _stop_all(stops: list[Stop]) -> None:
    for stop in reversed(stops):
        try:
            stop()
        except Exception:  # one slice's failing shutdown must not leave the others running
            log.exception("stopping %r failed", stop)


def start(selected: Iterable[Slice] | None = None) -> Stop:
    """Run the slices' start-up work in dependency order; returns what stops it (in reverse)."""
    stops = _run_all(ref for s in (slices() if selected is None else selected) for ref in s.startup)
    return _once(lambda: _stop_all(stops))


def start_schedules(selected: Iterable[Slice] | None = None) -> Stop:
    """Start the slices' scheduled work in dependency order; returns what stops it (in reverse)."""
    stops = _run_all(ref for s in (slices() if selected is None else selected) for ref in s.schedules)
    return _once(lambda: _stop_all(stops))


_lock = threading.RLock()
_active: Counter[str] = Counter()
_undo: dict[str, list[Stop]] = {}


def activate(selected: Iterable[Slice] | None = None) -> Stop:
    """Register the slices' bus subscriptions and activation work; returns what removes them.

    Counted per slice: the app and a CLI command in one process (the tests) may both
    activate, and a slice's subscriptions are registered once and removed with the last
    release."""
    chosen = list(slices() if selected is None else selected)
    with _lock:
        done: list[Slice] = []
        try:
            for s in chosen:
                if _active[s.id] == 0:
                    _undo[s.id] = _switch_on(s)
                _active[s.id] += 1
                done.append(s)
        except BaseException:
            _release(done)
            raise
    return _once(lambda: _release(chosen))


def _switch_on(s: Slice) -> list[Stop]:
    undo: list[Stop] = []
    try:
        for sub in s.subscriptions:
            undo.append(bus.subscribe(sub.topic, LazyHandler(sub.handler), sub.delivery))
        undo.extend(_run_all(s.activation))
    except BaseException:
        _stop_all(undo)
        raise
    return undo


def _release(chosen: list[Slice]) -> None:
    with _lock:
        for s in reversed(chosen):
            _active[s.id] -= 1
            if _active[s.id] <= 0:
                del _active[s.id]
                _stop_all(_undo.pop(s.id, []))


def active() -> list[str]:
    """The ids of the slices activated now."""
    with _lock:
        return [i for i, n in _active.items() if n > 0]


def _once(fn: Stop) -> Stop:
    called = threading.Event()

    def stop() -> None:
        if not called.is_set():
            called.set()
            fn()

    return stop
