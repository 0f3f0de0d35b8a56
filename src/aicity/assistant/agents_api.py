"""Agent cards over HTTP (A2A style discovery)."""

from __future__ import annotations

from fastapi import APIRouter

from aicity.agents.schemas import AgentCard
from aicity.assistant.service import assistant

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


@router.get("", response_model=list[AgentCard], summary="智能体列表 Agent cards")
def agents() -> list[dict]:
    return [a.card() for a in assistant().registry.agents()]
