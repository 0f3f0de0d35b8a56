"""Audit ledger tables (the kernel's `audit.py`): the append-only entries and the signed tree heads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class AuditEntry(Base):
    """One audited action. `seq` is 1-based: entry `seq` is leaf `seq - 1` of the Merkle tree."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]]
    #: hex SHA-256(0x00 ‖ canonical JSON of the fields above)
    leaf_hash: Mapped[str] = mapped_column(String(64))


class AuditTreeHead(Base):
    """A signed tree head: the root of the first `tree_size` entries at `time` (milliseconds)."""

    __tablename__ = "audit_tree_heads"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    root_hash: Mapped[str] = mapped_column(String(64))
    #: hex Ed25519 signature over RFC 6962's TreeHeadSignature bytes
    signature: Mapped[str] = mapped_column(String(128))
