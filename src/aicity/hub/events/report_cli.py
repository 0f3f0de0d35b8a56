"""`aicity report daily`: the city-operations briefing of a day (城市运行日报), as Markdown or
as a self-contained HTML page with charts."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from aicity.core.cli import fail, open_city
from aicity.hub.events import insights
from aicity.hub.events.briefing import render

app = typer.Typer(no_args_is_help=True)


@app.callback()
def reports() -> None:
    """城市运行报告 city-operations reports."""  # a group, so that `daily` stays a subcommand


@app.command()
def daily(
    day: Annotated[str | None, typer.Option("--date", help="日期 YYYY-MM-DD（默认今天，本市时间）")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md | html")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认标准输出）")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """城市运行日报：新增、办结、在办、超时、热点、上升趋势、各部门积压 The daily briefing."""
    if fmt not in ("md", "html"):
        fail(f"未知格式 unknown format '{fmt}'; formats: md, html")
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        fail(f"日期格式应为 YYYY-MM-DD the date must be YYYY-MM-DD: '{day}'")
    open_city(data_dir)
    text = render(insights.briefing(when), fmt)
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"已写入 written: {out}", err=True)
