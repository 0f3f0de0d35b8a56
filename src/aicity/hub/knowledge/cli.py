"""`aicity kb …`: the knowledge center from the command line.

The CLI is the installation's own operator: it acts as an admin (it could read the
database anyway). Permissions bind the API, the assistant and the console.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from aicity.core.cli import err_console, fail, open_city, print_json, problem_message, run_batch
from aicity.core.errors import Problem
from aicity.hub.knowledge import service
from aicity.hub.knowledge.grounded import written_answer
from aicity.hub.knowledge.parsers import SUPPORTED
from aicity.identity.models import Role
from aicity.identity.service import Principal

app = typer.Typer(help="知识中心 Knowledge center", no_args_is_help=True)
OPERATOR = Principal(role=Role.admin)
DataDir = Annotated[Path | None, typer.Option(help="数据目录 data dir")]
JsonOut = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def _hits(q: str, top_k: int, kb: str | None) -> dict:
    return {"q": q, "hits": [h.model_dump(include={"kb", "doc", "doc_key", "locator", "score", "text", "status"})
                             for h in service.search(q, OPERATOR, top_k=top_k, kb=kb)]}


@app.command()
def search(
    text: Annotated[str | None, typer.Argument(help="查询 query")] = None,
    kb: Annotated[str | None, typer.Option(help="知识库 id")] = None,
    top_k: Annotated[int, typer.Option(min=1, max=100)] = 5,
    json_out: JsonOut = False,
    batch: Annotated[str | None, typer.Option(help='JSON Lines 文件（- 为标准输入），每行 {"q"}')] = None,
    data_dir: DataDir = None,
) -> None:
    """检索条文 Search, with article locators."""
    if batch is None and not (text or "").strip():
        fail("请给出查询或 --batch 文件 give a query or --batch FILE")
    open_city(data_dir)
    if batch is not None:
        run_batch(batch, "q", lambda row: _hits(row["q"], top_k, kb))
        return
    try:
        result = _hits(text or "", top_k, kb)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json(result)
        return
    table = Table("文件 doc", "条款 locator", "得分 score", "原文 text")
    for h in result["hits"]:
        table.add_row(h["doc"], h["locator"], f"{h['score']:.2f}", h["text"][:80])
    Console().print(table)


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help="问题 question")],
    kb: Annotated[str | None, typer.Option(help="知识库 id")] = None,
    top_k: Annotated[int, typer.Option(min=1, max=10)] = 3,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """依据知识库回答并逐条引用 Answer from the knowledge base, quoting its sources."""
    if not text.strip():
        fail("问题不能为空 question must not be empty")
    open_city(data_dir)
    try:
        found = written_answer(text, OPERATOR, top_k=top_k, kb=kb)
    except Problem as exc:
        fail(problem_message(exc))
    if json_out:
        print_json({"answer": found.answer, "citations": [c.model_dump() for c in found.citations],
                    "writer": found.writer, "fallback": found.fallback, "rule": found.rule, "notes": found.notes})
        return
    console = Console()
    console.print(found.answer)
    if found.fallback:
        console.print(f"[yellow]模型未能作答（{found.fallback}），以上为原文摘录。[/yellow]")
    for n, c in enumerate(found.citations, start=1):
        console.print(f"[dim][^{n}] 《{c.doc}》{c.locator}：{c.text}[/dim]")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="文件或目录 files or folders")],
    kb: Annotated[str, typer.Option(help="知识库 id")] = service.GLOBAL_KB,
    title: Annotated[str | None, typer.Option(help="标题（单个文件时）")] = None,
    authority: Annotated[str | None, typer.Option(help="发布机关")] = None,
    date: Annotated[str | None, typer.Option(help="日期 YYYY-MM-DD")] = None,
    status: Annotated[str, typer.Option(help="in_force | superseded")] = "in_force",
    superseded_by: Annotated[str | None, typer.Option(help="替代它的文件")] = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """导入文件（Markdown、文本、HTML、PDF、DOCX、XLSX）Ingest documents; each is all-or-nothing."""
    files = [p for path in paths for p in (sorted(path.rglob("*")) if path.is_dir() else [path])
             if p.suffix.lower() in SUPPORTED or not path.is_dir()]
    if not files:
        fail("没有可导入的文件 nothing to ingest")
    if status not in ("in_force", "superseded"):
        fail("--status 只能是 in_force 或 superseded")
    open_city(data_dir)
    results, failed = [], 0
    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task("导入 ingest", total=len(files))
        for path in files:
            try:
                if not path.is_file():
                    raise Problem(404, "找不到文件 Not found", str(path), "not-found")
                doc, changed = service.ingest_document(
                    path.name, path.read_bytes(), kb=kb, title=title if len(files) == 1 else None,
                    authority=authority, date=date, status=status, superseded_by=superseded_by, source=str(path))
                results.append({"file": str(path), "key": doc.key, "kind": doc.kind,
                                "status": "ingested" if changed else "unchanged"})
            except Problem as exc:
                failed += 1
                results.append({"file": str(path), "status": "error", "error": problem_message(exc), "type": exc.type_})
            bar.advance(task)
    if json_out:
        print_json({"results": results})
    else:
        for r in results:
            line = f"{r['status']:<9} {r['file']}" + (f"  → {r['key']} ({r['kind']})" if "key" in r else f"  {r['error']}")
            Console().print(line)
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_docs(kb: Annotated[str | None, typer.Option(help="知识库 id")] = None, json_out: JsonOut = False,
              data_dir: DataDir = None) -> None:
    """列出文件 List documents."""
    open_city(data_dir)
    docs = [{"kb": d.kb, "key": d.key, "title": d.title, "kind": d.kind, "date": d.date, "status": d.status,
             "superseded_by": d.superseded_by} for d in service.list_documents({kb} if kb else None)]
    if json_out:
        print_json({"documents": docs})
        return
    table = Table("kb", "key", "title", "kind", "date", "status")
    for d in docs:
        table.add_row(d["kb"], d["key"], d["title"], d["kind"], d["date"] or "", d["status"])
    Console().print(table)


@app.command()
def delete(key: Annotated[str, typer.Argument(help="文件 key")],
           kb: Annotated[str, typer.Option(help="知识库 id")] = service.GLOBAL_KB, data_dir: DataDir = None) -> None:
    """删除文件及其全部索引 Delete a document everywhere."""
    open_city(data_dir)
    try:
        service.delete_document(kb, key)
    except Problem as exc:
        fail(problem_message(exc))
    Console().print(f"已删除 deleted {kb}/{key}")


@app.command("create")
def create_kb(
    kb_id: Annotated[str, typer.Argument(help="知识库 id")],
    name: Annotated[str, typer.Option(help="名称")],
    level: Annotated[str, typer.Option(help="global | department | personal")] = "department",
    department: Annotated[str | None, typer.Option(help="部门 id（部门知识库）")] = None,
    owner_key: Annotated[str | None, typer.Option(help="所有者 API key id（个人知识库）")] = None,
    data_dir: DataDir = None,
) -> None:
    """创建知识库 Create a knowledge base."""
    open_city(data_dir)
    try:
        service.ensure_kb(kb_id, name, level, department, owner_key)
    except Problem as exc:
        fail(problem_message(exc))
    Console().print(f"知识库 {kb_id}（{level}）已就绪")
