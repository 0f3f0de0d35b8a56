"""City-safety HTTP API under `/api/v1/safety` (staff only).

- `GET /waterlogging?horizon_min=60&district=东湖区&at=…` — every watch point's waterlogging
  outlook (内涝预警), the most urgent first: level, depth now and predicted, minutes until 15 cm,
  why; `at` (ISO 8601, past) replays what the watch saw then.
- `POST /waterlogging/warnings?horizon_min=60` (operator or admin) — run the watch now: file an
  event for the water department for each road flooded or about to flood (the server also runs
  it every `[aicity.safety] flood_check_s`); returns the warnings filed by this run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from aicity.agents.city_safety import flood
from aicity.agents.city_safety.schemas import WaterloggingOutlook, WaterloggingWarning
from aicity.core.errors import forbidden, unauthorized
from aicity.identity.api import Caller
from aicity.identity.models import Role
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/safety", tags=["city_safety"])

Horizon = Annotated[int, Query(ge=flood.HORIZONS[0], le=flood.HORIZONS[1], description="预测时长（分钟）minutes ahead")]


def _allowed(principal: Principal | None, roles: frozenset[Role]) -> None:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if principal.role not in roles:
        raise forbidden("无权查看或运行内涝预警 not allowed for this role")


@router.get("/waterlogging", response_model=list[WaterloggingOutlook],
            summary="内涝预警 Waterlogging outlook per watch point")
async def waterlogging(principal: Caller, horizon_min: Horizon = flood.DEFAULT_HORIZON_MIN,
                       district: Annotated[str | None, Query(max_length=40)] = None,
                       at: Annotated[datetime | None, Query(description="回看某一时刻 a past moment")] = None,
                       ) -> list[dict[str, Any]]:
    _allowed(principal, frozenset({Role.official, Role.operator, Role.admin}))
    return flood.outlook_json(await run_in_threadpool(flood.outlook, horizon_min, district, flood.as_of(at)))


@router.post("/waterlogging/warnings", response_model=list[WaterloggingWarning],
             summary="立即运行内涝预警 Run the waterlogging watch now")
async def run_warnings(principal: Caller, horizon_min: Horizon = flood.DEFAULT_HORIZON_MIN) -> list[dict[str, Any]]:
    _allowed(principal, frozenset({Role.operator, Role.admin}))
    return await run_in_threadpool(flood.warn, horizon_min)
