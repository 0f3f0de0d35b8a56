"""`aicity sim traffic --corridor 解放大道 [--optimize] [--json]`: the corridor signal-timing simulation
(SUMO) as a job (progress on the terminal, Ctrl-C cancels it, the slice's time limit applies)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import open_city
from aicity.hub.sim.cli import DataDir, run_job

ROWS = (("travel_time_s", "干道行程时间", "min", 60.0), ("delay_s", "车均延误", "s", 1.0),
        ("queue_m", "平均最大排队", "m", 1.0), ("max_queue_m", "最长排队", "m", 1.0),
        ("throughput_veh_h", "通过量", "veh/h", 1.0))


def traffic(
    corridor: Annotated[str, typer.Option(help="干道名称 the corridor, e.g. 解放大道")],
    optimize: Annotated[bool, typer.Option("--optimize", help="计算并仿真优化配时（韦伯斯特 + 绿波）")] = False,
    period: Annotated[str, typer.Option(help="am 早高峰 | pm 晚高峰")] = "am",
    measured_s: Annotated[int | None, typer.Option(help="统计时长（秒，默认 3600）the measured period")] = None,
    warmup_s: Annotated[int | None, typer.Option(help="预热时长（秒，默认 600）warm-up")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
) -> None:
    """干道信号配时仿真：高峰小时现行配时与优化配时的行程时间、延误、排队、通过量 (Eclipse SUMO)."""
    open_city(data_dir)
    params: dict[str, Any] = {"corridor": corridor, "optimize": optimize, "period": period}
    for key, value in (("measured_s", measured_s), ("warmup_s", warmup_s)):
        if value is not None:
            params[key] = value
    run_job("traffic", params, "仿真", json_out, print_result)


def print_result(result: dict[str, Any]) -> None:
    console = Console()
    d = result["demand"]
    console.print(f"[bold]{result['corridor']}[/] {d['period_label']} {d['hour']:02d}:00–{d['hour'] + 1:02d}:00（工作日均值）："
                  + "，".join(f"{k} {v} veh/h" for k, v in d["peak_veh_h"].items())
                  + f"；{result['network']['length_m'] / 1000:.1f} km，{len(result['network']['crossings'])} 个信号路口"
                  + f"（任务 {result['job_id']}）")
    table = Table(title="高峰小时仿真结果 peak hour (SUMO)")
    for column in ("指标", "现行配时", "优化配时", "变化"):
        table.add_column(column)
    after = result.get("after") or {}
    change = result.get("change_pct") or {}
    for key, label, unit, scale in ROWS:
        b, a = result["before"].get(key), after.get(key)
        table.add_row(f"{label}（{unit}）", _fmt(b, scale), _fmt(a, scale) if after else "—",
                      f"{change[key]:+.1f}%" if change.get(key) is not None else "—")
    console.print(table)
    plan = result.get("plan")
    if plan:
        console.print(f"优化配时：公共周期 {plan['cycle_s']} s（关键路口 {plan['critical']}），"
                      f"绿波速度 {plan['progression_kmh']} km/h，方向 {d['peak_direction']}")
        for r in plan["crossings"]:
            g = r["greens_s"]
            console.print(f"  {r['name']}：Y={r['Y']}，C0={r['c0_s']} s，相位差 {r['offset_s']} s，"
                          f"绿灯 直行 {g['through']} / 左转 {g['left']} / 横向 {g['cross']} s")
    for rec in result.get("recommendations", []):
        console.print(f"建议 {rec['id']}：{rec['label']}（需审批：POST /api/v1/sim/jobs/{result['job_id']}/actions）")


def _fmt(value: Any, scale: float) -> str:
    return "—" if value is None else f"{value / scale:.1f}" if scale != 1.0 else f"{value:g}"
