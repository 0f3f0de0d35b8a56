"""Catalog tables. Each entry is stored whole as validated JSON, keyed by its stable id;
department is a column so that listings and statistics can filter in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class CatalogEntry(Base):
    __tablename__ = "catalog_entries"

    #: item | bundle | policy | life_event
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    department_id: Mapped[str | None] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]
