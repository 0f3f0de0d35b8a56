"""What the city-safety API answers: the waterlogging outlook (内涝预警) and the warnings it files."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Seen(BaseModel):
    """The nearest fresh reading of one kind of sensor."""

    device_id: str
    value: float
    at: str
    rate_per_h: float | None = Field(description="按新鲜读数拟合的每小时涨幅 rise per hour; null: too few readings")


class WaterloggingOutlook(BaseModel):
    id: str
    name: str
    road: str
    label: str
    district: str
    kind: str
    lat: float
    lon: float
    level: str = Field(description="预警等级 the warning level")
    level_label: str
    horizon_min: int
    capacity_mm_h: float = Field(description="排水能力 the drainage capacity, mm/h")
    design_period_years: float = Field(description="设计重现期 the design return period, years")
    depth: Seen | None
    rain: Seen | None
    river: Seen | None
    backwater: bool = Field(description="河水顶托 the river level submerges the outfall")
    rate_m_per_h: float | None
    predicted_depth_m: float | None
    minutes_to_flood: int | None = Field(description="距积水 15 cm 的分钟数；0 表示已积水；null 表示未上涨 "
                                                     "minutes until 15 cm; 0: already; null: not rising")
    closure: bool = Field(description="建议封路 the road should close")
    reasons: list[str]


class WaterloggingWarning(WaterloggingOutlook):
    """An outlook that filed (or joined) an event for the water department."""

    event_id: str
    report_id: str
    merged: bool
