"""The co-creation platform's tables: agents, their versions (each a whole definition), and
what people think of them (likes, favourites, ratings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class StudioAgent(Base):
    """One co-created agent: who owns it, who may see it, which version is live."""

    __tablename__ = "studio_agents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20), index=True)
    #: personal (the owner only), department (the owner's department), city (everyone it serves)
    visibility: Mapped[str] = mapped_column(String(12), index=True)
    #: draft (never published), published, withdrawn
    status: Mapped[str] = mapped_column(String(12), index=True)
    owner_key: Mapped[str] = mapped_column(String(80), index=True)
    owner_role: Mapped[str] = mapped_column(String(20))
    owner_department: Mapped[str | None] = mapped_column(String(40))
    #: the newest version and the one published (None while unpublished)
    latest_version: Mapped[int] = mapped_column(Integer)
    published_version: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StudioVersion(Base):
    """A whole definition as saved (never changed afterwards)."""

    __tablename__ = "studio_versions"
    __table_args__ = (UniqueConstraint("agent_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("studio_agents.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class StudioReaction(Base):
    """One person's like, favourite and rating (1–5) of one agent."""

    __tablename__ = "studio_reactions"
    __table_args__ = (UniqueConstraint("agent_id", "who"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("studio_agents.id", ondelete="CASCADE"), index=True)
    who: Mapped[str] = mapped_column(String(120))
    liked: Mapped[bool] = mapped_column(default=False)
    favourite: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]
