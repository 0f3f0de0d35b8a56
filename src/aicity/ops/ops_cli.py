"""`aicity ops …`: the operations views (agent operations)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import open_city, print_json
from aicity.ops import agents
from aicity.ops.centre_cli import corpus_app, knowledge_app, models_app
from aicity.ops.infra_cli import infra_command

app = typer.Typer(help="运营 operations", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
app.add_typer(models_app, name="models")
app.add_typer(knowledge_app, name="knowledge")
app.command("infra")(infra_command)


@app.callback()
def ops() -> None:
    """运营 operations (`aicity ops agents`)."""


def _cell(value: object) -> str:
    return "—" if value is None else str(value)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@app.command("agents")
def agents_command(
    days: Annotated[int, typer.Option(min=1, max=366, help="统计最近多少天 the last N days")] = 30,
    json_out: Annotated[bool, typer.Option("--json", help="JSON 输出")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """智能体运营：各智能体与技能的调用量、成功率、拒答、时延、token、评价；未被服务的问题聚类
    Agent operations: volume, success, abstentions, latency, tokens and feedback per agent and skill;
    the questions nobody served, clustered."""
    open_city(data_dir)
    report = agents.agent_report(days)
    if json_out:
        print_json(report)
        return
    console = Console()
    console.print(f"最近 {days} 天 last {days} days: {report['runs']} 次运行 runs, {report['blocked']} 次拦截 blocked, "
                  f"{report['abstained_runs']} 次未作答 abstained, 评价 feedback 👍 {report['feedback']['up']} "
                  f"👎 {report['feedback']['down']}")
    for title, rows in (("智能体 agents", report["agents"]), ("技能 skills", report["skills"])):
        table = Table("名称 name", "调用 calls", "成功 success", "拒答 abstain", "出错 errors", "p50 ms", "p95 ms",
                      "token in/out", "👍/👎", title=title)
        for r in rows:
            table.add_row(escape(r["name"]), str(r["calls"]), _rate(r["success_rate"]), _rate(r["abstention_rate"]),
                          str(r["errors"] + r["denied"]), _cell(r["latency_ms_p50"]), _cell(r["latency_ms_p95"]),
                          f"{r['input_tokens']}/{r['output_tokens']}", f"{r['up']}/{r['down']}")
        console.print(table)
    if report["gateway"]:
        table = Table("调用方 component", "请求 requests", "错误 errors", "prompt", "completion",
                      title="模型网关计量 gateway meter")
        for r in report["gateway"]:
            table.add_row(escape(r["agent"]), str(r["requests"]), str(r["errors"]), str(r["prompt_tokens"]),
                          str(r["completion_tokens"]))
        console.print(table)
    table = Table("主题 cluster", "数量 size", "原因 why", "例子 examples", title="未被服务的问题 what nobody served")
    for g in report["failed"][:20]:
        table.add_row(escape(g["label"]), str(g["size"]), escape(", ".join(f"{k} {v}" for k, v in g["reasons"].items())),
                      escape(" | ".join(g["examples"][:3])))
    console.print(table)
