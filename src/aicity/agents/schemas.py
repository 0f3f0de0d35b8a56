"""Agent cards as the HTTP API answers them (A2A-style discovery)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aicity.agents.base import RiskLevel


class SkillCard(BaseModel):
    id: str
    name: str
    description: str
    examples: list[str]
    risk: RiskLevel
    roles: list[str] | None = Field(description="可调用的角色；null 表示所有角色 roles allowed; null: everyone")
    modes: list[str] = Field(description="技能服务的助理模式 the assistant modes it serves: service_guide, report, data …")
    input_schema: dict[str, Any] = Field(description="技能输入的 JSON Schema the skill's typed input")


class AgentCard(BaseModel):
    id: str
    name: str
    department: str
    description: str
    source: str = Field(description="builtin | entry point | declarative YAML")
    skills: list[SkillCard]
