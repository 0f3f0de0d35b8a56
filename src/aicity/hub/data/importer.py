"""Importing a file as a new version of a dataset, all or nothing.

read (encoding, shape) → stage as text → header against the declaration → every declared type
(a value that breaks it is a 422 naming the column, the line and the value) → typed table
`<id>__v<N>` → quality checks (an `error` check that fails rejects the import) → grading
suggestions → the view `<id>` → metadata, quality report and lineage in the platform database.
The store's work is one transaction (`store.import_transaction`: on PostgreSQL the file is staged
and checked in an in-memory DuckDB and loaded with COPY) and the metadata one session. An error
before the end rolls both back; at the end the store commits first, then the metadata, and if the
metadata's commit fails a second store transaction drops the new table and puts the view back. So
a failed import leaves no table, no view change and no metadata behind.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.core.ids import utcnow
from aicity.hub.data import grading, quality, reader, store
from aicity.hub.data.models import Dataset, DatasetColumn, DatasetVersion, LineageStep, QualityReport
from aicity.hub.data.reader import unprocessable
from aicity.hub.data.schema import TYPE_NAMES, ColumnSpec, DatasetSpec
from aicity.hub.data.settings import DataSettings
from aicity.hub.data.store import quote

#: (stage, done, total)
Progress = Callable[[str, int, int], None]
STAGES = ("读取 read", "类型 types", "写入 write", "质量 checks", "分级 grading", "登记 metadata")
_INTEGER = r"^\s*[+-]?[0-9]+\s*$"


@dataclass
class Imported:
    dataset: str
    version: int
    rows: int
    format: str
    encoding: str | None
    seconds: float
    quality_score: float
    checks: list[dict[str, Any]]
    grade: str
    sensitivity_level: int
    confirmed: bool
    suggestion: dict[str, Any] = field(default_factory=dict)


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def stored_spec(dataset_id: str) -> DatasetSpec | None:
    with database().session() as s:
        row = s.get(Dataset, dataset_id)
        return DatasetSpec.model_validate(row.spec) if row is not None and row.spec else None


def _stage(cur: duckdb.DuckDBPyConnection, read: reader.ReadFile) -> list[str]:
    try:
        if read.format == "parquet":
            cur.execute(f"CREATE TEMP TABLE _raw AS SELECT * FROM read_parquet('{read.path}')")
            header = [r[0] for r in cur.execute("SELECT column_name FROM (DESCRIBE _raw)").fetchall()]
            casts = ", ".join(f"CAST({quote(h)} AS VARCHAR) AS {quote(h)}" for h in header)
            cur.execute(f"CREATE TEMP TABLE _stage AS SELECT row_number() OVER () + 1 AS __line, {casts} FROM _raw")
            cur.execute("DROP TABLE _raw")
            return header
        columns = "{" + ", ".join(f"'{h.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for h in read.header) + "}"
        cur.execute(f"CREATE TEMP TABLE _stage AS SELECT row_number() OVER () + 1 AS __line, * FROM read_csv("
                    f"'{read.path}', header=true, auto_detect=false, columns={columns}, delim=',', quote='\"', "
                    f"escape='\"', strict_mode=true)")
    except duckdb.Error as exc:
        raise unprocessable(f"文件无法读取 the file cannot be read: {str(exc).splitlines()[0]}") from exc
    return read.header


def _infer(cur: duckdb.DuckDBPyConnection, dataset_id: str, header: list[str]) -> DatasetSpec:
    """A declaration from the values alone: the narrowest type every non-empty value casts to."""
    cols = []
    for h in header:
        q = quote(h)
        kind = "VARCHAR"
        for candidate in ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP"):
            test = (f"NOT regexp_full_match({q}, '{_INTEGER}')" if candidate == "BIGINT"
                    else f"TRY_CAST({q} AS {candidate}) IS NULL")
            nonempty, bad = cur.execute(f"SELECT count({q}), count(*) FILTER ({q} IS NOT NULL AND {test}) "
                                        f"FROM _stage").fetchone()  # type: ignore[misc]
            if nonempty and not bad:
                kind = candidate
                break
        cols.append(ColumnSpec(name=h, type=kind))  # type: ignore[arg-type]
    return DatasetSpec(id=dataset_id, title=dataset_id, columns=cols)


def _check_header(spec: DatasetSpec, header: list[str]) -> None:
    declared = [c.name for c in spec.columns]
    missing = [c for c in declared if c not in header]
    extra = [h for h in header if h not in declared]
    if missing or extra:
        parts = ([f"缺少列 missing columns: {', '.join(missing)}"] if missing else []) + (
            [f"未声明的列 undeclared columns: {', '.join(extra)}"] if extra else [])
        raise unprocessable(f"表头与数据集 {spec.id} 的声明不一致 the header does not match the declaration: "
                            + "; ".join(parts), "schema-mismatch")


def _check_types(cur: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> None:
    for col in spec.columns:
        if col.type == "VARCHAR":
            continue
        q = quote(col.name)
        test = (f"NOT regexp_full_match({q}, '{_INTEGER}')" if col.type == "BIGINT"
                else f"TRY_CAST({q} AS {col.type}) IS NULL")
        bad = cur.execute(f"SELECT __line, {q} FROM _stage WHERE {q} IS NOT NULL AND {test} ORDER BY __line "
                          f"LIMIT 3").fetchall()
        if bad:
            count = cur.execute(f"SELECT count(*) FROM _stage WHERE {q} IS NOT NULL AND {test}").fetchone()[0]  # type: ignore[index]
            shown = "; ".join(f"第 {line} 行 line {line}: '{value}'" for line, value in bad)
            raise Problem(422, "文件无法导入 Unprocessable file",
                          f"列 {col.name} 声明为{TYPE_NAMES[col.type]}，有 {count} 个值不符 column '{col.name}' is declared "
                          f"{col.type}; {count} values break it — {shown}", "type-mismatch",
                          column=col.name, declared_type=col.type, bad_values=count)


def _sample(cur: duckdb.DuckDBPyConnection, table: str, header: list[str]) -> dict[str, list[Any]]:
    rows = cur.execute(f"SELECT * FROM {quote(table)} USING SAMPLE reservoir({grading.SAMPLE} ROWS) "
                       f"REPEATABLE (7)").fetchall()
    return {h: [r[i] for r in rows] for i, h in enumerate(header)}


def _next_version(s: Session, dataset_id: str) -> int:
    latest = s.scalar(select(func.max(DatasetVersion.version)).where(DatasetVersion.dataset_id == dataset_id))
    return (latest or 0) + 1


def _resolver(dataset_id: str, table: str, existing: set[str]) -> Callable[[str], str | None]:
    def resolve(ref: str) -> str | None:
        if ref == dataset_id:
            return table
        return ref if ref in existing else None
    return resolve


@dataclass
class _Grades:
    grade: str
    level: int
    confirmed_by: str | None
    columns: dict[str, tuple[int, str | None, str | None, bool]]


def _grades(s: Session, spec: DatasetSpec, suggestion: grading.Suggestion, confirm_as: str | None,
            floor: store.DatasetInfo | None = None) -> _Grades:
    """Declared grades (when the importer may confirm them), else the confirmed ones of the previous
    version (raised, and unconfirmed, when a new column's suggestion is higher), else the
    suggestions (no lower than `floor`'s, the source of a derived dataset)."""
    before = s.get(Dataset, spec.id)
    old_cols = {c.name: c for c in s.scalars(select(DatasetColumn).where(DatasetColumn.dataset_id == spec.id))}
    cols: dict[str, tuple[int, str | None, str | None, bool]] = {}
    declared = spec.grade is not None and confirm_as is not None
    for c in spec.columns:
        sug = suggestion.columns[c.name]
        old = old_cols.get(c.name)
        if declared:
            level = c.level if c.level is not None else min(sug.level, spec.grade.level)  # type: ignore[union-attr]
            cols[c.name] = (level, c.pii, c.pii_kind, True)
        elif old is not None and old.confirmed:
            cols[c.name] = (old.sensitivity_level, old.pii, old.pii_kind, True)
        else:
            cols[c.name] = (sug.level, sug.pii, sug.pii_kind, False)
    if declared:
        return _Grades(spec.grade.grade, spec.grade.level, confirm_as, cols)  # type: ignore[union-attr]
    if before is not None and before.confirmed_by is not None:
        new_level = max((c[0] for c in cols.values() if not c[3]), default=0)
        if new_level > before.sensitivity_level:  # a new, unconfirmed column outranks the confirmed grade
            return _Grades(before.grade, new_level, None, cols)
        return _Grades(before.grade, before.sensitivity_level, before.confirmed_by, cols)
    if floor is not None:
        return _floored(suggestion, cols, floor)
    return _Grades(suggestion.grade, suggestion.level, None, cols)


_STRICTER = {"general": 0, "important": 1, "core": 2}
_PII = {None: 0, "personal": 1, "sensitive": 2}


def _floored(suggestion: grading.Suggestion, cols: dict[str, tuple[int, str | None, str | None, bool]],
             floor: store.DatasetInfo) -> _Grades:
    """Unconfirmed grades of a dataset derived from `floor`: never below the source's (dataset and
    carried columns) until a data officer confirms lower ones — desensitized data is not
    anonymous by itself (PIPL art. 73), and a suggestion from masked values would read lower."""
    for name, (level, pii, kind, confirmed) in list(cols.items()):
        src = floor.column(name)
        if src is not None and not confirmed:
            stricter = _PII[src.pii] > _PII[pii]  # type: ignore[index]
            cols[name] = (max(level, src.sensitivity_level), src.pii if stricter else pii,
                          src.pii_kind if stricter else kind, False)
    grade = max(suggestion.grade, floor.grade, key=_STRICTER.__getitem__)
    level = max([suggestion.level, floor.sensitivity_level] + [c[0] for c in cols.values()])
    return _Grades(grade, level, None, cols)


def _record(s: Session, spec: DatasetSpec, version: int, table: str, read: reader.ReadFile, rows: int, sha: str,
            name: str, checks: list[dict[str, Any]], score: float, suggestion: grading.Suggestion, g: _Grades,
            actor: str, source: str, lineage: tuple[str, list[str], dict[str, Any]]) -> None:
    now = utcnow()
    ds = s.get(Dataset, spec.id) or Dataset(id=spec.id, created_at=now, keywords=[], relations=[], grade_reasons=[])
    ds.title, ds.description, ds.owner_department = spec.title, spec.description, spec.owner_department
    ds.category, ds.cadence, ds.keywords = spec.category, spec.cadence, list(spec.keywords)
    ds.relations = [r.model_dump() for r in spec.relations]
    ds.source, ds.spec = source, spec.model_dump(mode="json")
    ds.grade, ds.sensitivity_level, ds.suggested_grade, ds.suggested_level = g.grade, g.level, suggestion.grade, \
        suggestion.level
    ds.grade_reasons = suggestion.reasons
    if g.confirmed_by != ds.confirmed_by:
        ds.confirmed_by, ds.confirmed_at = g.confirmed_by, now if g.confirmed_by else None
    ds.current_version, ds.updated_at = version, now
    s.add(ds)
    s.flush()
    s.execute(delete(DatasetColumn).where(DatasetColumn.dataset_id == spec.id))
    for i, c in enumerate(spec.columns):
        sug = suggestion.columns[c.name]
        level, pii, kind, confirmed = g.columns[c.name]
        s.add(DatasetColumn(dataset_id=spec.id, ord=i, name=c.name, type=c.type, title=c.title, meaning=c.meaning,
                            unit=c.unit, synonyms=list(c.synonyms), grade=g.grade, sensitivity_level=level, pii=pii,
                            pii_kind=kind, suggested_level=sug.level, suggested_pii=sug.pii,
                            suggested_pii_kind=sug.pii_kind, reasons=sug.reasons, confirmed=confirmed))
    s.add(DatasetVersion(dataset_id=spec.id, version=version, table_name=table, rows=rows, source_name=name,
                         source_format=read.format, encoding=read.encoding, sha256=sha, quality_score=score,
                         created_by=actor, created_at=now))
    s.add(QualityReport(dataset_id=spec.id, version=version, score=score,
                        passed=sum(1 for c in checks if c["status"] == "passed"),
                        failed=sum(1 for c in checks if c["status"] == "failed"), checks=checks, created_at=now))
    step, inputs, params = lineage
    s.add(LineageStep(dataset_id=spec.id, version=version, step=step, inputs=inputs, params=params, actor=actor,
                      at=now))


def import_bytes(data: bytes, filename: str, *, dataset_id: str | None = None, spec: DatasetSpec | None = None,
                 actor: str = "system", confirm: bool = False, progress: Progress | None = None,
                 source: str = "file", lineage: tuple[str, list[str], dict[str, Any]] | None = None,
                 owner_department: str | None = None, floor: store.DatasetInfo | None = None) -> Imported:
    """Import `data` (the file `filename`) as the next version of `dataset_id` (default: the
    declaration's id, else the file's stem). `spec`: the declaration (default: the stored one of
    that dataset, else inferred). `confirm`: the importer is a data officer; the declaration's
    grades become the confirmed ones. `owner_department`: the owner when the declaration names none.
    `floor`: the source of a derived dataset, whose grades unconfirmed ones never go below."""
    report = progress or _quiet
    started = time.perf_counter()
    cfg = settings().section(DataSettings)
    if len(data) > cfg.max_import_bytes:
        raise Problem(413, "内容过大 Too large", f"文件超过 {cfg.max_import_bytes} 字节 the file is larger than the limit",
                      "file-too-large")
    ds_id = store.check_id(dataset_id or (spec.id if spec else Path(filename).stem.lower()))
    if spec is not None and spec.id != ds_id:
        spec = spec.model_copy(update={"id": ds_id})
    spec = spec or stored_spec(ds_id)
    sha = hashlib.sha256(data).hexdigest()
    report(STAGES[0], 0, 1)
    with tempfile.TemporaryDirectory(prefix="aicity-import-") as tmp:
        read = reader.read(data, filename, Path(tmp))
        report(STAGES[0], 1, 1)
        # the store commits first, then the metadata (`then`); a failed metadata commit undoes the store's
        with database().session() as s, store.import_transaction(then=s.commit) as imp:
            imp.lock(ds_id)
            cur = imp.cur
            header = _stage(cur, read)
            rows = cur.execute("SELECT count(*) FROM _stage").fetchone()[0]  # type: ignore[index]
            if rows == 0:
                raise unprocessable("文件没有数据行 the file has no data rows", "empty-file")
            spec = spec or _infer(cur, ds_id, header)
            if spec.owner_department is None and owner_department is not None:
                spec = spec.model_copy(update={"owner_department": owner_department})
            _check_header(spec, header)
            report(STAGES[1], 0, 1)
            _check_types(cur, spec)
            report(STAGES[1], 1, 1)
            version = _next_version(s, ds_id)
            table = store.table_name(ds_id, version)
            existing = imp.tables()
            if table in existing:  # left by a metadata write that failed after a store commit
                imp.drop(table)
            casts = ", ".join(
                f"CAST({'trim(' + quote(c.name) + ')' if c.type == 'BIGINT' else quote(c.name)} AS {c.type}) "
                f"AS {quote(c.name)}" for c in spec.columns)
            cur.execute(f"CREATE TABLE {quote(table)} AS SELECT {casts} FROM _stage ORDER BY __line")
            cur.execute("DROP TABLE _stage")
            report(STAGES[2], 1, 1)
            for ref_table, ref_cols in quality.references(spec, _resolver(ds_id, table, existing)).items():
                if ref_table != table:
                    imp.mirror(ref_table, ref_cols)
            checks = quality.run(cur, table, spec, rows, _resolver(ds_id, table, existing))
            errors = [c for c in checks if c["status"] == "failed" and c["severity"] == "error"]
            if errors:
                raise unprocessable("质量检查未通过 quality checks failed: " + "; ".join(
                    f"{c['detail']} ({c['failing']} 行 rows, e.g. {c['examples']})" for c in errors), "quality-failed")
            score = quality.score(checks)
            report(STAGES[3], 1, 1)
            suggestion = grading.suggest(_sample(cur, table, [c.name for c in spec.columns]),
                                         category=spec.category, rows=rows)
            g = _grades(s, spec, suggestion, actor if confirm else None, floor)
            report(STAGES[4], 1, 1)
            before = s.get(Dataset, ds_id)
            previous = store.table_name(ds_id, before.current_version) if before and before.current_version else None
            imp.publish(ds_id, table, [(c.name, c.type) for c in spec.columns], previous)
            _record(s, spec, version, table, read, rows, sha, filename, checks, score, suggestion, g, actor, source,
                    lineage or ("import", [f"file:{filename}"], {"format": read.format, "encoding": read.encoding,
                                                                    "sha256": sha, "rows": rows}))
            report(STAGES[5], 1, 1)
    store.invalidate()
    return Imported(ds_id, version, rows, read.format, read.encoding, round(time.perf_counter() - started, 3), score,
                    checks, g.grade, g.level, g.confirmed_by is not None, suggestion={
                        "grade": suggestion.grade, "level": suggestion.level, "reasons": suggestion.reasons})


def import_path(path: Path, **kwargs: Any) -> Imported:
    return import_bytes(path.read_bytes(), path.name, **kwargs)
