"""`aicity ops infra`: infrastructure operations (ops/infra.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import open_city, print_json
from aicity.ops import infra


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB"


def _cell(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def infra_command(
    json_out: Annotated[bool, typer.Option("--json", help="JSON 输出")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """基础设施运营：数据库大小与慢查询、任务队列与 worker 滞后、事件总线、消息中间件连接、各区设备在线率、模型部署
    的时延与错误 Infrastructure operations: database, queues, bus, brokers, devices per district, model endpoints."""
    open_city(data_dir)
    found = infra.snapshot()
    if json_out:
        print_json(found)
        return
    console = Console()
    db = found["database"]
    slow = db["slow_queries"]
    console.print(f"模式 mode: {found['mode']}  数据库 database: {db['dialect']} {_mb(db['size_bytes'])}, "
                  f"分析库 analytics {_mb(db['analytics_size_bytes'])}; 慢查询 slow (≥{slow['threshold_ms']:g} ms, "
                  f"本进程 this process): {slow['count']}")
    bus = found["bus"]
    console.print(f"事件总线 bus ({bus['mode']}): 积压 pending {bus['pending']}, 死信 dead {bus['dead_letters']}, "
                  f"滞后 lag {bus['lag_s']} s")
    table = Table("队列 queue", "排队 queued", "运行 running", "失败 failed", "最早等待 oldest s", title="任务队列 job queues")
    for q in found["queues"]:
        table.add_row(q["queue"], str(q["queued"]), str(q["running"]), _cell(q["failed"]), str(q["oldest_queued_s"]))
    console.print(table)
    table = Table("中间件 broker", "可达 up", "客户端 clients", title="消息中间件 brokers")
    for b in found["brokers"]:
        table.add_row(b["broker"], "是 yes" if b["up"] else f"否 no ({_cell(b.get('error'))})", _cell(b["clients"]))
    if not found["brokers"]:
        table.add_row("—", "未配置 none configured", "—")
    console.print(table)
    table = Table("区 district", "设备 devices", "在线 online", "在线率 rate", title="各区设备 devices per district")
    for d in found["devices"]:
        table.add_row(escape(d["district"]), str(d["devices"]), str(d["online"]), f"{d['online_rate']:.0%}")
    console.print(table)
    table = Table("模型组 group", "部署 deployment", "断路器 breaker", "调用 calls", "错误率 errors", "平均 ms",
                  title="模型部署 model endpoints")
    for m in found["models"]:
        rate = "—" if m["error_rate"] is None else f"{m['error_rate']:.1%}"
        table.add_row(escape(m["group"]), escape(m["deployment"]), m["state"], str(m["calls"]), rate,
                      _cell(m["mean_latency_ms"]))
    console.print(table)
    for q in slow["recent"][:5]:
        console.print(f"  {q['ms']} ms  {escape(q['statement'][:120])}")
