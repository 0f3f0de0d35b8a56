"""Telemetry bodies, the same over HTTP and MQTT."""

from __future__ import annotations

from datetime import datetime

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
