"""Twin tables: NGSI-LD entities, their attribute history, and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class TwinEntity(Base):
    """One NGSI-LD entity; attribute names are stored as short terms (compacted under the core context)."""

    __tablename__ = "twin_entities"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    type: Mapped[str] = mapped_column(String(256), index=True)
    #: attribute name → normalized NGSI-LD attribute (Property / Relationship / GeoProperty …)
    attrs: Mapped[dict[str, Any]]
    #: a point for the `location` GeoProperty (a non-point geometry's first vertex), for geo-queries
    lat: Mapped[float | None] = mapped_column(Float, index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    #: the `location` GeoJSON geometry as given
    geometry: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime] = mapped_column(index=True)


class TwinAttributeInstance(Base):
    """One value an attribute had, for temporal retrieval (`/temporal/entities/{id}`)."""

    __tablename__ = "twin_attribute_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(String(256), index=True)
    attr: Mapped[str] = mapped_column(String(256))
    #: the whole attribute as it was (value, observedAt, unitCode, sub-attributes)
    body: Mapped[dict[str, Any]]
    #: observedAt of the attribute, else the time the change was stored
    observed_at: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime]


class TwinSubscription(Base):
    """An NGSI-LD subscription; `body` is the subscription as the client wrote it (normalized)."""

    __tablename__ = "twin_subscriptions"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    body: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    times_sent: Mapped[int] = mapped_column(Integer, default=0)
    times_failed: Mapped[int] = mapped_column(Integer, default=0)
    last_notification: Mapped[datetime | None]
    last_success: Mapped[datetime | None]
    last_failure: Mapped[datetime | None]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]
