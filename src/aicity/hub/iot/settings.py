"""`[aicity.iot]`: the IoT hub's settings (each key also `AICITY_IOT_<KEY>`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class IotSettings(BaseModel):
    """[aicity.iot]: provisioning key, MQTT broker, offline threshold, command_policy"""

    model_config = ConfigDict(extra="forbid")

    provisioning_key: str | None = Field(default=None, description="the key a device presents to provision itself")
    mqtt_url: str | None = Field(
        default=None, description="e.g. mqtt://127.0.0.1:1883 (mqtts:// for TLS, user:password@ allowed); none: no MQTT")
    offline_after_s: int = Field(default=300, ge=1, description="a device silent this long is offline")
    command_policy: dict[str, str] = Field(
        default_factory=dict,
        description='"Type.command" or "Type.*" → direct | approval (another value is ignored, with a warning)')

    @field_validator("provisioning_key", "mqtt_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None
