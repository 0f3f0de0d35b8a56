"""Twin tables: NGSI-LD entities, their scopes, their attribute history, and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class TwinEntity(Base):
    """One NGSI-LD entity; attribute names are stored as short terms (compacted under the core context)."""

    __tablename__ = "twin_entities"
    __table_args__ = (
        # a type's entities in query order (oldest first), so that a page needs no sort
        Index("ix_twin_entities_type_created", "type", "created_at", "id"),
        # geo-queries of a type read the boxes from the index, and fetch only the rows whose box fits
        Index("ix_twin_entities_type_bbox", "type", "min_lat", "max_lat", "min_lon", "max_lon"),
    )

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    type: Mapped[str] = mapped_column(String(256))
    #: attribute name → normalized NGSI-LD attribute (Property / Relationship / GeoProperty …), or
    #: an array of its instances told apart by datasetId
    attrs: Mapped[dict[str, Any]]
    #: the entity's scopes as given (queried through `twin_entity_scopes`)
    scope: Mapped[list[Any] | None]
    #: the bounding box of the `location` GeoProperty (its default instance), for geo-queries
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    #: the `location` GeoJSON geometry as given
    geometry: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime] = mapped_column(index=True)


class TwinEntityScope(Base):
    """One scope of an entity (`/Wuhan/Donghu`), a row each so that scope queries are SQL."""

    __tablename__ = "twin_entity_scopes"

    entity_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    scope: Mapped[str] = mapped_column(String(512), primary_key=True, index=True)


class TwinAttributeInstance(Base):
    """One value an attribute had, for temporal retrieval (`/temporal/entities/{id}`)."""

    __tablename__ = "twin_attribute_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(String(256), index=True)
    attr: Mapped[str] = mapped_column(String(256))
    #: the instance's datasetId (None: the default instance), so lastN counts per instance
    dataset_id: Mapped[str | None] = mapped_column(String(256))
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
