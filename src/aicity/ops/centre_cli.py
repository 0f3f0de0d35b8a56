"""`aicity ops corpus …`, `aicity ops models …`, `aicity ops knowledge`: the corpus and model centre
and knowledge operations, run as the local operator (the CLI holds the city's files)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, run_service, show_result
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import corpus, knowledge_ops, model_centre

LOCAL_OPERATOR = Principal(role=Role.operator)
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
Json = Annotated[bool, typer.Option("--json", help="JSON 输出")]
CorpusKind = Annotated[str, typer.Option("--kind", help="modes（模式路由）| events（事件分类）")]
ModelKind = Annotated[str, typer.Option("--kind", help="router（模式路由）| events（事件分类）")]

corpus_app = typer.Typer(help="语料中心：评价与纠正 → 审核 → 版本 the corpus centre", no_args_is_help=True)
models_app = typer.Typer(help="模型中心：再训练、评测门槛、版本、回滚 the model centre", no_args_is_help=True)
knowledge_app = typer.Typer(help="知识运营：时效、覆盖缺口、各知识库使用 knowledge operations",
                            invoke_without_command=True)


@corpus_app.command("collect")
def collect(days: Annotated[int, typer.Option(min=1, max=366)] = 30, kind: CorpusKind = corpus.MODES,
            json_out: Json = False, data_dir: DataDir = None) -> None:
    """把最近的 👍/👎 评价变成待审核语料 Propose the rated answers of the last N days (events: the older
    corrections file; new event corrections are proposed as they happen)."""
    open_city(data_dir)
    found = run_service(lambda: corpus.collect(days, kind))
    show_result(found, json_out, f"新增 added {found['added']}，跳过 skipped {found['skipped']}")


@corpus_app.command("queue")
def queue(status: Annotated[str, typer.Option(help="pending | accepted | rejected")] = "pending",
          kind: Annotated[str | None, typer.Option("--kind", help="modes | events（默认全部 all）")] = None,
          json_out: Json = False, data_dir: DataDir = None) -> None:
    """审核队列 The review queue (or the accepted / rejected examples)."""
    open_city(data_dir)
    rows = run_service(lambda: corpus.items(status, kind=kind))
    if json_out:
        print_json(rows)
        return
    table = Table("id", "来源 source", "请求 text", "理解 understood", "标注 label", "备注 note", title=f"语料 {status}")
    for r in rows:
        understood, label = ((r["predicted_category"], r["category"]) if r["kind"] == corpus.EVENTS
                             else (r["predicted_mode"], r["mode"]))
        table.add_row(r["id"], f"{r['kind']}/{r['source']}", escape(r["text"][:60]), understood or "—", label or "—",
                      escape(r["note"][:40]))
    Console().print(table)


@corpus_app.command("correct")
def correct(mode: Annotated[str, typer.Option(help="正确的模式 the right mode")],
            trace: Annotated[str | None, typer.Option(help="轨迹编号 a trace id")] = None,
            text: Annotated[str | None, typer.Option(help="或者请求原文 or the request text")] = None,
            skill: Annotated[str | None, typer.Option(help="agent.skill")] = None,
            target: Annotated[str | None, typer.Option()] = None, note: str = "",
            json_out: Json = False, data_dir: DataDir = None) -> None:
    """纠正一次理解（待审核）An operator's correction (waits for review)."""
    open_city(data_dir)
    row = run_service(lambda: corpus.correct(LOCAL_OPERATOR, mode, trace, text, skill, target, note))
    show_result(row, json_out, f"{row['id']}: {row['text'][:60]} → {row['mode']}（待审核 pending）")


@corpus_app.command("accept")
def accept(item_id: str, mode: Annotated[str | None, typer.Option(help="标注/改正模式 the label")] = None,
           category: Annotated[str | None, typer.Option(help="事件语料：标注/改正类别 the event category")] = None,
           note: str = "", json_out: Json = False, data_dir: DataDir = None) -> None:
    """接受一条语料 Accept an example."""
    open_city(data_dir)
    row = run_service(lambda: corpus.accept(item_id, LOCAL_OPERATOR, mode, note, category))
    show_result(row, json_out, f"{row['id']} 已接受 accepted: {row['category'] if row['kind'] == 'events' else row['mode']}")


@corpus_app.command("reject")
def reject(item_id: str, note: str = "", json_out: Json = False, data_dir: DataDir = None) -> None:
    """拒绝一条语料 Reject an example."""
    open_city(data_dir)
    row = run_service(lambda: corpus.reject(item_id, LOCAL_OPERATOR, note))
    show_result(row, json_out, f"{row['id']} 已拒绝 rejected")


@corpus_app.command("freeze")
def freeze(kind: CorpusKind = corpus.MODES, json_out: Json = False, data_dir: DataDir = None) -> None:
    """把所有已接受的语料冻结为新版本 Freeze every accepted example of a kind as the next version."""
    open_city(data_dir)
    row = run_service(lambda: corpus.freeze(LOCAL_OPERATOR, kind))
    show_result(row, json_out, f"{row['kind']} 语料版本 corpus version {row['version']}：{row['size']} 条 examples "
                         f"{row['counts']}")


@corpus_app.command("versions")
def versions(json_out: Json = False, data_dir: DataDir = None) -> None:
    """语料版本 Corpus versions."""
    open_city(data_dir)
    rows = corpus.versions()
    if json_out:
        print_json(rows)
        return
    table = Table("版本 version", "类型 kind", "时间 at", "条数 size", "各标注 per label", title="语料版本 corpus versions")
    for r in rows:
        table.add_row(str(r["version"]), r["kind"], r["created_at"][:19], str(r["size"]), escape(str(r["counts"])))
    Console().print(table)


def _figure(side: dict[str, Any], part: str) -> str:
    found = (side or {}).get(part) or {}
    value = found.get("mode_accuracy", found.get("accuracy"))  # router | events
    return "—" if value is None else f"{value:.4f}"


@models_app.command("list")
def list_models(kind: ModelKind = model_centre.ROUTER, json_out: Json = False, data_dir: DataDir = None) -> None:
    """模型版本、评测与状态 Versions, their evaluations and status."""
    open_city(data_dir)
    reg = run_service(lambda: model_centre.registry(kind))
    if json_out:
        print_json(reg)
        return
    table = Table("版本 version", "状态 status", "语料 corpus", "开发集 dev before→after", "评测集 eval before→after",
                  title=f"{kind}（运行中 active: {reg['active'] or '内置 built-in'}）")
    for v in reg["versions"]:
        table.add_row(str(v["version"]), v["status"], str(v["corpus_version"]),
                      f"{_figure(v['before'], 'dev')} → {_figure(v['after'], 'dev')}",
                      f"{_figure(v['before'], 'eval')} → {_figure(v['after'], 'eval')}")
    Console().print(table)
    for v in reg["versions"]:
        if v["error"]:
            Console().print(escape(f"v{v['version']}: {v['error']}"))


@models_app.command("retrain")
def retrain(corpus_version: Annotated[int, typer.Option("--corpus-version", min=1, help="语料版本 corpus version")],
            kind: ModelKind = model_centre.ROUTER, json_out: Json = False, data_dir: DataDir = None) -> None:
    """从语料版本再训练，评测门槛通过才上线 Retrain; promoted only if not worse on the development sets."""
    open_city(data_dir)
    row = run_service(lambda: model_centre.retrain(kind, corpus_version, LOCAL_OPERATOR))
    show_result(row, json_out, f"{kind} v{row['version']} {row['status']}: {row['decision']} "
                         f"(评测集 eval {_figure(row['before'], 'eval')} → {_figure(row['after'], 'eval')})")


@models_app.command("rollback")
def rollback(kind: ModelKind = model_centre.ROUTER, json_out: Json = False, data_dir: DataDir = None) -> None:
    """回滚到上一个上线版本（或内置模型）Restore the previously promoted version (or the built-in rows)."""
    open_city(data_dir)
    done = run_service(lambda: model_centre.rollback(kind, LOCAL_OPERATOR))
    show_result(done, json_out, f"已回滚 rolled back v{done['rolled_back']}；现用 active: {done['active'] or '内置 built-in'}")


@knowledge_app.callback()
def knowledge(ctx: typer.Context, days: Annotated[int, typer.Option(min=1, max=366)] = 30, json_out: Json = False,
              data_dir: DataDir = None) -> None:
    """知识运营报告：待审核文档、仍被引用的已替代法规、覆盖缺口、各知识库使用
    Overdue reviews, superseded texts still cited, coverage gaps, usage per knowledge base."""
    if ctx.invoked_subcommand is not None:
        return
    open_city(data_dir)
    report = knowledge_ops.report(days)
    if json_out:
        print_json(report)
        return
    console = Console()
    console.print(f"最近 {days} 天 last {days} days: {report['answers']} 次回答 answers, {report['documents']} 份文档 "
                  f"documents; 覆盖缺口 gaps {report['coverage']['questions']} / 检索 retrievals "
                  f"{report['coverage']['retrievals']}")
    table = Table("知识库 kb", "级别 level", "文档 docs", "分块 chunks", "引用 citations", "被引文档 cited",
                  "最常引用 top", title="各知识库使用 usage")
    for u in report["usage"]:
        table.add_row(escape(u["kb"]), u["level"], str(u["documents"]), str(u["chunks"]), str(u["citations"]),
                      str(u["cited_documents"]), escape("、".join(t["doc"] for t in u["top"][:3])))
    console.print(table)
    table = Table("文档 document", "替代为 replaced by", "事项引用 catalog", "回答引用 answers",
                  title="仍被引用的已替代法规 superseded texts still cited")
    for d in report["freshness"]["superseded_cited"]:
        table.add_row(escape(d["key"]), escape(d["superseded_by"] or "—"), escape("；".join(d["catalog"][:4])),
                      str(d["answers"]))
    console.print(table)
    table = Table("知识库 kb", "文档 document", "应审核 due", "逾期天数 overdue", title="逾期未审核 overdue reviews")
    for d in report["freshness"]["overdue"][:30]:
        table.add_row(escape(d["kb"]), escape(d["key"]), d["due"], str(d["days_overdue"]))
    console.print(table)
    table = Table("主题 cluster", "数量 size", "例子 examples", title="覆盖缺口 questions with no good passage")
    for g in report["coverage"]["clusters"][:20]:
        table.add_row(escape(g["label"]), str(g["size"]), escape(" | ".join(g["examples"][:3])))
    console.print(table)


@knowledge_app.command("reviewed")
def reviewed(kb: str, key: str,
             next_review: Annotated[str | None, typer.Option("--next", help="下次审核日期 YYYY-MM-DD")] = None,
             note: str = "", json_out: Json = False, data_dir: DataDir = None) -> None:
    """记录某文档已审核 Record that a document was reviewed (due again in a year, or --next)."""
    try:
        due = date.fromisoformat(next_review) if next_review else None
    except ValueError:
        fail(f"--next 不是日期 YYYY-MM-DD: {next_review}")
    open_city(data_dir)
    row = run_service(lambda: knowledge_ops.review(kb, key, LOCAL_OPERATOR, due, note))
    show_result(row, json_out, f"{row['kb']}/{row['key']} 已审核 reviewed；下次 next {row['next_review']}")
