"""`/api/v1/assets/…`: the digital-asset platform over HTTP (staff; decisions by the owning department)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from aicity.core.errors import forbidden
from aicity.identity.api import Caller
from aicity.identity.models import Role
from aicity.identity.service import Principal, require_operator
from aicity.ops.assets import access, index, projects
from aicity.ops.assets.schemas import (
    ApplicationView,
    ApplyRequest,
    AssetDetail,
    AssetSummary,
    AssetView,
    Chargeback,
    Credential,
    DecideRequest,
    DeclareRequest,
    DocumentRequest,
    ProjectAssetRequest,
    ProjectCreate,
    ProjectView,
    StageRequest,
    SyncResult,
)

router = APIRouter(prefix="/api/v1/assets", tags=["assets"])


def _staff(principal: Principal | None) -> Principal:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required", "staff-only")
    return principal


@router.get("", response_model=list[AssetView], summary="资产目录 The asset index")
def list_assets(principal: Caller, kind: str | None = None, owner: str | None = None, status: str | None = None,
                q: Annotated[str | None, Query(max_length=100)] = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    _staff(principal)
    return index.list_assets(kind, owner, status, q, limit)


@router.get("/summary", response_model=AssetSummary, summary="资产概况 Counts by kind and status")
def asset_summary(principal: Caller) -> dict[str, Any]:
    _staff(principal)
    return index.summary()


@router.post("/sync", response_model=SyncResult, summary="刷新资产目录（运营）Refresh the index (operator)")
async def sync(principal: Caller) -> dict[str, Any]:
    require_operator(principal)
    return await run_in_threadpool(index.sync)


@router.put("/declared", response_model=SyncResult, summary="声明应用与云资源（管理员）Declare applications and "
                                                            "cloud resources (admin)")
async def declare(body: DeclareRequest, principal: Caller) -> dict[str, Any]:
    if principal is None or principal.role != Role.admin:
        raise forbidden("需要管理员 API key / admin key required", "admin-only")
    return await run_in_threadpool(index.declare, body.yaml)


@router.get("/applications", response_model=list[ApplicationView], summary="资源申请 Applications")
def applications(principal: Caller, status: str | None = None,
                 view: Annotated[str | None, Query(pattern="^(mine|inbox)$")] = None) -> list[dict[str, Any]]:
    """`view=mine`: your department's applications; `view=inbox`: those waiting on your department."""
    return access.list_applications(principal, status, view)


@router.post("/applications", response_model=ApplicationView, status_code=201, summary="申请资源 Apply for an asset")
def apply(body: ApplyRequest, principal: Caller) -> dict[str, Any]:
    return access.apply(principal, body.asset_id, body.purpose, body.quota)


@router.get("/applications/{application_id}", response_model=ApplicationView, summary="一项申请 One application")
def application(application_id: str, principal: Caller) -> dict[str, Any]:
    """An operator or admin, the applying department or the asset's owner; anyone else 404."""
    return access.get_application(principal, application_id)


@router.post("/applications/{application_id}/approve", response_model=ApplicationView,
             summary="批准（资源所有部门）Approve (the owner)")
def approve(application_id: str, body: DecideRequest, principal: Caller) -> dict[str, Any]:
    return access.decide(principal, application_id, True, body.reason)


@router.post("/applications/{application_id}/reject", response_model=ApplicationView,
             summary="驳回（资源所有部门）Reject (the owner)")
def reject(application_id: str, body: DecideRequest, principal: Caller) -> dict[str, Any]:
    return access.decide(principal, application_id, False, body.reason)


@router.post("/applications/{application_id}/credential", response_model=Credential,
             summary="领取凭证（申请部门，仅一次）Take the credential (the applicant, once)")
def take_credential(application_id: str, principal: Caller) -> dict[str, Any]:
    return access.credential(principal, application_id)


@router.post("/applications/{application_id}/revoke", response_model=ApplicationView,
             summary="收回授权（资源所有部门）Revoke (the owner)")
def revoke(application_id: str, body: DecideRequest, principal: Caller) -> dict[str, Any]:
    return access.revoke(principal, application_id, body.reason)


@router.get("/chargeback", response_model=Chargeback, summary="计量与费用分摊 Metered use, charged back")
async def chargeback(principal: Caller, days: Annotated[int, Query(ge=1, le=366)] = 30,
                     department: str | None = None) -> dict[str, Any]:
    return await run_in_threadpool(access.chargeback, principal, days, department)


@router.get("/projects", response_model=list[ProjectView], summary="数字化项目 Digitalisation projects")
def list_projects(principal: Caller, department: str | None = None, stage: str | None = None) -> list[dict[str, Any]]:
    _staff(principal)
    return projects.list_projects(department, stage)


@router.post("/projects", response_model=ProjectView, status_code=201, summary="立项 Start a project")
def create_project(body: ProjectCreate, principal: Caller) -> dict[str, Any]:
    return projects.create_project(principal, body.name, body.department)


@router.get("/projects/{project_id}", response_model=ProjectView, summary="一个项目 One project")
def get_project(project_id: str, principal: Caller) -> dict[str, Any]:
    _staff(principal)
    return projects.get_project(project_id)


@router.post("/projects/{project_id}/documents", response_model=ProjectView, status_code=201,
             summary="提交阶段文档 File a document at the current stage")
def add_document(project_id: str, body: DocumentRequest, principal: Caller) -> dict[str, Any]:
    content = body.content.encode() if body.content else None
    return projects.add_document(principal, project_id, body.kind, body.title, body.reference, content)


@router.post("/projects/{project_id}/stage", response_model=ProjectView, summary="进入下一阶段 Move to the next stage")
def advance(project_id: str, body: StageRequest, principal: Caller) -> dict[str, Any]:
    return projects.advance(principal, project_id, body.to)


@router.post("/projects/{project_id}/assets", response_model=ProjectView, summary="登记产出资产 Record an asset it "
                                                                                  "produced")
def add_asset(project_id: str, body: ProjectAssetRequest, principal: Caller) -> dict[str, Any]:
    return projects.add_asset(principal, project_id, body.asset_id)


@router.get("/{asset_id:path}", response_model=AssetDetail, summary="一项资产及其血缘 One asset and its lineage")
def get_asset(asset_id: str, principal: Caller) -> dict[str, Any]:
    _staff(principal)
    return {**index.asset_json(index.get(asset_id)), "lineage": index.lineage(asset_id),
            "produced_by": projects.produced_by(asset_id)}
