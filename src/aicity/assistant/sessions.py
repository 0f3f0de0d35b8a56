"""Multi-turn sessions, stored so that a conversation survives restarts and workers."""

from __future__ import annotations

from typing import Any

from aicity.assistant.models import AssistantSession
from aicity.core.db import database
from aicity.core.errors import not_found
from aicity.core.ids import new_id, utcnow
from aicity.identity.models import OPERATOR_ROLES
from aicity.identity.service import Principal

#: turns kept per session (the oldest are dropped)
MAX_TURNS = 50


def may_read(owner: str | None, role: str, principal: Principal) -> bool:
    """A session or trace is its owner's: the key that made it (a keyless one: whoever holds
    its id, in the same role); admins and operators read every one."""
    if principal.role in OPERATOR_ROLES:
        return True
    if owner is not None:
        return principal.key_id == owner
    return principal.key_id is None and principal.role.value == role


def open_session(session_id: str | None, principal: Principal) -> AssistantSession:
    with database().session() as s:
        if session_id:
            session = s.get(AssistantSession, session_id)
            # another caller's session is answered as unknown: its id reveals nothing
            if session is None or not may_read(session.owner, session.role, principal):
                raise not_found(f"会话 '{session_id}' 不存在 unknown session", "unknown-session")
            return session
        now = utcnow()
        session = AssistantSession(id=new_id("ses"), role=principal.role.value, owner=principal.key_id,
                                   created_at=now, updated_at=now, turns=[], pending=None, slots={})
        s.add(session)
        return session


def record_turn(session_id: str, text: str, answer: str, pending: dict[str, Any] | None,
                slots: dict[str, Any]) -> None:
    with database().session() as s:
        session = s.get(AssistantSession, session_id)
        session.turns = [*session.turns, {"q": text, "a": answer[:2000], "at": utcnow().isoformat()}][-MAX_TURNS:]
        session.pending = pending
        session.slots = slots
        session.updated_at = utcnow()


def get_session(session_id: str, principal: Principal) -> AssistantSession:
    with database().session() as s:
        session = s.get(AssistantSession, session_id)
    if session is None or not may_read(session.owner, session.role, principal):
        raise not_found(f"会话 '{session_id}' 不存在 unknown session", "unknown-session")
    return session
