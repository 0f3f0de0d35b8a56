"""Identifiers and time."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str) -> str:
    """A time-sortable id: `prefix_` + 10 chars of milliseconds + 8 random chars."""
    ms = int(time.time() * 1000)
    head = "".join(_ALPHABET[(ms >> (5 * i)) & 31] for i in reversed(range(10)))
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{prefix}_{head}{tail}"


def secret_digest(secret: str) -> str:
    """What is stored instead of a key, credential or token: its SHA-256 (the secrets are 32
    random bytes or more, so a fast hash is safe) — and what a presented one is looked up by."""
    return hashlib.sha256(secret.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)
