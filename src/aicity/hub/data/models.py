"""Data-hub metadata in the platform database (SQLite or PostgreSQL); the rows themselves live
in the analytical store (`store.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base


class Dataset(Base):
    """A dataset: its catalog entry and its grade (GB/T 43697-2024)."""

    __tablename__ = "data_datasets"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_department: Mapped[str | None] = mapped_column(String(40))
    #: 数据分类: domain and subject, e.g. "公共数据 · 生态环境监测"
    category: Mapped[str] = mapped_column(String(200), default="")
    #: update cadence: daily, monthly, yearly, once …
    cadence: Mapped[str] = mapped_column(String(40), default="")
    keywords: Mapped[list[Any]]
    #: declared relations: [{"column", "references": "dataset.column"}]
    relations: Mapped[list[Any]]
    #: where rows come from: file | platform:<table> | derived
    source: Mapped[str] = mapped_column(String(200), default="file")
    #: the declaration the next import checks against (`schema.DatasetSpec` as JSON)
    spec: Mapped[dict[str, Any] | None]
    #: core | important | general; level 1–4 within general data (higher = more sensitive)
    grade: Mapped[str] = mapped_column(String(20), default="general")
    sensitivity_level: Mapped[int] = mapped_column(Integer, default=2)
    suggested_grade: Mapped[str] = mapped_column(String(20), default="general")
    suggested_level: Mapped[int] = mapped_column(Integer, default=2)
    grade_reasons: Mapped[list[Any]]
    #: the data officer who confirmed the grade (None: only suggested so far)
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None]
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DatasetVersion(Base):
    """One import (or derivation): the store table `<id>__v<N>`."""

    __tablename__ = "data_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("data_datasets.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    table_name: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer)
    source_name: Mapped[str] = mapped_column(String(300), default="")
    source_format: Mapped[str] = mapped_column(String(20), default="")
    encoding: Mapped[str | None] = mapped_column(String(20))
    sha256: Mapped[str | None] = mapped_column(String(64))
    quality_score: Mapped[float] = mapped_column(Float, default=1.0)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class DatasetColumn(Base):
    """A column of a dataset's current version, with its meaning, unit and grade."""

    __tablename__ = "data_columns"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("data_datasets.id", ondelete="CASCADE"), index=True)
    ord: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200), default="")
    meaning: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str | None] = mapped_column(String(40))
    synonyms: Mapped[list[Any]]
    grade: Mapped[str] = mapped_column(String(20), default="general")
    sensitivity_level: Mapped[int] = mapped_column(Integer, default=1)
    #: None | personal | sensitive (个人信息 / 敏感个人信息)
    pii: Mapped[str | None] = mapped_column(String(20))
    pii_kind: Mapped[str | None] = mapped_column(String(40))
    suggested_level: Mapped[int] = mapped_column(Integer, default=1)
    suggested_pii: Mapped[str | None] = mapped_column(String(20))
    suggested_pii_kind: Mapped[str | None] = mapped_column(String(40))
    reasons: Mapped[list[Any]]
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)


class QualityReport(Base):
    """The checks run on one version and their outcome."""

    __tablename__ = "data_quality_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("data_datasets.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    checks: Mapped[list[Any]]
    created_at: Mapped[datetime]


class LineageStep(Base):
    """What came from what, by which step, who ran it, when."""

    __tablename__ = "data_lineage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("data_datasets.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: import | platform_export | desensitize | grade_confirm
    step: Mapped[str] = mapped_column(String(40))
    #: ["file:enterprises.csv"], ["dataset:low_income_households@1"] …
    inputs: Mapped[list[Any]]
    params: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
