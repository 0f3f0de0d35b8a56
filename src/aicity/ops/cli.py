"""`aicity eval …`: evaluations that print the figures the issues ask for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aicity.assistant.cli import ready_assistant
from aicity.core.cli import fail, open_city, print_json
from aicity.ops import data_evaluation, mode_evaluation
from aicity.ops.evaluation import (
    default_kb_set,
    default_set,
    evaluate,
    evaluate_guard,
    evaluate_kb,
    evaluate_legal,
    evaluate_sections,
    load_cases,
)

app = typer.Typer(help="评测 Evaluations", no_args_is_help=True)


def _load(path: Path) -> list[dict]:
    """A labelled set (JSON Lines), or a clear CLI error naming the file and line."""
    if not path.is_file():
        fail(f"找不到评测集 evaluation set not found: {path}")
    try:
        return load_cases(path)
    except ValueError as exc:
        fail(str(exc))


@app.command("assistant")
def eval_assistant(
    cases: Annotated[Path | None, typer.Option(help="JSON Lines 评测集；默认为内置评测集")] = None,
    modes_cases: Annotated[Path | None, typer.Option(
        help="模式评测集 {q, role, mode, skills, departments, target}；默认 eval/assistant_modes.jsonl")] = None,
    cv: Annotated[bool, typer.Option("--cv/--no-cv", help="训练集 5 折交叉验证 5-fold CV on the training rows")] = True,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """超级助理评测：模式、端到端、紧急识别、拒答与校准，及原路由评测 The assistant's understanding and routing."""
    loaded = _load(cases or default_set())
    modes_path = modes_cases or mode_evaluation.default_set()
    modes_loaded = _load(modes_path) if modes_cases or modes_path.is_file() else []
    open_city(data_dir)
    ready_assistant()
    report = evaluate(loaded)
    modes_report = mode_evaluation.evaluate(modes_loaded) if modes_loaded else None
    cv_report = mode_evaluation.cross_validated() if cv else None
    if json_out:
        print_json({**report, "modes": modes_report, "cross_validated": cv_report})
        return
    console = Console()
    _print_modes(console, modes_report, cv_report)
    console.rule("路由评测 routing (eval/assistant.jsonl)")
    table = Table("指标 metric", "值 value")
    for key in ("cases", "accuracy", "skill_accuracy", "department_accuracy", "target_accuracy", "latency_ms_p50"):
        table.add_row(key, str(report[key]))
    for role, acc in report["by_role"].items():
        table.add_row(f"accuracy[{role}]", str(acc))
    for skill, acc in report["by_skill"].items():
        table.add_row(f"accuracy[{skill}]", str(acc))
    console.print(table)
    if report["confusion"]:
        confusion = Table("期望 expected", "实际 got", "次数 count", title="技能混淆 skill confusion")
        for row in report["confusion"]:
            confusion.add_row(row["expected"], row["got"], str(row["count"]))
        console.print(confusion)
    for row in report["failures"]:
        console.print(f"[red]✗[/red] ({row['role']}) {row['q']}\n    expected {row['expected'].get('skills')} "
                      f"{row['expected'].get('departments')} {row['expected'].get('target', '')}\n"
                      f"    got      {row['got']}")


def _fmt(value: object) -> str:
    return "—" if value is None else str(value)


def _print_modes(console: Console, held_out: dict | None, cv: dict | None) -> None:
    """The understanding figures: held-out set beside the training rows' cross-validation."""
    if held_out is None and cv is None:
        return
    cv_title = f"训练集 {cv['folds']} 折交叉验证 CV ({cv['cases']})" if cv else "CV"
    table = Table("指标 metric", f"评测集 held out ({held_out['cases'] if held_out else 0})", cv_title,
                  title="超级助理理解 understanding (issue 13)")
    keys = ("mode_accuracy", "end_to_end_accuracy", "answered_accuracy", "abstention_rate", "wrong_confident_rate",
            "wrong_confident_end_to_end_rate", "emergency_recall", "emergency_false_alarm_rate", "refused_by_guard",
            "department_precision", "extra_department_rate", "latency_ms_p50")
    for key in keys:
        table.add_row(key, _fmt((held_out or {}).get(key)), _fmt((cv or {}).get(key)))
    for group in ("by_mode", "by_role", "by_agent"):
        names = sorted(set((held_out or {}).get(group, {})) | set((cv or {}).get(group, {})))
        for name in names:
            table.add_row(escape(f"{group}[{name}]"), _fmt((held_out or {}).get(group, {}).get(name)),
                          _fmt((cv or {}).get(group, {}).get(name)))
    console.print(table)
    calibration = Table("置信度 ≥", "评测集 share", "评测集 accuracy", "CV share", "CV accuracy",
                        title="校准 calibration（模式 mode）")
    rows_h = {r["threshold"]: r for r in (held_out or {}).get("calibration", [])}
    rows_c = {r["threshold"]: r for r in (cv or {}).get("calibration", [])}
    for t in sorted(set(rows_h) | set(rows_c)):
        h, c = rows_h.get(t, {}), rows_c.get(t, {})
        calibration.add_row(str(t), _fmt(h.get("share")), _fmt(h.get("accuracy")), _fmt(c.get("share")),
                            _fmt(c.get("accuracy")))
    console.print(calibration)
    for name, report in (("评测集 held out", held_out), ("CV", cv)):
        if report and report["confusion"]:
            confusion = Table("期望 expected", "实际 got", "次数 count", title=f"模式混淆 mode confusion · {name}")
            for row in report["confusion"][:25]:
                confusion.add_row(row["expected"], row["got"], str(row["count"]))
            console.print(confusion)
    if held_out and held_out.get("end_to_end_misses"):
        parts = ("mode", "skills", "target", "departments")
        misses = Table("期望模式 expected mode", *parts, title="端到端错在哪一步 end-to-end misses by first wrong part")
        for mode, counts in held_out["end_to_end_misses"].items():
            misses.add_row(mode, *(str(counts.get(part, 0)) for part in parts))
        console.print(misses)
    if held_out:
        for row in held_out["failures"]:
            console.print(f"[red]✗[/red] ({row['role']}) {row['q']}\n    expected {row['expected']} "
                          f"{row['expected_skills']} {row['expected_target'] or ''} {row['expected_departments']}\n"
                          f"    got      {row['got']}{'(abstain)' if row['abstained'] else ''} {row['got_skills']} "
                          f"{row['got_targets']} {row['got_departments']}")


@app.command("kb")
def eval_kb(
    cases: Annotated[Path | None, typer.Option(help="JSON Lines 评测集（{q, doc, article, also?}）；默认内置")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="keyword | dense | hybrid（可重复）")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """知识检索召回率 Retrieval recall@5 and MRR per search mode, side by side."""
    modes = mode or ["keyword", "dense", "hybrid"]
    if bad := [m for m in modes if m not in ("keyword", "dense", "hybrid")]:
        fail(f"未知检索方式 unknown mode: {', '.join(bad)}")
    loaded = _load(cases or default_kb_set())
    open_city(data_dir)
    ready_assistant()
    reports = [evaluate_kb(loaded, m) for m in modes]
    if json_out:
        print_json({"reports": reports})
        return
    table = Table("方式 mode", "cases", "recall@5", "MRR@10", "p50 ms")
    for r in reports:
        table.add_row(r["mode"], str(r["cases"]), str(r["recall@5"]), str(r["mrr@10"]), str(r["latency_ms_p50"]))
    Console().print(table)


@app.command("legal")
def eval_legal(
    cases: Annotated[Path | None, typer.Option(help="JSON Lines 评测集（{q, rule, doc, article, not?}）；默认内置")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="用调参用的开发集 legal_rules_dev（不是评测集）")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """法规问答是否说出规则 Legal answers: rule stated, governing provision first, nothing superseded as the rule."""
    loaded = _load(cases or default_kb_set("legal_rules_dev" if dev else "legal_rules"))
    open_city(data_dir)
    ready_assistant()
    report = evaluate_legal(loaded)
    if json_out:
        print_json(report)
        return
    console = Console()
    table = Table("指标 metric", "值 value", "目标 target", title=f"法规问答 legal answers ({report['cases']})")
    table.add_row("答案说出规则 answer states the rule", str(report["states_rule"]), "≥ 0.9")
    table.add_row("数字按整数核对 numbers checked (30日=三十日, 五日≠十五日)", str(report["states_rule_numbers_checked"]), "")
    table.add_row("首句说出规则 lead sentence states it", str(report["lead_states_rule"]), "")
    table.add_row("首条为适用条款 first provision governs", str(report["first_provision_governing"]), "≥ 0.95")
    table.add_row("被替代条款作为规则 superseded as the rule", str(report["superseded_as_rule"]), "0")
    table.add_row("p50 ms", str(report["latency_ms_p50"]), "")
    console.print(table)
    for row in report["failures"]:
        console.print(f"[red]✗[/red] {row['id']} {row['q']}\n    expected {row['expected']} 「{row['rule']}」\n"
                      f"    got      {row['got']} 「{row['lead']}」")


@app.command("sections")
def eval_sections(
    cases: Annotated[Path | None, typer.Option(help="JSON Lines（{q, services, policies, role?}）；默认内置")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """回答中不切题的部分 Answers with a section that does not answer the request (target ≤ 5 %)."""
    loaded = _load(cases or default_kb_set("assistant_sections"))
    open_city(data_dir)
    ready_assistant()
    report = evaluate_sections(loaded)
    if json_out:
        print_json(report)
        return
    console = Console()
    console.print(f"不切题的回答 answers with an off-request section: {report['answers_with_off_request_section']}/"
                  f"{report['cases']} = {report['share']:.1%} (target ≤ 5%); off-request sections "
                  f"{report['off_request_sections']} of {report['sections']}")
    for row in report["failures"]:
        console.print(f"[red]✗[/red] {row['id']} {row['q']}: {'; '.join(row['off'])}")


@app.command("guard")
def eval_guard(
    cv: Annotated[bool, typer.Option("--cv/--no-cv", help="训练集 5 折交叉验证 5-fold CV (about half a minute)")] = True,
    failures: Annotated[int, typer.Option(help="列出评测集中判错的条数 list this many errors per held-out set")] = 0,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """提示词攻击护栏评测：各类召回、平均召回、良性误报率、时延 Prompt-attack recall per class, FPR, latency."""
    report = evaluate_guard(cv, failures)
    if json_out:
        print_json(report)
        return
    columns = {**{f"{name.removesuffix('.jsonl')} held out": r for name, r in report["held_out"].items()},
               "dev (threshold)": report["dev"]}
    if report["cross_validated"]:
        columns["train 5-fold CV"] = report["cross_validated"]
    table = Table("指标 metric", *columns, title=f"提示词攻击 prompt attacks · threshold {report['threshold']} · "
                  f"{report['training_rows']} training rows (targets: class-average recall ≥ 0.95, FPR ≤ 0.02)")
    classes = sorted({c for r in columns.values() for c in r["recall_by_class"]})
    for c in classes:
        table.add_row(f"recall · {c}", *(_fmt(_class_cell(r, c)) for r in columns.values()))
    for key in ("recall_class_average", "recall_overall", "false_positive_rate", "attacks", "benign"):
        table.add_row(key, *(_fmt(r.get(key)) for r in columns.values()))
    table.add_row("rules alone: class-average recall", *(_fmt(r.get("rules_only")) for r in columns.values()))
    table.add_row("classifier alone: class-average recall", *(_fmt(r.get("classifier_only")) for r in columns.values()))
    console = Console()
    console.print(table)
    console.print(f"input check latency: p50 {report['latency']['p50_ms']} ms, p95 {report['latency']['p95_ms']} ms "
                  "(target p50 ≤ 1 ms)")
    city = report["city_requests"]
    console.print(f"the city's own held-out requests ({city['requests']}: {', '.join(city['sets'])}) blocked: "
                  f"{city['false_positive_rate']}")
    for name, r in report["held_out"].items():
        for row in r["failures"]:
            console.print(f"[red]✗[/red] {name} {row['family']}: {row['text'][:120]}")


def _class_cell(report: dict, name: str) -> str | None:
    if name not in report["recall_by_class"]:
        return None
    return f"{report['recall_by_class'][name]} ({report['count_by_class'][name]})"


@app.command("data")
def eval_data(
    file: Annotated[Path | None, typer.Option("--file", help="JSON Lines 问数评测集；默认 eval/data_questions.jsonl")] = None,
    failures: Annotated[int, typer.Option(help="列出答错的条数 list this many failures")] = 20,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    pack: Annotated[bool, typer.Option(
        "--pack", help="在内存中的示范数据包上评测（内置解析器，不打开分析库：服务运行时也可用） "
                       "the embedded parser over the packaged pack in memory; no store, works while a server runs")
    ] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """一句话问数评测：执行准确率、错误自信率、未理解率、个人数据拒答率、时延 Questions over the data pack (issue 14)."""
    loaded = _load(file or data_evaluation.default_set())
    try:
        data_evaluation.check_cases(loaded)
        answerer = data_evaluation.engine(pack=pack)
        if pack:
            report = data_evaluation.evaluate(loaded, answerer, data_evaluation.csv_connection(), "csv")
        else:
            open_city(data_dir)
            data_evaluation.store_ready()
            report = data_evaluation.evaluate(loaded, answerer)
    except (ValueError, data_evaluation.AskUnavailable) as exc:
        fail(str(exc))
    if json_out:
        print_json(report)
        return
    console = Console()
    table = Table("指标 metric", "值 value", "目标 target",
                  title=f"一句话问数 data questions ({report['cases']}; gold on {report['gold_source']})")
    rows = (("execution_accuracy", "≥ 0.90"), ("overall_accuracy", ""), ("wrong_confident_rate", ""),
            ("not_understood_rate", ""), ("personal_refusal_rate", "1.0"), ("personal_answered", "0"),
            ("false_refusal_rate", ""), ("errors", "0"), ("latency_ms_p50", "≤ 200"), ("latency_ms_p95", ""))
    for key, target in rows:
        table.add_row(key, _fmt(report[key]), target)
    for group in ("by_family", "by_lang"):
        for name, cell in report[group].items():
            table.add_row(escape(f"{group}[{name}]"), f"{cell['accuracy']} ({cell['cases']})", "")
    console.print(table)
    for row in report["gold_errors"]:
        console.print(f"[yellow]gold SQL failed[/yellow] {row['id']}: {escape(row['error'])}")
    for row in report["failures"][:failures]:
        console.print(f"[red]✗[/red] {row['id']} ({row['family']}) {escape(row['q'])}\n"
                      f"    expected {escape(str(row['gold'] if row['expect'] != 'refused' else 'refused'))}\n"
                      f"    got      {row['status']} {escape(str(row['got']))} {escape(str(row['reason'] or ''))}")
