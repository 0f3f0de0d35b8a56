"""The FastAPI app: mounts every declared slice's routers (core/slices.py) and the console
shell; at start it activates the slices (bus subscriptions), loads the city and runs the
slices' start-up work, and undoes both at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount, Route

from aicity import __version__
from aicity.core import scale, slices, streams
from aicity.core.bodies import JsonBodyCheck
from aicity.core.bus import bus
from aicity.core.cli import open_city, set_city_loader
from aicity.core.config import settings
from aicity.core.errors import PROBLEM_RESPONSES, answer_unavailable, install_handlers
from aicity.demo.loader import ensure_city
from aicity.web import static_dir


def create_app(load_city: bool = True) -> FastAPI:
    """The app of the installed slices. `load_city`: open the data dir (loading the demo city
    into an empty one) and start the slices' background work; False for tests that bring
    their own city."""
    settings()  # a wrong setting stops the app here, naming the key
    installed = slices.slices()
    mounted = slices.mounted(installed)  # ASGI sub-apps the slices serve (MCP), each with its lifespan

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        deactivate = slices.activate(installed)
        try:
            async with AsyncExitStack() as subapps:  # the mounted apps' own lifespans (MCP's session manager)
                for _path, sub in mounted:
                    if sub.lifespan is not None:
                        await subapps.enter_async_context(sub.lifespan())
                if not load_city:
                    yield
                    return
                set_city_loader(ensure_city)
                open_city()
                if scale.distributed() and scale.role() == "all":  # an API process of a city on Redis
                    scale.set_role("api")
                detach = streams.connect(bus, consume=scale.role() != "api")
                stop = slices.start(installed)
                # scheduled work: here when embedded; the background workers run it in the distributed mode
                stop_schedules = slices.start_schedules(installed) if scale.runs_schedules() else None
                try:
                    yield
                finally:
                    if stop_schedules is not None:
                        stop_schedules()
                    stop()
                    detach()
        finally:
            deactivate()

    app = FastAPI(
        title="aicity",
        version=__version__,
        description="城市超级助理与城市智能中枢 API — the AI CITY super assistant and city hub",
        lifespan=lifespan,
    )
    install_handlers(app)
    answer_unavailable(app, scale.connection_errors(), "Redis")
    app.add_middleware(JsonBodyCheck)  # NaN, lone surrogates, deep nesting: 400 at the door
    for s in installed:
        for declared in s.routers:
            app.include_router(slices.resolve(declared.ref),
                               responses=PROBLEM_RESPONSES if declared.problems else None,
                               dependencies=[Depends(slices.resolve(d)) for d in declared.dependencies] or None)
    for path, sub in mounted:  # the path itself, and below it
        app.router.routes.append(Route(path, sub.app, include_in_schema=False))
        app.router.routes.append(Mount(path, sub.app))
    for s in installed:  # a slice's own assets, before the console's (a mount matches by prefix)
        if (folder := slices.static_dir(s)) is not None:
            app.mount(f"/static/{s.id}", StaticFiles(directory=folder), name=f"static-{s.id}")
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(static_dir() / "index.html")

    return app
