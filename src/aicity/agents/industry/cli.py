"""`aicity industry …`: chain maps, gaps, ranked leads, the project pipeline and chain reports
(产业招商). The CLI acts as an official of the commerce bureau; the commands that change a project
take `--key` (AICITY_API_KEY) to act as that key's holder instead, with the REST API's checks."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aicity.agents.industry import chains, leads, projects, report, service
from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem, forbidden
from aicity.identity.models import Role
from aicity.identity.service import Principal, authenticate

app = typer.Typer(help="产业招商 the industry agent: chains, gaps, leads, projects, reports", no_args_is_help=True)
projects_app = typer.Typer(help="招商项目 the project pipeline", no_args_is_help=True)
app.add_typer(projects_app, name="projects")

ACTOR = "cli"
JSON = Annotated[bool, typer.Option("--json", help="JSON 输出")]
DATA_DIR = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
KEY = Annotated[str | None, typer.Option("--key", envvar="AICITY_API_KEY",
                                         help="办理人的 API key（省略则以商务局工作人员身份）the acting staff member's key")]
_STYLE = {"missing": "bold red", "thin": "red", "fair": "yellow", "strong": "green"}


def _run(data_dir: Path | None, work: Any) -> Any:
    open_city(data_dir)
    try:
        return work()
    except Problem as exc:
        fail(problem_message(exc))


def _actor(key: str | None) -> str:
    """Who changes a project: the key's holder, checked as REST checks it (401/403), else the CLI itself."""
    if not key:
        return ACTOR
    principal = authenticate(key)
    if principal is None or not principal.is_staff:
        raise forbidden("产业招商面向工作人员 industry and investment data is for staff", "staff-only")
    return projects.check_writer(principal).actor


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


@app.command("chains")
def list_chains(json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """重点产业链 The chains: nodes and operating firms."""
    found = _run(data_dir, chains.chains)
    if json_out:
        print_json(_dump(found))
        return
    table = Table(title="重点产业链 Chains")
    for c in ("产业链", "环节数", "在营企业"):
        table.add_column(c)
    for c in found:
        table.add_row(c.chain, str(c.nodes), str(c.firms))
    Console().print(table)


@app.command("chain")
def chain(name: Annotated[str, typer.Argument(help="产业链，如 新能源汽车")],
          district: Annotated[str | None, typer.Option(help="只看一个区 (光谷区 / guanggu)")] = None,
          json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """产业链图谱：各环节企业、营收、强弱 The chain map."""
    cmap = _run(data_dir, lambda: chains.chain_map(name, district))
    if json_out:
        print_json(_dump(cmap))
        return
    table = Table(title=f"{cmap.chain}产业链（{cmap.district or '全市'}）")
    for c in ("位置", "环节", "在营企业", "营收 万元", "从业人数", "高新占比", "专精特新占比", "强度指数", "判定", "外地线索"):
        table.add_column(c)
    for n in cmap.nodes:
        f = n.figures
        table.add_row(n.position, n.name, str(f.firms), f"{f.revenue_10k_yuan:,.1f}", f"{f.employees:,}",
                      "—" if f.high_tech_share is None else f"{f.high_tech_share:.0%}",
                      "—" if f.specialized_share is None else f"{f.specialized_share:.0%}", f"{n.strength.index:.2f}",
                      f"[{_STYLE[n.strength.level]}]{n.strength.label}[/]", str(n.leads))
    console = Console()
    console.print(table)
    console.print(f"判定规则：{cmap.rule}")


@app.command("gaps")
def gaps(name: Annotated[str | None, typer.Argument(help="产业链（省略为全部）")] = None,
         district: Annotated[str | None, typer.Option(help="只看一个区")] = None,
         json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """缺失和薄弱环节 Missing and thin nodes."""
    found = _run(data_dir, lambda: service.gaps(name, district))
    if json_out:
        print_json(_dump(found))
        return
    table = Table(title="缺失和薄弱环节 Gaps")
    for c in ("产业链", "环节", "位置", "判定", "外地线索", "依据"):
        table.add_column(c)
    for g in found:
        table.add_row(g.chain, g.node, g.position, f"[{_STYLE[g.level]}]{g.label}[/]", str(g.leads), g.reason)
    Console().print(table)


@app.command("leads")
def lead_list(name: Annotated[str, typer.Argument(help="产业链")],
              node: Annotated[str | None, typer.Option("--node", help="环节，如 动力电池")] = None,
              limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
              json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """招商线索排序（附分项与理由）Ranked outside companies with their reasons."""
    ranking = _run(data_dir, lambda: leads.rank(name, node, limit))
    if json_out:
        print_json(_dump(ranking))
        return
    console = Console()
    for x in ranking.leads:
        console.print(f"[bold]{x.rank}. {x.company}[/]（{x.province}{x.city if x.city != x.province else ''}，"
                      f"{x.node}·本地{x.node_strength}）得分 {x.score:.1f}")
        for c in x.components:
            console.print(f"    {c.label} {c.weight:.2f} × {c.score:.2f} = {c.points:.1f}：{c.reason}")
    console.print(f"评分规则：{ranking.rule}")


def _show(p: projects.ProjectDetail) -> None:
    console = Console()
    flag = "  [bold red]已超期 stalled[/]" if p.stalled else ""
    console.print(f"[bold]{p.id}[/] {p.name} — {p.stage}（第 {p.days_in_stage} 天，期限 {p.limit_days} 天）{flag}")
    console.print(f"企业 {p.company}；{p.chain}/{p.node or '—'}；负责人 {p.owner}；可移到：{'、'.join(p.allowed_moves) or '无'}")
    for h in p.history:
        console.print(f"  {h.at:%Y-%m-%d %H:%M} {h.action} {h.from_stage or ''}→{h.to_stage} {h.actor} {h.note}")
    for r in p.reminders:
        console.print(f"  [yellow]提醒 {r.on}[/]：{r.text}")


@projects_app.command("list")
def project_list(stage: Annotated[str | None, typer.Option(help="阶段")] = None,
                 stalled: Annotated[bool, typer.Option("--stalled", help="只看超期项目")] = False,
                 json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """招商项目列表 Projects."""
    found = _run(data_dir, lambda: projects.list_projects(stage, True if stalled else None))
    if json_out:
        print_json(_dump(found))
        return
    table = Table(title="招商项目 Projects")
    for c in ("编号", "项目", "阶段", "负责人", "在本阶段", "期限", "超期"):
        table.add_column(c)
    for p in found:
        table.add_row(p.id, p.name, p.stage, p.owner, f"{p.days_in_stage} 天", str(p.due_on), "是" if p.stalled else "")
    Console().print(table)


@projects_app.command("create")
def project_create(company: Annotated[str, typer.Option(help="企业名称")],
                   chain: Annotated[str, typer.Option(help="产业链")],
                   owner: Annotated[str, typer.Option(help="负责人")],
                   node: Annotated[str | None, typer.Option(help="环节")] = None,
                   name: Annotated[str | None, typer.Option(help="项目名称")] = None,
                   investment: Annotated[float | None, typer.Option(help="计划投资（亿元）", min=0)] = None,
                   jobs: Annotated[int | None, typer.Option(help="计划用工（人）", min=0)] = None,
                   note: Annotated[str, typer.Option(help="备注")] = "",
                   json_out: JSON = False, data_dir: DATA_DIR = None, key: KEY = None) -> None:
    """新建招商项目（线索阶段）Create a project at 线索."""
    p = _run(data_dir, lambda: projects.create(company=company, chain=chain, owner=owner, node=node, name=name,
                                               investment_100m_yuan=investment, jobs=jobs, note=note,
                                               actor=_actor(key)))
    print_json(_dump(p)) if json_out else _show(p)


@projects_app.command("move")
def project_move(project_id: str, to: Annotated[str, typer.Argument(help="目标阶段")],
                 note: Annotated[str, typer.Option(help="说明（退回时必填）")] = "",
                 owner: Annotated[str | None, typer.Option(help="新负责人")] = None,
                 json_out: JSON = False, data_dir: DATA_DIR = None, key: KEY = None) -> None:
    """推进或退回项目 Move a project one stage."""
    p = _run(data_dir, lambda: projects.move(project_id, to, actor=_actor(key), note=note, owner=owner))
    print_json(_dump(p)) if json_out else _show(p)


@projects_app.command("note")
def project_note(project_id: str, note: Annotated[str, typer.Argument(help="备注")],
                 remind_on: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="提醒日期")] = None,
                 json_out: JSON = False, data_dir: DATA_DIR = None, key: KEY = None) -> None:
    """备注与提醒 Add a note (with a reminder date)."""
    p = _run(data_dir, lambda: projects.add_note(project_id, note, actor=_actor(key),
                                                 remind_on=remind_on.date() if remind_on else None))
    print_json(_dump(p)) if json_out else _show(p)


@projects_app.command("show")
def project_show(project_id: str,
                 material: Annotated[str | None, typer.Option(help="阶段材料：brief / assessment / handover")] = None,
                 json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """项目详情或阶段材料 A project, or one of its stage materials."""
    if material:
        m = _run(data_dir, lambda: projects.material(project_id, material))
        print_json(_dump(m)) if json_out else sys.stdout.write(m.markdown + "\n")
        return
    p = _run(data_dir, lambda: projects.get(project_id))
    print_json(_dump(p)) if json_out else _show(p)


@projects_app.command("assess")
def project_assess(year: Annotated[int, typer.Option(help="年度")] = dt.date.today().year,
                   json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """年度考核：目标与完成 The year's targets against results."""
    a = _run(data_dir, lambda: projects.assessment(year))
    if json_out:
        print_json(_dump(a))
        return
    for line in a.lines:
        done = "—" if line.completion is None else f"{line.completion:.0%}"
        Console().print(f"{line.metric}：目标 {line.target:g}，完成 {line.result:g}（{done}）")


@app.command("report")
def chain_report(name: Annotated[str, typer.Argument(help="产业链")],
                 fmt: Annotated[str, typer.Option("--format", help="md | html | docx")] = "md",
                 out: Annotated[Path | None, typer.Option("--out", help="输出文件（省略则输出到屏幕，docx 必须指定）")] = None,
                 district: Annotated[str | None, typer.Option(help="只看一个区")] = None,
                 json_out: JSON = False, data_dir: DATA_DIR = None) -> None:
    """一键生成产业链报告 The chain report (Markdown, HTML with charts, DOCX)."""
    if fmt not in report.FORMATS:
        fail(f"未知格式 {fmt}；可选 {', '.join(report.FORMATS)}")
    if fmt == "docx" and out is None:
        fail("DOCX 需要 --out 文件 a DOCX report needs --out")
    principal = Principal(role=Role.official, department="commerce")
    built, body = _run(data_dir, lambda: (lambda r: (r, report.render(r, fmt)))(report.build(name, district, principal)))
    if out is not None:
        tmp = out.with_name(out.name + ".part")
        tmp.write_bytes(body)
        tmp.replace(out)  # nothing half-written
    if json_out:
        print_json({"title": built.title, "format": fmt, "out": str(out) if out else None, "bytes": len(body),
                    "queries": len(built.chain_map.queries)})
    elif out is None:
        sys.stdout.write(body.decode() + "\n")
    else:
        Console().print(f"已生成 {out}（{len(body):,} 字节）")
