"""`aicity eval …`: evaluations that print the figures the issues ask for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.cli_support import fail, open_city, print_json, ready_assistant

app = typer.Typer(help="评测 Evaluations", no_args_is_help=True)


def _load(path: Path) -> list[dict]:
    """A labelled set (JSON Lines), or a clear CLI error naming the file and line."""
    from aicity.ops.evaluation import load_cases

    if not path.is_file():
        fail(f"找不到评测集 evaluation set not found: {path}")
    try:
        return load_cases(path)
    except ValueError as exc:
        fail(str(exc))


@app.command("assistant")
def eval_assistant(
    cases: Annotated[Path | None, typer.Option(help="JSON Lines 评测集；默认为内置评测集")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """超级助理路由准确率 Routing accuracy of the super assistant (skills, departments, targets)."""
    from aicity.ops.evaluation import default_set, evaluate

    loaded = _load(cases or default_set())
    open_city(data_dir)
    ready_assistant()
    report = evaluate(loaded)
    if json_out:
        print_json(report)
        return
    console = Console()
    table = Table("指标 metric", "值 value")
    for key in ("cases", "accuracy", "skill_accuracy", "department_accuracy", "target_accuracy", "latency_ms_p50"):
        table.add_row(key, str(report[key]))
    for role, acc in report["by_role"].items():
        table.add_row(f"accuracy[{role}]", str(acc))
    for skill, acc in report["by_skill"].items():
        table.add_row(f"accuracy[{skill}]", str(acc))
    console.print(table)
    if report["confusion"]:
        confusion = Table("期望 expected", "实际 got", "次数 count", title="技能混淆 skill confusion")
        for row in report["confusion"]:
            confusion.add_row(row["expected"], row["got"], str(row["count"]))
        console.print(confusion)
    for row in report["failures"]:
        console.print(f"[red]✗[/red] ({row['role']}) {row['q']}\n    expected {row['expected'].get('skills')} "
                      f"{row['expected'].get('departments')} {row['expected'].get('target', '')}\n"
                      f"    got      {row['got']}")


@app.command("kb")
def eval_kb(
    cases: Annotated[Path | None, typer.Option(help="JSON Lines 评测集（{q, doc, article, also?}）；默认内置")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="keyword | dense | hybrid（可重复）")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """知识检索召回率 Retrieval recall@5 and MRR per search mode, side by side."""
    from aicity.ops.evaluation import default_kb_set, evaluate_kb

    modes = mode or ["keyword", "dense", "hybrid"]
    if bad := [m for m in modes if m not in ("keyword", "dense", "hybrid")]:
        fail(f"未知检索方式 unknown mode: {', '.join(bad)}")
    loaded = _load(cases or default_kb_set())
    open_city(data_dir)
    ready_assistant()
    reports = [evaluate_kb(loaded, m) for m in modes]
    if json_out:
        print_json({"reports": reports})
        return
    table = Table("方式 mode", "cases", "recall@5", "MRR@10", "p50 ms")
    for r in reports:
        table.add_row(r["mode"], str(r["cases"]), str(r["recall@5"]), str(r["mrr@10"]), str(r["latency_ms_p50"]))
    Console().print(table)
