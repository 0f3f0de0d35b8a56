"""`aicity safety …`: the city-safety agent's watch (城市安全)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.agents.city_safety import flood
from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem

app = typer.Typer(help="城市安全 the city-safety agent: waterlogging watch", no_args_is_help=True)

_STYLE = {"flooded": "bold red", "warning": "red", "watch": "yellow", "no_data": "dim", "normal": "green"}


@app.command()
def waterlogging(
    horizon: Annotated[int, typer.Option(help="预测时长（分钟，10–180）minutes ahead")] = flood.DEFAULT_HORIZON_MIN,
    district: Annotated[str | None, typer.Option(help="只看一个区 one district (东湖区 / donghu)")] = None,
    at: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"],
                                                help="回看某一过去时刻 replay a past moment (ISO 8601)")] = None,
    warn: Annotated[bool, typer.Option(
        "--warn", help="为所列内涝和即将内涝的道路向水务部门立事件 file events for the roads listed")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """内涝预警：哪些道路将积水超过 15 cm Which roads will flood within the horizon."""
    open_city(data_dir)
    try:
        moment = flood.as_of(at)
        items = flood.outlook(horizon, district, moment)
        filed = flood.file_warnings(items, moment) if warn else []
        rows = flood.outlook_json(items)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json({"outlook": rows, "warnings_filed": filed} if warn else rows)
        return
    table = Table(title=f"内涝预警 Waterlogging outlook（未来 {horizon} 分钟）")
    for column in ("等级", "易涝点", "区域", "积水 m", "雨强 mm/h", "排水能力", f"{horizon} 分钟后 m", "超 15cm 还有"):
        table.add_column(column)
    for r in rows:
        minutes = r["minutes_to_flood"]
        table.add_row(f"[{_STYLE[r['level']]}]{r['level_label']}[/]", r["label"], r["district"],
                      _num(r["depth"]["value"] if r["depth"] else None), _num(r["rain"]["value"] if r["rain"] else None),
                      f"{r['capacity_mm_h']:.0f}" + ("（顶托）" if r["backwater"] else ""),
                      _num(r["predicted_depth_m"]), "—" if minutes is None else f"{minutes} 分钟")
    console = Console()
    console.print(table)
    for w in filed:
        console.print(f"已立事件 filed {w['event_id']}：{w['label']}（{w['level_label']}）")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
