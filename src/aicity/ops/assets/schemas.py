"""What the asset platform's endpoints take and answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["application", "dataset", "service", "component", "model", "cloud"]


class AssetView(BaseModel):
    id: str = Field(description="`<kind>:<ref>`，如 dataset:hotline_tickets、model:embed")
    kind: Kind
    name: str
    owner: str = Field(description="所有部门（审批申请）the owning department (decides applications)")
    owner_name: str
    status: str = Field(description="active | degraded | planned | retired | missing")
    source: str = Field(description="declared | data | slices | registry | gateway")
    description: str
    meta: dict[str, Any]
    updated_at: str


class LineageLink(BaseModel):
    id: str
    name: str
    relation: str = Field(description="uses | derived_from | hosted_on")


class Lineage(BaseModel):
    upstream: list[LineageLink] = Field(description="本资产使用的 what this asset uses")
    downstream: list[LineageLink] = Field(description="使用本资产的 what uses this asset")


class AssetDetail(AssetView):
    lineage: Lineage
    produced_by: list[str] = Field(description="产出该资产的项目 the projects that produced it")


class AssetSummary(BaseModel):
    total: int
    by_kind: dict[str, int]
    by_status: dict[str, int]


class SyncResult(BaseModel):
    application: int
    dataset: int
    service: int
    component: int
    model: int
    cloud: int
    links: int
    retired: int


class DeclareRequest(BaseModel):
    yaml: str = Field(max_length=1_000_000, description="资产声明 YAML（应用、云资源、默认所有部门、价格）")


class ApplyRequest(BaseModel):
    asset_id: str = Field(max_length=160)
    purpose: str = Field(max_length=500)
    quota: int | None = Field(default=None, description="每月配额：模型为 token 数，接口为调用次数 monthly quota")


class DecideRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


class ApplicationView(BaseModel):
    id: str
    asset_id: str
    asset_name: str
    asset_kind: Kind
    owner: str
    department: str = Field(description="申请部门 the applying department")
    department_name: str
    applicant: str
    purpose: str
    quota: int | None
    status: str = Field(description="pending | approved | rejected | revoked")
    decided_by: str | None
    decided_at: str | None
    reason: str
    grant: dict[str, Any] = Field(description="已开通的 what was provisioned: gateway_key | api_key | manual")
    provision: str = Field(description="批准后开通方式 what approval provisions")
    created_at: str


class Credential(ApplicationView):
    key: str = Field(description="密钥明文，只显示这一次 the key itself, shown this once")


class ChargeLine(BaseModel):
    application_id: str
    asset_id: str
    asset_name: str
    kind: Kind
    status: str
    quota: int | None
    requests: int
    errors: int
    tokens: int
    basis: str = Field(description="计费依据 how the amount was priced")
    amount_yuan: float


class DepartmentCharges(BaseModel):
    department: str
    department_name: str
    lines: list[ChargeLine]
    total_yuan: float


class Chargeback(BaseModel):
    period_days: int
    prices: dict[str, float]
    departments: list[DepartmentCharges]
    total_yuan: float


class ProjectCreate(BaseModel):
    name: str = Field(max_length=200)
    department: str | None = Field(default=None, description="建设部门；默认为调用者所属部门")


class DocumentRequest(BaseModel):
    kind: str = Field(description="proposal | feasibility_report | preliminary_design | implementation_plan | "
                                  "acceptance_report | other")
    title: str = Field(max_length=200)
    reference: str = Field(default="", max_length=300, description="文号或链接 a document number or URL")
    content: str | None = Field(default=None, max_length=5_000_000, description="文档正文（文本）the text")


class StageRequest(BaseModel):
    to: str = Field(description="下一阶段 the next stage: feasibility | design | implementation | acceptance | "
                                "accepted")


class ProjectAssetRequest(BaseModel):
    asset_id: str = Field(max_length=160)


class ProjectDocument(BaseModel):
    id: str
    stage: str
    kind: str
    kind_name: str
    title: str
    reference: str
    sha256: str | None
    size: int
    added_by: str
    added_at: str


class ProjectView(BaseModel):
    id: str
    name: str
    department: str
    department_name: str
    stage: str
    stage_name: str
    next_stage: str | None
    required_document: str | None = Field(description="离开本阶段所需文档 needed before the next stage")
    history: list[dict[str, Any]]
    assets: list[str] = Field(description="项目产出的资产 the assets it produced")
    documents: list[ProjectDocument]
    created_by: str
    created_at: str
