"""`aicity office …`: official documents (政务办公). This module holds the group and the drafting
side; the registration and text commands (`register`, `summarize`, `polish`, `revise`) join the
group from `cli_text.py`.

    aicity office draft TEXT [--kind K] [--issuer DEPT] [--out FILE.docx] [--json]
    aicity office check FILE.docx [--json]           exit 1 when a rule fails
    aicity office render FILE.docx --out DIR         every page as PNG (LibreOffice + pdftoppm)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.agents.office import checker, drafting, render
from aicity.agents.office.issuers import register
from aicity.agents.office.kinds import KINDS, OfficeInputError
from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.identity.models import Role
from aicity.identity.service import Principal

app = typer.Typer(help="政务办公 official documents: draft, check, register, summarize, polish, revise",
                  no_args_is_help=True)
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOut = Annotated[bool, typer.Option("--json", help="输出 JSON")]


@app.command()
def draft(
    text: Annotated[str, typer.Argument(help="起草要求，如：起草一份关于开展燃气安全隐患排查整治的通知")],
    kind: Annotated[str | None, typer.Option(help=f"文种：{'、'.join(KINDS)}（默认从要求中识别，否则为通知）")] = None,
    issuer: Annotated[str | None, typer.Option(help="发文机关：部门 id 或全称（默认 gov_office 市政府办公室）")] = None,
    out: Annotated[Path | None, typer.Option(help="DOCX 写到此文件（默认：发文字号+标题.docx，在当前目录）")] = None,
    keyword: Annotated[list[str] | None, typer.Option(help="要突出的关键词（可重复）")] = None,
    point: Annotated[list[str] | None, typer.Option(help="要点，逐条成为二级标题（可重复）")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """起草公文：GB/T 9704-2012 格式的 DOCX，编号取自发文机关的发文字号登记簿，并记入公文登记簿。"""
    open_city(data_dir)
    # the command line drafts as an official of the issuing department (default the general office)
    who = Principal(role=Role.official, department=issuer if issuer in register().issuers else "gov_office")
    try:
        made = drafting.draft(text, kind=kind, issuer=issuer, keywords=keyword, outline=point, principal=who)
    except OfficeInputError as exc:
        fail(str(exc))
    except Problem as exc:
        fail(problem_message(exc))
    target = out or Path(f"{made.doc_number}{made.title}.docx".replace("/", "／"))
    try:
        target.write_bytes(made.docx)
    except OSError as exc:
        fail(f"写不了文件 cannot write {target}: {exc.strerror}")
    if json_out:
        print_json(made.as_json(file=str(target)))
        return
    console = Console()
    console.print(f"[bold]{escape(made.title)}[/bold]  {escape(made.doc_number or '')}（{made.kind}，{made.writer}）")
    console.print(escape(made.text))
    for n, c in enumerate(made.citations, start=1):
        console.print(f"[dim][{n}] 《{escape(c['doc'])}》{escape(c['locator'])}[/dim]")
    console.print(f"已写入 written: {target}")


@app.command()
def check(file: Annotated[Path, typer.Argument(help="要检查的 DOCX 文件")], json_out: JsonOut = False) -> None:
    """按 GB/T 9704-2012 检查 DOCX 的版式；有规则不通过时退出码为 1。"""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"读不到文件 cannot read {file}: {exc.strerror}")
    try:
        findings = checker.check_docx(data)
    except checker.NotADocx as exc:
        fail(str(exc))
    failed = checker.failed(findings)
    if json_out:
        print_json({"ok": not failed, "failed": len(failed), "findings": [f.as_json() for f in findings]})
    else:
        table = Table("", "规则 rule", "说明 message", "位置 where", title=f"GB/T 9704-2012 检查：{file.name}")
        for f in findings:
            table.add_row("[green]✓[/green]" if f.ok else "[red]✗[/red]", f.rule, escape(f.message), escape(f.where))
        Console().print(table)
        Console().print(f"{len(findings) - len(failed)} 项通过，{len(failed)} 项不通过")
    if failed:
        raise typer.Exit(1)


@app.command("render")
def render_pages(file: Annotated[Path, typer.Argument(help="DOCX 文件")],
                 out: Annotated[Path, typer.Option(help="PNG 写到此目录")] = Path("."),
                 dpi: Annotated[int, typer.Option(help="分辨率")] = render.DEFAULT_DPI) -> None:
    """把 DOCX 每一页渲染为 PNG（LibreOffice + pdftoppm）。"""
    try:
        pages = render.docx_pages_png(file.read_bytes(), dpi)
    except OSError as exc:
        fail(f"读不到文件 cannot read {file}: {exc.strerror}")
    except render.RenderError as exc:
        fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    for n, png in enumerate(pages, start=1):
        (out / f"{file.stem}-{n}.png").write_bytes(png)
    Console().print(f"{len(pages)} 页 → {out}")
