"""`aicity report assessment`: the five-dimension assessment, as a table, JSON or an HTML report
with inline SVG charts, the weakest points first."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.ops import assessment as assessing

BAR_W = 360


def _value(indicator: dict[str, Any]) -> str:
    value = indicator["value"]
    if value is None:
        return indicator.get("note", "—")
    if indicator["unit"] in ("ratio", "yesno"):
        return f"{value:.0%}" if indicator["unit"] == "ratio" else ("是 yes" if value else "否 no")
    return f"{value:g}"


def _attained(indicator: dict[str, Any]) -> str:
    return "—" if indicator["attainment"] is None else f"{indicator['attainment']:.0%}"


def _bars(rows: list[tuple[str, float]], testid: str) -> str:
    """A horizontal bar chart (0–100) as inline SVG; every text escaped."""
    e = html.escape
    height = 28 * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" data-testid="{testid}" width="{BAR_W + 330}" '
             f'height="{height}" role="img" font-family="sans-serif" font-size="13">']
    for n, (label, score) in enumerate(rows):
        y = 8 + 28 * n
        width = max(1.0, BAR_W * score / 100)
        colour = "#dc2626" if score < 50 else "#d97706" if score < 80 else "#16a34a"
        parts += [f'<text x="0" y="{y + 14}">{e(label[:22])}</text>',
                  f'<rect x="230" y="{y}" width="{BAR_W}" height="18" fill="#e5e7eb"/>',
                  f'<rect x="230" y="{y}" width="{width:.1f}" height="18" fill="{colour}"/>',
                  f'<text x="{236 + BAR_W}" y="{y + 14}">{score:.0f}</text>']
    return "".join([*parts, "</svg>"])


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    dims = sorted(report["dimensions"].items(), key=lambda kv: kv[1]["score"])
    out = ['<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>智慧城市评估 Assessment</title>',
           "<style>body{font-family:sans-serif;max-width:960px;margin:24px auto;padding:0 16px;color:#111}"
           "table{border-collapse:collapse;width:100%;font-size:14px}td,th{border-bottom:1px solid #ddd;"
           "padding:4px 8px;text-align:left}.muted{color:#666}</style></head><body>",
           "<h1>智慧城市评估 Smart-city assessment</h1>",
           f'<p class="muted">最近 {report["period_days"]} 天的平台自测数据与问卷 · {e(report["generated_at"])}</p>',
           "<h2>五个维度 The five dimensions</h2>",
           _bars([(d["title"], d["score"]) for _, d in dims], "dimension-chart"),
           "<h2>最薄弱的环节 The weakest points first</h2>"]
    weakest = report["weakest"]
    if weakest:
        out.append(_bars([(w["name"], 100 * w["attainment"]) for w in weakest[:10]], "weakest-chart"))
        out.append("<table><tr><th>维度</th><th>指标</th><th>现值</th><th>目标</th><th>来源</th></tr>")
        out += [f"<tr><td>{e(report['dimensions'][w['dimension']]['title'])}</td><td>{e(w['name'])}</td>"
                f"<td>{e(_value(w))}</td><td>{e(str(w['target']))}</td><td>{e(w['source'])}</td></tr>" for w in weakest]
        out.append("</table>")
    else:
        out.append("<p>所有已测指标均达标 every measured indicator meets its target.</p>")
    for _, d in dims:
        out.append(f"<h2>{e(d['title'])} · {d['score']:.0f}</h2><table><tr><th>指标</th><th>现值</th><th>目标</th>"
                   "<th>达成</th><th>来源</th></tr>")
        out += [f"<tr><td>{e(i['name'])}</td><td>{e(_value(i))}</td><td>{e(str(i['target']))}</td>"
                f"<td>{_attained(i)}</td><td>{e(i['source'])}</td></tr>"
                for i in d["indicators"]]
        out.append("</table>")
    if report["unanswered"]:
        out.append("<h2>未作答或暂无数据 Not answered or no data yet</h2><ul>")
        out += [f"<li>{e(i['name'])}（{e(i.get('note', ''))}）</li>" for i in report["unanswered"]]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def assessment(
    questionnaire: Annotated[Path | None, typer.Option(help="问卷 YAML；默认 <数据目录>/assessment.yaml 或空白问卷")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="统计最近多少天 the last N days")] = assessing.PERIOD_DAYS,
    json_out: Annotated[bool, typer.Option("--json", help="JSON 输出")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="写出 HTML 报告 write the HTML report here")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
) -> None:
    """智慧城市评估：智能设施、智能中枢、智能应用、持续进化、以人为本五个维度的得分与最薄弱环节
    The assessment: five dimensions scored from what the platform measures, plus a questionnaire."""
    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        fail(f"--out 应为 .html 文件 must be an .html file: {out}")
    open_city(data_dir)
    try:
        filled = assessing.load_questionnaire(questionnaire or assessing.default_questionnaire())
        report = assessing.assess(filled, days)
    except Problem as exc:
        fail(problem_message(exc))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".part")
        tmp.write_text(render_html(report), encoding="utf-8")
        tmp.replace(out)  # nothing half-written
    if json_out:
        print_json(report)
        return
    console = Console()
    table = Table("维度 dimension", "得分 score", "已计分指标 scored", title="智慧城市评估 assessment")
    for d in sorted(report["dimensions"].values(), key=lambda d: d["score"]):
        table.add_row(escape(d["title"]), f"{d['score']:.1f}", str(d["scored"]))
    console.print(table)
    weakest = Table("维度", "指标 indicator", "现值 value", "目标 target", "来源 source", title="最薄弱 weakest first")
    for w in report["weakest"][:10]:
        weakest.add_row(w["dimension"], escape(w["name"]), escape(_value(w)), str(w["target"]), escape(w["source"]))
    console.print(weakest)
    console.print(f"未作答或暂无数据 not answered / no data: {len(report['unanswered'])}")
    if out is not None:
        console.print(f"HTML: {out}")
