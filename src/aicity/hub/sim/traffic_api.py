"""`GET /api/v1/sim/traffic/corridors` (staff): the corridors the signal-timing simulation knows, with
their crossings — what the 推演模拟 page offers. Runs themselves are jobs: `POST /api/v1/sim/jobs`
with `kind: "traffic"` (`api.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aicity.hub.sim import traffic, traffic_corridor
from aicity.hub.sim.api import _staff as staff_only
from aicity.identity.api import Caller

router = APIRouter(prefix="/api/v1/sim/traffic", tags=["sim"])


class Corridor(BaseModel):
    name: str
    district: str
    length_m: float
    crossings: list[str] = Field(description="信号路口 the signalised crossings, in order")


class CorridorList(BaseModel):
    corridors: list[Corridor]


def _list() -> dict[str, Any]:
    out = []
    for name in traffic.corridors():
        c = traffic_corridor.build(name)
        out.append({"name": name, "district": c["district"], "length_m": c["length_m"],
                    "crossings": [x["name"] for x in c["crossings"]]})
    return {"corridors": out}


@router.get("/corridors", response_model=CorridorList, summary="可仿真的干道 Corridors")
async def corridors(principal: Caller) -> dict[str, Any]:
    staff_only(principal)
    return await run_in_threadpool(_list)
