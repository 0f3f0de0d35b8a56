"""City governance agent (城市治理智能体): a citizen's report in chat becomes a tracked city
event — classified, located and dispatched by the events hub — and the answer says which
event and which department. For the city's staff it answers one-sentence questions over the
live events (东湖区现在有哪些未处理的积水事件) and points out hotspots and rising trends."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import lru_cache

from aicity.agents.base import (
    Agent,
    Clarification,
    NextAction,
    RiskLevel,
    Section,
    Skill,
    SkillContext,
    SkillInput,
    SkillResult,
)
from aicity.agents.data_ask.agent import result_of
from aicity.agents.governance.lifecycle_chat import (
    event_action,
    event_status,
    session_reporter,
)
from aicity.core.ids import utcnow
from aicity.core.text import normalize, tokenize
from aicity.hub.data.ask import ask as ask_data
from aicity.hub.events import briefing, insights
from aicity.hub.events import service as events
from aicity.hub.events.classify import categories, classify, confident
from aicity.hub.events.lifecycle import OPEN_STATES, Status
from aicity.hub.geo import gazetteer
from aicity.identity import service as identity
from aicity.identity.models import STAFF_ROLES
from aicity.security import intent

#: what a report without a place is asked, once
WHERE_QUESTION = "问题发生在哪里？请告诉我街道和门牌号、小区名称或附近的地标，我再为您登记派单。"


#: duty words of three or more characters too general to name one department on their own (许可证 ends 施工许可证
#: as well as 烟草专卖零售许可证; 安全检查, 服务中心 and 保险金 end many unrelated compounds)
_GENERIC_DUTY_WORDS = frozenset({"许可证", "安全检查", "服务中心", "保险金", "小规模", "营业性", "娱乐场"})


@lru_cache(maxsize=8)
def _duty_words(departments: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, frozenset[tuple[str, str]]], ...]:
    """Each duty phrase of `departments` ((id, duties) pairs) that only one department's duties use, with the
    (department, duty) pairs that use it: tokenizing every duty took about 0.5 ms a report, computed once per list."""
    owners: dict[str, set[tuple[str, str]]] = {}
    for dept, duties in departments:
        for duty in duties:
            words = {w for w in tokenize(duty) if len(w) >= 3 and w not in _GENERIC_DUTY_WORDS}
            for word in {duty, *words}:
                owners.setdefault(word, set()).add((dept, duty))
    return tuple((w, frozenset(found)) for w, found in owners.items() if len({d for d, _ in found}) == 1)


def duty_department(text: str) -> tuple[str, str] | None:
    """(department, duty) whose duty (departments.yaml) the request names: a whole duty ("公共厕所", "停电") or a
    specific word of three or more characters of one ("所得税" of 个人所得税) that only one department's duties use.
    Two-character pieces of a longer duty (个人, 共享, 小区, 处理, 投诉) name nothing: they are everyday words. None
    when no such phrase is in the request or two departments' phrases tie."""
    owned = _duty_words(tuple((d.id, tuple(d.duties)) for d in identity.list_departments()))
    lowered = normalize(text).lower()
    said = [(len(w), found) for w, found in owned if w in lowered]
    if not said:
        return None
    longest = max(n for n, _ in said)
    best = {pair for n, found in said if n == longest for pair in found}
    return min(best) if len({d for d, _ in best}) == 1 else None


def _by_duty(text: str, dispatched: str | None) -> tuple[list[str], str]:
    """The department whose duty the report names when it is not the one the event goes to, and the sentence that
    names it (the answer names it beside the dispatched one, as an emergency names its duty holders; nothing is
    transferred to it)."""
    found = duty_department(text)
    if found is None or found[0] == dispatched:
        return [], ""
    return [found[0]], (f"按部门职责，“{found[1]}”由**{identity.department_name(found[0])}**负责，"
                        "如需该部门处理，可拨打 12345 热线转办。")


def _ask_where(text: str) -> SkillResult:
    """A report that names no place: say where it will go and ask where it is (once)."""
    guess = classify(text)
    name = categories()[guess.category].name
    also, why = _by_duty(text, guess.department)
    return SkillResult(
        sections=[Section(title="还需要地点", kind="clarify",
                          body=f"这个问题会登记为“{name}”事件，派往**{identity.department_name(guess.department)}**处理。"
                               f"{why}请补充具体地点；如有人员危险，请立即拨打 110 / 119 / 120。")],
        departments=[guess.department, *also],
        clarification=Clarification(slot="location", question=WHERE_QUESTION),
        data={"category": guess.category},
    )


def report_event(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    if ctx.may_ask and gazetteer.resolve(inp.text) is None:
        return _ask_where(inp.text)
    # a citizen in chat is known by the session; staff by their key
    filed = events.report(inp.text, source="assistant", reporter=events.Reporter(ref=session_reporter(ctx)),
                          idempotency_key=f"assistant:{ctx.tracer.id}")
    event = events.event_json(filed.event)
    where = event["address"] or event["district"] or "（未能识别地点，处置人员会与您核实）"
    unsure = event["status"] == "reported"  # the classifier was unsure: no department handles it until a human says
    if unsure:
        handling = (f"尚未分派，已进入人工分派队列，工作人员核实后派往责任部门（系统猜测可能与"
                    f"{identity.department_name(event['department'])}有关，仅供参考，不是承办部门）。")
    else:
        handling = f"已派往**{identity.department_name(event['department'])}**处理。"
    also, why = _by_duty(inp.text, None if unsure else event["department"])
    merged = "同一问题已有人反映，您的反映已合并到该事件，处理进展会一并告知。\n\n" if filed.merged else ""
    body = (f"{merged}- 事件编号：`{event['id']}`\n- 类别：{event['category_name']}\n- 地点：{where}\n"
            f"- 优先级：{event['priority']}\n- 处理：{handling}{why}")
    if event["priority"] == "urgent":
        body += "\n\n**如有人员危险，请立即拨打 110 / 119 / 120。**"
    return SkillResult(
        sections=[Section(title="已登记城市事件", body=body, kind="event")],
        departments=([] if unsure else [event["department"]]) + also,
        event={"id": event["id"], "category": event["category"], "department": event["department"],
               "status": event["status"]},
        next_actions=[NextAction(label="查询处理进度", value="我反映的问题有进展吗"),
                      NextAction(label="事件详情", kind="link", value=f"/api/v1/events/{event['id']}")],
    )


STAFF_ROLES_IDS = frozenset(r.value for r in STAFF_ROLES)
#: a reporter's own question about an event names it, or speaks of what they reported
_OWN_EVENT = ("evt_", "我报", "我反映", "我上报", "我举报", "我的报修", "我的事件", "我们报", "我们反映", "刚才报",
              "刚才反映", "刚才上报", "这个事件", "那个事件")


# --- understanding an official's question ------------------------------------------------------

#: status words, the first that matches decides (negations before the words they contain)
_STATUS_WORDS: tuple[tuple[str, frozenset[str] | None, str], ...] = (
    (r"超时|逾期|超期|超过时限|超出时限", None, "超时"),
    (r"待派单|未派单|待分派|未分派|待派发", frozenset({Status.reported}), "待派单"),
    (r"未处理|没处理|未办结|没办结|待处理|未解决|没解决|未完成|积压|还在办|没办完",
     frozenset(str(s) for s in OPEN_STATES), "未处理"),
    (r"处理中|正在处理|办理中|在办", frozenset({Status.dispatched, Status.accepted, Status.in_progress}), "处理中"),
    (r"已办结|已处理|已解决|已完成|办结了|处理完|解决了", frozenset({Status.resolved, Status.closed}), "已办结"),
)
_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_RECENT = re.compile(r"(?:最近|近|过去)\s*(\d+|[一二两三四五六七八九十]+)\s*(天|日|周|个?星期|个?月)")
#: what is left of a question once its place, time and status words are gone, that names no category
_FILLER = re.compile(r"现在|目前|当前|全市|一共|总共|共有|有哪些|哪些|有多少|多少|几起|几件|几个|什么|怎么样|情况|"
                     r"事件|问题|投诉|反映|工单|报修|最多|最少|热点|趋势|上升|增多|高发|排名|前几|集中在|哪个区|哪里|"
                     r"哪儿|查询|查一下|帮我|列出|统计|一下|主要|类|的|了|吗|呢|是|有|在|个|起|件|里|[\s？?，,。！!、]")
#: a category guessed from free phrasing counts from this confidence
CATEGORY_CONFIDENCE = 0.6


def _chinese_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _NUMBERS.get(tens, 1) * 10 + _NUMBERS.get(ones, 0)
    return _NUMBERS.get(text, 1)


def _start(day: date) -> datetime:
    return insights.local_day(day)[0]


def _time_range(text: str, day: date) -> tuple[datetime | None, datetime | None, str, str]:
    """(since, until, label, the words matched) of the time the question names; none: all time."""
    if m := _RECENT.search(text):
        n = _chinese_number(m.group(1))
        days = n * {"天": 1, "日": 1, "月": 30}.get(m.group(2)[-1], 7)
        return _start(day - timedelta(days=days - 1)), None, f"最近{days}天", m.group(0)
    for words, since, label in (
        (("今天", "今日"), day, "今天"),
        (("最近一周", "近一周", "一周内", "一周以来", "这一周"), day - timedelta(days=6), "最近7天"),
        (("本周", "这周", "这个星期", "本星期"), day - timedelta(days=day.weekday()), "本周"),
        (("本月", "这个月", "这月"), day.replace(day=1), "本月"),
    ):
        if found := next((w for w in words if w in text), None):
            return _start(since), None, label, found
    if found := next((w for w in ("昨天", "昨日") if w in text), None):
        return _start(day - timedelta(days=1)), _start(day), "昨天", found
    if found := next((w for w in ("上个月", "上月") if w in text), None):
        first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        return _start(first), _start(day.replace(day=1)), "上月", found
    return None, None, "", ""


def _category(text: str, residual: str) -> str | None:
    """A category the question names (its id, name or part of it), else the classifier's
    confident reading of what remains of the question."""
    lowered = text.lower()
    for c in categories().values():
        if c.id in lowered or any(part in text for part in c.name.split("/")):
            return c.id
    if len(residual) < 2:
        return None
    guess = confident(residual, CATEGORY_CONFIDENCE)
    return guess.category if guess is not None else None


def parse_question(text: str, day: date | None = None) -> tuple[insights.Filters, list[str]]:
    """The filters an official's question names, and how each reads (for the answer)."""
    text = normalize(text)
    since, until, time_label, time_words = _time_range(text, day or insights.today())
    district, district_words = gazetteer.district_named_in(text)
    statuses: frozenset[str] = frozenset()
    overdue, status_label, status_words = False, "", ""
    for pattern, chosen, name in _STATUS_WORDS:
        if m := re.search(pattern, text):
            overdue, statuses, status_label, status_words = chosen is None, chosen or frozenset(), name, m.group(0)
            break
    residual = text
    for words in (time_words, district_words, status_words):
        residual = residual.replace(words, " ") if words else residual
    category = _category(text, _FILLER.sub("", residual))
    filters = insights.Filters(district=district.id if district else None, category=category, statuses=statuses,
                               overdue=overdue, since=since, until=until)
    labels = [district.name if district else "全市", insights.label("category", category) if category else "",
              status_label, time_label]
    return filters, [x for x in labels if x]


# --- answering officials -------------------------------------------------------------------------

#: the most events one answer lists
MAX_ROWS = 50


def _event_rows(rows: list) -> str:
    lines = ["| 事件编号 | 类别 | 区域 | 地点 | 状态 | 优先级 | 上报时间 |", "|---|---|---|---|---|---|---|"]
    for e in rows:
        b = insights.event_brief(e)
        lines.append(f"| `{b['id']}` | {b['category_name']} | {b['district_name']} | {b['address'] or '—'} | "
                     f"{b['status_name']} | {b['priority']} | {b['created_at'][:16].replace('T', ' ')} |")
    return "\n".join(lines)


#: a count over a past period (2025年3月, 上半年, 去年, 第二季度) is the data hub's: the 12345 hotline
#: tickets dataset answers it; what is live (现在, 本月, 未处理, 超时, 哪些) stays with the events hub
_COUNT_WORDS = re.compile(r"多少|几起|几件|几个|总数|数量|总量|统计|占比|比例|同比|环比|how many|number of", re.IGNORECASE)
_PAST_PERIOD = re.compile(r"\d{4}\s*年|去年|前年|上半年|下半年|季度|全年|\d{1,2}\s*月(?!\d)|[一二三四五六七八九十]+月|"
                          r"\b(?:in|during)\s+(?:20\d\d|january|february|march|april|may|june|july|august|september|"
                          r"october|november|december)", re.IGNORECASE)
_LIVE_WORDS = re.compile(r"现在|目前|当前|今天|今日|昨天|本周|这周|本月|这个月|最近|近\d|近[一二三四五六七八九十]|"
                         r"哪些|列出|清单|事件编号|evt_|" + "|".join(p for p, _, _ in _STATUS_WORDS), re.IGNORECASE)


def for_data_hub(text: str) -> bool:
    """An official's count of events over a past period: the hotline tickets dataset answers it."""
    text = normalize(text)
    return bool(_COUNT_WORDS.search(text) and _PAST_PERIOD.search(text) and not _LIVE_WORDS.search(text))


def event_query(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    if for_data_hub(inp.text):
        answer = ask_data(inp.text, role=ctx.principal.role.value, department=ctx.principal.department)
        if answer.status == "answered":
            ctx.tracer.note("data-ask", status=answer.status, datasets=answer.datasets, skill="event_query")
            return result_of(answer)
    if refusal := intent.personal_data(inp.text):
        # the data layer's rule, whatever the wording or the guard's policy: reporters' and
        # residents' personal data are never listed in bulk; the aggregate is offered instead
        ctx.tracer.note("security-finding", type=refusal.kind, skill="event_query")
        return SkillResult(sections=[Section(title="不提供批量个人信息", kind="refusal",
                                             body=f"{refusal.reason}\n\n{refusal.alternative}")],
                           next_actions=[NextAction(label="今日城市运行日报（汇总）", kind="link",
                                                    value="/api/v1/events/briefing?format=html")])
    filters, labels = parse_question(inp.text)
    found = insights.query(filters, limit=MAX_ROWS)
    scope = " · ".join(labels)
    if not found.total:
        body = f"**{scope}**：没有符合条件的事件。"
    else:
        per_status = "、".join(f"{insights.label('status', s)} {n}" for s, n in found.by_status.items())
        body = f"**{scope}**：共 **{found.total}** 起（{per_status}）。\n\n{_event_rows(found.events)}"
        if found.total > len(found.events):
            body += f"\n\n仅列出最新的 {len(found.events)} 起，另有 {found.total - len(found.events)} 起未列出。"
    return SkillResult(
        sections=[Section(title="城市事件查询", body=body, kind="events")],
        departments=sorted({e.department for e in found.events}),
        data={"total": found.total, "by_status": found.by_status, "events": [e.id for e in found.events],
              "filters": {"district": filters.district, "category": filters.category,
                          "statuses": sorted(filters.statuses), "overdue": filters.overdue,
                          "since": filters.since.isoformat() if filters.since else None,
                          "until": filters.until.isoformat() if filters.until else None}},
        next_actions=[NextAction(label="今日城市运行日报", kind="link", value="/api/v1/events/briefing?format=html")],
    )


def _ranking_table(title: str, rows: list[dict]) -> str:
    lines = [f"| {title} | 事件数 | 占比 |", "|---|---|---|"]
    lines += [f"| {r['name']} | {r['count']} | {r['share']:.0%} |" for r in rows]
    return "\n".join(lines)


def hotspot_insight(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    if _BRIEFING_WORDS.search(inp.text) and gazetteer.district_in(inp.text) is None:
        return SkillResult(sections=[_daily_briefing()], next_actions=[
            NextAction(label="日报网页版", kind="link", value="/api/v1/events/briefing?format=html"),
            NextAction(label="城市安全态势", value="现在有多少燃气和内涝告警")])
    filters, labels = parse_question(inp.text)
    if filters.since is None:  # hotspots are about a recent time: the last week unless told
        filters = replace(filters, since=insights.local_day(insights.today() - timedelta(days=6))[0])
        labels.append("最近7天")
    until = filters.until or utcnow()
    window = max(1, round((until - filters.since).total_seconds() / 86400))
    spots = insights.hotspots(filters.since, filters.until, by=("category", "district", "address"), top=5,
                              filters=filters)
    rising = insights.trends(window, until=until, filters=filters)
    scope = " · ".join(labels)
    if not spots["total"]:
        body = f"**{scope}**：没有事件。"
    else:
        top = spots["category"][0]
        body = (f"**{scope}**：共 **{spots['total']}** 起事件，最多的是 **{top['name']}**（{top['count']} 起，"
                f"占 {top['share']:.0%}）。\n\n{_ranking_table('类别', spots['category'])}\n\n"
                f"{_ranking_table('区域', spots['district'])}")
        places = [r for r in spots["address"] if r["key"] and r["count"] > 1]
        if places:
            body += "\n\n高发地点：" + "、".join(f"{r['name']}（{r['count']} 起）" for r in places)
    if rising:
        body += "\n\n**上升趋势**（本期与前 3 期均值相比，泊松率比检验 p < 0.05）：\n" + "\n".join(
            f"- {r['name']}：{r['current']} 起，前期均值 {r['baseline_mean']}，p = {r['p_value']}" for r in rising)
    else:
        body += f"\n\n近 {window} 天没有显著上升的类别或区域。"
    return SkillResult(
        sections=[Section(title="事件热点与趋势", body=body, kind="insight")],
        data={"hotspots": spots, "trends": rising, "window_days": window},
        next_actions=[NextAction(label="今日城市运行日报", kind="link", value="/api/v1/events/briefing?format=html")],
    )


#: an official asking for the day's overall picture (日报, 要情) gets the daily briefing first
_BRIEFING_WORDS = re.compile(r"日报|简报|要情|运行情况|运行态势|briefing", re.IGNORECASE)


def _daily_briefing() -> Section:
    """Today's city-operations briefing (城市运行日报): the figures, hotspots, urgent and overdue
    events, each department's backlog."""
    report = insights.briefing()
    body = briefing.markdown(report).split("\n", 1)[1].replace("\n## ", "\n### ").strip()
    return Section(title=f"城市运行日报 {report['date']}", body=body, kind="briefing")


def build() -> Agent:
    return Agent(
        id="governance",
        name="城市治理智能体",
        department="urban",
        description="市民反映的城市问题（路灯、井盖、积水、噪声、燃气等）登记为事件并派往责任部门",
        skills=[
            Skill(
                id="report_event", modes=("report",), name="事件上报", input_model=SkillInput, handler=report_event,
                risk=RiskLevel.write,
                description="把市民反映的具体问题登记为城市事件，自动分类、定位并派单，返回事件编号",
                examples=["帮我报修一下，幸福路12号的路灯不亮了", "我要反映小区门口垃圾堆了好几天",
                          "请派人来看看，光谷大道那边井盖没了", "Please send someone, a manhole cover is missing"],
                cue_priority=90,
                cues=("报修", "帮我上报", "我要上报", "帮我登记", "我要反映", "帮我反映", "请派人", "快派人", "赶紧派人",
                      "麻烦派人", "派人来", "please send someone", "report this", "file a report"),
            ),
            Skill(
                id="event_query", modes=("data",), name="事件查询", input_model=SkillInput, handler=event_query,
                target_params=("district",),  # the district named (assistant/targets)
                roles=STAFF_ROLES_IDS,
                description="为城市管理者按区域、类别、状态、时间查询城市事件，列出事件编号并计数",
                examples=["东湖区现在有哪些未处理的积水事件", "光谷区这个月有多少井盖事件", "哪些事件超时了",
                          "昨天有多少待派单的事件", "最近三天已办结的路灯事件有哪些"],
                cue_priority=87,
                cues=("事件", "未处理", "待派单", "未派单", "处理中", "已办结", "未办结", "超时", "逾期", "积压",
                      "unresolved", "open events", "overdue", "pending dispatch", "events", "incidents"),
                cue_requires=("哪些", "多少", "几起", "几件", "几个", "数量", "列出", "查询", "查一下", "统计", "清单", "列表",
                              "情况", "有没有", "超时了", "逾期了", "how many", "which", "list"),
                route_weight=0.6,
            ),
            Skill(
                id="hotspot_insight", modes=("data", "briefing"), name="热点与趋势", input_model=SkillInput, handler=hotspot_insight,
                target_params=("district",),  # the district named (assistant/targets)
                roles=STAFF_ROLES_IDS,
                description="为城市管理者分析事件热点（类别、区域、地点）和显著上升的趋势；问今天的全市运行日报时给出日报",
                examples=["最近一周投诉最多的问题是什么", "哪个区的事件最多", "最近有什么上升趋势", "本月事件热点分析"],
                cue_priority=88,
                cues=("热点", "趋势", "上升", "增多", "高发", "最多", "排名", "前几", "集中在", "突出", "日报", "简报", "要情",
                      "briefing", "daily report", "hotspot", "trend", "运行情况", "运行状况", "运行态势", "运行要点",
                      "要紧事", "大事"),
                # a briefing of the day is the hotspots' (safety and waterlogging have their own cues)
                cue_requires=("事件", "投诉", "问题", "反映", "报修", "工单", "热点", "趋势", "日报", "简报", "要情",
                              "daily report", "hotspot", "complaint", "incident", "briefing", "今天", "今日", "today"),
                route_weight=0.6,
            ),
            Skill(
                id="event_status", modes=("event_status",), name="事件进度", input_model=SkillInput, handler=event_status,
                description="查询事件的处理进度：状态、责任部门、处理时限和办理过程；市民查自己在本次对话中上报的事件，"
                            "工作人员按事件编号查询",
                examples=["我报修的路灯处理得怎么样了", "我反映的问题有进展吗", "evt_01 现在什么状态",
                          "我上报的事件处理到哪一步了"],
                cue_priority=93,
                cues=("处理得怎么样", "处理的怎么样", "怎么样了", "进展", "进度", "什么状态", "啥状态", "状态",
                      "到哪一步", "处理到哪", "修好了吗", "处理了吗", "解决了吗", "有人管吗", "有人处理吗", "办理过程"),
                cue_requires=_OWN_EVENT,
                route_weight=0.5,
            ),
            Skill(
                id="event_action", modes=("event_status", "city_action"), name="事件办理", input_model=SkillInput, handler=event_action,
                risk=RiskLevel.write,
                description="工作人员按事件编号派单、受理、开始处理、办结、退回、结案、重新打开；"
                            "市民确认自己上报的已处置事件结案或要求重新办理",
                examples=["evt_01 受理", "evt_01 派给水务局", "evt_01 已处理", "问题已经解决了，可以结案",
                          "还是没修好，重新打开"],
                cue_priority=92,
                cues=("派单", "派给", "派到", "派往", "转派", "改派", "受理", "接单", "开始处理", "开始处置", "已处理",
                      "已处置", "处理完", "办结", "已修复", "退回", "派错", "结案", "重新打开", "重新处理", "重办",
                      "没修好", "没有修好", "还是没解决", "修好了", "已经解决"),
                cue_requires=("evt_", "结案", "重新打开", "重新处理", "重办", "没修好", "没有修好", "还是没解决"),
                route_weight=0.5, cue_only=True,
            ),
        ],
    )
