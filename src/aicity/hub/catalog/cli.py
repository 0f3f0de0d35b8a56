"""`aicity catalog …`: the service catalog from the command line."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json
from aicity.core.config import settings
from aicity.hub.catalog import service


def _city_catalog() -> Path:
    """The city's catalog: `catalog/` in the data dir when it has one, else the demo city's."""
    own = settings().data_dir / "catalog"
    return own if own.is_dir() else Path(str(resources.files("aicity") / "demo" / "data" / "catalog"))


app = typer.Typer(help="事项库 Service catalog", no_args_is_help=True)


@app.command()
def check(
    catalog_dir: Annotated[Path | None, typer.Argument(help="事项库目录（items/、bundles.yaml …）；默认当前城市的")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 data dir")] = None,
) -> None:
    """核对事项库每条法律依据与条文原文 Check every legal-basis citation against the article text."""
    open_city(data_dir)
    directory = catalog_dir or _city_catalog()
    if not (directory / "items").is_dir():
        fail(f"{directory} 不是事项库目录（缺少 items/） not a catalog directory")
    try:
        loaded = service.read_catalog_dir(directory)
    except service.CatalogError as exc:
        fail(exc.detail)
    report = service.check_citations(loaded)
    figures = {"items": len(loaded.items), "bundles": len(loaded.bundles), "policies": len(loaded.policies),
               "refs": report.refs, "quoted": report.quoted, "key_terms": report.key_terms,
               "verified": report.verified, "coverage": report.coverage, "deadlines": report.deadlines,
               "problems": report.problems}
    if json_out:
        print_json(figures)
    else:
        table = Table("指标 metric", "值 value", title="法律依据核对 legal-basis citations")
        table.add_row("事项 / 一件事 / 政策 entries", f"{len(loaded.items)} / {len(loaded.bundles)} / {len(loaded.policies)}")
        table.add_row("引用条文 citations", str(report.refs))
        table.add_row("原文核对 quote found in the article", str(report.quoted))
        table.add_row("关键词核对 key term of the entry in the article", str(report.key_terms))
        table.add_row("已核对 verified", f"{report.verified} ({report.coverage:.1%})")
        table.add_row("法定时限见于条文 statutory deadlines stated", str(report.deadlines))
        table.add_row("问题 problems", str(len(report.problems)))
        console = Console()
        console.print(table)
        for problem in report.problems:
            console.print(f"[red]✗[/red] {problem}")
    if report.problems:
        raise typer.Exit(1)
