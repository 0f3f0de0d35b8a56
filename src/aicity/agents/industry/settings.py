"""`[aicity.industry]`: the pipeline's per-stage limits and the year's targets (demo-city assumptions)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

STAGES = ("线索", "立项", "分派", "协同", "落地", "移交", "考核")


class IndustrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: days a project may stay in a stage before it is flagged as stalled (demo-city assumptions)
    stage_limit_days: dict[str, int] = Field(default_factory=lambda: {
        "线索": 30, "立项": 20, "分派": 7, "协同": 60, "落地": 180, "移交": 30, "考核": 365})
    #: the year's targets: projects approved (立项), landed (落地) and the investment landed (亿元)
    target_approved: int = Field(default=12, ge=0)
    target_landed: int = Field(default=6, ge=0)
    target_investment_100m_yuan: float = Field(default=60.0, ge=0)

    @field_validator("stage_limit_days")
    @classmethod
    def _every_stage(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown stage(s) {sorted(unknown)}; stages are {', '.join(STAGES)}")
        if any(v <= 0 for v in value.values()):
            raise ValueError("limits must be positive days")
        return value
