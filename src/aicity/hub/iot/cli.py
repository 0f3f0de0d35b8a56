"""`aicity iot …`: devices, the provisioning key, rules and alarms (物联感知)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import err_console, fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.iot import rules, service, simulator
from aicity.hub.iot.simulator import City, MqttSender, Plan, Summary

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


def _connect(url: str | None, key: str | None, mqtt: str | None,
             data_dir: Path | None) -> tuple[City, MqttSender | None]:
    """The city (a server's API, or the data dir) and the MQTT sender, if any; a bad address, a
    missing key or an unreachable broker ends the command with a message, before anything is sent."""
    if url and not key:
        fail("--url 需要工作人员 API key（--key 或 AICITY_API_KEY）/ --url needs a staff key")
    try:
        city: City = simulator.RemoteCity(url, key or "") if url else simulator.LocalCity()
        if not url:
            open_city(data_dir)
        sender = simulator.MqttSender(mqtt) if mqtt else None
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"无法连接 MQTT 代理 cannot reach the MQTT broker {mqtt}: {exc}")
    return city, sender


def _run(city: City, sender: MqttSender | None, plan: Plan, url: str | None, pace: bool, json_out: bool) -> Summary:
    """Run the plan with a progress bar; a server's refusal or an unreachable server or broker
    ends the command with a message, not a traceback."""
    import httpx
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    try:
        with Progress(TextColumn(f"[bold]模拟 {plan.scenario}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err_console, transient=True,
                      disable=json_out or not err_console.is_terminal) as bar:
            task = bar.add_task(plan.scenario, total=plan.total)
            return simulator.simulate(city, plan, sender, pace,
                                      progress=lambda done, total: bar.update(task, completed=done))
    except Problem as exc:
        fail(f"服务拒绝了请求 the server refused the request ({exc.status}): {problem_message(exc)}")
    except httpx.TransportError as exc:
        fail(f"无法连接服务 cannot reach the server {url}: {exc}")
    except OSError as exc:
        fail(f"MQTT 发布失败 publishing over MQTT failed: {exc}")
    finally:
        if sender is not None:
            sender.close()


@app.command()
def simulate(
    scenario: Annotated[str, typer.Option(help="normal | rainstorm | gas-leak")] = "normal",
    duration: Annotated[float, typer.Option(help="运行秒数 seconds to run")] = 60.0,
    rate: Annotated[float, typer.Option(help="每秒读数 readings per second")] = 200.0,
    seed: Annotated[int, typer.Option(help="随机种子 same seed, same readings")] = 0,
    hour: Annotated[float, typer.Option(help="模拟起始时刻 simulated start hour (0–24)")] = 8.0,
    speed: Annotated[float, typer.Option(help="模拟时钟倍速 simulated seconds per second")] = 60.0,
    url: Annotated[str | None, typer.Option(help="发往运行中的服务 send to a running server, e.g. http://127.0.0.1:8000")] = None,
    key: Annotated[str | None, typer.Option(envvar="AICITY_API_KEY", help="工作人员 API key (with --url)")] = None,
    mqtt: Annotated[str | None, typer.Option(help="经 MQTT 发布 publish over MQTT, e.g. mqtt://127.0.0.1:1883")] = None,
    fast: Annotated[bool, typer.Option(help="不按速率等待 send as fast as possible")] = False,
    json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """城市模拟器：数百个虚拟设备、默认规则与场景 The demo city simulator: devices, rules, readings, scenarios."""
    if scenario not in simulator.SCENARIOS:
        fail(f"未知场景 unknown scenario '{scenario}'; scenarios: {', '.join(simulator.SCENARIOS)}")
    if duration <= 0 or rate <= 0:
        fail("--duration 与 --rate 须大于 0 / must be positive")
    city, sender = _connect(url, key, mqtt, data_dir)
    plan = simulator.Plan(scenario=cast(simulator.Scenario, scenario), duration=duration, rate=rate, seed=seed,
                          hour=hour, speed=speed)
    out = _run(city, sender, plan, url, pace=not fast, json_out=json_out).to_dict()
    if json_out:
        print_json(out)
        return
    console = Console()
    console.print(f"场景 scenario [bold]{scenario}[/]：设备 {out['devices']} 个（新建 {out['devices_created']}），"
                  f"新建规则 {out['rules_created']} 条，发送读数 {out['readings_sent']} 条，被拒 {out['rejected']} 条，"
                  f"告警 {out['alarms_raised']} 个，事件 {out['events_filed']} 件")
    if not out["all_stored"]:
        console.print(f"[yellow]注意 note:[/] {simulator.SETTLE_TIMEOUT_S:g} 秒内服务未存完经 MQTT 发送的读数，"
                      "告警与事件可能不全（服务是否订阅了这个 MQTT 代理？）/ the server did not store all readings "
                      "sent over MQTT in time; alarms and events may be missing (is it subscribed to this broker?)")
    _show(out["events"], ["id", "category", "department", "status"], "事件 Events filed", False)
    if out["flood_warnings"] is None:
        console.print("内涝预警未运行：需要运营人员或管理员 key / the waterlogging watch needs an operator or admin key")
    elif out["flood_warnings"]:
        _show(out["flood_warnings"], ["level_label", "label", "district", "minutes_to_flood", "event_id"],
              "内涝预警 Waterlogging warnings filed", False)
