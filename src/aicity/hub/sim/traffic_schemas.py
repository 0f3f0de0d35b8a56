"""What `/api/v1/sim` takes and answers for the corridor signal-timing simulation (kind `traffic`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TrafficJobRequest(BaseModel):
    """A corridor's peak hour under the plan running now and (with `optimize`) the optimised plan."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["traffic"]
    corridor: str = Field(max_length=40, description="干道名称，如 解放大道 (a gazetteer road the traffic dataset counts)")
    optimize: bool = Field(True, description="计算并仿真优化配时（韦伯斯特 + 绿波）")
    period: Literal["am", "pm"] = Field("am", description="am 早高峰 | pm 晚高峰")
    measured_s: int | None = Field(None, description="统计时长（秒，300–7200，默认 3600）")
    warmup_s: int | None = Field(None, description="预热时长（秒，0–1800，默认 600）")
    seed: int | None = Field(None, description="随机种子 (the same vehicles for both plans)")
    wait_s: float = Field(0, ge=0, le=60, description="等待完成的秒数 wait this long for the result")

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"kind", "wait_s"}, exclude_none=True)


class TrafficFigures(BaseModel):
    """One plan's peak hour in SUMO (vehicles due to depart in the measured period)."""

    travel_time_s: float | None = Field(description="干道全程行程时间（两个方向的均值，含进入路网前的等待）")
    travel_time_by_direction_s: dict[str, float | None]
    delay_s: float | None = Field(description="全部车辆的车均延误（时间损失 + 进入等待）")
    corridor_delay_s: float | None = Field(description="干道全程车辆的车均延误")
    queue_m: float = Field(description="各信号进口道最长排队的平均值")
    corridor_queue_m: float = Field(description="干道进口道最长排队的平均值")
    max_queue_m: float
    throughput_veh_h: int = Field(description="统计时段内完成行程的车辆数（每小时）")
    vehicles: int
    unfinished: int = Field(description="仿真结束时仍在路网中的车辆")
    undeparted: int = Field(description="仿真结束时仍未能进入路网的车辆")
    teleports: int = Field(description="SUMO 因长时间停滞移走的车辆次数")


class SignalPlanRecommendation(BaseModel):
    id: str
    kind: Literal["signal_plan"]
    district: str
    device_id: str | None
    places: list[str]
    label: str
    reason: str
    actuation: bool
    params: dict[str, Any] = Field(description="TrafficSignal.set_plan 的参数（plan=peak 与该路口的周期、相位差、绿灯）")


class TrafficResult(BaseModel):
    engine: Literal["sumo"]
    job_id: str
    corridor: str
    district: str
    demand: dict[str, Any] = Field(description="高峰小时与各方向流量（traffic_flow_hourly 工作日均值）")
    before: TrafficFigures = Field(description="现行配时 the plan running now")
    after: TrafficFigures | None = Field(description="优化配时 the optimised plan (with optimize)")
    change_pct: dict[str, float | None] | None
    plan: dict[str, Any] | None = Field(description="优化配时：每个路口的 y、Y、C0、周期、相位差、绿灯")
    current_plan: dict[str, Any]
    network: dict[str, Any]
    simulation: dict[str, Any]
    recommendations: list[SignalPlanRecommendation]
