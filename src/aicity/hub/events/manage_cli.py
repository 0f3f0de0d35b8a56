"""`aicity events report|list|show|transition|sla`: file and handle city events from the
command line. The CLI acts as the platform's administrator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.events import lifecycle, service
from aicity.identity.models import Role
from aicity.identity.service import Principal

app = typer.Typer(help="城市事件 City events (统一事件管理)", no_args_is_help=True)
JsonOut = Annotated[bool, typer.Option("--json", help="JSON 输出")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
ADMIN = Principal(role=Role.admin)
T = TypeVar("T")


def _show(event: dict[str, Any]) -> None:
    Console().print(f"[bold]{event['id']}[/bold]  {escape(event['title'])}\n"
                    f"  {event['category_name']} → {event['department_name']} · {event['status']} · "
                    f"{event['priority']} · {escape(event['address'] or event['district'] or '位置未知')}\n"
                    f"  可执行 actions: {', '.join(event['allowed_actions']) or '—'} · SLA {event['sla_due_at'] or '—'}")


def _guard(work: Callable[[], T]) -> T:
    try:
        return work()
    except Problem as exc:
        fail(problem_message(exc))


@app.command()
def report(
    text: Annotated[str, typer.Argument(help="问题描述")],
    location: Annotated[str | None, typer.Option(help="地址或地标")] = None,
    lat: Annotated[float | None, typer.Option(help="纬度")] = None,
    lon: Annotated[float | None, typer.Option(help="经度")] = None,
    category: Annotated[str | None, typer.Option(help="事件类别 id（不填则自动分类）")] = None,
    source: Annotated[str, typer.Option(help="来源 " + "|".join(service.SOURCES))] = "operator",
    idempotency_key: Annotated[str | None, typer.Option(help="幂等键：同一个键只产生一个事件")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """上报事件 Report a city problem."""
    open_city(data_dir)
    result = _guard(lambda: service.report(text, source, service.Reporter(service.staff_reporter(ADMIN)),
                                           location=location, lat=lat, lon=lon, category=category,
                                           idempotency_key=idempotency_key))
    out = {**service.event_json(result.event), "report_id": result.report_id, "merged": result.merged,
           "replayed": not result.created}
    if json_out:
        print_json(out)
        return
    _show(out)
    if result.merged:
        Console().print(f"  与已有事件为同一问题，已合并（本次上报 {result.report_id}）")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="状态")] = None,
    department: Annotated[str | None, typer.Option(help="部门 id")] = None,
    district: Annotated[str | None, typer.Option(help="区 id")] = None,
    category: Annotated[str | None, typer.Option(help="事件类别 id")] = None,
    since: Annotated[datetime | None, typer.Option(help="起始时间 ISO 8601")] = None,
    limit: Annotated[int, typer.Option(help="最多条数")] = 100,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """事件列表 List events, newest first."""
    open_city(data_dir)
    events = [service.event_json(e) for e in _guard(lambda: service.list_events(
        ADMIN, status=status, department=department, district=district, category=category, since=since,
        limit=limit))]
    if json_out:
        print_json({"events": events, "count": len(events)})
        return
    table = Table("id", "status", "priority", "category", "department", "district", "title")
    for e in events:
        table.add_row(e["id"], e["status"], e["priority"], e["category"], e["department"], e["district"] or "",
                      escape(e["title"]))
    Console().print(table)


@app.command()
def show(event_id: str, json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """事件详情与时间线 One event and its history."""
    open_city(data_dir)
    event = service.event_json(_guard(lambda: service.get(event_id, ADMIN)))
    steps = [service.history_json(h) for h in service.history(event_id, ADMIN)]
    if json_out:
        print_json({**event, "history": steps})
        return
    _show(event)
    for h in steps:
        Console().print(f"  {h['at']}  {h['action']:<9} {h['from_status'] or '—'} → {h['to_status']}  "
                        f"{escape(h['actor'])}  {escape(h['note'])}")


@app.command()
def transition(
    event_id: str,
    action: Annotated[str, typer.Argument(help=", ".join(lifecycle.TRANSITIONS))],
    note: Annotated[str, typer.Option(help="说明（reject、reopen 必填原因）")] = "",
    department: Annotated[str | None, typer.Option(help="派发时改派的部门")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """处置事件 Act on an event (dispatch, accept, start, resolve, close, reopen, reject)."""
    open_city(data_dir)
    event = service.event_json(_guard(lambda: service.transition(event_id, action, ADMIN, note,
                                                                 department=department)))
    if json_out:
        print_json(event)
    else:
        _show(event)


@app.command()
def sla(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """检查时限并升级超时事件 Escalate events past their SLA deadline."""
    open_city(data_dir)
    breached = lifecycle.check_sla()
    if json_out:
        print_json({"breached": breached, "count": len(breached)})
        return
    Console().print(f"超时升级 {len(breached)} 件 escalated")
    for b in breached:
        Console().print(f"  {b['id']}  {b['category']} → {b['department']}  {b['status']}  "
                        f"超时 {b['overdue_minutes']} 分钟 → {b['priority']}")
