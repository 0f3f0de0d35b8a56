"""Telemetry bodies, the same over HTTP and MQTT."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from aicity.hub.iot.service import MAX_BATCH


class ReadingBody(BaseModel):
    device_id: str | None = Field(None, max_length=80, description="网关批量上报时必填 required from a gateway")
    attribute: str = Field(max_length=60, description="如 waterLevel、gasConcentration、temperature")
    value: float
    unit: str = Field("", max_length=20)
    observed_at: datetime | None = None


class BatchBody(BaseModel):
    readings: list[ReadingBody] = Field(min_length=1, max_length=MAX_BATCH)


#: one reading or a batch
Telemetry: TypeAdapter[BatchBody | ReadingBody] = TypeAdapter(BatchBody | ReadingBody)


# --- HTTP answers (read models) ---


class DeviceView(BaseModel):
    id: str
    type: str = Field(description="Smart Data Models 类型 e.g. GasSensor, WaterLevelObserved")
    name: str
    district: str | None
    lat: float | None
    lon: float | None
    provisioned_by: str
    created_at: str
    last_seen: str | None
    online: bool


class DeviceCreated(BaseModel):
    device: DeviceView
    credential: str = Field(description="设备凭证 X-Device-Key，只显示这一次 the device credential, shown this once")
    note: str


class ReadingView(BaseModel):
    attribute: str
    value: float
    unit: str
    observed_at: str


class AlarmView(BaseModel):
    id: str
    rule_id: str
    device_id: str
    severity: str = Field(description="low | medium | high | critical")
    status: str
    message: str
    value: float | None
    count: int = Field(description="告警持续期间触发的次数 how often it fired while open")
    first_seen: str
    last_seen: str
    event_id: str | None = Field(description="高等级告警转成的城市事件 the city event a high alarm filed")
    acknowledged_by: str | None
    cleared_at: str | None


class RuleView(BaseModel):
    id: str
    name: str
    kind: str = Field(description="threshold | rate | no_data")
    device_type: str | None
    device_id: str | None
    attribute: str | None
    direction: str = Field(description="above | below")
    limit: float | None
    seconds: int | None
    severity: str
    category: str | None
    enabled: bool
    created_at: str


class IngestResult(BaseModel):
    stored: int
    devices: int
    alarms: list[AlarmView] = Field(description="这批读数触发的告警 alarms the batch raised")


class FrameFinding(BaseModel):
    kind: str = Field(description="black | frozen | blur | occlusion")
    score: float
    threshold: float
    message: str


class FrameHealth(BaseModel):
    device_id: str
    healthy: bool
    findings: list[FrameFinding]
    alarms: list[AlarmView]


class CommandMessage(BaseModel):
    """What the device receives."""

    id: str
    command: str
    params: dict[str, Any]
    attempt: int


class CommandView(CommandMessage):
    device_id: str
    status: str
    actor: str
    attempts: int
    created_at: str
    attempted_at: str | None
    acked_at: str | None
    result: dict[str, Any] | None


class CommandQueued(BaseModel):
    """The command waits for a second person's approval (202, `Location: /api/v1/approvals/{id}`)."""

    status: Literal["approval-required"]
    approval: dict[str, Any] = Field(description="审批申请，同 GET /api/v1/approvals/{id} the approval request")
