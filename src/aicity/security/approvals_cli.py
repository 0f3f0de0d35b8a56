"""`aicity approvals …`: the approval queue (审批队列) from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.identity.service import Principal, authenticate
from aicity.security import approvals

app = typer.Typer(help="审批队列 approvals of actions on the city", no_args_is_help=True)

KeyOption = Annotated[str, typer.Option("--key", envvar="AICITY_API_KEY",
                                        help="审批人的 API key（AICITY_API_KEY）the approver's key")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def _approver(key: str) -> Principal:
    try:
        principal = authenticate(key)
    except Problem as exc:
        fail(problem_message(exc))
    assert principal is not None  # a key was given
    return principal


@app.command("list")
def list_approvals(status: Annotated[str | None, typer.Option(help=" | ".join(approvals.STATUSES))] = None,
                   json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """列出审批申请 List approval requests (newest first)."""
    open_city(data_dir)
    rows = [approvals.to_dict(r) for r in approvals.list_approvals(status)]
    if json_out:
        print_json({"approvals": rows})
        return
    table = Table("id", "skill", "status", "progress", "requester", "created", "reason")
    for r in rows:
        table.add_row(r["id"], f"{r['agent']}.{r['skill']}", r["status"], r["progress"], r["requester"],
                      r["created_at"][:19], r["reason"][:40])
    Console().print(table)


def _decided(action: str, approval_id: str, key: str, note: str, json_out: bool) -> None:
    approver = _approver(key)
    try:
        if action == "approve":
            row = approvals.approve(approval_id, approver, note)
        else:
            row = approvals.reject(approval_id, approver, note)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(approvals.to_dict(row))
    else:
        Console().print(f"{row.id}: {row.status}（{approvals.progress(row)}）")


@app.command()
def approve(approval_id: str, key: KeyOption, note: Annotated[str, typer.Option(help="审批意见")] = "",
            json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """批准；批满所需人数后执行（审批人不能是申请人，一区设备须两人）Approve; run the skill once approved by enough."""
    open_city(data_dir)
    _decided("approve", approval_id, key, note, json_out)


@app.command()
def reject(approval_id: str, key: KeyOption, reason: Annotated[str, typer.Option(help="驳回理由")] = "",
           json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """驳回 Reject a request."""
    open_city(data_dir)
    _decided("reject", approval_id, key, reason, json_out)
