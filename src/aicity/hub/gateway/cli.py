"""`aicity gateway …`: see the model gateway's health, try a model group, manage keys and
read metered usage. The CLI acts as the platform's administrator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.gateway import service

app = typer.Typer(help="模型网关 Model gateway (中控网关)", no_args_is_help=True)
JsonOut = Annotated[bool, typer.Option("--json", help="JSON 输出")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]


@app.command()
def health(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """模型组与部署的健康状态（熔断、时延）Groups, deployments and their breakers."""
    open_city(data_dir)
    report = service.gateway().health()
    if json_out:
        print_json(report)
        return
    table = Table("group", "strategy", "deployment", "provider", "state", "ok", "failed", "mean ms", "last error")
    for g in report["groups"]:
        for d in g["deployments"] or [{}]:
            table.add_row(g["name"], g["strategy"], d.get("name", "—"), d.get("provider", ""), d.get("state", ""),
                          str(d.get("successes", "")), str(d.get("failures", "")), str(d.get("mean_latency_ms") or ""),
                          (d.get("last_error") or "")[:60])
    Console().print(table)
    if not any(g["name"] != service.EMBED_GROUP for g in report["groups"]):
        Console().print(escape("未配置对话模型：超级助理使用内置规划器。在 aicity.toml 的 [aicity.gateway] 中添加部署即可启用 LLM。"))


@app.command()
def config(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """当前生效的配置（密钥不显示）The configuration in force (keys never shown)."""
    open_city(data_dir)
    current, source = service.current_config()
    if json_out:
        print_json({"source": source, **current.public()})
    else:
        Console().print(f"来源 source: {source}\n{service.dumps_config(current)}")


@app.command()
def chat(
    text: Annotated[str, typer.Argument(help="发给模型的话")],
    group: Annotated[str, typer.Option(help="模型组")] = "chat-large",
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """通过网关调用一个模型组，检查配置是否可用 Call a model group through the gateway."""
    open_city(data_dir)
    try:
        served = service.chat({"model": group, "messages": [{"role": "user", "content": text}]}, agent="cli")
    except Problem as exc:
        fail(problem_message(exc) + (f"\n{json.dumps(exc.extra.get('attempts'), ensure_ascii=False)}"
                                     if exc.extra.get("attempts") else ""))
    if json_out:
        print_json({"deployment": served.deployment, "group": served.group, **served.data})
        return
    Console().print(served.data["choices"][0]["message"].get("content") or "")
    Console().print(f"[dim]{served.group} → {served.deployment} · {served.upstream_s * 1000:.0f} ms[/dim]")


keys = typer.Typer(help="网关密钥 Gateway keys for the city's applications", no_args_is_help=True)
app.add_typer(keys, name="keys")


@keys.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="用途")],
    owner: Annotated[str, typer.Option(help="应用或部门")],
    group: Annotated[list[str] | None, typer.Option("--group", help="可用模型组（可多次）；不填 = 全部")] = None,
    rpm: Annotated[int | None, typer.Option(min=1, help="每分钟请求数上限")] = None,
    tpm: Annotated[int | None, typer.Option(min=1, help="每分钟 token 上限")] = None,
    budget: Annotated[int | None, typer.Option(min=1, help="每月 token 预算")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """创建网关密钥（明文只显示这一次）Create a key; the plaintext is shown once."""
    open_city(data_dir)
    try:
        key, plaintext = service.create_key(name, owner, group or [], rpm, tpm, budget, actor="cli")
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json({**service.key_public(key), "key": plaintext})
    else:
        Console().print(f"已创建 {key.id}（{owner}）。请妥善保存，密钥只显示这一次：\n{plaintext}")


@keys.command("list")
def list_keys(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """列出网关密钥 List gateway keys."""
    open_city(data_dir)
    rows = [service.key_public(k) for k in service.list_keys()]
    if json_out:
        print_json({"keys": rows})
        return
    table = Table("id", "name", "owner", "groups", "rpm", "tpm", "budget", "revoked")
    for k in rows:
        table.add_row(k["id"], k["name"], k["owner"], ",".join(k["groups"]) or "*", str(k["rpm"] or "∞"),
                      str(k["tpm"] or "∞"), str(k["monthly_token_budget"] or "∞"), str(k["revoked"]))
    Console().print(table)


@keys.command("revoke")
def revoke_key(key_id: str, data_dir: DataDir = None) -> None:
    """吊销网关密钥 Revoke a gateway key."""
    open_city(data_dir)
    try:
        service.revoke_key(key_id, actor="cli")
    except Problem as exc:
        fail(problem_message(exc))
    Console().print(f"已吊销 revoked {key_id}")


@app.command()
def usage(since: Annotated[str | None, typer.Option(help="起始日期 YYYY-MM-DD")] = None,
          json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """计量：按日、密钥、智能体、模型组、部署 Metered usage."""
    open_city(data_dir)
    rows = service.gateway().meter.report(since)
    if json_out:
        print_json({"rows": rows})
        return
    table = Table("day", "key", "agent", "group", "deployment", "requests", "errors", "prompt", "completion", "mean ms")
    for r in rows:
        table.add_row(r["day"], r["key_id"] or "", r["agent"] or "", r["group"], r["deployment"], str(r["requests"]),
                      str(r["errors"]), str(r["prompt_tokens"]), str(r["completion_tokens"]), str(r["mean_latency_ms"]))
    Console().print(table)
