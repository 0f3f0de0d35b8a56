"""`aicity data ask TEXT [--role R] [--department D] [--as-of DATE] [--json]` and `--batch FILE`
(JSON Lines `{"q", "role"?, "department"?, "as_of"?}` in, one answer object per line out)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message, run_batch
from aicity.core.errors import Problem
from aicity.hub.data.ask import DataAnswer, ask
from aicity.identity.models import Role

#: what `--json` and `--batch` print of an answer
JSON_KEYS = ("answer", "sql", "columns", "rows", "value", "datasets", "status", "reason", "confidence")


def _role(value: str) -> str:
    try:
        return Role(value).value
    except ValueError:
        raise ValueError(f"未知角色 unknown role '{value}'; allowed: {', '.join(r.value for r in Role)}") from None


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD date must be YYYY-MM-DD: {value!r}") from None


def as_json(answer: DataAnswer) -> dict[str, Any]:
    return answer.model_dump(mode="json", include=set(JSON_KEYS))


def _answer_row(row: dict[str, Any]) -> dict[str, Any]:
    unknown = set(row) - {"q", "role", "department", "as_of", "id"}
    if unknown:
        raise ValueError(f"未知字段 unknown fields: {', '.join(sorted(unknown))}")
    answer = ask(row["q"], role=_role(str(row.get("role") or "official")), department=row.get("department"),
                 as_of=_date(row.get("as_of")))
    out = as_json(answer)
    if "id" in row:
        out = {"id": row["id"], **out}
    return out


def _print(answer: DataAnswer) -> None:
    console = Console()
    console.print(answer.answer)
    if answer.rows and answer.columns:
        table = Table(*answer.columns)
        for r in answer.rows[:50]:
            table.add_row(*("" if v is None else str(v) for v in r))
        console.print(table)
    if answer.sql:
        console.print(f"[dim]SQL: {answer.sql}[/dim]", markup=True, highlight=False)
    if answer.datasets:
        console.print(f"[dim]数据来源 datasets: {', '.join(answer.datasets)}[/dim]")


def ask_command(
    text: Annotated[str | None, typer.Argument(help="一句话问题 the question")] = None,
    role: Annotated[str, typer.Option(help="以该角色提问 role: official, operator, admin, citizen, enterprise")] = "official",
    department: Annotated[str | None, typer.Option(help="所在部门 the asker's department id")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="相对时间的基准日 YYYY-MM-DD")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    batch: Annotated[str | None, typer.Option(help="JSON Lines 批量文件（- 为标准输入）")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """一句话问数：用一句话查询城市数据，得到数字、表格和所用的 SQL。"""
    if (text is None) == (batch is None):
        fail("请给出一个问题或 --batch 文件（二者选一）give a question or --batch FILE, not both")
    try:
        role_value, day = _role(role), _date(as_of)
    except ValueError as exc:
        fail(str(exc))
    open_city(data_dir)
    if batch is not None:
        run_batch(batch, "q", _answer_row)
        return
    assert text is not None
    try:
        answer = ask(text, role=role_value, department=department, as_of=day)
    except ValueError as exc:
        fail(str(exc))
    except Problem as exc:  # the store unreachable or misconfigured
        fail(problem_message(exc))
    if json_out:
        print_json(as_json(answer))
    else:
        _print(answer)
