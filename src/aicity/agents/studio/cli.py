"""`aicity agents create|import|export|publish|list|show|test` — the co-creation platform from the
command line (commands of the assistant's `aicity agents` group). The command line acts as the
machine's administrator (`--role`, `--department` to act as someone else); the owner is `local`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from aicity.agents.studio import runtime, service, templates
from aicity.agents.studio.spec import parse
from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.identity.service import Principal, parse_role

DataDir = Annotated[Path | None, typer.Option(help="数据目录 data dir")]
JsonOut = Annotated[bool, typer.Option("--json", help="输出 JSON")]
RoleOpt = Annotated[str, typer.Option(help="以哪个角色操作 act as role")]
DeptOpt = Annotated[str | None, typer.Option(help="所属部门 department")]
out = Console()


def _principal(role: str, department: str | None) -> Principal:
    return Principal(role=parse_role(role), department=department)


def _fmt(path: Path) -> str:
    return "json" if path.suffix.lower() == ".json" else "yaml"


def _done(result: Any, json_out: bool, line: str) -> None:
    if json_out:
        print_json(result.model_dump(mode="json") if hasattr(result, "model_dump") else result)
    else:
        out.print(line)


def _guarded(action: Any) -> Any:
    try:
        return action()
    except Problem as exc:
        errors = exc.extra.get("errors") or []
        fields = "".join(f"\n  {'.'.join(e['loc']) or '(root)'}: {e['msg']}" for e in errors if e.get("loc"))
        fail(problem_message(exc) + fields)


def create_command(
    file: Annotated[Path | None, typer.Argument(help="定义文件 YAML/JSON（省略则用 --template）")] = None,
    template: Annotated[str | None, typer.Option(help="模板 blank | knowledge | report | workflow")] = None,
    agent_id: Annotated[str | None, typer.Option("--id", help="新智能体的 id（用模板时）")] = None,
    role: RoleOpt = "admin", department: DeptOpt = None, json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """新建智能体（草稿）Create an agent (a draft) from a file or a template."""
    if file is None and template is None:
        fail("请给出定义文件或 --template give a file or --template")
    open_city(data_dir)
    if file is not None:
        data = _guarded(lambda: _parsed(file))
    else:
        found = {t["id"]: t["definition"] for t in templates.templates()}
        if template not in found:
            fail(f"未知模板 unknown template '{template}'; 可选 {', '.join(found)}")
        data = {**found[template], **({"id": agent_id} if agent_id else {})}
    made = _guarded(lambda: service.create(data, _principal(role, department)))
    _done(made, json_out, f"已创建 created {made.id} v{made.latest_version}（草稿 draft）")


def _parsed(file: Path) -> dict[str, Any]:
    try:
        return parse(file.read_text(encoding="utf-8"), _fmt(file))
    except (OSError, ValueError) as exc:
        raise service.invalid(str(exc)) from None


def import_command(
    files: Annotated[list[Path], typer.Argument(help="一个或多个定义文件 YAML/JSON")],
    publish: Annotated[str | None, typer.Option(help="导入后发布到 personal | department | city")] = None,
    role: RoleOpt = "admin", department: DeptOpt = None, json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """导入智能体定义（新建或新版本）Import definition files (new agents or new versions)."""
    open_city(data_dir)
    who = _principal(role, department)
    done = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"{file}: {exc}")
        made = _guarded(lambda text=text, file=file: service.import_text(text, _fmt(file), who))
        if publish:
            made = _guarded(lambda made=made: service.publish(made.id, who, made.latest_version, publish))
        done.append(made)
        if not json_out:
            out.print(f"{file.name} → {made.id} v{made.latest_version}" + (f"，已发布 published ({publish})"
                                                                          if publish else ""))
    if json_out:
        print_json([d.model_dump(mode="json") for d in done])


def export_command(
    agent_id: Annotated[str, typer.Argument(help="智能体 id")],
    version: Annotated[int | None, typer.Option(help="版本（默认最新）")] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml | json")] = "yaml",
    output: Annotated[Path | None, typer.Option("--out", help="写入文件（默认标准输出）")] = None,
    role: RoleOpt = "admin", department: DeptOpt = None, data_dir: DataDir = None,
) -> None:
    """导出一个智能体的定义文件 Export one agent's definition file."""
    if fmt not in ("yaml", "json"):
        fail("--format 须为 yaml 或 json")
    open_city(data_dir)
    text = _guarded(lambda: service.export(agent_id, _principal(role, department), version, fmt))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"已导出 exported {agent_id} → {output}")


def publish_command(
    agent_id: Annotated[str, typer.Argument(help="智能体 id")],
    version: Annotated[int | None, typer.Option(help="发布哪一版（早于当前的即回滚）")] = None,
    visibility: Annotated[str | None, typer.Option(help="personal | department | city")] = None,
    withdraw: Annotated[bool, typer.Option(help="下线 withdraw instead")] = False,
    role: RoleOpt = "admin", department: DeptOpt = None, json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """发布、回滚或下线 Publish a version (an earlier one: roll back), or withdraw."""
    if visibility not in (None, "personal", "department", "city"):
        fail("--visibility 须为 personal | department | city")
    open_city(data_dir)
    who = _principal(role, department)
    if withdraw:
        made = _guarded(lambda: service.withdraw(agent_id, who))
        _done(made, json_out, f"已下线 withdrawn {agent_id}")
        return
    made = _guarded(lambda: service.publish(agent_id, who, version, visibility))  # type: ignore[arg-type]
    _done(made, json_out, f"已发布 published {agent_id} v{made.published_version}（{made.visibility}）")


def list_command(
    q: Annotated[str, typer.Option(help="搜索 search")] = "",
    category: Annotated[str | None, typer.Option(help="分类")] = None,
    mine: Annotated[bool, typer.Option(help="我的（含草稿）mine, drafts included")] = False,
    role: RoleOpt = "admin", department: DeptOpt = None, json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """智能体广场 The catalogue of co-created agents."""
    open_city(data_dir)
    rows = service.catalogue(_principal(role, department), q, category, "uses", mine)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("id", "名称 name", "分类", "状态 status", "可见 visibility", "版本", "使用", "赞", "评分")
    for r in rows:
        table.add_row(r.id, f"{r.icon} {r.name}", r.category, r.status, r.visibility,
                      f"v{r.published_version or r.latest_version}", str(r.uses), str(r.likes),
                      f"{r.rating:.1f}" if r.rating else "—")
    out.print(table if rows else "没有智能体 no agents")


def show_command(
    agent_id: Annotated[str, typer.Argument(help="智能体 id")],
    role: RoleOpt = "admin", department: DeptOpt = None, json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """智能体详情与版本 An agent's details and versions."""
    open_city(data_dir)
    found = _guarded(lambda: service.detail(agent_id, _principal(role, department)))
    if json_out:
        print_json(found.model_dump(mode="json"))
        return
    out.print(f"{found.icon} [bold]{found.name}[/bold] ({found.id}) · {found.category} · {found.status} · "
              f"{found.visibility}\n{found.description}")
    for v in found.versions:
        live = " ← 已发布 live" if v.version == found.published_version else ""
        out.print(f"  v{v.version}  {v.created_at:%Y-%m-%d %H:%M}  {v.author}  {v.note}{live}")


def test_command(
    agent_id: Annotated[str, typer.Argument(help="智能体 id")],
    text: Annotated[str, typer.Argument(help="问题")],
    draft: Annotated[bool, typer.Option(help="试运行最新的草稿版本 try the newest (draft) version")] = False,
    role: RoleOpt = "admin", department: DeptOpt = None, json_out: JsonOut = False, data_dir: DataDir = None,
) -> None:
    """试运行一个智能体（含运行轨迹）Try an agent, with its trace."""
    open_city(data_dir)
    who = _principal(role, department)
    definition = _guarded(lambda: service.definition_of(agent_id, who)) if draft else None
    result = _guarded(lambda: runtime.run(agent_id, text, who, None, definition))
    if json_out:
        print_json(result)
        return
    out.print(Markdown(result["answer"]))
    steps = " → ".join(f"{s.get('name')}" + (f":{s['agent']}.{s['skill']}" if s.get("agent") else "")
                       for s in result["trace"])
    out.print(f"\n[dim]trace {result['trace_id']}: {steps}[/dim]")
