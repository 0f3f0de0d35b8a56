"""`aicity data spaces …`: data spaces, offers, agreements, aggregate-only queries, usage.

Every command that acts does so as the department of the API key given (`--key` or
AICITY_API_KEY), with the same checks as the REST API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from aicity.core.cli import fail, open_city, print_json, problem_message
from aicity.core.errors import Problem
from aicity.hub.data import spaces
from aicity.hub.data.aggregate_sql import SqlAggregate
from aicity.hub.data.policy import aggregate_policy
from aicity.hub.data.private_query import AggregateRequest, Filter, Release
from aicity.hub.data.spaces_schemas import agreement_view, offer_view, space_out, use_view
from aicity.identity.service import Principal, authenticate

app = typer.Typer(help="可信数据空间 data spaces: offers, agreements, aggregate-only queries", no_args_is_help=True)

T = TypeVar("T")
KeyOption = Annotated[str | None, typer.Option("--key", envvar="AICITY_API_KEY",
                                               help="办理人的 API key（AICITY_API_KEY）the acting official's key")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def _act(key: str | None, data_dir: Path | None, work: Callable[[Principal | None], T]) -> T:
    """Open the city, identify the key's holder, run `work`; a problem becomes a clear message."""
    open_city(data_dir)
    try:
        return work(authenticate(key))
    except Problem as exc:
        fail(problem_message(exc))


def _out(model: BaseModel | list[BaseModel], json_out: bool, line: Callable[[], str]) -> None:
    if json_out:
        print_json([m.model_dump() for m in model] if isinstance(model, list) else model.model_dump())
    else:
        Console().print(line())


def _json_arg(value: str, what: str) -> Any:
    """A JSON value given inline or as a file (`@path` or a path that exists)."""
    path = Path(value[1:] if value.startswith("@") else value)
    text = path.read_text(encoding="utf-8") if (value.startswith("@") or path.is_file()) else value
    try:
        return json.loads(text)
    except (json.JSONDecodeError, OSError) as exc:
        fail(f"{what} 不是合法的 JSON invalid JSON: {exc}")


@app.command("list")
def list_spaces(json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """列出数据空间、成员和数据产品 List spaces, members and offers."""
    open_city(data_dir)
    rows = [space_out(v) for v in spaces.list_spaces()]
    if json_out:
        print_json({"spaces": [r.model_dump() for r in rows]})
        return
    table = Table("id", "kind", "name", "members", "offers")
    for r in rows:
        table.add_row(r.id, r.kind_name, r.name, ", ".join(r.members),
                      "\n".join(f"{o.id} {o.dataset_id} ({o.provider})" for o in r.offers))
    Console().print(table)


@app.command()
def create(name: str, kind: Annotated[str, typer.Option(help=" | ".join(spaces.KINDS))],
           description: Annotated[str, typer.Option(help="说明")] = "", key: KeyOption = None,
           json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """创建数据空间（本部门为运营方）Create a space, run by the key's department."""
    view = _act(key, data_dir, lambda p: space_out(spaces.get_space(spaces.create_space(p, name, kind,
                                                                                          description).id)))
    _out(view, json_out, lambda: f"{view.id}: {view.kind_name} {view.name}")


@app.command()
def join(space_id: str, member: Annotated[str | None, typer.Option(
             help="另一个成员（部门 id 或 enterprise:<统一社会信用代码>），仅运营方或管理员")] = None,
         key: KeyOption = None, json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """加入数据空间 Join a space (the key's department, or --member as its operator)."""
    row = _act(key, data_dir, lambda p: spaces.join_space(p, space_id, member))
    if json_out:
        print_json({"space_id": row.space_id, "member": row.member, "member_kind": row.member_kind})
    else:
        Console().print(f"{row.member} → {row.space_id}")


@app.command()
def offer(space_id: str, dataset: Annotated[str, typer.Option(help="数据集 id")],
          policy: Annotated[str | None, typer.Option(help="ODRL 策略：JSON 或文件（@file）ODRL policy")] = None,
          purpose: Annotated[list[str] | None, typer.Option(help="允许的使用目的（可多次）without --policy")] = None,
          epsilon: Annotated[float | None, typer.Option(help="差分隐私预算 ε budget (aggregate-only offer)")] = None,
          min_group: Annotated[int, typer.Option(help="最小分组人数 minimum group size")] = 10,
          quota: Annotated[int | None, typer.Option(help="查询次数配额 query quota")] = None,
          expires: Annotated[str | None, typer.Option(help="有效期至 YYYY-MM-DD expiry")] = None,
          title: Annotated[str, typer.Option(help="数据产品名称")] = "", key: KeyOption = None,
          json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """提供数据集及使用策略 Offer a dataset: --policy (ODRL JSON) or an aggregate-only policy from
    --purpose/--epsilon/--min-group/--quota/--expires."""
    if policy is not None:
        body = _json_arg(policy, "--policy")
        if not isinstance(body, dict):
            fail("--policy 须为 JSON 对象 must be a JSON object")
    else:
        if not purpose or epsilon is None:
            fail("请给出 --policy，或 --purpose 和 --epsilon（仅聚合策略）give --policy, or --purpose and --epsilon")
        try:
            until = None if expires is None else dt.datetime.fromisoformat(expires)
        except ValueError:
            fail(f"--expires 日期无效 invalid date: {expires}")
        body = aggregate_policy(purposes=purpose, epsilon=epsilon, min_group_size=min_group, quota=quota,
                                expires=until)
    row = _act(key, data_dir, lambda p: offer_view(spaces.make_offer(p, space_id, dataset, body, title)))
    _out(row, json_out, lambda: f"{row.id}: {row.dataset_id} v{row.dataset_version} ({row.provider})")


@app.command("request")
def request_(offer_id: str, purpose: Annotated[str, typer.Option(help="使用目的")], key: KeyOption = None,
             json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """申请使用数据产品 Request an agreement under an offer (the key's department is the consumer)."""
    row = _act(key, data_dir, lambda p: agreement_view(spaces.request_agreement(p, offer_id, purpose)))
    _out(row, json_out, lambda: f"{row.id}: {row.status} ({row.consumer} ← {row.provider} {row.dataset_id})")


@app.command()
def agree(agreement_id: str, key: KeyOption = None, json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """同意并签署（提供方）Agree: the agreement is signed and recorded in the audit ledger."""
    row = _act(key, data_dir, lambda p: agreement_view(spaces.agree(p, agreement_id)))
    _out(row, json_out, lambda: f"{row.id}: {row.status}, sha256 {row.sha256}, 审计账本第 {row.audit_seq} 条")


@app.command()
def refuse(agreement_id: str, reason: Annotated[str, typer.Option(help="拒绝理由")] = "", key: KeyOption = None,
           json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """拒绝申请（提供方）Refuse a request."""
    row = _act(key, data_dir, lambda p: agreement_view(spaces.refuse(p, agreement_id, reason)))
    _out(row, json_out, lambda: f"{row.id}: {row.status}")


@app.command("agreements")
def list_agreements(key: KeyOption = None, json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """本部门作为提供方或使用方的协议 The agreements of the key's department."""
    rows = _act(key, data_dir, lambda p: [agreement_view(a) for a in spaces.list_agreements(p)])
    if json_out:
        print_json({"agreements": [r.model_dump() for r in rows]})
        return
    table = Table("id", "status", "provider", "consumer", "dataset", "purpose", "ε left", "queries")
    for r in rows:
        table.add_row(r.id, r.status, r.provider, r.consumer, r.dataset_id, r.purpose,
                      "—" if r.epsilon_left is None else f"{r.epsilon_left:g}",
                      f"{r.queries_used}/{r.query_quota or '∞'}")
    Console().print(table)


def _filters(raw: list[str]) -> list[Filter]:
    found = []
    for item in raw:
        for op in ("!=", "<=", ">=", "=", "<", ">"):
            if op in item:
                column, _, value = item.partition(op)
                number: Any = value
                try:
                    number = int(value) if value.lstrip("-").isdigit() else float(value)
                except ValueError:
                    number = value
                found.append(Filter(column=column.strip(), op=op, value=number))  # type: ignore[arg-type]
                break
        else:
            fail(f"--filter 须形如 列=值 expected COLUMN=VALUE (or != < <= > >=): {item}")
    return found


@app.command()
def query(agreement_id: str,
          spec: Annotated[str | None, typer.Option(help="聚合请求 JSON 或文件（@file）the whole request")] = None,
          sql: Annotated[str | None, typer.Option(help="仅聚合的 SQL（sqlglot 检查）aggregate-only SQL")] = None,
          metric: Annotated[str, typer.Option(help="count | sum | mean")] = "count",
          column: Annotated[str | None, typer.Option(help="求和/平均的列")] = None,
          lower: Annotated[float | None, typer.Option(help="该列的下界")] = None,
          upper: Annotated[float | None, typer.Option(help="该列的上界")] = None,
          group_by: Annotated[list[str] | None, typer.Option(help="分组维度（可多次）")] = None,
          filter_: Annotated[list[str] | None, typer.Option("--filter", help="筛选 列=值（可多次）")] = None,
          epsilon: Annotated[float, typer.Option(help="本次消耗的隐私预算 ε")] = 0.1,
          key: KeyOption = None, json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """聚合查询（使用方）：仅返回加噪聚合值，小组被抑制 An aggregate-only query: noisy aggregates, never a row."""
    if sql is not None:
        try:
            body = SqlAggregate(sql=sql, lower=lower, upper=upper, epsilon=epsilon)
        except ValidationError as exc:
            fail(f"聚合请求不合法 invalid request: {exc.errors()[0]['msg']}")
        _show(agreement_id, *_act(key, data_dir, lambda p: spaces.run_sql_query(p, agreement_id, body)), json_out)
        return
    try:
        if spec is not None:
            request = AggregateRequest.model_validate(_json_arg(spec, "--spec"))
        else:
            request = AggregateRequest(metric=metric, column=column, lower=lower, upper=upper,  # type: ignore[arg-type]
                                       group_by=group_by or [], filters=_filters(filter_ or []), epsilon=epsilon)
    except ValidationError as exc:
        fail("聚合请求不合法 invalid request: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}" for e in exc.errors()))
    _show(agreement_id, *_act(key, data_dir, lambda p: spaces.run_query(p, agreement_id, request)), json_out)


def _show(agreement_id: str, release: Release, left: float | None, json_out: bool) -> None:
    if json_out:
        print_json({"agreement_id": agreement_id, "release": release.model_dump(), "epsilon_left": left})
        return
    table = Table(*(release.group_by or ["—"]), f"{release.metric}{f'({release.column})' if release.column else ''}")
    for g in release.groups:
        table.add_row(*([str(v) for v in g.key.values()] or ["全部 all"]), f"{g.value:g}")
    Console().print(table)
    Console().print(f"ε={release.epsilon:g}，{release.mechanism}；抑制小组 {release.suppressed} 个；剩余预算 ε="
                    f"{'∞' if left is None else f'{left:g}'}")


def _described(request: dict[str, Any]) -> str:
    """`sum(monthly_allowance_yuan) by district_id where household_size>=2`."""
    text = request.get("metric", "?") + (f"({request['column']})" if request.get("column") else "")
    if request.get("group_by"):
        text += " by " + ",".join(request["group_by"])
    if request.get("filters"):
        text += " where " + " and ".join(f"{f['column']}{f['op']}{f['value']}" for f in request["filters"])
    return text


@app.command()
def usage(agreement_id: str, key: KeyOption = None, json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """使用记录与剩余预算（协议双方）Who used it, when, for what, and the budget left."""
    row, uses = _act(key, data_dir, lambda p: spaces.usage(p, agreement_id))
    view, used = agreement_view(row), [use_view(u) for u in uses]
    if json_out:
        print_json({"agreement": view.model_dump(), "uses": [u.model_dump() for u in used]})
        return
    Console().print(f"{view.id} {view.consumer} ← {view.provider} {view.dataset_id}：目的「{view.purpose}」，"
                    f"ε {view.epsilon_spent:g}/{view.epsilon_budget}，查询 {view.queries_used}/{view.query_quota or '∞'}")
    table = Table("time", "actor", "outcome", "ε", "request", "reason")
    for u in used:
        table.add_row((u.at or "")[:19], u.actor, u.outcome, f"{u.epsilon:g}", _described(u.request), u.reason[:40])
    Console().print(table)


@app.command()
def verify(agreement_id: str, key: KeyOption = None, json_out: JsonOption = False, data_dir: DataDir = None) -> None:
    """核验协议的签名及其审计账本记录 Verify an agreement's signature and its ledger entry."""
    check = _act(key, data_dir, lambda p: (spaces.get_agreement(p, agreement_id),
                                           spaces.verify_agreement(agreement_id))[1])
    if json_out:
        print_json({"ok": check.ok, "sha256": check.sha256, "ledger_seq": check.ledger_seq, "reason": check.reason})
    else:
        Console().print(check.reason)
    if not check.ok:
        raise typer.Exit(1)
