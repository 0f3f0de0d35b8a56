"""Assistant sessions: a new session is stored with its first turn, in the run's one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.assistant import sessions
from aicity.assistant.service import assistant
from aicity.core.errors import Problem
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)


def test_a_new_session_is_stored_with_its_first_turn(city: Path) -> None:
    session, token = sessions.open_session(None, CITIZEN)
    assert token is not None and session.owner == sessions.token_owner(token)
    with pytest.raises(Problem) as unknown:  # nothing stored before its first turn
        sessions.get_session(session.id, CITIZEN, token)
    assert unknown.value.status == 404
    sessions.record_turn(session, "第一句", "第一个回答", None, {"district": "gucheng"})
    stored = sessions.get_session(session.id, CITIZEN, token)
    assert [t["q"] for t in stored.turns] == ["第一句"] and stored.slots == {"district": "gucheng"}
    again, returned = sessions.open_session(session.id, CITIZEN, token)
    assert returned == token and again.turns == stored.turns
    sessions.record_turn(again, "第二句", "第二个回答" * 500, {"free_text": True}, {})
    stored = sessions.get_session(session.id, CITIZEN, token)
    assert [t["q"] for t in stored.turns] == ["第一句", "第二句"] and len(stored.turns[1]["a"]) == 2000
    assert stored.pending == {"free_text": True} and stored.created_at <= stored.updated_at


def test_another_callers_session_is_not_continued(city: Path) -> None:
    first = assistant().ask("你好", CITIZEN)
    with pytest.raises(Problem) as other:  # a keyless caller without the session's token
        sessions.open_session(first.session_id, CITIZEN, "not-the-token")
    assert other.value.status == 404
    with pytest.raises(Problem):
        sessions.open_session("ses_does_not_exist", CITIZEN, sessions.LOCAL)
    second = assistant().ask("谢谢", CITIZEN, first.session_id)
    assert second.session_id == first.session_id
    assert len(sessions.get_session(first.session_id, CITIZEN, sessions.LOCAL).turns) == 2
