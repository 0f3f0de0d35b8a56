"""`aicity assets …`: the digital-asset platform from the command line.

The command line runs on the city's own machine: it acts for the department it is told
(`--department`, as role `--role`), named `<role>:cli:<department>` in the audit ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import open_city, print_json, run_service, show_result
from aicity.core.errors import bad_request
from aicity.identity.service import Principal, list_departments, parse_role
from aicity.ops.assets import access, index, projects

app = typer.Typer(help="数字资产：目录、血缘、申请与审批、计量分摊、数字化项目 the digital-asset platform",
                  no_args_is_help=True)
project_app = typer.Typer(help="数字化项目：立项、可研、初设、实施、验收 digitalisation projects", no_args_is_help=True)
app.add_typer(project_app, name="project")

DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOut = Annotated[bool, typer.Option("--json", help="JSON 输出")]
Dept = Annotated[str, typer.Option(help="以哪个部门办理 act for this department")]
RoleOpt = Annotated[str, typer.Option(help="以哪个角色办理 act as this role")]
out = Console()


def _who(department: str, role: str) -> Principal:
    """The principal the command acts as: a known role, a department of the city (identity service);
    anything else a Problem (a clear message through `run_service`)."""
    parsed = parse_role(role)
    known = {d.id for d in list_departments()}
    if department not in known:
        raise bad_request(f"未知部门 unknown department '{department}'; known: {', '.join(sorted(known))}",
                          "unknown-department")
    return Principal(role=parsed, department=department, key_id=f"cli:{department}")


@app.command("declare")
def declare(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="资产声明 YAML")],
            data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """声明应用与云资源（及默认所有部门、价格），并刷新目录 Declare applications and cloud resources, then sync."""
    open_city(data_dir)
    counts = run_service(lambda: index.declare(file.read_text(encoding="utf-8")))
    show_result(counts, json_out, "已声明并刷新 declared and synced: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("sync")
def sync(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """从数据中枢、切片、智能体注册表、模型网关刷新目录 Refresh the index from the platform."""
    open_city(data_dir)
    counts = run_service(index.sync)
    show_result(counts, json_out, "已刷新 synced: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("list")
def list_assets(kind: Annotated[str | None, typer.Option(help="application|dataset|service|component|model|cloud")]
                = None, owner: Annotated[str | None, typer.Option(help="所有部门 owner")] = None,
                query: Annotated[str | None, typer.Option("--q", help="名称包含 name contains")] = None,
                data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """资产目录 The asset index."""
    open_city(data_dir)
    rows = run_service(lambda: index.list_assets(kind, owner, None, query))
    if json_out:
        print_json(rows)
        return
    table = Table("资产 id", "名称 name", "类型 kind", "所有部门 owner", "状态 status", title=f"资产 assets ({len(rows)})")
    for r in rows:
        table.add_row(escape(r["id"]), escape(r["name"]), index.KIND_NAMES[r["kind"]], escape(r["owner_name"]),
                      r["status"])
    out.print(table)


@app.command("show")
def show(asset_id: str, data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """一项资产及其血缘 One asset and its lineage."""
    open_city(data_dir)
    asset = run_service(lambda: index.asset_json(index.get(asset_id)))
    found = {**asset, "lineage": index.lineage(asset_id), "produced_by": projects.produced_by(asset_id)}
    if json_out:
        print_json(found)
        return
    out.print(escape(f"{found['name']} ({found['id']}) — {found['owner_name']}, {found['status']}"))
    for link in found["lineage"]["upstream"]:
        out.print(escape(f"  → {index.RELATIONS[link['relation']]} {link['name']} ({link['id']})"))
    for link in found["lineage"]["downstream"]:
        out.print(escape(f"  ← {link['name']} ({link['id']}) {index.RELATIONS[link['relation']]}本资产"))


@app.command("apply")
def apply(asset_id: str, purpose: Annotated[str, typer.Option(help="用途 purpose")], department: Dept,
          quota: Annotated[int | None, typer.Option(help="每月配额 monthly quota (tokens / calls)")] = None,
          role: RoleOpt = "official", data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """部门申请资源 A department applies for an asset."""
    open_city(data_dir)
    row = run_service(lambda: access.apply(_who(department, role), asset_id, purpose, quota))
    show_result(row, json_out, f"已提交申请 applied: {row['id']}（待 {row['owner']} 审批）")


def _decide(application_id: str, department: str, role: str, approve: bool, reason: str, json_out: bool) -> None:
    row = run_service(lambda: access.decide(_who(department, role), application_id, approve, reason))
    show_result(row, json_out, f"{row['id']}: {row['status']}（开通方式 provision: {row['provision']}）")


@app.command("approve")
def approve(application_id: str, department: Dept, reason: str = "", role: RoleOpt = "official",
            data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """资源所有部门批准 The owner approves."""
    open_city(data_dir)
    _decide(application_id, department, role, True, reason, json_out)


@app.command("reject")
def reject(application_id: str, department: Dept, reason: str = "", role: RoleOpt = "official",
           data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """资源所有部门驳回 The owner rejects."""
    open_city(data_dir)
    _decide(application_id, department, role, False, reason, json_out)


@app.command("revoke")
def revoke(application_id: str, department: Dept, reason: str = "", role: RoleOpt = "official",
           data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """资源所有部门收回授权（吊销密钥）The owner revokes the grant (its key too)."""
    open_city(data_dir)
    row = run_service(lambda: access.revoke(_who(department, role), application_id, reason))
    show_result(row, json_out, f"{row['id']}: {row['status']}")


@app.command("credential")
def credential(application_id: str, department: Dept, role: RoleOpt = "official", data_dir: DataDir = None,
               json_out: JsonOut = False) -> None:
    """申请部门领取开通的密钥（只显示一次）The applicant takes the provisioned key (shown once)."""
    open_city(data_dir)
    row = run_service(lambda: access.credential(_who(department, role), application_id))
    show_result(row, json_out, f"{row['grant']['type']} {row['grant']['key_id']}: {row['key']}")


@app.command("applications")
def applications(status: Annotated[str | None, typer.Option(help="pending|approved|rejected|revoked")] = None,
                 data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """全部资源申请 Every application (as an operator)."""
    open_city(data_dir)
    rows = run_service(lambda: access.list_applications(Principal(role=parse_role("operator"), key_id="cli"), status))
    if json_out:
        print_json(rows)
        return
    table = Table("申请 id", "资产 asset", "申请部门 department", "状态 status", "开通 grant", title="资源申请 applications")
    for r in rows:
        table.add_row(r["id"], escape(r["asset_id"]), escape(r["department_name"]), r["status"],
                      escape(str(r["grant"].get("type", "—"))))
    out.print(table)


@app.command("chargeback")
def chargeback(days: Annotated[int, typer.Option(min=1, max=366, help="统计最近多少天 the last N days")] = 30,
               department: Annotated[str | None, typer.Option(help="只看一个部门 one department")] = None,
               data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """计量与费用分摊报告 Metered use, charged back to the departments."""
    open_city(data_dir)
    report = run_service(lambda: access.chargeback(Principal(role=parse_role("operator"), key_id="cli"), days, department))
    if json_out:
        print_json(report)
        return
    table = Table("部门 department", "资产 asset", "调用 requests", "token", "计费 basis", "金额 元",
                  title=f"最近 {days} 天费用分摊 chargeback, last {days} days: {report['total_yuan']} 元")
    for d in report["departments"]:
        for line in d["lines"]:
            table.add_row(escape(d["department_name"]), escape(line["asset_name"]), str(line["requests"]),
                          str(line["tokens"]), escape(line["basis"]), f"{line['amount_yuan']:.2f}")
    out.print(table)


@project_app.command("create")
def project_create(name: str, department: Dept, role: RoleOpt = "official", data_dir: DataDir = None,
                   json_out: JsonOut = False) -> None:
    """立项 Start a project."""
    open_city(data_dir)
    row = run_service(lambda: projects.create_project(_who(department, role), name))
    show_result(row, json_out, f"已立项 started: {row['id']} {row['name']}")


@project_app.command("doc")
def project_doc(project_id: str, kind: Annotated[str, typer.Option(help=", ".join(projects.DOC_KINDS))],
                title: Annotated[str, typer.Option(help="标题 title")], department: Dept,
                file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="文档文件")] = None,
                reference: Annotated[str, typer.Option(help="文号或链接 number or URL")] = "",
                role: RoleOpt = "official", data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """提交当前阶段的文档 File a document at the current stage."""
    open_city(data_dir)
    content = file.read_bytes() if file else None
    row = run_service(lambda: projects.add_document(_who(department, role), project_id, kind, title, reference, content))
    show_result(row, json_out, f"{row['id']}: {row['stage_name']}，文档 {len(row['documents'])} 份")


@project_app.command("stage")
def project_stage(project_id: str, to: Annotated[str, typer.Argument(help=", ".join(projects.ORDER))],
                  department: Dept, role: RoleOpt = "official", data_dir: DataDir = None,
                  json_out: JsonOut = False) -> None:
    """进入下一阶段 Move to the next stage."""
    open_city(data_dir)
    row = run_service(lambda: projects.advance(_who(department, role), project_id, to))
    show_result(row, json_out, f"{row['id']}: 进入 now {row['stage_name']}")


@project_app.command("asset")
def project_asset(project_id: str, asset_id: str, department: Dept, role: RoleOpt = "official",
                  data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """登记项目产出的资产 Record an asset the project produced."""
    open_city(data_dir)
    row = run_service(lambda: projects.add_asset(_who(department, role), project_id, asset_id))
    show_result(row, json_out, f"{row['id']}: 产出 produced {', '.join(row['assets'])}")


@project_app.command("list")
def project_list(stage: Annotated[str | None, typer.Option(help=", ".join(projects.ORDER))] = None,
                 data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """数字化项目 The projects."""
    open_city(data_dir)
    rows = run_service(lambda: projects.list_projects(None, stage))
    if json_out:
        print_json(rows)
        return
    table = Table("项目 id", "名称 name", "部门 department", "阶段 stage", "文档 docs", "产出 assets", title="数字化项目")
    for r in rows:
        table.add_row(r["id"], escape(r["name"]), escape(r["department_name"]), r["stage_name"],
                      str(len(r["documents"])), str(len(r["assets"])))
    out.print(table)
