"""IoT tables: devices, their readings (attribute history), rules, alarms and commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class Device(Base):
    """A sensor or actuator. `type` is a Smart Data Models name (GasSensor, Streetlight …)."""

    __tablename__ = "iot_devices"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str | None] = mapped_column(String(40), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    #: SHA-256 of the device's own credential; the plaintext is shown once and never stored
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "provisioning-key" for a self-registered device, else the staff actor who created it
    provisioned_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime | None]


class Reading(Base):
    """One observed value of one attribute; inserted in batches."""

    __tablename__ = "iot_readings"
    __table_args__ = (Index("ix_iot_readings_device_attr_time", "device_id", "attribute", "observed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(80))
    attribute: Mapped[str] = mapped_column(String(60))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="")
    observed_at: Mapped[datetime]


class Rule(Base):
    """threshold (value above/below a limit), rate (change per minute above/below a limit) or
    no_data (silent for `seconds`), for a device type or one device."""

    __tablename__ = "iot_rules"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    device_type: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(80))
    attribute: Mapped[str | None] = mapped_column(String(60))
    direction: Mapped[str] = mapped_column(String(6), default="above")
    limit: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(10))
    #: the event category an alarm of this rule files; default: from the device type
    category: Mapped[str | None] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Alarm(Base):
    """One condition on one device. While open (active or acknowledged) it is unique per
    rule and device: `open_key` is "rule:device" then and NULL once cleared."""

    __tablename__ = "iot_alarms"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), index=True)
    device_id: Mapped[str] = mapped_column(String(80), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(14), index=True)
    open_key: Mapped[str | None] = mapped_column(String(130), unique=True)
    message: Mapped[str] = mapped_column(String(500))
    value: Mapped[float | None] = mapped_column(Float)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)
    event_id: Mapped[str | None] = mapped_column(String(40))
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(120))



class Command(Base):
    """A command to an actuator (close a valve, open a gate …): pending until delivered (over
    MQTT, or fetched by the device over HTTP), then acknowledged by the device, or failed after
    its bounded retries time out."""

    __tablename__ = "iot_commands"
    __table_args__ = (Index("ix_iot_commands_device_status", "device_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(80))
    command: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]]
    #: pending (waiting to be delivered) · sent · acknowledged · failed
    status: Mapped[str] = mapped_column(String(14), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    #: deliveries so far (the first one included)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    #: when the current attempt began; its timeout counts from here
    attempted_at: Mapped[datetime]
    acked_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None]
