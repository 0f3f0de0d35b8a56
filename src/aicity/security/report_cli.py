"""`aicity report security`: the periodic security report (安全报告), in Markdown or HTML.

Counts of the period's security events by type, stage and role, the most frequent rules,
blocked attacks, approvals, and the audit ledger's verification. The report is a generated
document: it has a provenance record and carries the invisible mark (`aicity guard verify`).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from aicity.core import audit
from aicity.core.cli import fail, open_city
from aicity.security import events, provenance

app = typer.Typer(help="报告 reports", no_args_is_help=True)


@app.callback()
def reports() -> None:
    """报告 reports (`aicity report security`)."""

Table = tuple[str, list[tuple[str, str]]]  # a titled two-column table


def _tables(summary: dict, ledger: audit.VerifyReport) -> list[Table]:
    ledger_rows = [("结论 result", "完好 intact" if ledger.ok else f"被篡改 TAMPERED（{len(ledger.findings)} 处）"),
                   ("条目 entries", str(ledger.tree_size)), ("签名树头 signed heads", str(ledger.signed_heads)),
                   ("根哈希 root", ledger.root_hash)] + [("问题 problem", f.message) for f in ledger.findings[:20]]
    counts = [(k, str(v)) for k, v in summary["by_type"].items()]
    return [
        ("按类型 By type", counts),
        ("按阶段 By guard stage", [(k, str(v)) for k, v in summary["by_stage"].items()]),
        ("按角色 By role", [(k, str(v)) for k, v in summary["by_role"].items()]),
        ("高频规则 Top rules", [(r["rule"], str(r["count"])) for r in summary["top_rules"]]),
        ("审批 Approvals", [(k, str(v)) for k, v in summary["approvals"].items()]),
        ("审计账本校验 Ledger verification", ledger_rows),
    ]


def _markdown(title: str, intro: list[str], tables: list[Table]) -> str:
    lines = [f"# {title}", "", *[line for p in intro for line in (p, "")]]
    for heading, rows in tables:
        lines += [f"## {heading}", ""]
        if not rows:
            lines += ["无 none", ""]
            continue
        lines += ["| 项 item | 数 value |", "|---|---|", *[f"| {k.replace('|', '¦')} | {v.replace('|', '¦')} |"
                                                         for k, v in rows], ""]
    return "\n".join(lines).rstrip() + "\n"


def _html(title: str, intro: list[str], tables: list[Table]) -> str:
    e = html.escape
    parts = ["<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">', f"<title>{e(title)}</title>",
             ("<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}"
              "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem}</style>"),
             "</head><body>", f"<h1>{e(title)}</h1>", *[f"<p>{e(p)}</p>" for p in intro]]
    for heading, rows in tables:
        parts.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            parts.append("<p>无 none</p>")
            continue
        body = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in rows)
        parts.append(f"<table><tr><th>项 item</th><th>数 value</th></tr>{body}</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def build(days: float, fmt: Literal["md", "html"]) -> str:
    """The report of the last `days`, marked (a provenance record is stored)."""
    found = events.security_events(days, limit=1_000_000)
    summary = events.summarise(found)
    ledger = audit.verify()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    title = f"安全报告 Security report · 最近 {days:g} 天"
    intro = [(f"生成时间 generated {now}；安全事件 {summary['total']} 起，其中拦截的提示词攻击 "
              f"{summary['blocked_attacks']} 次 blocked attacks; 审计账本{'完好' if ledger.ok else '被篡改'}。"),
             ("本报告带有平台的隐式水印，可用 `aicity guard verify` 校验 This report carries the platform's "
              "invisible mark.")]
    tables = _tables(summary, ledger)
    text = _markdown(title, intro, tables) if fmt == "md" else _html(title, intro, tables)
    rec = provenance.record("report", provenance.new_document_id(), "report.security", [], text)
    return provenance.mark_document(text, rec)


@app.command()
def security(
    days: Annotated[float, typer.Option(min=0.01, max=366, help="统计最近几天 the last N days")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="md | html")] = "md",
    out: Annotated[Path | None, typer.Option(help="写入文件（默认标准输出）write to FILE (default: stdout)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """安全报告：按类型、阶段、角色统计安全事件，高频规则，拦截的攻击，审批，审计账本校验
    The security report: events by type, stage and role, top rules, blocked attacks,
    approvals, and the ledger's verification."""
    if fmt not in ("md", "html"):
        fail("--format 须为 md 或 html / must be md or html")
    open_city(data_dir)
    report = build(days, fmt)  # type: ignore[arg-type]
    if out is None:
        typer.echo(report, nl=False)
    else:
        out.write_text(report, encoding="utf-8")
        typer.echo(f"已写入 written: {out}")
