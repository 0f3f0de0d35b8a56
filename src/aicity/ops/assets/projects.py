"""Digitalisation projects (数字化项目): 立项 → 可研 → 初设 → 实施 → 验收 → 已验收, one stage at a time.

A project leaves a stage only with that stage's document filed: 项目建议书, 可行性研究报告, 初步设计方案
和投资概算 — the documents 《国家政务信息化项目建设管理办法》(国办发〔2019〕57号) has approved before
construction — then 实施方案（合同）and 验收报告 (these two are demo-city assumptions about what a city asks
for). A project is accepted only with at least one asset it produced in the index. A document is its
content (kept in the data dir under its sha256) or a reference to where it is kept (an office document
number, a URL). Skipping a stage, going back, or leaving one without its document → 409.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from aicity.core import audit
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import bad_request, conflict, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.identity.models import Role
from aicity.identity.service import Principal, department_name, list_departments
from aicity.ops.assets import index
from aicity.ops.assets.models import AssetProject, AssetProjectDocument

STAGES = {"initiation": "立项", "feasibility": "可研", "design": "初设", "implementation": "实施",
          "acceptance": "验收", "accepted": "已验收"}
ORDER = list(STAGES)
#: the document a stage needs before the project may leave it
REQUIRED = {"initiation": "proposal", "feasibility": "feasibility_report", "design": "preliminary_design",
            "implementation": "implementation_plan", "acceptance": "acceptance_report"}
DOC_KINDS = {"proposal": "项目建议书", "feasibility_report": "可行性研究报告",
             "preliminary_design": "初步设计方案和投资概算", "implementation_plan": "实施方案（合同）",
             "acceptance_report": "验收报告", "other": "其他材料"}
#: the stages in which a project may record the assets it produces
PRODUCING = ("implementation", "acceptance")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def _get(s: Any, project_id: str) -> AssetProject:
    row = s.get(AssetProject, project_id)
    if row is None:
        raise not_found(f"项目 '{project_id}' 不存在 / unknown project", "unknown-project")
    return row


def _may_change(principal: Principal | None, project: AssetProject | None = None) -> Principal:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    if project is not None and principal.role not in (Role.operator, Role.admin) \
            and principal.department != project.department:
        raise forbidden("只有项目建设部门能办理 / only the project's department acts on it", "not-your-project")
    return principal


def _documents(s: Any, project_id: str) -> list[AssetProjectDocument]:
    return list(s.scalars(select(AssetProjectDocument).where(AssetProjectDocument.project_id == project_id)
                          .order_by(AssetProjectDocument.added_at)))


def project_json(p: AssetProject, docs: list[AssetProjectDocument]) -> dict[str, Any]:
    nxt = ORDER.index(p.stage) + 1
    return {"id": p.id, "name": p.name, "department": p.department, "department_name": department_name(p.department),
            "stage": p.stage, "stage_name": STAGES[p.stage], "next_stage": ORDER[nxt] if nxt < len(ORDER) else None,
            "required_document": REQUIRED.get(p.stage), "history": p.history, "assets": p.assets,
            "documents": [{"id": d.id, "stage": d.stage, "kind": d.kind, "kind_name": DOC_KINDS[d.kind],
                           "title": d.title, "reference": d.reference, "sha256": d.sha256, "size": d.size,
                           "added_by": d.added_by, "added_at": d.added_at.isoformat()} for d in docs],
            "created_by": p.created_by, "created_at": p.created_at.isoformat()}


def create_project(principal: Principal | None, name: str, department: str | None = None) -> dict[str, Any]:
    who = _may_change(principal)
    department = department or who.department
    if not department:
        raise bad_request("请指定建设部门 / a department is required", "department-required")
    if who.role not in (Role.operator, Role.admin) and department != who.department:
        raise forbidden("只能为本部门立项 / only for your own department", "not-your-department")
    if department not in {d.id for d in list_departments()}:
        raise bad_request(f"未知部门 unknown department '{department}'", "unknown-department")
    if not name.strip():
        raise bad_request("项目名称不能为空 / a name is required", "name-required")
    now = utcnow()
    row = AssetProject(id=new_id("proj"), name=name.strip()[:200], department=department, stage=ORDER[0],
                       history=[{"stage": ORDER[0], "at": now.isoformat(), "by": who.actor}], assets=[],
                       created_by=who.actor, created_at=now)
    with database().session() as s:
        s.add(row)
    audit.record(who.actor, "assets.project.created", row.id, {"name": row.name, "department": department})
    return project_json(row, [])


def get_project(project_id: str) -> dict[str, Any]:
    with database().session() as s:
        return project_json(_get(s, project_id), _documents(s, project_id))


def list_projects(department: str | None = None, stage: str | None = None) -> list[dict[str, Any]]:
    if stage is not None and stage not in STAGES:
        raise bad_request(f"未知阶段 unknown stage '{stage}'; one of {', '.join(ORDER)}", "unknown-stage")
    with database().session() as s:
        q = select(AssetProject).order_by(AssetProject.created_at.desc())
        if department:
            q = q.where(AssetProject.department == department)
        if stage:
            q = q.where(AssetProject.stage == stage)
        return [project_json(p, _documents(s, p.id)) for p in s.scalars(q)]


def _documents_dir(project_id: str) -> Path:
    return settings().data_dir / "assets" / "projects" / project_id


def add_document(principal: Principal | None, project_id: str, kind: str, title: str, reference: str = "",
                 content: bytes | None = None) -> dict[str, Any]:
    """File a document at the project's current stage: its content, or a reference to it."""
    if kind not in DOC_KINDS:
        raise bad_request(f"未知文档类型 unknown document kind '{kind}'; one of {', '.join(DOC_KINDS)}",
                          "unknown-document-kind")
    if not title.strip():
        raise bad_request("文档标题不能为空 / a title is required", "title-required")
    if not content and not reference.strip():
        raise bad_request("请提供文档内容或引用 / the content or a reference is required", "document-empty")
    if content and len(content) > MAX_DOCUMENT_BYTES:
        raise bad_request("文档超过 20 MB / the document is over 20 MB", "document-too-large")
    with database().session() as s:
        project = _get(s, project_id)
        who = _may_change(principal, project)
        if project.stage == "accepted":
            raise conflict("项目已验收 / the project is accepted", "project-closed")
        digest = hashlib.sha256(content).hexdigest() if content else None
        if content:
            folder = _documents_dir(project_id)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / str(digest)).write_bytes(content)
        doc = AssetProjectDocument(id=new_id("pdoc"), project_id=project_id, stage=project.stage, kind=kind,
                                   title=title.strip()[:200], reference=reference.strip()[:300], sha256=digest,
                                   size=len(content or b""), added_by=who.actor, added_at=utcnow())
        s.add(doc)
    audit.record(who.actor, "assets.project.document", project_id,
                 {"document": doc.id, "stage": doc.stage, "kind": kind, "sha256": digest})
    return get_project(project_id)


def advance(principal: Principal | None, project_id: str, to_stage: str) -> dict[str, Any]:
    """Move the project to the next stage: only the next one, and only with the current stage's
    document filed (and, to be accepted, at least one asset produced)."""
    if to_stage not in STAGES:
        raise bad_request(f"未知阶段 unknown stage '{to_stage}'; one of {', '.join(ORDER)}", "unknown-stage")
    with database().session() as s:
        project = _get(s, project_id)
        who = _may_change(principal, project)
        current = ORDER.index(project.stage)
        if ORDER.index(to_stage) != current + 1:
            raise conflict(f"不能从「{STAGES[project.stage]}」转到「{STAGES[to_stage]}」：只能进入下一阶段"
                           f"{'「' + STAGES[ORDER[current + 1]] + '」' if current + 1 < len(ORDER) else '（已结束）'}"
                           f" / only the next stage", "invalid-stage-move")
        needed = REQUIRED[project.stage]
        if not any(d.stage == project.stage and d.kind == needed for d in _documents(s, project_id)):
            raise conflict(f"「{STAGES[project.stage]}」阶段缺少{DOC_KINDS[needed]} / the stage's {needed} is missing",
                           "documents-missing")
        if to_stage == "accepted" and not project.assets:
            raise conflict("验收前须登记项目产出的资产 / record the assets the project produced first",
                           "no-assets-produced")
        project.stage = to_stage
        project.history = [*project.history, {"stage": to_stage, "at": utcnow().isoformat(), "by": who.actor}]
    audit.record(who.actor, "assets.project.stage", project_id, {"stage": to_stage})
    return get_project(project_id)


def add_asset(principal: Principal | None, project_id: str, asset_id: str) -> dict[str, Any]:
    """Record an asset the project produced (in 实施 or 验收)."""
    index.get(asset_id)  # 404 unknown-asset
    with database().session() as s:
        project = _get(s, project_id)
        who = _may_change(principal, project)
        if project.stage not in PRODUCING:
            raise conflict(f"「{STAGES[project.stage]}」阶段不能登记产出资产（实施、验收阶段可以）/ only in "
                           "implementation or acceptance", "invalid-stage")
        if asset_id not in project.assets:
            project.assets = [*project.assets, asset_id]
    audit.record(who.actor, "assets.project.asset", project_id, {"asset": asset_id})
    return get_project(project_id)


def produced_by(asset_id: str) -> list[str]:
    """The projects that record `asset_id` among what they produced."""
    with database().session() as s:
        return [p.id for p in s.scalars(select(AssetProject)) if asset_id in (p.assets or [])]
