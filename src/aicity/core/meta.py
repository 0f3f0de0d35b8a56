"""A small key/value table for facts about the installation itself (e.g. loaded data versions)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base, database


class MetaValue(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def get_meta(key: str) -> str | None:
    with database().session() as s:
        row = s.get(MetaValue, key)
        return row.value if row else None


def set_meta(key: str, value: str) -> None:
    with database().session() as s:
        s.merge(MetaValue(key=key, value=value))
