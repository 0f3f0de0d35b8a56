"""Data hub HTTP API: the catalog, datasets, imports, grading, desensitization, exports.

Catalog metadata is readable by anyone; rows (samples) follow `access.py`; imports, grade
confirmations and desensitization need the dataset's data officer (an operator or admin key of
its owner department)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from aicity.core.config import settings
from aicity.core.errors import bad_request, forbidden
from aicity.hub.data import access, catalog, desensitize, service, store
from aicity.hub.data.importer import Imported, import_bytes
from aicity.hub.data.schema import parse_spec
from aicity.hub.data.schemas import (
    CatalogEntry,
    DataPackage,
    DatasetDetail,
    DcatCatalog,
    GradeConfirm,
    GradingView,
    ImportResult,
)
from aicity.hub.data.settings import DataSettings
from aicity.identity.api import Caller
from aicity.identity.models import Role
from aicity.identity.service import Principal, acting_principal

router = APIRouter(prefix="/api/v1/data", tags=["data"])


def _who(principal: Principal | None) -> Principal:
    return acting_principal(principal, None)


@router.get("/datasets", response_model=list[CatalogEntry], summary="数据目录 The catalog (search with q)")
def datasets(q: Annotated[str | None, Query(max_length=500)] = None,
             limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[dict[str, Any]]:
    entries = {d.id: catalog.entry(d) for d in store.list_datasets()}
    if not q:
        return list(entries.values())[:limit]
    return [{**entries[h["id"]], "score": h["score"], "matched_columns": h["columns"]}
            for h in catalog.search(q, limit)]


def detail(dataset_id: str, who: Principal) -> dict[str, Any]:
    info = store.dataset(dataset_id)
    return {**catalog.entry(info), "columns": [c.model_dump() for c in info.columns], "relations": info.relations,
            "quality": service.quality_for(dataset_id, who), "versions": service.versions(dataset_id),
            "lineage": service.lineage(dataset_id), "derived": service.derived_from(dataset_id),
            "sample": service.sample(dataset_id, who),
            "may_read_rows": access.may_read_rows(who.role, who.department, info),
            "allowed_columns": sorted(access.allowed_columns(who.role, who.department, info)),
            "may_manage": access.may_manage(who.role, who.department, info)}


@router.get("/datasets/{dataset_id}", response_model=DatasetDetail,
            summary="数据集：列、分级、质量、版本、血缘、可见的样例行 A dataset")
def dataset(dataset_id: str, principal: Caller) -> dict[str, Any]:
    return detail(dataset_id, _who(principal))


def _result(r: Imported) -> dict[str, Any]:
    return {"dataset": r.dataset, "version": r.version, "rows": r.rows, "format": r.format, "encoding": r.encoding,
            "seconds": r.seconds, "quality_score": r.quality_score, "grade": r.grade,
            "sensitivity_level": r.sensitivity_level, "confirmed": r.confirmed, "checks": r.checks,
            "suggestion": r.suggestion}


def _may_import(who: Principal, dataset_id: str, owner: str | None) -> None:
    if who.role not in (Role.operator, Role.admin):
        raise forbidden("导入数据需要数据管理员（operator 或 admin 的 API key）a data officer's key is needed to import",
                        "not-data-officer")
    try:
        existing = store.dataset(dataset_id)
    except store.UnknownDataset:
        existing = None
    if existing is not None and not access.may_manage(who.role, who.department, existing):
        raise forbidden(f"只有 {existing.owner_department} 的数据管理员可以导入新版本 "
                        f"only the owner department's data officer may import a new version", "not-data-officer")
    if existing is None and who.role != Role.admin and owner not in (None, who.department):
        raise forbidden("只能为本部门创建数据集 an operator creates datasets of its own department", "not-data-officer")


@router.post("/datasets", status_code=201, response_model=ImportResult,
             summary="上传文件导入为数据集新版本 Import a file (all or nothing)")
async def upload(
    principal: Caller,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 / GB18030), XLSX, JSON, JSON Lines or Parquet")],
    dataset: Annotated[str | None, Form(description="数据集 id（默认：声明中的 id 或文件名）")] = None,
    declaration: Annotated[UploadFile | None, File(description="数据集声明 YAML (see docs/data.md)")] = None,
    confirm: Annotated[bool, Form(description="确认声明中的分级")] = False,
) -> dict[str, Any]:
    who = _who(principal)
    if not file.filename:
        raise bad_request("缺少文件名 missing file name", "missing-filename")
    limit = settings().section(DataSettings).max_import_bytes
    data = await file.read(limit + 1)
    spec = None if declaration is None else parse_spec(
        (await declaration.read(1_000_000)).decode("utf-8", errors="replace"), declaration.filename or "declaration")
    ds_id = store.check_id(dataset or (spec.id if spec else file.filename.rsplit(".", 1)[0].lower()))
    if spec is not None and spec.owner_department is None and who.department:
        spec = spec.model_copy(update={"owner_department": who.department})
    _may_import(who, ds_id, spec.owner_department if spec else who.department)
    result = await run_in_threadpool(import_bytes, data, file.filename, dataset_id=ds_id, spec=spec, actor=who.actor,
                                     confirm=confirm, owner_department=who.department)
    return _result(result)


@router.get("/datasets/{dataset_id}/grading", response_model=GradingView,
            summary="分级建议与确认状态 Grading suggestions (GB/T 43697-2024)")
def grading(dataset_id: str) -> dict[str, Any]:
    return service.suggestions(dataset_id)


@router.post("/datasets/{dataset_id}/grading/confirm", response_model=GradingView,
             summary="数据管理员确认分级 A data officer confirms the grades")
def confirm(dataset_id: str, body: GradeConfirm, principal: Caller) -> dict[str, Any]:
    return service.confirm_grade(dataset_id, _who(principal), grade=body.grade, level=body.sensitivity_level,
                                 columns={k: v.model_dump() for k, v in body.columns.items()})


@router.post("/datasets/{dataset_id}/desensitize", status_code=201, response_model=ImportResult,
             summary="脱敏为派生数据集 Desensitize into a derived dataset")
def desensitize_(dataset_id: str, body: desensitize.Plan, principal: Caller,
                 into: Annotated[str | None, Query(max_length=60)] = None) -> dict[str, Any]:
    who = _who(principal)
    info = store.dataset(dataset_id)
    if not access.may_manage(who.role, who.department, info):
        raise forbidden("只有责任部门的数据管理员可以脱敏派生 only the owner department's data officer", "not-data-officer")
    return _result(desensitize.apply(dataset_id, body.steps, into=into, actor=who.actor))


@router.post("/platform/{source}", status_code=201, response_model=ImportResult,
             summary="把平台表导入为数据集 Import a platform table (events, devices)")
def platform(source: str, principal: Caller) -> dict[str, Any]:
    who = _who(principal)
    if who.role != Role.admin:
        raise forbidden("导入平台表需要管理员 an admin key is needed", "not-data-officer")
    return _result(service.import_platform(source, actor=who.actor))


@router.get("/datasets/{dataset_id}/rows.csv", response_class=Response,
            summary="按授权导出行数据 Download the rows as they may leave the hub (CSV)",
            responses={200: {"description": "CSV（UTF-8）；个人信息列在责任部门外为掩码 personal columns masked",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def rows_csv(dataset_id: str, principal: Caller) -> Response:
    text = service.rows_csv(dataset_id, _who(principal))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{dataset_id}.csv"'})


@router.get("/export/datapackage", response_model=DataPackage,
            summary="目录导出为 Frictionless datapackage.json")
def export_datapackage() -> dict[str, Any]:
    return catalog.datapackage()


@router.get("/export/dcat", response_model=DcatCatalog, summary="目录导出为 DCAT (JSON-LD)")
def export_dcat(request: Request) -> dict[str, Any]:
    return catalog.dcat(str(request.base_url))
