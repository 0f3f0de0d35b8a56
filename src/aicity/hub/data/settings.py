"""`[aicity.data]`: the data hub's settings (each key also `AICITY_DATA_<KEY>`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class DataSettings(BaseModel):
    """[aicity.data]: analytical store, row limit, snapshot date, pseudonymisation key"""

    model_config = ConfigDict(extra="forbid")

    store_path: Path | None = Field(
        default=None, description="the DuckDB file; default <data_dir>/data/hub.duckdb")
    store_url: SecretStr | None = Field(
        default=None, description="PostgreSQL for the analytical store, shared by every process "
                                  "(postgresql+psycopg://user:pw@host/db); empty: the embedded DuckDB file")
    store_read_url: SecretStr | None = Field(
        default=None, description="a read-only role's URL for the queries that answer questions (default store_url)")
    store_schema: str = Field(default="hub_data", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                              description="the PostgreSQL schema of the store's tables and views")
    query_timeout_s: float = Field(default=10.0, gt=0, le=600,
                                   description="statement_timeout of the store's read queries on PostgreSQL")
    row_limit: int = Field(default=1000, ge=1, le=100_000, description="most rows a query or a sample returns")
    sample_rows: int = Field(default=20, ge=0, le=1000, description="sample rows shown on a dataset page")
    snapshot_date: dt.date = Field(
        default=dt.date(2025, 12, 31), description="the date relative phrases resolve against (the pack's snapshot)")
    max_import_bytes: int = Field(default=200 * 1024 * 1024, ge=1, description="largest file an import accepts")
    pseudonym_key_file: Path | None = Field(
        default=None, description="file holding the HMAC key of keyed pseudonymisation (keep it outside the data dir)")
    pseudonym_key: SecretStr | None = Field(
        default=None, description="the HMAC key itself (AICITY_DATA_PSEUDONYM_KEY); the file wins when both are set")
    min_group_size: int = Field(default=5, ge=2, description="groups smaller than this are suppressed in releases")

    @field_validator("store_path", "pseudonym_key_file", "store_url", "store_read_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None
