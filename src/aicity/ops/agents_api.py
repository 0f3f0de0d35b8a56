"""Agent operations over HTTP: feedback on answers, the operations report and the assessment (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.concurrency import run_in_threadpool

from aicity.core.errors import forbidden
from aicity.identity.api import Caller
from aicity.identity.service import acting_principal
from aicity.ops import agents, assessment
from aicity.ops.schemas import AgentOps, Assessment, FeedbackRequest, FeedbackView

feedback_router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])
router = APIRouter(prefix="/api/v1/ops", tags=["ops"])

SessionToken = Annotated[str | None, Header(alias="X-Session-Token", max_length=100,
                                            description="无 key 会话的令牌 a keyless session's token")]


@feedback_router.post("/feedback", response_model=FeedbackView, status_code=201,
                      summary="对回答点赞或点踩 Rate an answer")
def give_feedback(body: FeedbackRequest, principal: Caller, token: SessionToken = None) -> dict:
    """👍/👎 and a reason on an answer, by whoever may read its trace: the key that asked, or a keyless
    asker presenting the session token (`X-Session-Token`) returned with the answer. Others: 404."""
    return agents.give_feedback(body.trace_id, body.rating, body.reason, acting_principal(principal, None), token)


@router.get("/agents", response_model=AgentOps, summary="智能体运营（工作人员）Agent operations (staff)")
async def agent_operations(principal: Caller, days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict:
    """Per agent and skill: volume, success, abstentions, latency, tokens, feedback; the questions
    nobody served, clustered."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return await run_in_threadpool(agents.agent_report, days)


@router.get("/assessment", response_model=Assessment, summary="智慧城市评估（工作人员）The assessment (staff)")
async def assessment_report(principal: Caller, days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict:
    """The five dimensions from what the platform measures and the city's questionnaire, weakest first."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return await run_in_threadpool(assessment.assess, None, days)
