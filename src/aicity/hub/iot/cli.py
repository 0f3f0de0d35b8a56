"""`aicity iot …`: devices, the provisioning key, rules and alarms (物联感知)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aicity.cli_support import open_city, print_json
from aicity.hub.iot import rules, service

app = typer.Typer(help="物联感知 devices, telemetry, rules and alarms", no_args_is_help=True)

JsonOut = Annotated[bool, typer.Option("--json")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]


def _show(rows: list[dict[str, Any]], columns: list[str], title: str, json_out: bool) -> None:
    if json_out:
        print_json(rows)
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


@app.command()
def devices(type: Annotated[str | None, typer.Option("--type")] = None, district: str | None = None,
            json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """设备列表（在线状态按最近上报时间）List devices, online or not."""
    open_city(data_dir)
    rows = [service.device_json(d) for d in service.list_devices(type, district)]
    _show(rows, ["id", "type", "name", "district", "online", "last_seen"], "设备 Devices", json_out)


@app.command("provision-key")
def provision_key(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """生成新的配网密钥（只显示一次，替换上一个生成的）Generate the provisioning key, shown once."""
    open_city(data_dir)
    key = service.new_provisioning_key("cli")
    if json_out:
        print_json({"provisioning_key": key})
        return
    Console().print(f"配网密钥 provisioning key（只显示这一次 shown once）:\n{key}\n"
                    "设备携带 X-Provisioning-Key 请求 POST /api/v1/iot/provision 自助注册。")


@app.command()
def alarms(status: str | None = None, json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """告警列表 List alarms (active, acknowledged, cleared)."""
    open_city(data_dir)
    rows = [rules.alarm_json(a) for a in rules.list_alarms(status)]
    _show(rows, ["id", "severity", "status", "device_id", "count", "message", "event_id"], "告警 Alarms", json_out)


@app.command("rules")
def list_rules(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """规则列表 List rules."""
    open_city(data_dir)
    rows = [rules.rule_json(r) for r in rules.list_rules()]
    _show(rows, ["id", "name", "kind", "device_type", "device_id", "attribute", "direction", "limit", "seconds",
                 "severity"], "规则 Rules", json_out)
