"""`aicity events …`: classify citizens' reports and measure the classifier (事件分类与派单)."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message, run_batch
from aicity.core.errors import Problem
from aicity.hub.events import classify as classifier
from aicity.hub.events.manage_cli import app as manage_app
from aicity.hub.geo.gazetteer import resolve

app = typer.Typer(help="统一事件管理 unified event management", no_args_is_help=True)

JsonOut = Annotated[bool, typer.Option("--json")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]


def classified(text: str) -> dict[str, Any]:
    """The contract's fields (category, department, confidence) and the rest of the
    classification, with the place the text names (None when it names none)."""
    out = classifier.classify(text).to_dict()
    location = resolve(text)
    out["location"] = location.to_dict() if location else None
    return out


def ready() -> None:
    """Wait for the dense vectors, so that a one-shot command's answer does not depend on
    timing, and warm the embedding model up (its first query loads it)."""
    vectors = classifier.classifier().vectors
    if vectors is not None:
        vectors.wait()
        classifier.classify("预热 warm-up")


@app.command()
def classify(
    text: Annotated[str | None, typer.Argument(help="事件描述 the report")] = None,
    batch: Annotated[str | None, typer.Option("--batch", help='JSON Lines 文件（每行 {"text"}），- 为标准输入')] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """事件分类与派单：类别、责任部门、优先级、置信度、地点 Classify a report and name its department."""
    open_city(data_dir)
    ready()
    if batch is not None:
        run_batch(batch, "text", lambda row: classified(row["text"]))
        return
    if text is None:
        fail("请给出事件描述或 --batch 文件 give a report text or --batch FILE")
    try:
        out = classified(text)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(out)
        return
    console = Console()
    department = out["department"]
    console.print(f"类别 category: [bold]{out['category_name']}[/bold] ({out['category']})  →  部门 department: {department}")
    console.print(f"优先级 priority: {out['priority']}  置信度 confidence: {out['confidence']:.2f}"
                  + ("  [yellow]需人工派单 needs a dispatcher[/yellow]" if out["needs_human"] else ""))
    if out["urgent_reasons"]:
        console.print(f"[red]紧急 urgent[/red]: {'、'.join(out['urgent_reasons'])}")
    if out["location"]:
        loc = out["location"]
        console.print(f"地点 location: {loc['district_name']} {loc['address'] or ''} ({loc['lat']}, {loc['lon']})")


@app.command("eval")
def evaluate(json_out: JsonOut = False, data_dir: DataDir = None) -> None:
    """在留出集上评测分类与派单 Accuracy, per-category F1, confusions and latency on the held-out set."""
    open_city(data_dir)
    ready()
    report = evaluation(classifier.eval_rows())
    if json_out:
        print_json(report)
        return
    console = Console()
    console.print(f"留出集 held-out reports: {report['reports']}  类别准确率 category accuracy: "
                  f"{report['category_accuracy']:.3f}  派单准确率 department accuracy: {report['department_accuracy']:.3f}  "
                  f"需人工 needs_human: {report['needs_human']}")
    console.print(f"延迟 latency p50 {report['latency_ms']['p50']:.1f} ms, p99 {report['latency_ms']['p99']:.1f} ms")
    table = Table("类别 category", "F1", "n")
    for category, row in report["per_category"].items():
        table.add_row(category, f"{row['f1']:.2f}", str(row["n"]))
    console.print(table)
    confusions = Table("真实 gold", "判为 predicted", "次数 count")
    for row in report["confusions"]:
        confusions.add_row(row["gold"], row["predicted"], str(row["count"]))
    console.print(confusions)


def evaluation(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Accuracy (category, department), per-category F1, the confusions (gold → predicted, most
    frequent first) and the latency of `classify` per report."""
    known = classifier.categories()
    results, latencies = [], []
    for row in rows:
        start = time.perf_counter()
        results.append(classifier.classify(row["text"]))
        latencies.append((time.perf_counter() - start) * 1000)
    pairs = [(row["category"], r.category) for row, r in zip(rows, results, strict=True)]
    confusions = Counter((g, p) for g, p in pairs if g != p)
    per_category = {}
    for category in known:
        tp = sum(g == p == category for g, p in pairs)
        gold, predicted = sum(g == category for g, _ in pairs), sum(p == category for _, p in pairs)
        per_category[category] = {"f1": 2 * tp / (gold + predicted) if gold + predicted else 0.0, "n": gold}
    quantiles = statistics.quantiles(latencies, n=100)
    n = max(len(rows), 1)
    return {
        "reports": len(rows),
        "category_accuracy": sum(g == p for g, p in pairs) / n,
        "department_accuracy": sum(known[g].department == r.department for (g, _), r in zip(pairs, results, strict=True)) / n,
        "needs_human": sum(r.needs_human for r in results),
        "per_category": per_category,
        "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common()],
        "latency_ms": {"p50": statistics.median(latencies), "p99": quantiles[98]},
    }


@app.command(hidden=True)
def retrain() -> None:
    """已停用：事件分类器经语料中心与模型中心再训练 Retired: retrain through the model centre."""
    fail("已停用 retired：运营纠正先成为待审核语料，再经评测门槛再训练——"
         "aicity ops corpus collect/queue/accept --kind events，aicity ops corpus freeze --kind events，"
         "aicity ops models retrain --kind events --corpus-version N")


# the lifecycle commands (report, list, show, transition, sla) live beside the store
app.registered_commands += manage_app.registered_commands
