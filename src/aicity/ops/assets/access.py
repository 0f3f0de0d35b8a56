"""Applying for an asset, the owner's decision, provisioning, metering and the chargeback.

A department's staff apply (`apply`); staff of the owning department decide (`decide`) — never the
applicant, nor the applying department (`own-application`). Once approved, the applicant takes the
credential (`credential`, once), provisioned where the platform can:

- a model group → a gateway key limited to that group, with the quota as its monthly token budget
  (the gateway enforces it: hub/gateway/quotas.py);
- an API (service) or a skill (component) → an ordinary API key of the applying department
  (identity service, role official): it is not scoped to the asset (the identity service has no
  per-key scopes); it is a separate key so that its use is attributed to this application;
- a dataset → not here: datasets are shared under the data hub's data-space agreements
  (`aicity data spaces …`, `/api/v1/data/spaces`), which scope, limit and record each use (400
  `dataset-via-data-spaces`);
- an application or a cloud resource → nothing the platform can open: the grant is recorded as
  `manual` (the owner opens it outside the platform).

Use is metered from meters that exist: the gateway's usage table (tokens, requests per key) and the
traces (runs, and skill calls, made with the key); the chargeback prices them (`prices` in the
declaration, demo-city assumptions) and adds a granted cloud resource's monthly cost pro rata.
Everything is recorded in the audit ledger. Taking a credential and revoking a grant are each one
unit: the row is locked first (a write on it: PostgreSQL's row lock, SQLite's write lock), so two
concurrent calls never mint two keys, and a failed revoke leaves the grant as it was.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from aicity.core import audit
from aicity.core.db import database
from aicity.core.errors import bad_request, conflict, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.core.tracing import recent_traces
from aicity.hub.gateway import service as gateway
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal, department_name
from aicity.ops.assets import index
from aicity.ops.assets.models import AssetApplication

#: what approval provisions, per asset kind
PROVISION = {"model": "gateway_key", "service": "api_key", "component": "api_key", "dataset": "data_space",
             "application": "manual", "cloud": "manual"}
MAX_TRACES = 100_000


def _staff_department(principal: Principal | None, what: str) -> tuple[Principal, str]:
    if principal is None or not principal.is_staff:
        raise forbidden(f"需要工作人员 API key 才能{what} / a staff key is required", "staff-only")
    if not principal.department:
        raise forbidden(f"需要所属部门的 API key 才能{what} / a key bound to a department is required",
                        "department-required")
    return principal, principal.department


def application_json(a: AssetApplication) -> dict[str, Any]:
    asset = index.get(a.asset_id)
    return {"id": a.id, "asset_id": a.asset_id, "asset_name": asset.name, "asset_kind": asset.kind,
            "owner": asset.owner, "department": a.department, "department_name": department_name(a.department),
            "applicant": a.applicant, "purpose": a.purpose, "quota": a.quota, "status": a.status,
            "decided_by": a.decided_by, "decided_at": a.decided_at.isoformat() if a.decided_at else None,
            "reason": a.reason, "grant": a.grant, "provision": PROVISION[asset.kind],
            "created_at": a.created_at.isoformat()}


def apply(principal: Principal | None, asset_id: str, purpose: str, quota: int | None = None) -> dict[str, Any]:
    who, department = _staff_department(principal, "申请资源")
    asset = index.get(asset_id)  # 404 unknown-asset
    if asset.status in ("retired", "planned", "missing"):
        raise conflict(f"资产状态为 {asset.status}，不能申请 / the asset is {asset.status}", "asset-unavailable")
    if asset.owner == department:
        raise bad_request("本部门拥有该资源，无需申请 / your department owns this asset", "own-asset")
    if asset.kind == "dataset":
        raise bad_request("数据集通过可信数据空间的数据使用协议共享，请在数据空间申请（aicity data spaces request "
                          "<offer> --purpose …）/ datasets are shared under data-space agreements: request one "
                          "under the dataset's offer (aicity data spaces …, /api/v1/data/spaces)",
                          "dataset-via-data-spaces")
    if not purpose.strip():
        raise bad_request("请说明用途 / a purpose is required", "purpose-required")
    if quota is not None and quota < 1:
        raise bad_request("配额必须为正整数 / the quota must be a positive integer", "invalid-quota")
    with database().session() as s:
        open_one = s.scalar(select(AssetApplication).where(
            AssetApplication.asset_id == asset_id, AssetApplication.department == department,
            AssetApplication.status.in_(("pending", "approved"))))
        if open_one is not None:
            raise conflict(f"本部门已有该资源的申请 {open_one.id}（{open_one.status}）/ an open application exists",
                           "duplicate-application")
        row = AssetApplication(id=new_id("aapp"), asset_id=asset_id, department=department, applicant=who.actor,
                               purpose=purpose.strip(), quota=quota, status="pending", decided_by=None,
                               decided_at=None, reason="", grant={}, created_at=utcnow())
        s.add(row)
    audit.record(who.actor, "assets.application.created", row.id,
                 {"asset": asset_id, "department": department, "quota": quota})
    return application_json(row)


def _get(s: Any, application_id: str, lock: bool = False) -> AssetApplication:
    """The row; with `lock`, written to first (a no-op update) and then read, so the rest of the unit
    holds the row: PostgreSQL's row lock, SQLite's database write lock."""
    if lock:
        s.execute(update(AssetApplication).where(AssetApplication.id == application_id)
                  .values(status=AssetApplication.status))
        row = s.scalar(select(AssetApplication).where(AssetApplication.id == application_id)
                       .with_for_update().execution_options(populate_existing=True))
    else:
        row = s.get(AssetApplication, application_id)
    if row is None:
        raise not_found(f"申请 '{application_id}' 不存在 / unknown application", "unknown-application")
    return row


def get_application(principal: Principal | None, application_id: str) -> dict[str, Any]:
    """One application, for those who may see it (as `list_applications`): an operator or admin, the
    applying department or the asset's owner; anyone else 404, as if it did not exist."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    with database().session() as s:
        found = application_json(_get(s, application_id))
    if principal.role not in (Role.operator, Role.admin) and principal.department not in (found["department"],
                                                                                           found["owner"]):
        raise not_found(f"申请 '{application_id}' 不存在 / unknown application", "unknown-application")
    return found


def decide(principal: Principal | None, application_id: str, approve: bool, reason: str = "") -> dict[str, Any]:
    """The owner's decision. Staff of the owning department (or an admin) decide; the applicant and the
    applying department never decide their own application (403 `own-application`)."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    with database().session() as s:
        row = _get(s, application_id)
        asset = index.get(row.asset_id)
        if principal.actor == row.applicant or principal.department == row.department:
            raise forbidden("不能审批本部门自己的申请 / you cannot decide your own application", "own-application")
        if principal.role != Role.admin and principal.department != asset.owner:
            raise forbidden(f"只有资源所有部门（{department_name(asset.owner)}）能审批 / only the owner decides",
                            "not-owner")
        if row.status != "pending":
            raise conflict(f"申请已是 {row.status} / the application is already {row.status}", "already-decided")
        row.status = "approved" if approve else "rejected"
        row.decided_by, row.decided_at, row.reason = principal.actor, utcnow(), reason.strip()[:500]
        kind = PROVISION[asset.kind]
        row.grant = {"type": kind, "collected": False} if approve else {}
        if approve and kind == "manual":
            row.grant["note"] = "由资源所有部门在平台外开通 / opened by the owner outside the platform"
    audit.record(principal.actor, f"assets.application.{row.status}", row.id,
                 {"asset": row.asset_id, "department": row.department})
    return application_json(row)


def credential(principal: Principal | None, application_id: str) -> dict[str, Any]:
    """The applicant's department takes what approval provisioned, once: a gateway key for a model
    group (quota: monthly tokens), or an API key for an API or skill. The key's plaintext is in this
    answer only. One unit: the row is locked, the key made and the row marked collected together."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    with database().together() as s:
        row = _get(s, application_id, lock=True)
        if principal.department != row.department:
            raise forbidden("只有申请部门能领取 / only the applying department takes the credential", "not-applicant")
        if row.status != "approved":
            raise conflict(f"申请状态为 {row.status}，尚未批准 / the application is {row.status}", "not-approved")
        if row.grant.get("type") not in ("gateway_key", "api_key"):
            raise conflict("该资源由所有部门在平台外开通，无平台凭证 / provisioned outside the platform",
                           "manual-provision")
        if row.grant.get("collected"):
            raise conflict("凭证已领取（只显示一次）/ the credential was already taken (shown once)",
                           "already-collected")
        asset = index.get(row.asset_id)
        name = f"asset:{row.id}"
        if row.grant["type"] == "gateway_key":
            key, plaintext = gateway.create_key(name, row.department, groups=[asset.id.split(":", 1)[1]],
                                                monthly_token_budget=row.quota, actor=principal.actor)
            grant = {"type": "gateway_key", "key_id": key.id, "prefix": key.prefix, "group": key.groups[0],
                     "monthly_token_budget": row.quota}
        else:
            api_key, plaintext = identity.create_api_key(name, Role.official.value, row.department,
                                                         actor=principal.actor)
            grant = {"type": "api_key", "key_id": api_key.id, "prefix": api_key.prefix, "monthly_calls": row.quota}
        row.grant = {**grant, "collected": True}
        audit.record(principal.actor, "assets.application.provisioned", row.id, {"grant": grant})
        view = application_json(row)
    gateway.keys_changed()  # the key committed with the unit: the gateway reads it now
    return {**view, "key": plaintext}


def revoke(principal: Principal | None, application_id: str, reason: str = "") -> dict[str, Any]:
    """The owner (or an admin) withdraws an approved grant; its key, if it was taken, is revoked. One
    unit: the status, the key's revocation and the audit record commit together or not at all."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    with database().together() as s:
        row = _get(s, application_id, lock=True)
        asset = index.get(row.asset_id)
        if principal.role != Role.admin and principal.department != asset.owner:
            raise forbidden("只有资源所有部门能收回 / only the owner revokes", "not-owner")
        if row.status != "approved":
            raise conflict(f"申请状态为 {row.status} / the application is {row.status}", "not-approved")
        row.status, row.reason = "revoked", reason.strip()[:500] or row.reason
        grant = dict(row.grant)
        if grant.get("type") == "gateway_key" and grant.get("key_id"):
            gateway.revoke_key(grant["key_id"], actor=principal.actor)
        elif grant.get("type") == "api_key" and grant.get("key_id"):
            identity.revoke_api_key(grant["key_id"], actor=principal.actor)
        audit.record(principal.actor, "assets.application.revoked", application_id,
                     {"asset": row.asset_id, "key_id": grant.get("key_id")})
        view = application_json(row)
    gateway.keys_changed()  # the revocation committed with the unit: the gateway drops the key now
    return view


def list_applications(principal: Principal | None, status: str | None = None,
                      role_filter: str | None = None) -> list[dict[str, Any]]:
    """Applications a caller may see: an operator or admin, all; other staff, those of their
    department (as applicant, `role_filter=mine`) and those for its assets (`role_filter=inbox`)."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    with database().session() as s:
        q = select(AssetApplication).order_by(AssetApplication.created_at.desc())
        if status:
            q = q.where(AssetApplication.status == status)
        rows = [application_json(r) for r in s.scalars(q)]
    everything = principal.role in (Role.operator, Role.admin)
    dept = principal.department
    if role_filter == "mine":
        return [r for r in rows if r["department"] == dept]
    if role_filter == "inbox":
        return [r for r in rows if r["owner"] == dept or (principal.role == Role.admin and r["status"] == "pending")]
    return rows if everything else [r for r in rows if dept in (r["department"], r["owner"])]


# ---- metering and the chargeback ---------------------------------------------------------------

def metered(grant: dict[str, Any], asset_id: str, days: int) -> dict[str, Any]:
    """The grant's use over the last `days` days, from the gateway's meter or the traces."""
    since = utcnow() - timedelta(days=days)
    if not grant.get("key_id"):  # nothing the platform provisioned, or not taken yet
        return {"requests": 0, "errors": 0, "tokens": 0}
    if grant.get("type") == "gateway_key":
        rows = [r for r in gateway.gateway().meter.report(since.strftime("%Y-%m-%d")) if r["key_id"] == grant["key_id"]]
        return {"requests": sum(r["requests"] for r in rows), "errors": sum(r["errors"] for r in rows),
                "tokens": sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows)}
    runs = recent_traces(limit=MAX_TRACES, owner=grant["key_id"], since=since)
    calls = len(runs)
    if asset_id.startswith("component:"):  # a skill: its calls within those runs
        agent, _, skill = asset_id.removeprefix("component:").partition(".")
        calls = sum(1 for t in runs for step in t.steps
                    if step.get("name") == "skill" and step.get("agent") == agent and step.get("skill") == skill)
    return {"requests": calls, "errors": 0, "tokens": 0}


def chargeback(principal: Principal | None, days: int = 30, department: str | None = None) -> dict[str, Any]:
    """Per applying department: each granted asset's metered use and its charge. Operators and admins
    see every department; other staff their own."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / a staff key is required", "staff-only")
    if days < 1 or days > 366:
        raise bad_request("days 须在 1–366 之间 / days must be 1–366", "bad-period")
    if principal.role not in (Role.operator, Role.admin):
        if department not in (None, principal.department):
            raise forbidden("只能查看本部门的账单 / only your department's charges", "not-your-department")
        department = principal.department
    price = index.prices()
    with database().session() as s:
        q = select(AssetApplication).where(AssetApplication.status.in_(("approved", "revoked")))
        if department:
            q = q.where(AssetApplication.department == department)
        grants = list(s.scalars(q.order_by(AssetApplication.department, AssetApplication.created_at)))
    by_department: dict[str, dict[str, Any]] = {}
    for g in grants:
        asset = index.get(g.asset_id)
        use = metered(g.grant, g.asset_id, days)
        if asset.kind == "model":
            amount, basis = use["tokens"] / 1000 * price.model_per_1k_tokens, f"{price.model_per_1k_tokens} 元/千 token"
        elif asset.kind == "cloud":
            monthly = float(asset.meta.get("monthly_cost_yuan") or 0)
            amount, basis = monthly * days / 30 if g.status == "approved" else 0.0, f"{monthly:g} 元/月 × {days}/30"
        else:
            amount, basis = use["requests"] * price.api_per_call, f"{price.api_per_call} 元/次"
        dept = by_department.setdefault(g.department, {"department": g.department,
                                                       "department_name": department_name(g.department),
                                                       "lines": [], "total_yuan": 0.0})
        dept["lines"].append({"application_id": g.id, "asset_id": g.asset_id, "asset_name": asset.name,
                              "kind": asset.kind, "status": g.status, "quota": g.quota, **use,
                              "basis": basis, "amount_yuan": round(amount, 2)})
        dept["total_yuan"] = round(dept["total_yuan"] + amount, 2)
    rows = sorted(by_department.values(), key=lambda d: -d["total_yuan"])
    return {"period_days": days, "prices": price.model_dump(), "departments": rows,
            "total_yuan": round(sum(d["total_yuan"] for d in rows), 2)}
