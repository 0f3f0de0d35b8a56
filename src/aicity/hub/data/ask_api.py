"""`POST /api/v1/data/ask`: 一句话问数 over HTTP. The caller's key decides the role and department
the question is answered for (no key: a citizen, who sees open data only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from aicity.core.errors import bad_request
from aicity.hub.data.ask import DataAnswer, ask
from aicity.identity.api import Caller
from aicity.identity.service import acting_principal

router = APIRouter(prefix="/api/v1/data", tags=["data"])


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        description="一句话问题 the question, Chinese or English", examples=["东湖区3月份有多少12345工单"])
    as_of: dt.date | None = Field(default=None, description="相对时间的基准日 the date 去年/上个月 resolve against")
    role: str | None = Field(default=None, description="act as this role (a staff role needs a key of it)")


@router.post("/ask", response_model=DataAnswer, summary="一句话问数 Ask the city's data in one sentence")
async def ask_route(body: AskRequest, principal: Caller) -> DataAnswer:
    who = acting_principal(principal, body.role)
    try:
        return await run_in_threadpool(ask, body.question, role=who.role.value, department=who.department,
                                       as_of=body.as_of)
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
