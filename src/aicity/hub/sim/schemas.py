"""What `/api/v1/sim` takes and answers: simulation jobs and the flood simulation's result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FloodJobRequest(BaseModel):
    """A flood simulation: a design storm of return period P, or the live rain gauges."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["flood"] = "flood"
    rain: Literal["design", "gauges"] = Field("design", description="design：设计暴雨；gauges：实时雨量站读数持续")
    return_period: float | None = Field(None, description="重现期（年，2–100）the design storm's return period")
    duration_min: int = Field(120, description="降雨历时（分钟）the storm's duration")
    district: str | None = Field(None, max_length=40, description="只模拟一个区 one district (江滨区 / jiangbin)")
    river_level_m: float | None = Field(None, description="外江（湖）水位 the river/lake level at the outfalls, m")
    peak_ratio: float | None = Field(None, description="雨峰系数 r (0.1–0.9)")
    warn: bool = Field(False, description="为积水点向水务部门立事件 file events for the flooded places")
    wait_s: float = Field(0, ge=0, le=60, description="等待完成的秒数 wait this long for the result")

    def params(self) -> dict[str, Any]:
        out = self.model_dump(exclude={"kind", "wait_s"}, exclude_none=True)
        return out


class FloodedPlace(BaseModel):
    node: str
    place: str
    road: str | None
    district: str
    district_name: str
    kind: str
    kind_label: str
    watch_point: str | None
    lat: float
    lon: float
    max_depth_m: float = Field(description="最大积水深度 peak water depth above the road, m")
    max_at: str | None
    start: str | None = Field(description="积水超过 15 cm 的时刻 when the water first stood 15 cm deep")
    duration_min: float = Field(description="积水超过 15 cm 的时长 minutes at 15 cm or more")
    overflow_m3: float = Field(description="溢流量 water that left the drains, m³")


class OutfallResult(BaseModel):
    id: str
    district: str
    water: str
    lat: float
    lon: float
    peak_flow_m3_s: float
    volume_m3: float
    water_level_m: float | None
    crown_m: float
    submerged: bool = Field(description="外江（湖）水位高于排口管顶 the outfall is submerged")


class Recommendation(BaseModel):
    id: str
    kind: Literal["open_gate", "deploy_pumps"]
    district: str
    device_id: str | None
    places: list[str]
    label: str
    reason: str
    actuation: bool = Field(description="可转为审批请求 can become an approval request")


class FloodResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    engine: str
    job_id: str
    scenario: dict[str, Any]
    flooded: list[FloodedPlace]
    outfalls: list[OutfallResult]
    comparison: dict[str, Any] = Field(description="与内涝预警质量守恒模型的对比 beside the waterlogging watch")
    recommendations: list[Recommendation]
    forecast_entities: list[str]
    warnings: int
    events: list[str]
    continuity_error_pct: dict[str, float]
    max_depth_m: float
    total_overflow_m3: float


class JobView(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    status_label: str
    progress: float = Field(description="0–1")
    message: str
    params: dict[str, Any]
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    time_limit_s: float
    error: str | None
    cancel_requested: bool
    result: dict[str, Any] | None = None


class JobPage(BaseModel):
    total: int
    jobs: list[JobView]


class ActionRequest(BaseModel):
    recommendation: str = Field(max_length=80, description="建议编号，如 open_gate:jiangbin")


class ActionOutcome(BaseModel):
    job_id: str
    recommendation: str
    decision: str = Field(description="approval-required | denied | refused")
    approval_id: str | None
    title: str
    body: str
