"""Unserved requests (未覆盖诉求): questions about services the city's catalog does not have.

The assistant says so honestly and keeps the request (personal information masked) here, so the
operations team can see which services people ask for that the catalog lacks
(`aicity assistant unserved`, `GET /api/v1/assistant/unserved`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from aicity.assistant.models import UnservedRequest
from aicity.core.db import database
from aicity.core.ids import new_id, utcnow
from aicity.security import guard

TEXT_CHARS = 2000


def _json(row: UnservedRequest) -> dict[str, Any]:
    return {"id": row.id, "created_at": row.created_at.isoformat(), "text": row.text, "role": row.role,
            "mode": row.mode, "department": row.department, "law": row.law}


def record(text: str, role: str, mode: str, department: str | None, law: str | None) -> dict[str, Any]:
    row = UnservedRequest(id=new_id("uns"), created_at=utcnow(), text=guard.redact(text)[:TEXT_CHARS], role=role,
                          mode=mode, department=department, law=(law or None) and law[:200])
    with database().session() as s:
        s.add(row)
    return _json(row)


def recent(limit: int = 50) -> list[dict[str, Any]]:
    """The newest unserved requests first."""
    with database().session() as s:
        rows = s.scalars(select(UnservedRequest).order_by(UnservedRequest.created_at.desc()).limit(limit)).all()
        return [_json(r) for r in rows]
