"""`aicity office register|summarize|polish|revise` (in the office group) and `aicity eval office`.

    aicity office register FILE [--json] [--department D]      收文登记 into the register
    aicity office register --text "…" | --batch FILE            JSON Lines {"path": …} in, one registration a line out
    aicity office summarize FILE|TEXT [--json]                  摘要与关键词
    aicity office polish TEXT|FILE [--json]                     润色 (each change with its rule)
    aicity office revise FILE|TEXT --instruction "…" [--json]   按要求修改 (unified diff)
    aicity eval office [--dev] [--file F] [--json]              收文登记 per-field accuracy
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.agents.office import intake, registration_eval, textwork
from aicity.agents.office.documents import DocumentError
from aicity.agents.office.registration import FIELDS, RegistrationError, read_file
from aicity.core.cli import fail, open_city, print_json, problem_message, run_batch
from aicity.core.errors import Problem
from aicity.identity.models import Role
from aicity.identity.service import Principal

#: field labels for the printed registration
LABELS = {"kind": "文种", "issuer": "发文机关", "doc_number": "发文字号", "title": "标题", "recipients": "主送机关",
          "date": "成文日期", "classification": "密级", "urgency": "紧急程度", "signer": "签发人", "attachments": "附件",
          "cc": "抄送", "suggested_departments": "建议承办部门", "deadline": "办理时限"}
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOut = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def _clerk(department: str | None) -> Principal:
    """Who registers from the command line: an official of the given department (default the general office)."""
    return Principal(role=Role.official, department=department or "gov_office")


def _registered(row: intake.Registered) -> dict[str, Any]:
    return {"id": row.document.id, **row.registration.fields(), "status": row.document.status}


def _register_path(path: Path, principal: Principal) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"读不到文件 cannot read {path}: {exc.strerror}") from exc
    return _registered(intake.register(principal=principal, file_name=path.name, data=data))


def _print_registration(out: dict[str, Any]) -> None:
    table = Table("要素 field", "值 value", title=f"收文登记 {out['id']}")
    for key in FIELDS:
        value = out[key]
        shown = "、".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        table.add_row(f"{LABELS[key]} {key}", escape(shown))
    Console().print(table)


def register_command(
    file: Annotated[Path | None, typer.Argument(help="DOCX、PDF（含文字层）或 TXT 文件")] = None,
    text: Annotated[str | None, typer.Option("--text", help="粘贴的公文文字")] = None,
    batch: Annotated[str | None, typer.Option(help='JSON Lines 批量文件，每行 {"path": …}（- 为标准输入）')] = None,
    department: Annotated[str | None, typer.Option(help="登记部门 the registering department (default gov_office)")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """收文登记：从来文中提取文种、发文机关、发文字号、标题、主送、成文日期、密级、紧急程度、签发人、附件、抄送，建议承办部门和办理时限，存入收文登记簿。"""
    if sum(x is not None for x in (file, text, batch)) != 1:
        fail("请给出一个文件、--text 或 --batch（三者选一）give FILE, --text or --batch")
    open_city(data_dir)
    clerk = _clerk(department)
    if batch is not None:
        base = Path(batch).parent if batch != "-" else Path.cwd()

        def one(row: dict[str, Any]) -> dict[str, Any]:
            path = Path(row["path"])
            if not path.is_absolute() and not path.exists():
                path = base / path
            try:
                out = _register_path(path, clerk)
            except (RegistrationError, DocumentError) as exc:
                raise ValueError(str(exc)) from exc
            return {"path": row["path"], **out}

        run_batch(batch, "path", one)
        return
    try:
        if file is not None:
            out = _register_path(file, clerk)
        else:
            out = _registered(intake.register(principal=clerk, text=text))
    except (RegistrationError, DocumentError, ValueError) as exc:
        fail(str(exc))
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(out)
    else:
        _print_registration(out)


def _source(value: str) -> str:
    """A file's text (DOCX, PDF, TXT) when `value` names a file, else the text itself."""
    path = Path(value)
    try:
        is_file = len(value) < 1024 and "\n" not in value and path.is_file()
    except OSError:
        is_file = False
    if not is_file:
        return value
    try:
        return "\n".join(read_file(path.name, path.read_bytes()))
    except OSError as exc:
        raise ValueError(f"读不到文件 cannot read {path}: {exc.strerror}") from exc


def _text_work(data_dir: Path | None, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One text command's work on the opened city; a bad file or text is a CLI message."""
    open_city(data_dir)
    try:
        return work()
    except (RegistrationError, ValueError) as exc:
        fail(str(exc))
    except Problem as exc:
        fail(problem_message(exc))


def summarize_command(
    source: Annotated[str, typer.Argument(help="文件路径或文字 FILE or TEXT")],
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """公文摘要：抽取式摘要（按文种结构给句子打分）和关键词；配置了大模型时由模型写摘要。"""
    out = _text_work(data_dir, lambda: textwork.summarize(_source(source)))
    if json_out:
        print_json(out)
        return
    console = Console()
    console.print(escape(out["summary"]))
    console.print(f"[dim]关键词 keywords: {escape('、'.join(out['keywords']))}  ({out['writer']})[/dim]")


def polish_command(
    source: Annotated[str, typer.Argument(help="文字或文件路径 TEXT or FILE")],
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """公文润色：口语改书面语、请示/要求用语、日期数字写法（GB/T 15835）、固定用语、全角标点；列出每处修改及规则。"""
    out = _text_work(data_dir, lambda: textwork.polish(_source(source)))
    if json_out:
        print_json(out)
        return
    console = Console()
    console.print(escape(out["text"]))
    for change in out["changes"]:
        console.print(f"[dim]{escape(change['before'])} → {escape(change['after'])}  ({escape(change['rule'])})[/dim]")


def revise_command(
    source: Annotated[str, typer.Argument(help="文件路径或文字 FILE or TEXT")],
    instruction: Annotated[str, typer.Option("--instruction", "-i", help="修改要求，如：把A改为B；删除A；改得正式一点")],
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """按要求修改公文，输出修改后的全文和统一格式差异（unified diff）。"""
    out = _text_work(data_dir, lambda: textwork.revise(_source(source), instruction))
    if json_out:
        print_json(out)
        return
    Console().print(escape(out["diff"] or "（没有改动 no change）"), highlight=False)


def eval_office(
    file: Annotated[Path | None, typer.Option("--file", help="JSON Lines 评测集；默认 eval/office_documents/index.jsonl")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="开发集 the development documents (tests/agents/office/registration_dev)")] = False,
    failures: Annotated[int, typer.Option(help="列出错误的条数 list this many wrong fields")] = 20,
    json_out: JsonOut = False,
) -> None:
    """收文登记评测：各要素的准确率（目标 ≥ 0.95）Per-field accuracy of incoming-document registration."""
    path = file or (registration_eval.dev_set() if dev else registration_eval.default_set())
    try:
        report = registration_eval.evaluate(registration_eval.load(path), path.parent)
    except ValueError as exc:
        fail(str(exc))
    if json_out:
        print_json(report)
        return
    console = Console()
    table = Table("要素 field", "准确率 accuracy", "条数 n", "目标 target",
                  title=f"收文登记 registration ({report['documents']} documents, {path.parent.name})")
    for key, value in report["accuracy"].items():
        mark = "" if value >= 0.95 else " ✗"
        table.add_row(f"{LABELS[key]} {key}", f"{value:.3f}{mark}", str(report["counted"][key]), "≥ 0.95")
    table.add_row("全部要素正确 all fields right", f"{report['all_fields_right']}/{report['documents']}", "", "")
    table.add_row("坏输入被拒 bad inputs refused", report["bad_inputs_refused"], "", "all")
    table.add_row("每份耗时 ms per document (p50 / max)",
                  f"{report['ms_per_document_p50']} / {report['ms_per_document_max']}", "", "")
    console.print(table)
    for row in report["errors"]:
        console.print(f"[red]无法登记[/red] {escape(row['id'])}: {escape(row['error'])}")
    for row in report["failures"][:failures]:
        console.print(f"[red]✗[/red] {escape(str(row['id']))} {row['field']}: expected {escape(str(row['expected']))}"
                      f" got {escape(str(row['got']))}")
