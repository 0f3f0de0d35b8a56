"""The project pipeline and the chain report in the super assistant's industry mode.

- `project_status` (read, staff): "比亚迪电池项目到哪一步了" answers one project (stage, days in it, due
  date, allowed moves, history, reminders); "停滞的招商项目有哪些" lists the pipeline (stalled, by stage, by
  chain).
- `project_move` (write, the commerce bureau's officials, operators and admins — `projects.may_write`, the
  REST API's rule): "把宁德时代项目推进到立项" moves it through `projects.move` (history and the audit
  ledger's `industry.project.moved`, as REST); a stage it cannot reach is answered with the moves it can
  make and nothing is written; a project name several projects match is asked back with one option each.
- `chain_report` (read, staff): "生成新能源汽车产业链报告" builds the report with `report.build` and answers
  with its headline figures and the download links of `GET /api/v1/industry/chains/{chain}/report`.

A project is named by its id (`prj_…`) or by words of its company, project name or node: the project
covering most of the request's characters in runs of at least `MIN_MATCH` is meant; a tie asks which."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from aicity.agents.base import Clarification, NextAction, Option, Section, SkillContext, SkillInput, SkillResult
from aicity.agents.industry import chains, leads, projects, report
from aicity.agents.industry.figures import Queries
from aicity.agents.industry.projects import Project, ProjectDetail
from aicity.agents.industry.settings import STAGES
from aicity.core.errors import Problem
from aicity.core.text import normalize
from aicity.hub.geo import gazetteer

#: a project's words count when it shares at least this many characters in a row with the request
MIN_MATCH = 2
#: the answer shows at most this many projects and history steps
LISTED = 20
HISTORY_SHOWN = 6
_PROJECT_ID = re.compile(r"prj_[0-9a-z]{18}", re.IGNORECASE)
#: words of a company's name that say what kind of company it is, not which one
_LEGAL_FORM = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团|股份|公司|项目)")
#: words of a request that name no project: the pipeline's own vocabulary
_VOCABULARY = re.compile("|".join(["招商", "项目", "推进", "退回", "阶段", "到哪一步", "哪一步", "进展", "情况", "停滞",
                                   "超期", "清单", "列表", "看板", "哪些", "有哪些", "现在", "目前", "原因", "负责人",
                                   *STAGES]))
#: words of a move request that name nothing: they may stay unmatched by the project
_FILLER = re.compile(r"请|帮我|帮忙|麻烦|把|将|给|那个|这个|的|一下|到|了|吧|去|直接|马上|尽快|现在")
#: a run of the request's words this long that the one matching project lacks names another company
UNMATCHED_NAME = 3
_STALLED = re.compile(r"停滞|超期|卡住|逾期|滞后|拖了|没动")
_NEXT = re.compile(r"下一(个)?阶段|下一步|推进一步|往前推")
_REASON = re.compile(r"(?:原因|理由|因为|说明|备注)[:：是为]?\s*(.+)")
_OWNER = re.compile(r"负责人(?:改为|换成|换为|为|是)?[:：]?\s*([^\s，,。；;]{2,10})")


def _queries(ctx: SkillContext) -> Queries:
    return Queries(ctx.principal.role.value, ctx.principal.department)


def _key(text: str) -> str:
    return _LEGAL_FORM.sub(" ", normalize(text))


def _runs(piece: str, target: str) -> list[tuple[int, int]]:
    """The spans of `piece` that `target` has too, in runs of at least MIN_MATCH characters (left to right,
    longest run first)."""
    spans, i = [], 0
    while i < len(piece):
        j = i + MIN_MATCH
        while j <= len(piece) and piece[i:j] in target:
            j += 1
        if j - 1 - i >= MIN_MATCH:
            spans.append((i, j - 1))
            i = j - 1
        else:
            i += 1
    return spans


def coverage(words: str, target: str) -> int:
    """How many characters of `words` lie in runs of at least MIN_MATCH characters that `target` has too:
    "比亚迪电池" covers 5 of "比亚迪 动力电池", 3 of "比亚迪半导体"."""
    return sum(end - start for piece in words.split() for start, end in _runs(piece, target))


def unmatched(words: str, target: str) -> int:
    """The longest run of the request's words that `target` does not have (filler words aside): "宁德时代"
    left over when "把宁德时代电池项目推进到立项" matched a battery project only on "电池"."""
    longest = 0
    for piece in _FILLER.sub(" ", words).split():
        start = 0
        for begin, end in [*_runs(piece, target), (len(piece), len(piece))]:
            longest, start = max(longest, begin - start), end
    return longest


def _project_words(text: str, chain_names: list[str]) -> str:
    words = _VOCABULARY.sub(" ", _key(text))
    for name in chain_names:
        words = words.replace(name, " ")
    return words


def _target(p: Project) -> str:
    return f"{_key(p.company)} {_key(p.name)} {p.node or ''}"


def match_projects(text: str, found: list[Project], chain_names: list[str]) -> list[Project]:
    """The projects a request names: by id, else those whose company, name and node cover most of the
    request's characters (`coverage`), the pipeline's own words and the chains' names aside; empty when none
    covers any."""
    ids = {m.lower() for m in _PROJECT_ID.findall(text)}
    if ids:
        return [p for p in found if p.id in ids]
    words = _project_words(text, chain_names)
    scored = [(coverage(words, _target(p)), p) for p in found]
    best = max((s for s, _ in scored), default=0)
    return [p for s, p in scored if s == best] if best >= MIN_MATCH else []


def _stage_named(text: str) -> str | None:
    """The stage a move asks for: the last stage named in the request."""
    hits = [(m.start(), m.group(0)) for m in re.finditer("|".join(STAGES), text)]
    return max(hits)[1] if hits else None


def _row(p: Project) -> str:
    return (f"| `{p.id}` | {p.name} | {p.stage} | {p.days_in_stage} 天 / {p.limit_days} 天 | {p.due_on} | "
            f"{'**超期**' if p.stalled else '—'} | {p.owner} |")


def _table(found: list[Project]) -> str:
    head = "| 编号 | 项目 | 阶段 | 在本阶段 / 期限 | 到期日 | 超期 | 负责人 |\n|---|---|---|---|---|---|---|\n"
    return head + "\n".join(_row(p) for p in found[:LISTED]) + \
        (f"\n\n（共 {len(found)} 个，只列出前 {LISTED} 个；完整看板见产业招商页面。）" if len(found) > LISTED else "")


def _moves(p: Project) -> str:
    return "、".join(p.allowed_moves) or "无"


def _move_actions(p: Project, ctx: SkillContext) -> list[NextAction]:
    if not projects.may_write(ctx.principal):
        return []
    i = p.stage_index
    return [NextAction(label=f"推进到{s}", value=f"把招商项目 {p.id} 推进到{s}") if STAGES.index(s) > i else
            NextAction(label=f"退回{s}", kind="fill", value=f"把招商项目 {p.id} 退回{s}，原因：……") for s in p.allowed_moves]


def _detail_body(p: ProjectDetail) -> str:
    lines = [f"- 项目编号：`{p.id}`；企业：{p.company}；产业链 / 环节：{p.chain} / {p.node or '—'}",
             f"- 当前阶段：**{p.stage}**（第 {p.stage_index + 1} / {len(STAGES)} 步：{' → '.join(STAGES)}）",
             f"- 已在本阶段 {p.days_in_stage} 天，期限 {p.limit_days} 天（到期日 {p.due_on}）"
             + ("，**已超期**" if p.stalled else ""),
             f"- 负责人：{p.owner}；可移到：{_moves(p)}"]
    if p.reminders:
        lines += ["", "**提醒**", ""] + [f"- {r.on}：{r.text}" for r in p.reminders]
    lines += ["", "**办理经过**", "", "| 时间 | 操作 | 阶段 | 经办 | 说明 |", "|---|---|---|---|---|"]
    for h in p.history[-HISTORY_SHOWN:]:
        lines.append(f"| {h.at:%Y-%m-%d} | {projects.ACTION_NAMES.get(h.action, h.action)} | {projects.step_stage(h)} | "
                     f"{h.actor} | {h.note.replace('|', '／') or '—'} |")
    return "\n".join(lines)


def _which(found: list[Project], ask: str) -> SkillResult:
    """Several projects fit the words: ask which one, each option the request again naming one by id
    (`ask` with `{id}` where the project goes)."""
    options = [Option(value=p.id, label=ask.replace("{id}", f"{p.id}（{p.name}）")) for p in found[:LISTED]]
    question = (f"有 {len(found)} 个招商项目与您说的相符，请问是哪一个？" if len(found) > 1 else
                f"只找到部分相符的招商项目“{found[0].name}”，是这个项目吗？请确认后再办理。")
    return SkillResult(clarification=Clarification(slot="project", question=question, options=options),
        data={"candidates": [p.id for p in found]})


def project_status(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    text = normalize(inp.text)
    every = projects.list_projects()
    names = chains.chain_names(_queries(ctx))
    named = match_projects(text, every, names)
    if len(named) > 1 and not _STALLED.search(text):
        return _which(named, "招商项目 {id} 到哪一步了")
    if len(named) == 1:
        p = projects.get(named[0].id)
        return SkillResult(sections=[Section(title=f"{p.name}：{p.stage}阶段", body=_detail_body(p), kind="data")],
                           departments=["commerce"], data={"project": p.model_dump(mode="json")},
                           next_actions=_move_actions(p, ctx)
                           + [NextAction(label="查看项目看板", kind="link", value="/#/industry")])
    stage = next((s for s in STAGES if s in text), None)
    chain = next((c for c in names if c in text), None)
    stalled = bool(_STALLED.search(text))
    found = [p for p in every if (not stalled or p.stalled) and (stage is None or p.stage == stage)
             and (chain is None or p.chain == chain)]
    scope = "、".join(x for x in (chain, f"{stage}阶段" if stage else None, "超期（停滞）" if stalled else None) if x)
    title = f"招商项目（{scope}）" if scope else "招商项目"
    if not found:
        body = f"没有{scope or ''}的招商项目。" if every else "项目库中还没有招商项目，可在产业招商页面从招商线索建项目。"
        return SkillResult(sections=[Section(title=title, body=body, kind="data")], departments=["commerce"],
                           data={"projects": []})
    by_stage = "；".join(f"{s} {n}" for s in STAGES if (n := sum(1 for p in found if p.stage == s)))
    late = sum(1 for p in found if p.stalled)
    body = (f"共 {len(found)} 个项目（{by_stage}），其中超期 {late} 个。在一个阶段停留超过期限即为超期"
            f"（期限见 `[aicity.industry] stage_limit_days`，示范城市假设）。\n\n{_table(found)}")
    return SkillResult(sections=[Section(title=title, body=body, kind="data")], departments=["commerce"],
                       data={"projects": [p.model_dump(mode="json") for p in found[:LISTED]]},
                       next_actions=[NextAction(label=f"{p.name}到哪一步了", value=f"招商项目 {p.id} 到哪一步了")
                                     for p in found[:2]] + [NextAction(label="查看项目看板", kind="link",
                                                                       value="/#/industry")])


def _refused(title: str, body: str, **data: object) -> SkillResult:
    return SkillResult(sections=[Section(title=title, body=body, kind="refusal")], data=dict(data))


def project_move(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    if not projects.may_write(ctx.principal):
        return _refused("无权推进项目", f"招商项目的推进和退回由{projects.WRITERS}办理，您的身份不能更改项目；"
                                         "可以查询项目进展（如“停滞的招商项目有哪些”）。", error="commerce-only")
    text = normalize(inp.text)
    chain_names = chains.chain_names(_queries(ctx))
    named = match_projects(text, projects.list_projects(), chain_names)
    if not named:
        return SkillResult(sections=[Section(title="没有找到项目", kind="info", body=(
            "没有找到您说的招商项目。请写明项目编号（`prj_…`）或企业名称，例如“把宁德时代项目推进到立项”；"
            "也可以先问“有哪些招商项目”。"))])
    reason = _REASON.search(text)
    to = _stage_named(text[:reason.start()] if reason else text)  # a stage the reason names is not the target
    verb = "退回" if to and "退回" in text else "推进到"
    ask_again = ("把招商项目 {id} " + (f"{verb}{to}" if to else "推进到下一阶段")
                 + (f"，原因：{reason.group(1).strip()}" if reason else ""))
    p = named[0]
    if len(named) > 1 or (not _PROJECT_ID.search(text)
                          and unmatched(_project_words(text, chain_names), _target(p)) >= UNMATCHED_NAME):
        # several fit, or words the request names that the one project lacks ("宁德时代" against a 比亚迪
        # battery project): no write on a partial match, the candidates are offered instead
        return _which(named, ask_again)
    if to is None and _NEXT.search(text):
        to = next((s for s in p.allowed_moves if STAGES.index(s) > p.stage_index), None)
    if to is None:
        return SkillResult(sections=[Section(title=f"{p.name}：{p.stage}阶段", kind="info", body=(
            f"请说明要移到哪个阶段。项目当前在“{p.stage}”阶段，可移到：{_moves(p)}（前进一步，或退回上一步并说明原因）。"))],
            next_actions=_move_actions(p, ctx))
    owner = _OWNER.search(inp.text)
    try:
        moved = projects.move(p.id, to, actor=ctx.principal.actor, note=reason.group(1).strip(" 。") if reason else "",
                              owner=owner.group(1) if owner else None)
    except Problem as exc:
        if exc.type_ == "note-required":
            return SkillResult(sections=[Section(title="退回需要说明原因", kind="info", body=(
                f"把项目从“{p.stage}”退回“{to}”需要说明原因，未作更改。"))],
                next_actions=[NextAction(label=f"退回{to}", kind="fill", value=f"把招商项目 {p.id} 退回{to}，原因：……")])
        if exc.status == 409:
            return _refused("不能移到该阶段", (
                f"项目“{p.name}”（`{p.id}`）在“{p.stage}”阶段，不能移到“{to}”：每次只能前进一个阶段，或退回上一阶段。"
                f"当前可移到：{'、'.join(exc.extra.get('allowed', [])) or '无'}。项目未作更改。"),
                error="stage-not-allowed", allowed=exc.extra.get("allowed", []))
        raise
    step = "退回" if STAGES.index(to) < STAGES.index(p.stage) else "推进"
    body = (f"项目“{moved.name}”（`{moved.id}`）已从“{p.stage}”{step}到“{moved.stage}”，已记入项目历史和审计账本。\n\n"
            f"- 负责人：{moved.owner}\n- 本阶段期限 {moved.limit_days} 天，到期日 {moved.due_on}\n- 下一步可移到：{_moves(moved)}")
    return SkillResult(sections=[Section(title="项目已更新", body=body, kind="data")], departments=["commerce"],
                       data={"project": moved.model_dump(mode="json"), "from": p.stage},
                       next_actions=_move_actions(moved, ctx))


# --- the chain report -----------------------------------------------------------------------------

REPORT_PATH = "/api/v1/industry/chains/{chain}/report"
FORMAT_NAMES = {"md": "Markdown", "html": "HTML（含图表）", "docx": "Word（DOCX）"}


def report_links(chain: str, district: str | None) -> dict[str, str]:
    """The report's download links, one per format (`GET /api/v1/industry/chains/{chain}/report`)."""
    base = REPORT_PATH.format(chain=quote(chain, safe=""))
    return {fmt: f"{base}?{urlencode({'format': fmt, **({'district': district} if district else {})})}"
            for fmt in report.FORMATS}


def chain_report(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    p, queries = ctx.principal, _queries(ctx)
    chain = next((c for c in sorted(chains.chain_names(queries), key=len, reverse=True) if c in inp.text), None)
    lowered = inp.text.lower()
    chain = chain or next((name for alias, name in sorted(chains.chain_aliases().items(), key=lambda t: -len(t[0]))
                           if alias in lowered), None)
    if chain is None:
        names = chains.chain_names(queries)
        return SkillResult(sections=[Section(title="请说明产业链", kind="info", body=(
            f"没有找到要生成报告的产业链。可以生成报告的重点产业链：{'、'.join(names)}。"))],
            next_actions=[NextAction(label=f"{c}产业链报告", value=f"生成{c}产业链报告") for c in names[:3]])
    district = gazetteer.district_in(inp.text)
    built = report.build(chain, district.name if district else None, p)
    cmap = built.chain_map
    links = report_links(cmap.chain, cmap.district)
    try:
        top = leads.rank(cmap.chain, None, 3, queries, cmap).leads
    except Problem:
        top = []
    scope = cmap.district or "全市"
    lines = [f"已生成《{built.title}》：{len(cmap.nodes)} 个环节、在营企业 {cmap.firms} 家，"
             f"引用数据中枢查询 {len(built.queries)} 次（每个数字标注查询编号）。", "",
             f"- 缺失或薄弱环节：{'、'.join(cmap.gaps) or '无'}",
             f"- 较强环节：{'、'.join(cmap.strong) or '无'}",
             f"- 招商线索前三：{'；'.join(f'{x.company}（{x.node}，{x.score:.1f} 分）' for x in top) or '无外地企业线索'}",
             "", "**下载**（需工作人员 API key）：", ""]
    lines += [f"- [{FORMAT_NAMES[fmt]}]({url})" for fmt, url in links.items()]
    return SkillResult(
        sections=[Section(title=built.title, body="\n".join(lines), kind="data")], departments=["commerce"],
        data={"report": {"title": built.title, "chain": cmap.chain, "district": cmap.district, "links": links,
                         "gaps": cmap.gaps, "firms": cmap.firms, "queries": len(built.queries)}},
        next_actions=[NextAction(label=f"下载 {FORMAT_NAMES[fmt]}", kind="link", value=url) for fmt, url in links.items()]
        + [NextAction(label=f"{scope}{cmap.chain}哪些环节薄弱", value=f"{scope}{cmap.chain}哪些环节薄弱")])
