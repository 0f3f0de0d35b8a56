"""Request and response models of `/api/v1/industry`."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Gap(BaseModel):
    chain: str
    district: str | None
    node: str
    position: str
    level: str
    label: str
    index: float
    reason: str
    leads: int


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: str = Field(min_length=1, max_length=200)
    chain: str = Field(min_length=1, max_length=40)
    node: str | None = Field(default=None, max_length=60)
    name: str | None = Field(default=None, max_length=200)
    owner: str = Field(min_length=1, max_length=80)
    department: str | None = Field(default="commerce", max_length=40)
    investment_100m_yuan: float | None = Field(default=None, ge=0, le=100000)
    jobs: int | None = Field(default=None, ge=0, le=10_000_000)
    note: str = Field(default="", max_length=2000)


class ProjectMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1, max_length=10, description="目标阶段：线索、立项、分派、协同、落地、移交、考核")
    note: str = Field(default="", max_length=2000)
    owner: str | None = Field(default=None, max_length=80, description="新的负责人（分派、移交时）")


class ProjectNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)
    remind_on: dt.date | None = None

