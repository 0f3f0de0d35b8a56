"""`aicity guard check` and `aicity guard verify`: the guard pipeline (安全护栏) and provenance
checks from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from aicity.core.cli import fail, open_city, print_json, run_batch
from aicity.security import guard, provenance

app = typer.Typer(help="安全护栏 guard pipeline: allow / mask / block", no_args_is_help=True)

_COLOURS = {"allow": "green", "mask": "yellow", "block": "red"}


def _checked(text: str, stage: str, role: str | None) -> dict[str, Any]:
    if stage not in guard.STAGES:
        raise ValueError(f"未知阶段 unknown stage '{stage}'；可选 {', '.join(guard.STAGES)}")
    return guard.check(text, stage, role).to_dict()  # type: ignore[arg-type]


@app.command()
def check(
    text: Annotated[str | None, typer.Argument(help="要检查的文字 the text to check")] = None,
    stage: Annotated[str, typer.Option(help="input | retrieved | tool | output")] = "input",
    role: Annotated[str | None, typer.Option(help="按角色的策略 the role whose policy applies")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    batch: Annotated[str | None, typer.Option(
        help='JSON Lines 文件（- 为标准输入），每行 {"text", "stage"?, "role"?}；每行输出一个结果')] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """检查一段文字：放行、脱敏或拦截 Check a text: allow, mask or block.

    结果 result: verdict, findings [{kind, type, start, end, rule, score, action}], text（可放行的文字，
    个人信息已脱敏 the text as it may pass）。退出码 exit code: 0，拦截 block 时为 1（--json 与 --batch
    总是 0，结论在 JSON 里 the verdict is in the JSON）。"""
    if batch is None and text is None:
        fail("请给出文字或 --batch 文件 give a text or --batch FILE")
    open_city(data_dir)  # the policy may have been set at run time, in the city's database
    if batch is not None:
        run_batch(batch, "text", lambda row: _checked(row["text"], str(row.get("stage") or stage),
                                                      row.get("role") or role))
        return
    try:
        result = _checked(text or "", stage, role)
    except ValueError as exc:
        fail(str(exc))
    if json_out:
        print_json(result)
        return
    console = Console()
    verdict = result["verdict"]
    console.print(f"[bold {_COLOURS[verdict]}]{verdict}[/]  ({result['stage']})")
    for f in result["findings"]:
        console.print(f"  • {f['kind']}/{f['type']}  [{f['start']}:{f['end']}]  {f['rule']}  "
                      f"score={f['score']}  → {f['action']}")
    if verdict == "block":
        raise typer.Exit(1)
    console.print(escape(result["text"]))


_STATUS_COLOURS = {"intact": "green", "edited": "yellow", "unmarked": "yellow", "forged": "red"}


@app.command()
def verify(
    file: Annotated[str, typer.Argument(help="要校验的文件（- 为标准输入）the file to verify (- for stdin)")],
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """校验文字是否出自本平台（隐式水印）Tell whether a text came from this platform.

    结论 status: intact（水印有效、内容完好）、edited（水印有效、生成后被修改）、unmarked（无水印）、
    forged（水印签名无效）。退出码 exit code: 0 intact，否则 1 otherwise（--json 时同样）。"""
    open_city(data_dir)  # the city's signing key, and its records
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"无法读取 cannot read {file}: {exc}")
    verdict = provenance.verify_text(text)
    if json_out:
        print_json(verdict.to_dict())
    else:
        console = Console()
        console.print(f"[bold {_STATUS_COLOURS[verdict.status]}]{verdict.status}[/]  {escape(verdict.message)}")
        for mark in verdict.marks:
            if mark.valid:
                rec = mark.record or {}
                console.print(f"  • {mark.id}  {mark.time}  ×{mark.count}  "
                              f"{escape(rec.get('producer', '（本库无记录 no record here）'))}")
                for src in rec.get("sources", []):
                    console.print(f"      {escape(src['doc'])} {escape(src['locator'])}")
    if not verdict.ok:
        raise typer.Exit(1)
