"""`aicity ask`: the super assistant from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown

from aicity.cli_support import fail, open_city, print_json, problem_message, ready_assistant, run_batch
from aicity.core.errors import Problem
from aicity.identity.service import Principal, parse_role


def ask(
    text: Annotated[str | None, typer.Argument(help="问题 the request, in Chinese or English")] = None,
    role: Annotated[str, typer.Option(help="citizen | enterprise | official | operator | admin")] = "citizen",
    session: Annotated[str | None, typer.Option(help="继续一个会话 continue a session")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    batch: Annotated[str | None, typer.Option(help='JSON Lines 文件（- 为标准输入），每行 {"q", "role"?}')] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 data dir")] = None,
) -> None:
    """向城市超级助理提问 Ask the city super assistant."""
    if batch is None and text is None:
        fail("请给出问题或 --batch 文件 give a question or --batch FILE")
    open_city(data_dir)
    bot = ready_assistant()
    if batch is not None:
        run_batch(batch, "q", lambda row: bot.ask(
            row["q"], Principal(role=parse_role(row.get("role") or role))).model_dump())
        return
    try:
        result = bot.ask(text or "", Principal(role=parse_role(role)), session)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(result.model_dump())
        return
    console = Console()
    console.print(Markdown(result.answer))
    skills = ", ".join(f"{s.agent}.{s.skill}" for s in result.skills)
    console.print(f"\n[dim]技能 skills: {skills} · 部门 departments: {', '.join(result.departments)} · "
                  f"trace {result.trace_id} · session {result.session_id}[/dim]")
