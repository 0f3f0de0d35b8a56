"""The storage layer on every supported database: SQLite (WAL) and a real PostgreSQL.

Each case builds a fresh city on the database, works through every slice's tables, and
switches the process back to the session's city afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from aicity.assistant.service import assistant
from aicity.core.db import database, use_database
from aicity.core.meta import get_meta, set_meta
from aicity.core.tracing import get_trace
from aicity.demo.loader import FILES_KEY, VERSION_KEY, ensure_city, files_fingerprint
from aicity.hub.catalog import service as catalog
from aicity.hub.knowledge import service as kb
from aicity.identity import service as identity
from aicity.identity.models import ApiKey, Role
from aicity.identity.service import Principal


@pytest.fixture
def storage(blank_database: tuple[str, str]) -> str:
    """The process on an empty database of each engine (conftest's `blank_database` switches back)."""
    engine, url = blank_database
    use_database(url)
    return engine


def test_city_loads_and_reloads_idempotently(storage: str) -> None:
    assert ensure_city() is True
    assert get_meta(VERSION_KEY)
    stats = kb.document_stats()
    assert stats["documents"] == 94 and stats["chunks"] > 4000
    assert len(catalog.catalog().items) >= 10
    assert ensure_city() is False  # second start: nothing to do
    assert kb.document_stats() == stats
    set_meta(FILES_KEY, "files touched since")  # same content: the version is hashed again, nothing reloaded
    assert ensure_city() is False
    assert get_meta(FILES_KEY) == files_fingerprint()


def test_sqlite_runs_in_wal_mode(storage: str) -> None:
    if storage != "sqlite":
        pytest.skip("SQLite only")
    ensure_city()
    with database().engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_keys_are_hashed_at_rest(storage: str) -> None:
    ensure_city()
    key, plaintext = identity.create_api_key("dashboard", "official", "market")
    with database().session() as s:
        stored = s.scalar(select(ApiKey).where(ApiKey.id == key.id))
        assert plaintext not in (stored.key_hash, stored.prefix)
        dump = " ".join(str(v) for v in s.execute(select(ApiKey.__table__)).all())
    assert plaintext not in dump
    assert identity.authenticate(plaintext) == Principal(Role.official, "market", key.id)
    identity.revoke_api_key(key.id)
    with pytest.raises(Exception, match="revoked|吊销"):
        identity.authenticate(plaintext)


def test_assistant_run_persists_trace_and_session(storage: str) -> None:
    ensure_city()
    result = assistant().ask("食品安全法第三十五条怎么规定的", Principal(Role.citizen))
    trace = get_trace(result.trace_id)
    assert trace is not None and trace.session_id == result.session_id
    assert [s["name"] for s in trace.steps][:1] == ["plan"]
    assert any(s["name"] == "skill" for s in trace.steps)
    follow = assistant().ask("那违反了会怎么处罚", Principal(Role.citizen), result.session_id)
    assert follow.session_id == result.session_id
