"""The FastAPI app: mounts every slice's router and the console; loads the city at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from aicity import __version__
from aicity.agents import api as agents_api
from aicity.agents.city_safety import api as safety_api
from aicity.agents.city_safety import flood
from aicity.assistant import api as assistant_api
from aicity.assistant import openai_api
from aicity.core.errors import PROBLEM_RESPONSES, install_handlers
from aicity.hub.catalog import api as catalog_api
from aicity.hub.events import api as events_api
from aicity.hub.events import lifecycle as events_lifecycle
from aicity.hub.events import open311
from aicity.hub.events.classify import classifier
from aicity.hub.gateway import api as gateway_api
from aicity.hub.iot import api as iot_api
from aicity.hub.iot import mqtt as iot_mqtt
from aicity.hub.knowledge import api as knowledge_api
from aicity.hub.twin import api as twin_api
from aicity.hub.twin import mirror as _twin_mirror  # noqa: F401  (the twin follows device readings)
from aicity.identity import api as identity_api
from aicity.ops import api as ops_api
from aicity.security import api as audit_api
from aicity.security import approvals_api, auth_api, guard_api
from aicity.security import events_api as security_events_api
from aicity.web import router as console_router
from aicity.web import static_dir


def create_app(load_city: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if load_city:
            from aicity.assistant.service import assistant
            from aicity.cli_support import open_city

            open_city()
            assistant()  # build indexes now; route vectors compute in the background
            classifier()  # the events classifier trains now, not on the first citizen's report
            stop_sla_watcher = events_lifecycle.start_sla_watcher()
            stop_iot = iot_mqtt.start()  # the no-data watcher; the MQTT client when a broker is configured
            stop_flood_watch = flood.start_watch()
            yield
            stop_flood_watch()
            stop_iot()
            stop_sla_watcher()
            return
        yield

    app = FastAPI(
        title="aicity",
        version=__version__,
        description="城市超级助理与城市智能中枢 API — the AI CITY super assistant and city hub",
        lifespan=lifespan,
    )
    install_handlers(app)
    # the assistant answers a key (or an address without one) at most so often a minute
    app.include_router(assistant_api.router, responses=PROBLEM_RESPONSES,
                       dependencies=[Depends(auth_api.assistant_rate_limit)])
    for router in (
        assistant_api.traces, gateway_api.v1, gateway_api.router, knowledge_api.router,
        catalog_api.router, identity_api.router, agents_api.router, ops_api.router, ops_api.metrics, audit_api.router,
        guard_api.router, approvals_api.router, auth_api.router, security_events_api.router, events_api.router,
        open311.router, iot_api.router, safety_api.router, console_router,
    ):
        app.include_router(router, responses=PROBLEM_RESPONSES)
    app.include_router(twin_api.router)  # NGSI-LD answers with its own error bodies, not problem+json
    gateway_api.register_local_model(openai_api.MODEL_ID, openai_api.complete)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(static_dir() / "index.html")

    return app
