"""What every CLI command shares: opening the city (with a progress bar on first load),
printing JSON, reading batch files (JSON Lines, one result line per input line).

The kernel does not know what a city holds: what loads it into an empty database (the demo
city) is registered with `set_city_loader` by whoever assembles the city (`aicity.cli`, the
server, the tests)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from aicity.core.config import configure, settings
from aicity.core.db import use_database
from aicity.core.errors import Problem

err_console = Console(stderr=True)
_opened: dict[str, str] = {}
#: (stage, done, total): how a loader reports progress
Report = Callable[[str, int, int], None]
#: loads the city into the database `open_city` points at (idempotently); the demo loader's `ensure_city`
CityLoader = Callable[[Report], object]
_loader: list[CityLoader] = []


def set_city_loader(load: CityLoader) -> None:
    """Register what `open_city` runs after pointing the process at the database."""
    _loader[:] = [load]


def open_city(data_dir: Path | None = None) -> None:
    """Point the process at the data dir and load the city into it (the registered loader) if it is empty."""
    cfg = configure(data_dir=data_dir) if data_dir is not None else settings()
    url = cfg.resolved_database_url
    if _opened.get("url") == url:
        return
    use_database(url)
    _opened["url"] = url
    with Progress(TextColumn("[bold]载入示范城市 {task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            for load in _loader:
                load(report)
        except Problem as exc:
            fail(f"示范城市数据无法载入 cannot load the city: {problem_message(exc)}")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[red]错误 error:[/red] {message}")
    raise typer.Exit(code)


def problem_message(exc: Problem) -> str:
    return f"{exc.title}: {exc.detail}" if exc.detail else exc.title


def run_service(work: Callable[[], Any]) -> Any:
    """A service call; a problem becomes a clear message (exit status 2)."""
    try:
        return work()
    except Problem as exc:
        fail(escape(problem_message(exc)))


def show_result(value: Any, json_out: bool, line: str) -> None:
    """`value` as one JSON line with `--json`, else `line` as plain text."""
    if json_out:
        print_json(value)
    else:
        Console().print(escape(line))


def run_batch(path: str, required: str, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Each input line is a JSON object with `required`; each output line the result or an
    `{"error": …, "line": n}` object. One bad line never stops the run."""
    stream = sys.stdin if path == "-" else None
    if stream is None:
        file = Path(path)
        if not file.is_file():
            fail(f"找不到批量文件 batch file not found: {path}")
        stream = file.open(encoding="utf-8")
    with stream:
        for n, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                if not isinstance(row, dict) or not isinstance(row.get(required), str):
                    raise ValueError(f'每行需要一个 JSON 对象，含字符串字段 "{required}"')
                print_json(handle(row))
            except json.JSONDecodeError as exc:
                print_json({"error": f"不是合法的 JSON invalid JSON: {exc.msg}", "line": n})
            except Problem as exc:
                print_json({"error": problem_message(exc), "type": exc.type_, "status": exc.status, "line": n})
            except ValueError as exc:
                print_json({"error": str(exc), "line": n})
