"""`aicity sim …`: simulations (推演模拟) — `flood` runs one and follows its progress; `jobs`, `job`,
`cancel` look at and stop runs. (`aicity simulate`, the device simulator, is another command.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.sim import jobs

app = typer.Typer(help="推演模拟 simulations: flood (SWMM) jobs", no_args_is_help=True)
err = Console(stderr=True)
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]


def follow(job_id: str, quiet: bool = False) -> dict[str, Any]:
    """Wait for a job, drawing its progress on the terminal; Ctrl-C cancels it."""
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      console=err, transient=True, disable=quiet or not err.is_terminal) as bar:
            task = bar.add_task("内涝模拟", total=1.0)
            while True:
                job = jobs.get(job_id)
                bar.update(task, completed=job["progress"], description=job["message"] or job["status_label"])
                if job["status"] in jobs.FINAL:
                    return job
                time.sleep(0.2)
    except KeyboardInterrupt:
        jobs.cancel(job_id, "cli")
        return jobs.wait(job_id, 10)


@app.command()
def flood(
    return_period: Annotated[float | None, typer.Option(help="重现期（年，2–100）design storm return period")] = None,
    district: Annotated[str | None, typer.Option(help="只模拟一个区 one district (江滨区 / jiangbin)")] = None,
    duration_min: Annotated[int, typer.Option(help="降雨历时（分钟）storm duration")] = 120,
    river_level: Annotated[float | None, typer.Option(help="外江（湖）水位 m river/lake level at the outfalls")] = None,
    gauges: Annotated[bool, typer.Option("--gauges", help="用实时雨量站读数（持续）代替设计暴雨 live rain gauges")] = False,
    warn: Annotated[bool, typer.Option("--warn", help="为积水点向水务部门立事件 file events")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
) -> None:
    """内涝模拟：设计暴雨或实时降雨下哪些地点、道路积水 Which places flood in this storm (EPA SWMM)."""
    open_city(data_dir)
    params: dict[str, Any] = {"rain": "gauges" if gauges else "design", "duration_min": duration_min, "warn": warn}
    for key, value in (("return_period", return_period), ("district", district), ("river_level_m", river_level)):
        if value is not None:
            params[key] = value
    run_job("flood", params, "模拟", json_out, _print)


def run_job(kind: str, params: dict[str, Any], label: str, json_out: bool,
            show: Callable[[dict[str, Any]], None]) -> None:
    """Create a simulation job of `kind`, follow it with progress, and print its result (JSON or
    `show`); a refused request or a failed job is a CLI error naming the job."""
    try:
        job = jobs.create(kind, params, "cli")
    except Problem as exc:
        fail(problem_message(exc))
    job = follow(job["id"], quiet=json_out)
    if job["status"] != "succeeded":
        fail(f"{label}{job['status_label']}（{job['id']}）：{job['error'] or job['message']}", 1)
    if json_out:
        print_json(job["result"])
        return
    show(job["result"])


def _print(result: dict[str, Any]) -> None:
    console = Console()
    s = result["scenario"]
    console.print(f"[bold]{s['label']}[/]：雨量 {s['rain_depth_mm']} mm，峰值 {s['peak_intensity_mm_h']} mm/h（任务 {result['job_id']}）")
    table = Table(title=f"积水超过 15 cm 的地点 flooded places（{len(result['flooded'])} 处）")
    for column in ("地点", "道路", "区", "最大积水 m", "开始", "持续 分钟", "溢流 m³"):
        table.add_column(column)
    for f in result["flooded"]:
        table.add_row(f["place"], f["road"] or "—", f["district_name"], f"{f['max_depth_m']:.2f}",
                      (f["start"] or "—")[11:16], f"{f['duration_min']:.0f}", f"{f['overflow_m3']:.0f}")
    console.print(table)
    c = result["comparison"]
    console.print(f"与内涝预警（质量守恒）对比：两者都判积水 {c['both']}，仅 SWMM {c['swmm_only']}，"
                  f"仅预警模型 {c['watch_only']}，都不积水 {c['neither']}（一致率 {c['agreement']}）")
    for r in result["recommendations"]:
        console.print(f"建议 {r['id']}：{r['label']} — {r['reason']}")


@app.command("jobs")
def list_jobs(kind: Annotated[str | None, typer.Option(help="flood …")] = None,
              status: Annotated[str | None, typer.Option(help="queued running succeeded failed cancelled")] = None,
              limit: int = 20, json_out: Annotated[bool, typer.Option("--json")] = False,
              data_dir: DataDir = None) -> None:
    """模拟历史 the simulation jobs, newest first."""
    open_city(data_dir)
    rows, total = jobs.history(kind, status, limit)
    if json_out:
        print_json({"total": total, "jobs": rows})
        return
    table = Table(title=f"模拟任务（共 {total} 个）")
    for column in ("编号", "类型", "状态", "进度", "参数", "发起", "时间"):
        table.add_column(column)
    for j in rows:
        table.add_row(j["id"], j["kind"], j["status_label"], f"{j['progress']:.0%}",
                      " ".join(f"{k}={v}" for k, v in j["params"].items() if v is not None and k != "start"),
                      j["requested_by"], j["created_at"][:19])
    Console().print(table)


@app.command("job")
def show_job(job_id: str, json_out: Annotated[bool, typer.Option("--json")] = False, data_dir: DataDir = None) -> None:
    """一个模拟任务的进度与结果 a job's progress and result."""
    open_city(data_dir)
    try:
        job = jobs.get(job_id)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(job)
        return
    Console().print(f"{job['id']} {job['kind']} {job['status_label']} {job['progress']:.0%} {job['message']}")
    if job["status"] == "succeeded" and job["kind"] == "flood":
        _print(job["result"])


@app.command("cancel")
def cancel_job(job_id: str, data_dir: DataDir = None) -> None:
    """取消模拟 stop a queued or running job (its process is killed)."""
    open_city(data_dir)
    try:
        job = jobs.cancel(job_id, "cli")
    except Problem as exc:
        fail(problem_message(exc))
    Console().print(f"{job['id']}：{job['status_label']}（已请求取消）")
