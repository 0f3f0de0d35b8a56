"""Identity tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class Role(StrEnum):
    citizen = "citizen"
    enterprise = "enterprise"
    official = "official"
    operator = "operator"
    admin = "admin"


#: Roles anyone may claim without a key: the public faces of the assistant.
PUBLIC_ROLES = frozenset({Role.citizen, Role.enterprise})
#: Roles that see city data (not only services).
STAFF_ROLES = frozenset({Role.official, Role.operator, Role.admin})
#: who changes the city's devices, rules and twin (officials read them)
OPERATOR_ROLES = frozenset({Role.operator, Role.admin})


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    duties: Mapped[list[Any]]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the first characters of the key, shown in listings so people can tell keys apart
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    #: SHA-256 of the whole key; keys are 32 random bytes, so a fast hash is safe here
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
