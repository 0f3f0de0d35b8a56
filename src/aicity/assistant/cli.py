"""`aicity ask`: the super assistant from the command line; `aicity unserved`: the requests the
catalog could not serve (honest gaps), for the operations team (`aicity agents`: agents_cli.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from aicity.assistant import unserved as unserved_store
from aicity.assistant.service import Assistant, assistant
from aicity.core.cli import err_console, fail, open_city, print_json, problem_message, run_batch
from aicity.core.errors import Problem
from aicity.hub.events import classify as events
from aicity.hub.knowledge import law_prior
from aicity.hub.knowledge import service as knowledge
from aicity.identity.service import Principal, parse_role

#: the threads `ready_assistant` loads models in (law_prior.warm names its own)
BACKGROUND_MODELS = ("law-prior", "events-classifier")


def ready_assistant() -> Assistant:
    """The assistant with dense routing and dense retrieval ready: a one-shot command waits
    for the vectors (computed once per machine, then read from the cache) instead of
    exiting before they are done. The models fitted or loaded on first use load in the background meanwhile (a
    server's slices start them at start-up), not in the first question that needs them: the legal answerer's law
    prior (about a second of CPU) and the events classifier (fitted per process, about 0.6 s: a report's first
    category). Their threads are named in BACKGROUND_MODELS."""
    law_prior.warm()
    threading.Thread(target=events.warm_up, name="events-classifier", daemon=True).start()
    bot = assistant()
    jobs = {"路由 routes": bot.router.dense, "知识库 knowledge": knowledge.dense_job(),
            "意图 modes": bot.understanding.classifier.vectors,
            "目标 target votes": bot.router.votes.vectors if bot.router.votes else None}
    running = {name: job for name, job in jobs.items() if job is not None and job.thread.is_alive()}
    if running:
        with Progress(TextColumn("[bold]计算语义向量 {task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
            tasks = {name: bar.add_task(name, total=job.total) for name, job in running.items()}
            while any(job.thread.is_alive() for job in running.values()):
                for name, job in running.items():
                    bar.update(tasks[name], completed=job.done, total=job.total)
                time.sleep(0.2)
    return bot


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


def unserved(
    limit: Annotated[int, typer.Option(min=1, max=500, help="最多列出多少条")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 data dir")] = None,
) -> None:
    """目录未覆盖的诉求（最新在前）Requests the catalog could not serve, newest first."""
    open_city(data_dir)
    rows = unserved_store.recent(limit)
    if json_out:
        print_json({"unserved": rows})
        return
    table = Table("时间 at", "角色 role", "诉求 request", "部门 department", "法规 law")
    for r in rows:
        table.add_row(r["created_at"][:16].replace("T", " "), r["role"], r["text"], r["department"] or "—",
                      r["law"] or "—")
    Console().print(table if rows else "没有未覆盖的诉求 no unserved requests")
