"""Reading and governing datasets: versions, quality reports, lineage, sample rows as the caller
may see them, grade confirmation, and the platform's own tables as datasets."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from sqlalchemy import select

from aicity.core import audit
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, forbidden
from aicity.core.ids import utcnow
from aicity.hub.data import access, store
from aicity.hub.data.desensitize import mask
from aicity.hub.data.importer import Imported, import_bytes
from aicity.hub.data.models import Dataset, DatasetColumn, DatasetVersion, LineageStep, QualityReport
from aicity.hub.data.settings import DataSettings
from aicity.hub.events import service as events
from aicity.hub.iot import rules as iot_rules
from aicity.hub.iot import service as iot
from aicity.identity.models import Role
from aicity.identity.service import Principal

PII_NAMES = {"personal": "个人信息", "sensitive": "敏感个人信息"}


def versions(dataset_id: str) -> list[dict[str, Any]]:
    store.dataset(dataset_id)
    with database().session() as s:
        rows = s.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
                         .order_by(DatasetVersion.version)).all()
    return [{"version": v.version, "table": v.table_name, "rows": v.rows, "source": v.source_name,
             "format": v.source_format, "encoding": v.encoding, "sha256": v.sha256, "quality_score": v.quality_score,
             "created_by": v.created_by, "created_at": v.created_at.isoformat()} for v in rows]


def quality(dataset_id: str, version: int | None = None) -> dict[str, Any]:
    info = store.dataset(dataset_id)
    with database().session() as s:
        rep = s.scalar(select(QualityReport).where(QualityReport.dataset_id == dataset_id,
                                                   QualityReport.version == (version or info.version)))
    if rep is None:
        raise Problem(404, "未找到 Not found", f"{dataset_id} 没有版本 {version} no such version", "unknown-version")
    return {"version": rep.version, "score": rep.score, "passed": rep.passed, "failed": rep.failed,
            "checks": rep.checks, "created_at": rep.created_at.isoformat()}


def quality_for(dataset_id: str, who: Principal) -> dict[str, Any]:
    """The quality report as this caller may see it: a failed check's examples are values from
    the rows, so they are withheld (the count of failing rows stays) unless the caller may see
    every column of the check in plain (`access.shown_columns`)."""
    info = store.dataset(dataset_id)
    report = quality(dataset_id)
    shown = access.shown_columns(who.role, who.department, info)
    for check in report["checks"]:
        if check.get("examples") and not all(shown.get(c) == "plain" for c in check.get("columns") or []):
            check["examples"] = []
    return report


def lineage(dataset_id: str) -> list[dict[str, Any]]:
    store.dataset(dataset_id)
    with database().session() as s:
        rows = s.scalars(select(LineageStep).where(LineageStep.dataset_id == dataset_id).order_by(LineageStep.id)).all()
    return [{"version": r.version, "step": r.step, "inputs": r.inputs, "params": r.params, "actor": r.actor,
             "at": r.at.isoformat()} for r in rows]


def derived_from(dataset_id: str) -> list[str]:
    """Datasets made from this one (their lineage names it as an input)."""
    with database().session() as s:
        rows = s.execute(select(LineageStep.dataset_id, LineageStep.inputs)).all()
    prefix = f"dataset:{dataset_id}@"
    return sorted({ds for ds, inputs in rows if any(str(i).startswith(prefix) for i in inputs or [])})


def suggestions(dataset_id: str) -> dict[str, Any]:
    info = store.dataset(dataset_id)
    with database().session() as s:
        ds = s.get(Dataset, dataset_id)
        cols = s.scalars(select(DatasetColumn).where(DatasetColumn.dataset_id == dataset_id)
                         .order_by(DatasetColumn.ord)).all()
        assert ds is not None
        return {"dataset": dataset_id, "grade": info.grade, "sensitivity_level": info.sensitivity_level,
                "confirmed": info.confirmed, "confirmed_by": ds.confirmed_by,
                "suggested": {"grade": ds.suggested_grade, "sensitivity_level": ds.suggested_level,
                              "reasons": ds.grade_reasons},
                "columns": [{"name": c.name, "sensitivity_level": c.sensitivity_level, "pii": c.pii,
                             "pii_kind": c.pii_kind, "confirmed": c.confirmed,
                             "suggested": {"sensitivity_level": c.suggested_level, "pii": c.suggested_pii,
                                           "pii_kind": c.suggested_pii_kind, "reasons": c.reasons}} for c in cols]}


def confirm_grade(dataset_id: str, who: Principal, *, grade: str | None = None, level: int | None = None,
                  columns: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A data officer confirms the suggestions, or corrects them: the dataset's grade and level,
    and per column {sensitivity_level, pii, pii_kind}. Recorded as lineage and in the audit ledger."""
    info = store.dataset(dataset_id)
    if not access.may_manage(who.role, who.department, info):
        raise forbidden(f"只有 {info.owner_department} 的数据管理员（operator/admin）可以确认分级 "
                        f"only the owner department's data officer may confirm grades", "not-data-officer")
    if grade is not None and grade not in store.GRADE_NAMES:
        raise Problem(422, "请求内容不合法 Unprocessable", f"未知级别 unknown grade '{grade}'", "invalid-grade")
    if level is not None and not 1 <= level <= 4:
        raise Problem(422, "请求内容不合法 Unprocessable", "敏感级别须为 1–4 level must be 1–4", "invalid-grade")
    columns = columns or {}
    unknown = sorted(set(columns) - {c.name for c in info.columns})
    if unknown:
        raise Problem(422, "请求内容不合法 Unprocessable", f"没有这些列 unknown columns: {', '.join(unknown)}",
                      "unknown-column")
    now = utcnow()
    with database().session() as s:
        ds = s.get(Dataset, dataset_id)
        assert ds is not None
        ds.grade = grade or (ds.grade if ds.confirmed_by else ds.suggested_grade)
        ds.sensitivity_level = level or (ds.sensitivity_level if ds.confirmed_by else ds.suggested_level)
        ds.confirmed_by, ds.confirmed_at, ds.updated_at = who.actor, now, now
        for c in s.scalars(select(DatasetColumn).where(DatasetColumn.dataset_id == dataset_id)):
            change = columns.get(c.name)
            if change is not None:
                c.sensitivity_level = int(change.get("sensitivity_level", c.sensitivity_level))
                c.pii = change.get("pii", c.pii)
                c.pii_kind = change.get("pii_kind", c.pii_kind)
                if c.pii not in (None, "personal", "sensitive") or not 1 <= c.sensitivity_level <= 4:
                    raise Problem(422, "请求内容不合法 Unprocessable", f"列 {c.name} 的分级无效 invalid column grade",
                                  "invalid-grade")
            elif not c.confirmed:
                c.sensitivity_level, c.pii, c.pii_kind = c.suggested_level, c.suggested_pii, c.suggested_pii_kind
            c.grade, c.confirmed = ds.grade, True
        s.add(LineageStep(dataset_id=dataset_id, version=ds.current_version, step="grade_confirm", inputs=[],
                          params={"grade": ds.grade, "sensitivity_level": ds.sensitivity_level, "columns": columns},
                          actor=who.actor, at=now))
    audit.record(who.actor, "data.grade_confirmed", dataset_id,
                 {"grade": grade, "level": level, "columns": sorted(columns)})
    store.invalidate()
    return suggestions(dataset_id)


def sample(dataset_id: str, who: Principal, limit: int | None = None) -> dict[str, Any]:
    """The first rows as the caller may see them: nothing where rows may not be read; personal
    columns masked outside the owner department."""
    info = store.dataset(dataset_id)
    shown = access.shown_columns(who.role, who.department, info)
    if not shown:
        return {"allowed": False, "columns": [], "rows": [],
                "reason": f"{store.GRADE_NAMES[info.grade]} {info.sensitivity_level} 级：仅限聚合查询 aggregate only"}
    cfg = settings().section(DataSettings)
    n = min(limit or cfg.sample_rows, cfg.row_limit)
    names = [c.name for c in info.columns if c.name in shown]
    kinds = {c.name: c.pii_kind for c in info.columns}
    cur = store.read_connection()
    try:
        rows = cur.execute(f"SELECT {', '.join(store.quote(c) for c in names)} FROM {store.quote(dataset_id)} "
                           f"LIMIT {int(n)}").fetchall()
    finally:
        cur.close()
    out = [[_plain(mask(v, kinds[c]) if shown[c] == "masked" else v) for c, v in zip(names, r, strict=True)]
           for r in rows]
    return {"allowed": True, "columns": names, "masked": sorted(c for c, how in shown.items() if how == "masked"),
            "rows": out, "reason": None}


def rows_csv(dataset_id: str, who: Principal) -> str:
    """The current rows as CSV, as they may leave the hub for this caller (`access.may_export_rows`):
    personal columns masked outside the owner department; a 403 where rows may not leave at all.
    Recorded in the audit ledger."""
    info = store.dataset(dataset_id)
    if not access.may_export_rows(who.role, who.department, info):
        raise forbidden(f"{store.GRADE_NAMES[info.grade]} {info.sensitivity_level} 级：行数据不可导出，仅限聚合 "
                        f"rows of this dataset may not leave the hub for this caller", "export-not-allowed")
    shown = access.shown_columns(who.role, who.department, info)
    names = [c.name for c in info.columns if c.name in shown]
    kinds = {c.name: c.pii_kind for c in info.columns}
    cur = store.read_connection()
    try:
        rows = cur.execute(f"SELECT {', '.join(store.quote(c) for c in names)} FROM {store.quote(dataset_id)}").fetchall()
    finally:
        cur.close()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for r in rows:
        w.writerow(["" if v is None else _plain(mask(v, kinds[c]) if shown[c] == "masked" else v)
                    for c, v in zip(names, r, strict=True)])
    audit.record(who.actor, "data.rows_exported", dataset_id,
                 {"version": info.version, "rows": len(rows), "masked": sorted(c for c, h in shown.items()
                                                                               if h == "masked")})
    return buf.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# ---- the platform's own tables -------------------------------------------------------------

_SYSTEM = Principal(role=Role.admin)
PLATFORM = {
    "platform_events": ("城市事件 City events (platform)", "events", "政务数据 · 城市事件"),
    "platform_devices": ("物联设备 IoT devices (platform)", "iot", "政务数据 · 物联感知"),
    "platform_alarms": ("物联告警 IoT alarms (platform)", "iot", "政务数据 · 物联感知"),
}


def _platform_rows(source: str) -> list[dict[str, Any]]:
    if source == "platform_events":
        return [events.event_json(e) for e in events.list_events(_SYSTEM, limit=100_000)]
    if source == "platform_alarms":
        return [iot_rules.alarm_json(a) for a in iot_rules.list_alarms(limit=100_000)]
    return [iot.device_json(d) for d in iot.list_devices(limit=100_000)]


def import_platform(source: str, actor: str = "system") -> Imported:
    """A table of the platform's own database as a dataset, read through its slice's service
    functions (events: `events.service.list_events`; devices: `iot.service.list_devices`;
    alarms: `iot.rules.list_alarms`) — never by reading another slice's tables."""
    if source not in PLATFORM:
        raise Problem(404, "未找到 Not found", f"没有平台表 no platform table '{source}'; known: {', '.join(PLATFORM)}",
                      "unknown-platform-table")
    rows = _platform_rows(source)
    if not rows:
        raise Problem(422, "文件无法导入 Unprocessable file", f"平台表 {source} 是空的 is empty", "empty-file")
    header = [k for k, v in rows[0].items() if not isinstance(v, (dict, list))]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if r.get(k) is None else (json.dumps(r[k], ensure_ascii=False)
                                                 if isinstance(r[k], (dict, list)) else r[k]) for k in header])
    title, owner_slice, category = PLATFORM[source]
    new = source not in {d.id for d in store.list_datasets()}
    done = import_bytes(buf.getvalue().encode("utf-8"), f"{source}.csv", dataset_id=source, actor=actor,
                        source=f"platform:{owner_slice}",
                        lineage=("platform_export", [f"platform:{owner_slice}"], {"rows": len(rows)}))
    if new:
        _describe(source, title, f"平台 {owner_slice} 切片的表导出 the {owner_slice} slice's table, exported", category)
    return done


def _describe(dataset_id: str, title: str, description: str, category: str) -> None:
    with database().session() as s:
        ds = s.get(Dataset, dataset_id)
        assert ds is not None
        ds.title, ds.description, ds.category, ds.cadence = title, description, category, "on demand"
        ds.owner_department = ds.owner_department or "data_bureau"
        ds.spec = {**(ds.spec or {}), "title": title, "description": description, "category": category,
                   "cadence": "on demand", "owner_department": ds.owner_department}
    store.invalidate()
