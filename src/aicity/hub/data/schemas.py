"""The data hub's REST models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aicity.hub.data.store import ColumnInfo


class CatalogEntry(BaseModel):
    id: str
    title: str
    description: str
    owner_department: str | None
    owner_name: str
    category: str
    cadence: str
    keywords: list[str]
    grade: str
    grade_name: str
    sensitivity_level: int
    confirmed: bool
    version: int
    rows: int
    quality_score: float | None
    source: str
    updated_at: str | None
    personal_columns: list[str]
    score: float | None = Field(default=None, description="search relevance (BM25) when searched")
    matched_columns: list[str] = Field(default_factory=list)


class Check(BaseModel):
    kind: str
    name: str
    columns: list[str]
    severity: str
    status: str = Field(description="passed | failed | skipped")
    failing: int
    examples: list[Any]
    detail: str
    share_passing: float | None = None


class QualityView(BaseModel):
    version: int
    score: float
    passed: int
    failed: int
    checks: list[Check]
    created_at: str


class VersionView(BaseModel):
    version: int
    table: str
    rows: int
    source: str
    format: str
    encoding: str | None
    sha256: str | None
    quality_score: float
    created_by: str
    created_at: str


class LineageView(BaseModel):
    version: int
    step: str
    inputs: list[str]
    params: dict[str, Any]
    actor: str
    at: str


class SampleView(BaseModel):
    allowed: bool
    columns: list[str]
    rows: list[list[Any]]
    masked: list[str] = Field(default_factory=list)
    reason: str | None


class DatasetDetail(CatalogEntry):
    columns: list[ColumnInfo]
    relations: list[dict[str, str]]
    quality: QualityView
    versions: list[VersionView]
    lineage: list[LineageView]
    derived: list[str]
    sample: SampleView
    may_read_rows: bool
    allowed_columns: list[str]
    may_manage: bool


class Suggested(BaseModel):
    sensitivity_level: int
    pii: str | None = None
    pii_kind: str | None = None
    grade: str | None = None
    reasons: list[str]


class ColumnGrade(BaseModel):
    name: str
    sensitivity_level: int
    pii: str | None
    pii_kind: str | None
    confirmed: bool
    suggested: Suggested


class GradingView(BaseModel):
    dataset: str
    grade: str
    sensitivity_level: int
    confirmed: bool
    confirmed_by: str | None
    suggested: Suggested
    columns: list[ColumnGrade]


class ColumnChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sensitivity_level: int = Field(ge=1, le=4)
    pii: str | None = Field(default=None, pattern="^(personal|sensitive)$")
    pii_kind: str | None = None


class GradeConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grade: str | None = Field(default=None, pattern="^(core|important|general)$")
    sensitivity_level: int | None = Field(default=None, ge=1, le=4)
    columns: dict[str, ColumnChange] = Field(default_factory=dict)


class ImportResult(BaseModel):
    dataset: str
    version: int
    rows: int
    format: str
    encoding: str | None
    seconds: float
    quality_score: float
    grade: str
    sensitivity_level: int
    confirmed: bool
    checks: list[Check]
    suggestion: dict[str, Any]


class SearchHit(BaseModel):
    id: str
    title: str
    score: float
    columns: list[str]


class DataPackage(BaseModel):
    """A Frictionless Data Package descriptor."""
    profile: str
    name: str
    title: str
    licenses: list[dict[str, Any]]
    resources: list[dict[str, Any]]


class DcatCatalog(BaseModel):
    """A DCAT catalog in JSON-LD."""
    model_config = ConfigDict(populate_by_name=True)
    context: dict[str, str] = Field(alias="@context")
    id: str = Field(alias="@id")
    type: str = Field(alias="@type")
    title: str = Field(alias="dct:title")
    dataset: list[dict[str, Any]] = Field(alias="dcat:dataset")
