"""`aicity data …`: datasets from the command line (import, catalog, show, grade, desensitize,
export). The CLI is the installation's own operator: it acts as the data officer of the
dataset's owner department (it could read the store anyway); permissions bind the REST API and
the console. Other parts of the data hub add their commands to `app` from their own modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from aicity.core.cli import err_console, fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.data import catalog, desensitize, service, store
from aicity.hub.data.importer import STAGES, Imported, import_path
from aicity.hub.data.schema import load_spec
from aicity.identity.models import Role
from aicity.identity.service import Principal

app = typer.Typer(help="数据中枢 datasets: import, catalog, grading, desensitization, exports", no_args_is_help=True)
DataDir = Annotated[Path | None, typer.Option(help="数据目录 data dir")]
JsonOut = Annotated[bool, typer.Option("--json", help="输出 JSON")]
out = Console()


def _officer(dataset_id: str | None) -> Principal:
    owner = None
    if dataset_id is not None:
        try:
            owner = store.dataset(dataset_id).owner_department
        except store.UnknownDataset:
            owner = None
    return Principal(role=Role.admin, department=owner)


def _imported(result: Imported) -> dict[str, Any]:
    return {"dataset": result.dataset, "version": result.version, "rows": result.rows, "format": result.format,
            "encoding": result.encoding, "seconds": result.seconds, "quality_score": result.quality_score,
            "grade": result.grade, "sensitivity_level": result.sensitivity_level, "confirmed": result.confirmed,
            "checks": result.checks, "suggestion": result.suggestion}


def _print_checks(checks: list[dict[str, Any]]) -> None:
    table = Table("检查 check", "列 columns", "结果 status", "不合格行 failing", "说明 detail")
    for c in checks:
        colour = {"passed": "green", "failed": "red"}.get(c["status"], "yellow")
        table.add_row(c["name"], ", ".join(c["columns"]), f"[{colour}]{c['status']}[/{colour}]", str(c["failing"]),
                      c["detail"] + (f" e.g. {c['examples']}" if c.get("examples") else ""))
    out.print(table)


@app.command("import")
def import_(
    file: Annotated[Path | None, typer.Argument(help="CSV / XLSX / JSON / JSON Lines / Parquet 文件")] = None,
    dataset: Annotated[str | None, typer.Option(help="数据集 id（默认：声明中的 id 或文件名）")] = None,
    schema: Annotated[Path | None, typer.Option(help="数据集声明 YAML（默认：已有的声明，否则按值推断）")] = None,
    platform: Annotated[str | None, typer.Option(help=f"导入平台表：{', '.join(service.PLATFORM)}")] = None,
    confirm: Annotated[bool, typer.Option(help="以数据管理员身份确认声明中的分级")] = False,
    owner: Annotated[str | None, typer.Option(help="责任部门 id（声明未写明时）")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """导入文件为数据集的新版本（全有或全无）Import a file as a new version of a dataset (all or nothing)."""
    if (file is None) == (platform is None):
        fail("请给出文件或 --platform（二选一） give a FILE or --platform")
    open_city(data_dir)
    try:
        if platform is not None:
            result = service.import_platform(platform, actor="cli")
        else:
            assert file is not None
            if not file.is_file():
                fail(f"文件不存在 no such file: {file}")
            spec = load_spec(schema) if schema else None
            with Progress(TextColumn("[bold]导入 {task.description}"), BarColumn(), MofNCompleteColumn(),
                          console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
                task = bar.add_task(file.name, total=len(STAGES))

                def report(stage: str, done: int, total: int) -> None:
                    if done == total:
                        bar.update(task, completed=STAGES.index(stage) + 1, description=f"{file.name} {stage}")

                result = import_path(file, dataset_id=dataset, spec=spec, actor="cli", confirm=confirm,
                                     progress=report, owner_department=owner)
    except Problem as exc:
        fail(problem_message(exc))
    body = _imported(result)
    if json_out:
        print_json(body)
        return
    out.print(f"[green]已导入[/green] {result.dataset} v{result.version}: {result.rows} 行 rows, {result.format}"
              f"{' ' + result.encoding if result.encoding else ''}, {result.seconds:.2f}s; "
              f"质量 quality {result.quality_score:.3f}; 分级 grade {result.grade} {result.sensitivity_level} 级"
              f"{'' if result.confirmed else '（建议，待确认 suggested, unconfirmed）'}")
    _print_checks(result.checks)


@app.command("catalog")
def catalog_(
    query: Annotated[str | None, typer.Argument(help="检索词（省略：列出全部）")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """数据目录：列出或检索数据集 List or search the catalog."""
    open_city(data_dir)
    if query:
        hits = catalog.search(query, limit)
        entries = {d.id: catalog.entry(d) for d in store.list_datasets()}
        rows = [{**entries[h["id"]], "score": h["score"], "matched_columns": h["columns"]} for h in hits]
    else:
        rows = [catalog.entry(d) for d in store.list_datasets()]
    if json_out:
        print_json({"query": query, "datasets": rows})
        return
    table = Table("id", "标题 title", "责任部门 owner", "分级 grade", "行 rows", "质量 quality", "更新 cadence")
    for r in rows:
        table.add_row(r["id"], r["title"], r["owner_name"], f"{r['grade_name']} {r['sensitivity_level']} 级"
                      f"{'' if r['confirmed'] else ' (建议)'}", str(r["rows"]), f"{r['quality_score'] or 0:.3f}",
                      r["cadence"])
    out.print(table)


def _detail(dataset_id: str, who: Principal) -> dict[str, Any]:
    info = store.dataset(dataset_id)
    return {**catalog.entry(info), "columns": [c.model_dump() for c in info.columns],
            "relations": info.relations, "quality": service.quality(dataset_id), "versions": service.versions(dataset_id),
            "lineage": service.lineage(dataset_id), "derived": service.derived_from(dataset_id),
            "sample": service.sample(dataset_id, who)}


@app.command()
def show(
    dataset: Annotated[str, typer.Argument(help="数据集 id")],
    role: Annotated[str, typer.Option(help="以此角色查看样例行")] = "admin",
    department: Annotated[str | None, typer.Option(help="以此部门查看样例行（默认：责任部门）")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """数据集详情：列、分级、质量、版本、血缘、样例行 A dataset: columns, grade, quality, versions, lineage, sample."""
    open_city(data_dir)
    try:
        who = Principal(role=Role(role), department=department or _officer(dataset).department)
        body = _detail(dataset, who)
    except ValueError:
        fail(f"未知角色 unknown role '{role}'")
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(body)
        return
    out.print(f"[bold]{body['title']}[/bold] ({body['id']} v{body['version']}, {body['rows']} 行) — {body['owner_name']}"
              f" · {body['category']} · {body['grade_name']} {body['sensitivity_level']} 级"
              f"{'' if body['confirmed'] else '（建议）'} · 质量 {body['quality']['score']:.3f}")
    table = Table("列 column", "类型 type", "含义 meaning", "单位 unit", "级别 level", "个人信息 PI")
    for c in body["columns"]:
        table.add_row(c["name"], c["type"], c["title"] or c["meaning"], c["unit"] or "", str(c["sensitivity_level"]),
                      f"{service.PII_NAMES[c['pii']]} {c['pii_kind']}" if c["pii"] else "")
    out.print(table)
    _print_checks(body["quality"]["checks"])
    for step in body["lineage"]:
        out.print(f"血缘 lineage v{step['version']} {step['step']} ← {', '.join(step['inputs']) or '-'} "
                  f"by {step['actor']} at {step['at']}")


def _column_changes(values: list[str]) -> dict[str, dict[str, Any]]:
    """`name=LEVEL[:pii[:kind]]` → {name: {sensitivity_level, pii, pii_kind}} (pii `none` clears it)."""
    changes: dict[str, dict[str, Any]] = {}
    for v in values:
        name, _, grade = v.partition("=")
        parts = grade.split(":")
        if not name or not parts[0].isdigit():
            fail(f"--column 的格式是 name=LEVEL[:personal|sensitive|none[:kind]]，不是 '{v}'")
        change: dict[str, Any] = {"sensitivity_level": int(parts[0])}
        if len(parts) > 1:
            change["pii"] = None if parts[1] == "none" else parts[1]
            change["pii_kind"] = parts[2] if len(parts) > 2 else None
        changes[name] = change
    return changes


@app.command()
def grade(
    dataset: Annotated[str, typer.Argument(help="数据集 id")],
    confirm: Annotated[bool, typer.Option("--confirm", help="确认（可带修改）建议的分级")] = False,
    grade_: Annotated[str | None, typer.Option("--grade", help="core | important | general")] = None,
    level: Annotated[int | None, typer.Option(min=1, max=4, help="一般数据内的敏感级别 1–4")] = None,
    column: Annotated[list[str] | None, typer.Option(help="列分级 name=LEVEL[:pii[:kind]]，可重复")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """分级建议与确认（GB/T 43697-2024）Grading suggestions; --confirm as the data officer."""
    open_city(data_dir)
    try:
        if confirm:
            body = service.confirm_grade(dataset, _officer(dataset), grade=grade_, level=level,
                                         columns=_column_changes(column or []))
        elif grade_ or level or column:
            fail("修改分级需要 --confirm to change grades, add --confirm")
        else:
            body = service.suggestions(dataset)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(body)
        return
    sug = body["suggested"]
    out.print(f"{dataset}: 当前 {body['grade']} {body['sensitivity_level']} 级 "
              f"{'已确认 confirmed by ' + str(body['confirmed_by']) if body['confirmed'] else '未确认 unconfirmed'}; "
              f"建议 suggested {sug['grade']} {sug['sensitivity_level']} 级 — {'; '.join(sug['reasons'])}")
    table = Table("列 column", "级别 level", "个人信息 PI", "建议 suggested", "理由 reasons")
    for c in body["columns"]:
        s = c["suggested"]
        table.add_row(c["name"], str(c["sensitivity_level"]), f"{c['pii'] or ''} {c['pii_kind'] or ''}".strip(),
                      f"{s['sensitivity_level']} {s['pii'] or ''} {s['pii_kind'] or ''}".strip(), "; ".join(s["reasons"]))
    out.print(table)


@app.command("desensitize")
def desensitize_(
    dataset: Annotated[str, typer.Argument(help="源数据集 id")],
    steps: Annotated[str, typer.Option(help='步骤 JSON，如 [{"op":"mask","column":"head_name"},'
                                             '{"op":"pseudonymise","column":"id_number"}]；或 @文件')],
    into: Annotated[str | None, typer.Option(help="结果数据集 id（默认 <id>_desensitized）")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """脱敏为新的派生数据集（记录血缘）Desensitize into a derived dataset, with lineage.

    Steps: mask, pseudonymise (keyed HMAC), age_band, district, drop, suppress (small groups)."""
    open_city(data_dir)
    text = Path(steps[1:]).read_text(encoding="utf-8") if steps.startswith("@") else steps
    try:
        plan = desensitize.Plan.model_validate({"steps": json.loads(text)})
    except (json.JSONDecodeError, ValidationError) as exc:
        fail(f"步骤无效 invalid steps: {exc}")
    try:
        result = desensitize.apply(dataset, plan.steps, into=into, actor="cli")
    except Problem as exc:
        fail(problem_message(exc))
    body = _imported(result)
    if json_out:
        print_json(body)
        return
    out.print(f"[green]已派生[/green] {result.dataset} v{result.version}: {result.rows} 行 rows ← {dataset}; "
              f"分级建议 {result.grade} {result.sensitivity_level} 级（待数据管理员确认）")


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="datapackage | dcat | csv")] = "datapackage",
    output: Annotated[Path | None, typer.Option("--out", help="写入此文件（默认标准输出）")] = None,
    base_url: Annotated[str, typer.Option(help="DCAT 中数据集地址的前缀")] = "",
    dataset: Annotated[str | None, typer.Option(help="导出此数据集的行（--format csv）")] = None,
    role: Annotated[str, typer.Option(help="以此角色导出行")] = "admin",
    department: Annotated[str | None, typer.Option(help="以此部门导出行（默认：责任部门）")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """导出目录元数据（Frictionless datapackage.json 或 DCAT JSON-LD），或按授权导出一个数据集的行（csv）
    Export the catalog's metadata, or one dataset's rows as they may leave the hub."""
    if fmt not in ("datapackage", "dcat", "csv"):
        fail(f"未知格式 unknown format '{fmt}': datapackage | dcat | csv")
    if (fmt == "csv") != (dataset is not None):
        fail("--format csv 需要 --dataset（且只有 csv 需要）--format csv goes with --dataset")
    open_city(data_dir)
    if dataset is not None:
        try:
            who = Principal(role=Role(role), department=department or _officer(dataset).department)
            text = service.rows_csv(dataset, who).rstrip("\n")
        except ValueError:
            fail(f"未知角色 unknown role '{role}'")
        except Problem as exc:
            fail(problem_message(exc))
    else:
        body = catalog.datapackage() if fmt == "datapackage" else catalog.dcat(base_url)
        text = json.dumps(body, ensure_ascii=False, indent=None if json_out else 2)
    if output is None:
        print(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    if json_out:
        print_json({"format": fmt, "path": str(output), "datasets": len(store.list_datasets())})
    else:
        out.print(f"已写入 wrote {output}")
