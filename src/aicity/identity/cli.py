"""`aicity keys …`: API keys for staff roles and integrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.identity import service

app = typer.Typer(help="API 密钥 API keys", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="用途 what the key is for")],
    role: Annotated[str, typer.Option(help="citizen | enterprise | official | operator | admin")],
    department: Annotated[str | None, typer.Option(help="部门 id")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """创建 API key（明文只显示这一次）Create a key; the plaintext is shown once."""
    open_city(data_dir)
    try:
        key, plaintext = service.create_api_key(name, role, department, actor="cli")
    except Problem as exc:
        fail(problem_message(exc))
    out = {"id": key.id, "name": key.name, "role": key.role, "department": key.department_id, "key": plaintext}
    if json_out:
        print_json(out)
    else:
        Console().print(f"已创建 {key.id}（{key.role}）。请妥善保存，密钥只显示这一次：\n{plaintext}")


@app.command("list")
def list_keys(json_out: Annotated[bool, typer.Option("--json")] = False,
              data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """列出 API key（不含明文）List keys (never their plaintext)."""
    open_city(data_dir)
    keys = [{"id": k.id, "name": k.name, "prefix": k.prefix, "role": k.role, "department": k.department_id,
             "revoked": k.revoked} for k in service.list_api_keys()]
    if json_out:
        print_json({"keys": keys})
        return
    table = Table("id", "name", "prefix", "role", "department", "revoked")
    for k in keys:
        table.add_row(k["id"], k["name"], k["prefix"] + "…", k["role"], k["department"] or "", str(k["revoked"]))
    Console().print(table)


@app.command()
def revoke(key_id: str, data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """吊销 API key Revoke a key."""
    open_city(data_dir)
    try:
        service.revoke_api_key(key_id, actor="cli")
    except Problem as exc:
        fail(problem_message(exc))
    Console().print(f"已吊销 revoked {key_id}")
