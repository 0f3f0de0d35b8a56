"""`aicity kb …`: search the knowledge base from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.cli_support import fail, open_city, print_json, run_batch
from aicity.hub.knowledge import service

app = typer.Typer(help="知识中心 Knowledge center", no_args_is_help=True)


def _hits(q: str, top_k: int, kb: str | None) -> dict:
    return {"q": q, "hits": [h.model_dump(include={"doc", "doc_key", "locator", "score", "text", "status"})
                             for h in service.search(q, top_k=top_k, kb=kb)]}


@app.command()
def search(
    text: Annotated[str | None, typer.Argument(help="查询 query")] = None,
    kb: Annotated[str | None, typer.Option(help="知识库 id")] = None,
    top_k: Annotated[int, typer.Option(min=1, max=100)] = 5,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    batch: Annotated[str | None, typer.Option(help='JSON Lines 文件（- 为标准输入），每行 {"q"}')] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """检索法律法规与政策条文 Search laws and policies, with article locators."""
    if batch is None and not (text or "").strip():
        fail("请给出查询或 --batch 文件 give a query or --batch FILE")
    open_city(data_dir)
    if batch is not None:
        run_batch(batch, "q", lambda row: _hits(row["q"], top_k, kb))
        return
    result = _hits(text or "", top_k, kb)
    if json_out:
        print_json(result)
        return
    table = Table("文件 doc", "条款 locator", "得分 score", "原文 text")
    for h in result["hits"]:
        table.add_row(h["doc"], h["locator"], f"{h['score']:.2f}", h["text"][:80])
    Console().print(table)


@app.command("list")
def list_docs(json_out: Annotated[bool, typer.Option("--json")] = False,
              data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """列出知识库文件 List documents."""
    open_city(data_dir)
    docs = [{"key": d.key, "title": d.title, "date": d.date, "status": d.status, "superseded_by": d.superseded_by}
            for d in service.list_documents()]
    if json_out:
        print_json({"documents": docs})
        return
    table = Table("key", "title", "date", "status")
    for d in docs:
        table.add_row(d["key"], d["title"], d["date"] or "", d["status"])
    Console().print(table)
