"""The asset platform's tables (migration 0026)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class Asset(Base):
    """One digital resource of the city: `<kind>:<ref>` (`dataset:bus_ridership`, `model:chat-large`)."""

    __tablename__ = "asset_assets"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the department that owns it and approves applications for it
    owner: Mapped[str] = mapped_column(String(40), index=True)
    #: active | degraded | planned | retired | missing (a model group a declaration names, not served here)
    status: Mapped[str] = mapped_column(String(20))
    #: where the index learnt of it: declared (the city's YAML), data, registry, gateway, slices
    source: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class AssetLink(Base):
    """Lineage: `src` uses, is derived from or is hosted on `dst`."""

    __tablename__ = "asset_links"
    __table_args__ = (UniqueConstraint("src", "dst", "relation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    src: Mapped[str] = mapped_column(String(160), index=True)
    dst: Mapped[str] = mapped_column(String(160), index=True)
    #: uses | derived_from | hosted_on
    relation: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))


class AssetApplication(Base):
    """A department's application to use an asset, decided by the asset's owner."""

    __tablename__ = "asset_applications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(160), index=True)
    department: Mapped[str] = mapped_column(String(40), index=True)
    #: who applied (`role:key_id`)
    applicant: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(500))
    #: a monthly quota: tokens for a model, calls for an API; None: the owner's default
    quota: Mapped[int | None] = mapped_column(Integer)
    #: pending | approved | rejected | revoked
    status: Mapped[str] = mapped_column(String(12), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500))
    #: what was provisioned: {"type": "gateway_key" | "api_key" | "manual", "key_id"?, "prefix"?, ...}
    grant: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AssetProject(Base):
    """A digitalisation project: 立项 → 可研 → 初设 → 实施 → 验收 → 已验收."""

    __tablename__ = "asset_projects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(40), index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    #: [{stage, at, by}] — every move
    history: Mapped[list[Any]]
    #: the assets the project produces (asset ids)
    assets: Mapped[list[Any]]
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class AssetProjectDocument(Base):
    """A project document, filed at a stage: its kind, title and the sha256 of its content (kept in
    the data dir) or a reference to where it is kept (an office document number, a URL)."""

    __tablename__ = "asset_project_documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(40), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime]
