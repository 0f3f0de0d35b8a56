"""The investment-project pipeline (招商项目全流程): 线索 → 立项 → 分派 → 协同 → 落地 → 移交 → 考核.

A project moves one stage forward, or one back with a reason; any other move is a 409 naming the
moves it can make. Each step is a history row (who, when, from, to, owner, note, reminder date)
and an audit-ledger entry (`industry.project.created|moved|noted`). A project that stays in a stage
longer than the stage's limit (`[aicity.industry] stage_limit_days`, demo-city assumptions) is
flagged as stalled. Stage materials (the 立项 brief, the value assessment, the hand-over summary)
are written from the project, its history and the data hub's figures; the year's assessment sets
the results (moves into 立项 and 落地 in that year) against the targets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from aicity.agents.industry import chains, leads
from aicity.agents.industry.figures import Queries, Query, literal
from aicity.agents.industry.models import IndustryProject, IndustryProjectHistory
from aicity.agents.industry.settings import STAGES, IndustrySettings
from aicity.core import audit
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.identity.models import OPERATOR_ROLES, Role
from aicity.identity.service import Principal

MaterialKind = Literal["brief", "assessment", "handover"]
MATERIALS: dict[str, tuple[str, str]] = {"brief": ("立项", "立项简报"), "assessment": ("立项", "项目价值评估"),
                                         "handover": ("移交", "移交摘要")}


class History(BaseModel):
    action: str
    from_stage: str | None
    to_stage: str
    actor: str
    owner: str
    at: dt.datetime
    note: str
    remind_on: dt.date | None


class Reminder(BaseModel):
    kind: Literal["stalled", "due", "note"]
    on: dt.date
    text: str


class Project(BaseModel):
    id: str
    name: str
    company: str
    chain: str
    node: str | None
    stage: str
    stage_index: int = Field(description="0–6：线索 … 考核")
    owner: str
    department: str | None
    investment_100m_yuan: float | None
    jobs: int | None
    stage_entered_at: dt.datetime
    days_in_stage: int
    limit_days: int
    due_on: dt.date = Field(description="本阶段期限")
    stalled: bool
    allowed_moves: list[str]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ProjectDetail(Project):
    history: list[History]
    reminders: list[Reminder]


class Material(BaseModel):
    project_id: str
    kind: MaterialKind
    stage: str
    title: str
    markdown: str
    queries: list[Query]


class AssessmentLine(BaseModel):
    metric: str
    target: float
    result: float
    completion: float | None
    projects: list[str]


class Assessment(BaseModel):
    year: int
    lines: list[AssessmentLine]
    by_stage: dict[str, int]
    stalled: list[str]
    note: str = "目标为示范城市假设（[aicity.industry] target_*）；结果按当年进入“立项”“落地”阶段的项目计"


#: the department whose officials run the pipeline (商务和投资促进局); other departments' officials read it
WRITING_DEPARTMENT = "commerce"
WRITERS = "商务和投资促进局工作人员、运维人员和管理员"


def may_write(principal: Principal) -> bool:
    """Who may create, move and annotate projects: officials of the commerce bureau, operators and
    admins (REST, the CLI with a key and the assistant apply the same rule)."""
    return principal.role in OPERATOR_ROLES or (principal.role == Role.official
                                               and principal.department == WRITING_DEPARTMENT)


def check_writer(principal: Principal) -> Principal:
    """403 `commerce-only` for anyone `may_write` refuses."""
    if not may_write(principal):
        raise forbidden(f"招商项目只能由{WRITERS}新建、推进和备注；其他部门可以查看 "
                        "only the commerce bureau's staff, operators and admins change investment projects",
                        "commerce-only")
    return principal


def _settings() -> IndustrySettings:
    return settings().section(IndustrySettings)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def allowed_moves(stage: str) -> list[str]:
    """One stage forward, or one back (退回, with a reason)."""
    i = STAGES.index(stage)
    return [s for s in (STAGES[i + 1] if i + 1 < len(STAGES) else None, STAGES[i - 1] if i > 0 else None) if s]


def _out(p: IndustryProject, now: dt.datetime) -> dict[str, Any]:
    limit = _settings().stage_limit_days.get(p.stage, 30)
    entered = _aware(p.stage_entered_at)
    days = max(0, (now - entered).days)
    return {
        "id": p.id, "name": p.name, "company": p.company, "chain": p.chain, "node": p.node, "stage": p.stage,
        "stage_index": STAGES.index(p.stage), "owner": p.owner, "department": p.department,
        "investment_100m_yuan": p.investment_100m_yuan, "jobs": p.jobs, "stage_entered_at": entered,
        "days_in_stage": days, "limit_days": limit, "due_on": (entered + dt.timedelta(days=limit)).date(),
        "stalled": days > limit, "allowed_moves": allowed_moves(p.stage), "created_by": p.created_by,
        "created_at": _aware(p.created_at), "updated_at": _aware(p.updated_at)}


def _history(s: Any, project_id: str) -> list[IndustryProjectHistory]:
    return list(s.scalars(select(IndustryProjectHistory).where(IndustryProjectHistory.project_id == project_id)
                          .order_by(IndustryProjectHistory.id)))


def _detail(s: Any, p: IndustryProject, now: dt.datetime) -> ProjectDetail:
    base = _out(p, now)
    rows = _history(s, p.id)
    reminders = []
    if base["stalled"]:
        reminders.append(Reminder(kind="stalled", on=base["due_on"],
                                  text=f"已在“{p.stage}”阶段 {base['days_in_stage']} 天，超过期限 {base['limit_days']} 天：请推进或说明原因"))
    elif (base["due_on"] - now.date()).days <= 3:
        reminders.append(Reminder(kind="due", on=base["due_on"], text=f"“{p.stage}”阶段将于 {base['due_on']} 到期"))
    reminders += [Reminder(kind="note", on=h.remind_on, text=h.note) for h in rows
                  if h.remind_on is not None and h.remind_on >= now.date()]
    history = [History(action=h.action, from_stage=h.from_stage, to_stage=h.to_stage, actor=h.actor, owner=h.owner,
                       at=_aware(h.at), note=h.note, remind_on=h.remind_on) for h in rows]
    return ProjectDetail(**base, history=history, reminders=reminders)


def _get(s: Any, project_id: str) -> IndustryProject:
    p = s.get(IndustryProject, project_id)
    if p is None:
        raise not_found(f"没有招商项目“{project_id}” unknown project '{project_id}'", "unknown-project")
    return p


def create(*, company: str, chain: str, owner: str, actor: str, node: str | None = None, name: str | None = None,
           department: str | None = "commerce", investment_100m_yuan: float | None = None, jobs: int | None = None,
           note: str = "", now: dt.datetime | None = None) -> ProjectDetail:
    """A new project at 线索; the chain and node must exist (404 naming them)."""
    company, owner = company.strip(), owner.strip()
    if not company or not owner:
        raise bad_request("企业名称和负责人不能为空 company and owner are required", "missing-field")
    queries = Queries()
    chain = chains.resolve_chain(chain, queries)
    node = chains.resolve_node(chain, node, queries) if node else None
    now = now or utcnow()
    with database().session() as s:
        p = IndustryProject(id=new_id("prj"), name=(name or f"{company}{node or chain}项目").strip()[:200],
                            company=company[:200], chain=chain, node=node, stage=STAGES[0], owner=owner[:80],
                            department=department, investment_100m_yuan=investment_100m_yuan, jobs=jobs,
                            stage_entered_at=now, created_by=actor, created_at=now, updated_at=now)
        s.add(p)
        s.flush()
        s.add(IndustryProjectHistory(project_id=p.id, action="create", from_stage=None, to_stage=p.stage, actor=actor,
                                     owner=p.owner, at=now, note=note, remind_on=None))
    audit.record(actor, "industry.project.created", p.id, {"chain": chain, "node": node, "stage": p.stage})
    return get(p.id, now)


def get(project_id: str, now: dt.datetime | None = None) -> ProjectDetail:
    with database().session() as s:
        return _detail(s, _get(s, project_id), now or utcnow())


def list_projects(stage: str | None = None, stalled: bool | None = None, chain: str | None = None,
                  now: dt.datetime | None = None) -> list[Project]:
    if stage is not None and stage not in STAGES:
        raise bad_request(f"未知阶段“{stage}”；阶段：{'、'.join(STAGES)} unknown stage", "unknown-stage")
    now = now or utcnow()
    with database().session() as s:
        q = select(IndustryProject).order_by(IndustryProject.created_at, IndustryProject.id)
        if stage:
            q = q.where(IndustryProject.stage == stage)
        if chain:
            q = q.where(IndustryProject.chain == chain)
        found = [Project(**_out(p, now)) for p in s.scalars(q)]
    return [p for p in found if stalled is None or p.stalled == stalled]


def move(project_id: str, to: str, *, actor: str, note: str = "", owner: str | None = None,
         now: dt.datetime | None = None) -> ProjectDetail:
    """Move to `to`: the next stage, or the previous one with a reason; anything else is 409 with
    the allowed moves. Nothing is written when refused."""
    if to not in STAGES:
        raise bad_request(f"未知阶段“{to}”；阶段：{'、'.join(STAGES)} unknown stage '{to}'", "unknown-stage")
    now = now or utcnow()
    with database().session() as s:
        p = _get(s, project_id)
        allowed = allowed_moves(p.stage)
        if to not in allowed:
            raise Problem(409, "不能移到该阶段 Stage not reachable",
                          f"项目在“{p.stage}”阶段，不能移到“{to}”；可移到：{'、'.join(allowed) or '无'} "
                          f"cannot move from {p.stage} to {to}", "stage-not-allowed", stage=p.stage, allowed=allowed)
        back = STAGES.index(to) < STAGES.index(p.stage)
        if back and not note.strip():
            raise bad_request("退回上一阶段需要填写原因 a reason (note) is required to move back", "note-required")
        previous = p.stage
        p.stage, p.stage_entered_at, p.updated_at = to, now, now
        if owner and owner.strip():
            p.owner = owner.strip()[:80]
        s.add(IndustryProjectHistory(project_id=p.id, action="back" if back else "advance", from_stage=previous,
                                     to_stage=to, actor=actor, owner=p.owner, at=now, note=note, remind_on=None))
    audit.record(actor, "industry.project.moved", project_id, {"from": previous, "to": to, "owner": p.owner})
    return get(project_id, now)


def add_note(project_id: str, note: str, *, actor: str, remind_on: dt.date | None = None,
             now: dt.datetime | None = None) -> ProjectDetail:
    if not note.strip():
        raise bad_request("备注不能为空 the note is empty", "note-required")
    now = now or utcnow()
    with database().session() as s:
        p = _get(s, project_id)
        p.updated_at = now
        s.add(IndustryProjectHistory(project_id=p.id, action="note", from_stage=p.stage, to_stage=p.stage, actor=actor,
                                     owner=p.owner, at=now, note=note.strip(), remind_on=remind_on))
    audit.record(actor, "industry.project.noted", project_id, {"stage": p.stage, "remind_on": str(remind_on or "")})
    return get(project_id, now)


# ---- stage materials ------------------------------------------------------------------------------

def _fmt(v: Any) -> str:
    return "—" if v is None or v == "" else f"{v:,.2f}" if isinstance(v, float) else str(v)


def company_facts(company: str, queries: Queries) -> tuple[str, dict[str, Any], str]:
    """The company's facts from the registries the data hub holds: the investment leads (outside
    firms), else the enterprise registry (registration and 2024 figures, never personal columns);
    with the registry's name and the query that read it."""
    query, rows = queries.rows(f"SELECT {leads.COLUMNS} FROM investment_leads WHERE company = {literal(company)}",
                               ["investment_leads"])
    if rows:
        return "招商线索库", rows[0], query.id
    query, rows = queries.rows(
        "SELECT uscc, name, district_id, industry_name, chain, chain_node, registered_capital_10k_yuan, founded_date, "
        "employees, status, revenue_2024_10k_yuan, patents, is_high_tech, is_specialized_sme FROM enterprises "
        f"WHERE name = {literal(company)}", ["enterprises"])
    return ("企业库", rows[0], query.id) if rows else ("", {}, query.id)


FACT_LABELS = {"company": "企业名称", "name": "企业名称", "province": "总部省份", "city": "总部城市", "chain": "产业链",
               "chain_node": "环节", "last_financing_round": "最近融资轮次", "last_financing_date": "最近融资日期",
               "financing_100m_yuan": "最近一轮融资额（亿元）", "expansion_signal": "扩张信号",
               "patents_growth_pct": "专利申请同比增速（%）", "revenue_100m_yuan": "营业收入（亿元）", "employees": "员工人数",
               "uscc": "统一社会信用代码", "district_id": "所在区", "industry_name": "行业",
               "registered_capital_10k_yuan": "注册资本（万元）", "founded_date": "成立日期", "status": "登记状态",
               "revenue_2024_10k_yuan": "2024年营业收入（万元）", "patents": "有效专利", "is_high_tech": "高新技术企业",
               "is_specialized_sme": "专精特新"}


def _brief(p: ProjectDetail, queries: Queries) -> str:
    source, facts, query_id = company_facts(p.company, queries)
    cmap = chains.chain_map(p.chain, queries=queries)
    lines = [f"# {p.name} 立项简报", "", f"- 项目编号：{p.id}", f"- 负责人：{p.owner}（{p.department or '—'}）",
             f"- 产业链 / 环节：{p.chain} / {p.node or '—'}",
             f"- 计划投资：{_fmt(p.investment_100m_yuan)} 亿元；计划用工：{_fmt(p.jobs)} 人", "", "## 企业基本情况", ""]
    if facts:
        lines += [f"来源：{source}（查询 {query_id}）", "", "| 项目 | 内容 |", "|---|---|"]
        lines += [f"| {FACT_LABELS.get(k, k)} | {_fmt(v)} |" for k, v in facts.items()]
    else:
        lines.append("企业库和招商线索库中均未找到该企业名称，请核实全称后补充。")
    node = next((n for n in cmap.nodes if n.name == p.node), None)
    lines += ["", "## 链上位置与本地现状", ""]
    if node:
        lines.append(f"“{node.name}”（{node.position}）本地{node.strength.label}：{node.strength.reason}。")
    lines.append(f"{p.chain}链本地缺失或薄弱环节：{'、'.join(cmap.gaps) or '无'}。判定规则：{cmap.rule}。")
    return "\n".join(lines)


def _assessment(p: ProjectDetail, queries: Queries) -> str:
    cmap = chains.chain_map(p.chain, queries=queries)
    lines = [f"# {p.name} 项目价值评估", "", f"- 计划投资 {_fmt(p.investment_100m_yuan)} 亿元，计划用工 {_fmt(p.jobs)} 人"]
    node = next((n for n in cmap.nodes if n.name == p.node), None)
    if node:
        fills = "补齐本地缺失环节" if node.strength.level == "missing" else \
            "加强本地薄弱环节" if node.strength.level == "thin" else "延伸本地已有环节"
        lines.append(f"- 补链价值：{fills}“{node.name}”（{node.strength.reason}）")
    try:
        ranking = leads.rank(p.chain, p.node, limit=1000, queries=queries, chain_map=cmap) if p.node else None
    except Problem:
        ranking = None
    found = next((x for x in ranking.leads if x.company == p.company), None) if ranking else None
    if found:
        lines += ["", f"## 招商线索评分：{found.score:.1f} 分（本环节 {len(ranking.leads)} 家中第 {found.rank} 位）", "",
                  "| 分项 | 权重 | 分项得分 | 贡献 | 依据 |", "|---|---|---|---|---|"]
        lines += [f"| {c.label} | {c.weight:.2f} | {c.score:.2f} | {c.points:.1f} | {c.reason} |" for c in found.components]
        lines += ["", f"评分规则：{leads.RULE}"]
    else:
        lines += ["", "该企业不在招商线索库中，未做线索评分；请补充融资、扩张和专利信息后复核。"]
    return "\n".join(lines)


#: how each step of a project's history is named to people
ACTION_NAMES = {"create": "建档", "advance": "推进", "back": "退回", "note": "备注"}


def step_stage(h: History) -> str:
    """A step's stage: the stage, or "from → to" for a move."""
    return h.to_stage if h.from_stage in (None, h.to_stage) else f"{h.from_stage} → {h.to_stage}"


def _handover(p: ProjectDetail) -> str:
    lines = [f"# {p.name} 移交摘要", "", f"- 项目编号：{p.id}；当前阶段：{p.stage}；现负责人：{p.owner}",
             f"- 企业：{p.company}；产业链 / 环节：{p.chain} / {p.node or '—'}",
             f"- 计划投资 {_fmt(p.investment_100m_yuan)} 亿元，计划用工 {_fmt(p.jobs)} 人", "", "## 办理经过", "",
             "| 时间 | 操作 | 阶段 | 经办 | 负责人 | 说明 |", "|---|---|---|---|---|---|"]
    for h in p.history:
        lines.append(f"| {h.at:%Y-%m-%d} | {ACTION_NAMES.get(h.action, h.action)} | {step_stage(h)} | {h.actor} | "
                     f"{h.owner} | {h.note.replace('|', '／') or '—'} |")
    open_items = [r.text for r in p.reminders]
    lines += ["", "## 待办与提醒", ""] + ([f"- {t}" for t in open_items] or ["- 无"])
    return "\n".join(lines)


def material(project_id: str, kind: str, now: dt.datetime | None = None) -> Material:
    if kind not in MATERIALS:
        raise not_found(f"没有材料类型“{kind}”；可选：{'、'.join(MATERIALS)} unknown material", "unknown-material")
    p = get(project_id, now)
    queries = Queries()
    stage, title = MATERIALS[kind]
    text = _brief(p, queries) if kind == "brief" else _assessment(p, queries) if kind == "assessment" else _handover(p)
    return Material(project_id=p.id, kind=kind, stage=stage, title=title, markdown=text, queries=queries.items)


def assessment(year: int, now: dt.datetime | None = None) -> Assessment:
    """The year's targets against its results."""
    cfg = _settings()
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    with database().session() as s:
        moves = s.execute(select(IndustryProjectHistory.project_id, IndustryProjectHistory.to_stage)
                          .where(IndustryProjectHistory.action == "advance", IndustryProjectHistory.at >= start,
                                 IndustryProjectHistory.at < end)).all()
        projects = {p.id: p for p in s.scalars(select(IndustryProject))}
    approved = sorted({pid for pid, st in moves if st == "立项"})
    landed = sorted({pid for pid, st in moves if st == "落地"})
    invested = round(sum(projects[pid].investment_100m_yuan or 0 for pid in landed if pid in projects), 2)

    def line(metric: str, target: float, result: float, ids: list[str]) -> AssessmentLine:
        return AssessmentLine(metric=metric, target=target, result=result, projects=ids,
                              completion=round(result / target, 3) if target else None)

    current = list_projects(now=now)
    return Assessment(year=year, lines=[line("立项项目数", cfg.target_approved, len(approved), approved),
                                        line("落地项目数", cfg.target_landed, len(landed), landed),
                                        line("落地投资额（亿元）", cfg.target_investment_100m_yuan, invested, landed)],
                      by_stage={st: sum(1 for p in current if p.stage == st) for st in STAGES},
                      stalled=[p.id for p in current if p.stalled])
