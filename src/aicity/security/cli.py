"""`aicity audit …`: the tamper-evident audit ledger (审计账本)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.core import audit
from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem

app = typer.Typer(help="审计账本 tamper-evident audit ledger", no_args_is_help=True)

JsonOut = Annotated[bool, typer.Option("--json")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]


@app.command()
def verify(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """校验账本：重算每条记录与根哈希，核对签名树头 Verify every entry, the root and the signed heads.

    退出码 exit code: 0 完好 intact, 1 被篡改 tampered."""
    open_city(data_dir)
    report = audit.verify()
    if json_out:
        print_json(report.to_dict())
    elif report.ok:
        Console().print(f"[green]审计账本完好 ledger intact[/green]: {report.tree_size} 条 entries, "
                        f"{report.signed_heads} 个签名树头 signed heads, root {report.root_hash}")
    else:
        console = Console(stderr=True)
        console.print(f"[red]审计账本被篡改 ledger TAMPERED[/red]: {len(report.findings)} 处问题 problems")
        for finding in report.findings:
            console.print(f"  • {finding.message}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("list")
def list_entries(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="条数 how many")] = 20,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """最近的审计记录 Recent entries, newest first."""
    open_city(data_dir)
    entries = [audit.entry_json(e) for e in audit.recent_entries(limit)]
    if json_out:
        print_json({"entries": entries})
        return
    table = Table("seq", "time", "actor", "action", "target")
    for e in entries:
        table.add_row(str(e["seq"]), e["time"], e["actor"], e["action"], e["target"])
    Console().print(table)


@app.command()
def proof(
    seq: int,
    tree_size: Annotated[int | None, typer.Option(help="树大小（默认当前）tree size (default: current)")] = None,
    data_dir: DataDir = None,
) -> None:
    """第 SEQ 条的包含证明（JSON）Inclusion proof of entry SEQ, as JSON."""
    open_city(data_dir)
    try:
        print_json(audit.inclusion_proof(seq, tree_size))
    except Problem as exc:
        fail(problem_message(exc))


@app.command()
def head(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """签发并显示当前的签名树头 Sign (if the tree grew) and show the current signed tree head."""
    open_city(data_dir)
    try:
        signed = audit.head_json(audit.sign_tree_head())
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(signed)
        return
    console = Console()
    for name in ("tree_size", "time", "root_hash", "signature", "log_id"):
        console.print(f"{name}: {signed[name]}")
    console.print(signed["public_key"], end="")
