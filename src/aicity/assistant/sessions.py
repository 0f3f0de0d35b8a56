"""Multi-turn sessions, stored so that a conversation survives restarts and workers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import inspect

from aicity.assistant.models import AssistantSession
from aicity.core.db import database
from aicity.core.errors import not_found
from aicity.core.ids import new_id, utcnow
from aicity.identity.models import Role
from aicity.identity.service import Principal

#: turns kept per session (the oldest are dropped)
MAX_TURNS = 50


#: a keyless session's owner is this prefix and the digest of the token minted for it
TOKEN_OWNER = "tok:"


class Local:
    """Passed as the session token by a caller inside this process (the CLI, an evaluation run),
    which holds the database itself: it continues keyless sessions without their token. No
    value sent over HTTP is ever this object."""


LOCAL = Local()


def token_owner(token: str) -> str:
    """What is stored as the owner of a keyless session and its traces: a digest of its token
    (the token itself is never stored; 128 bits of the SHA-256 fit the owner column)."""
    return TOKEN_OWNER + hashlib.sha256(token.encode()).hexdigest()[:32]


def may_read(owner: str | None, principal: Principal, token: str | Local | None = None) -> bool:
    """A session or trace is its owner's: the key that made it, or, when it was made without a
    key, whoever presents the session token returned to that requester. Admins read every one.
    A keyless run without an owner (an old row, a run refused before its session opened) is
    read by admins only: its id alone never opens it."""
    if principal.role == Role.admin:
        return True
    if owner is None:
        return False
    if owner.startswith(TOKEN_OWNER):
        if principal.key_id is not None or token is None:
            return False
        return isinstance(token, Local) or hmac.compare_digest(owner, token_owner(token))
    return principal.key_id == owner


def open_session(session_id: str | None, principal: Principal,
                 token: str | Local | None = None) -> tuple[AssistantSession, str | None]:
    """The session continued (its owner's only) or a new one, and the session token a keyless
    caller must present to continue or read it (minted for a new keyless session; None with a key).
    A new session is not stored here: `record_turn` stores it with its first turn, in the run's
    one transaction (a run that fails before its answer leaves no empty session behind)."""
    if session_id:
        with database().session() as s:
            session = s.get(AssistantSession, session_id)
        # another caller's session is answered as unknown: its id reveals nothing
        if session is None or not may_read(session.owner, principal, token):
            raise not_found(f"会话 '{session_id}' 不存在 unknown session", "unknown-session")
        return session, token if isinstance(token, str) and principal.key_id is None else None
    minted = secrets.token_urlsafe(24) if principal.key_id is None else None
    now = utcnow()
    session = AssistantSession(id=new_id("ses"), role=principal.role.value,
                               owner=principal.key_id if minted is None else token_owner(minted),
                               created_at=now, updated_at=now, turns=[], pending=None, slots={})
    return session, minted


def record_turn(session: AssistantSession, text: str, answer: str, pending: dict[str, Any] | None,
                slots: dict[str, Any]) -> None:
    """Append a turn to `session` (as `open_session` returned it): a new session is inserted with it
    (one statement), a stored one is read again and updated (a turn stored meanwhile is kept)."""
    turn = {"q": text, "a": answer[:2000], "at": utcnow().isoformat()}
    with database().session() as s:
        stored = s.get(AssistantSession, session.id) if inspect(session).has_identity else None
        if stored is None:
            stored = session
            s.add(stored)
        stored.turns = [*stored.turns, turn][-MAX_TURNS:]
        stored.pending = pending
        stored.slots = slots
        stored.updated_at = utcnow()


def get_session(session_id: str, principal: Principal, token: str | Local | None = None) -> AssistantSession:
    with database().session() as s:
        session = s.get(AssistantSession, session_id)
    if session is None or not may_read(session.owner, principal, token):
        raise not_found(f"会话 '{session_id}' 不存在 unknown session", "unknown-session")
    return session
