"""A dataset's declaration (`<id>.yaml`): catalog facts, typed columns, relations, quality checks
and, optionally, the grades a data officer has confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aicity.core.errors import Problem

#: the declared types an import casts to (DuckDB names)
TYPES = ("VARCHAR", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN")
TYPE_NAMES = {"VARCHAR": "文本 text", "BIGINT": "整数 integer", "DOUBLE": "数值 number", "DATE": "日期 date",
              "TIMESTAMP": "时间 timestamp", "BOOLEAN": "布尔 boolean"}


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: Literal["VARCHAR", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN"] = "VARCHAR"
    title: str = ""
    meaning: str = ""
    unit: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    #: confirmed sensitivity level within general data (None: take the suggestion)
    level: int | None = Field(default=None, ge=1, le=4)
    pii: Literal["personal", "sensitive"] | None = None
    pii_kind: str | None = None


class Relation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    #: "dataset.column"
    references: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")


class Check(BaseModel):
    """A quality check: not_null (columns), unique (columns), range (column, min, max),
    values (column, values), pattern (column, regex), reference (column, references).
    `severity: error` rejects the import when it fails; `warn` (default) only scores it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["not_null", "unique", "range", "values", "pattern", "reference"]
    column: str | None = None
    columns: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    values: list[str | int | float] = Field(default_factory=list)
    regex: str | None = None
    references: str | None = Field(default=None, pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")
    severity: Literal["error", "warn"] = "warn"

    @model_validator(mode="after")
    def _complete(self) -> Check:
        need = {"not_null": self.columns, "unique": self.columns, "range": self.column,
                "values": self.column and self.values, "pattern": self.column and self.regex,
                "reference": self.column and self.references}[self.kind]
        if not need:
            raise ValueError(f"check '{self.kind}' is missing its column(s) or parameters")
        return self

    def targets(self) -> list[str]:
        return self.columns or ([self.column] if self.column else [])


class Grading(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: Literal["core", "important", "general"] = "general"
    level: int = Field(ge=1, le=4)


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    description: str = ""
    owner_department: str | None = None
    category: str = ""
    cadence: str = ""
    keywords: list[str] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    #: the grade a data officer confirmed (the demo pack: its README's table)
    grade: Grading | None = None
    columns: list[ColumnSpec]
    checks: list[Check] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("duplicate column names")
        used = [*self.primary_key, *(r.column for r in self.relations),
                *(t for c in self.checks for t in c.targets())]
        unknown = sorted({u for u in used if u not in names})
        if unknown:
            raise ValueError(f"unknown columns: {', '.join(unknown)}")
        return self

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


def parse_spec(text: str, where: str = "schema") -> DatasetSpec:
    try:
        raw = yaml.safe_load(text)
        return DatasetSpec.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise Problem(422, "请求内容不合法 Unprocessable", f"数据集声明无效 invalid dataset declaration ({where}): {exc}",
                      "invalid-schema") from exc


def load_spec(path: Path) -> DatasetSpec:
    return parse_spec(path.read_text(encoding="utf-8"), path.name)
