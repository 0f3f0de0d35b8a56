"""Passage vectors kept in the city's database: the source of truth every process reads.

A vector depends only on the model and the text, so it is keyed by (model, SHA-1 of the text).
Embedded, the process that computes a vector writes it here as well as to the per-user disk
cache; in the distributed mode the API processes compute none: a background worker on the
`embed` queue writes them (core/embeddings.py `BackgroundVectors`) and every API process reads
them from here, so a restart or a new worker never recomputes what the city already has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
from sqlalchemy import LargeBinary, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base, database

log = logging.getLogger(__name__)

#: keys per SELECT … IN (…): well inside SQLite's and PostgreSQL's parameter limits
LOOKUP_CHUNK = 500
#: what a missing table (a database not migrated yet, e.g. a script's scratch dir) raises
_NO_TABLE = (OperationalError, ProgrammingError)


class TextVector(Base):
    __tablename__ = "text_vectors"

    model: Mapped[str] = mapped_column(String(120), primary_key=True)
    #: SHA-1 of the text, hex
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: float32, little-endian
    vector: Mapped[bytes] = mapped_column(LargeBinary)


def stored(model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
    """The vectors of `model` the database holds for `keys` (those it lacks are left out)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, np.ndarray] = {}
    try:
        with database().session() as s:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = s.execute(select(TextVector.key, TextVector.vector).where(
                    TextVector.model == model, TextVector.key.in_(wanted[start:start + LOOKUP_CHUNK])))
                found.update((key, np.frombuffer(blob, dtype="<f4").copy()) for key, blob in rows)
    except _NO_TABLE:
        log.debug("no text_vectors table in %s: vectors are not kept there", database().url, exc_info=True)
    return found


def store(model: str, vectors: dict[str, np.ndarray]) -> None:
    """Keep `vectors` (key → vector) of `model`; a key another process stored first is left as it is."""
    if not vectors:
        return
    rows = [{"model": model, "key": k, "vector": np.asarray(v, dtype="<f4").tobytes()} for k, v in vectors.items()]
    try:
        with database().session() as s:
            dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
            s.execute(dialect.insert(TextVector).values(rows).on_conflict_do_nothing())
    except _NO_TABLE:
        log.debug("no text_vectors table in %s: %d vectors not kept", database().url, len(rows), exc_info=True)
