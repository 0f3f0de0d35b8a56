"""Government-service agent (政务服务智能体): consult and guide, one-thing bundles,
application pre-check, and proactive suggestions for life events."""

from __future__ import annotations

import re

from pydantic import Field

from aicity.agents.base import (
    Agent,
    Clarification,
    NextAction,
    Option,
    Route,
    Section,
    Skill,
    SkillContext,
    SkillInput,
    SkillResult,
)
from aicity.agents.citing import CitationList
from aicity.agents.gov_service import render, slots
from aicity.core.text import tokenize
from aicity.hub.catalog import service as catalog
from aicity.hub.catalog.schemas import Material, ServiceItem
from aicity.hub.knowledge import service as knowledge
from aicity.identity import service as identity


class TargetInput(SkillInput):
    item: str | None = Field(default=None, description="service item id, e.g. market.individual_business_registration")
    bundle: str | None = Field(default=None, description="one-thing bundle id, e.g. convenience_store")


class LifeEventInput(SkillInput):
    life_event: str | None = Field(default=None, description="life event id, e.g. newborn")
    policy: str | None = Field(default=None, description="support policy id, e.g. individual_business_support")




# --- consult and guide (咨询导办) -------------------------------------------------------


def _item_routes() -> list[Route]:
    return [
        Route(f"{i.name} {i.name} {i.name_en} {' '.join(i.keywords)} {' '.join(i.keywords)} {i.summary}",
              (("item", i.id),), tuple(i.audience))
        for i in catalog.catalog().items.values()
    ]


def guide(inp: TargetInput, ctx: SkillContext) -> SkillResult:
    if inp.bundle:
        return bundle(inp, ctx)
    if not inp.item:
        return _no_target()
    item = catalog.get_item(inp.item)
    cites = CitationList()
    sections = render.item_sections(item, cites)
    # policies that name this service and fit the asker; a life event's policies answer a question about
    # the life event (开店创业 → every start-up policy), not one about a single item of it
    pol = _fitting(catalog.policies_for([item.id]), ctx)
    if pol:
        sections.append(_policy_section(pol, cites))
    actions = [NextAction(label="预审我的材料", kind="fill", value=f"我要办{item.name}，我已经准备了……，还缺什么？")]
    actions += [NextAction(label=f"相关：{b.name}", value=f"{b.name}怎么办？")
                for b in catalog.catalog().bundles.values() if any(s.item == item.id for s in b.items)][:2]
    return SkillResult(sections=sections, citations=cites.citations, departments=[item.department],
                       next_actions=actions, data={"item": item.id})


def _no_target() -> SkillResult:
    return SkillResult(
        sections=[Section(title="需要更具体一点", kind="clarify",
                          body="没能确定您要办理的事项。请说一下具体要办什么，例如“个体工商户营业执照怎么办”。")],
    )


def _fitting(policies: list, ctx: SkillContext) -> list:
    """The policies whose audience includes the asker (a resident or an enterprise; staff see all)."""
    role = ctx.principal.role.value
    return [p for p in policies if role not in ("citizen", "enterprise") or role in p.audience]


def _policy_section(policies: list, cites: CitationList) -> Section:
    lines = []
    for p in policies:
        basis = cites.refs(p.legal_basis[:1])
        mark = render.DEMO_MARK if p.demo_assumptions else ""
        lines.append(f"- **{p.name}**{mark}：{p.summary}" + (f"（{basis}）" if basis else ""))
    return Section(title="可享受的扶持政策", body="\n".join(lines), kind="policies")


# --- which policies fit (政策匹配) ------------------------------------------------------------


def _policy_routes() -> list[Route]:
    return [
        Route(f"{p.name} {p.name} {p.name_en or ''} {' '.join(p.keywords)} {' '.join(p.keywords)} {p.summary}",
              (("policy", p.id),), tuple(p.audience))
        for p in catalog.catalog().policies.values()
    ]


def policy_match(inp: LifeEventInput, ctx: SkillContext) -> SkillResult:
    """The support policy the request fits, with how to apply; the items and bundles it goes with."""
    policy = catalog.catalog().policies.get(inp.policy or "")
    if policy is None:
        return SkillResult(sections=[Section(
            title="没有找到匹配的政策", kind="policies",
            body="没能确定符合您情况的扶持政策。请说一下您的身份和情况（例如“刚毕业来本市就业”“新开的个体户”），"
                 "或在“一网通办”惠企惠民政策专区查询。")])
    cites = CitationList()
    sections = [_policy_section([policy], cites)]
    if policy.how_to_apply:
        sections.append(Section(title="怎么申请", body=f"{policy.how_to_apply}（受理部门："
                                f"{identity.department_name(policy.department)}）", kind="policies"))
    related = [catalog.catalog().items[i].name for i in policy.applies_to if i in catalog.catalog().items][:3]
    actions = [NextAction(label=f"{name}怎么办", value=f"{name}怎么办？") for name in related[:2]]
    return SkillResult(sections=sections, citations=cites.citations, departments=[policy.department],
                       next_actions=actions, data={"policy": policy.id})


# --- one-thing bundles (高效办成一件事) ----------------------------------------------------


def _bundle_routes() -> list[Route]:
    return [
        Route(f"{b.name} {b.name} {b.name_en} {' '.join(b.keywords)} {' '.join(b.keywords)} {b.summary}",
              (("bundle", b.id),), tuple(b.audience))
        for b in catalog.catalog().bundles.values()
    ]


def bundle(inp: TargetInput, ctx: SkillContext) -> SkillResult:
    if not inp.bundle:
        return guide(inp, ctx) if inp.item else _no_target()
    b = catalog.get_bundle(inp.bundle)
    values, missing = slots.fill(b.slots, inp.text, ctx.slots)
    if missing and ctx.may_ask:
        question = "为了给您准确的清单，请先确认：" + " ".join(f"{i}. {s.question}" for i, s in enumerate(missing, 1))
        options = [Option(value=f"{s.id}={o.value}", label=o.label) for s in missing for o in s.options]
        always = catalog.bundle_items(b, values)  # what applies whatever the answers
        preview = "确定要办的：" + "、".join(i.name for i, _ in always) if always else ""
        maybe = _branch_items(b, missing, values)
        if maybe:  # the answer names every department the bundle may involve, a branch's marked as depending on it
            preview += ("\n\n" if preview else "") + "视您的情况可能还要办：" + "、".join(
                f"{i.name}（{identity.department_name(i.department)}）" for i in maybe)
        return SkillResult(
            sections=[Section(title=b.name, body=b.summary + ("\n\n" + preview if preview else ""), kind="overview")],
            clarification=Clarification(slot=",".join(s.id for s in missing), question=question, options=options),
            departments=list(dict.fromkeys(i.department for i in [*(i for i, _ in always), *maybe])),
            data={"bundle": b.id, "slots": values, "possible_departments": _possible([i for i, _ in always], maybe)},
        )
    cites = CitationList()
    steps = catalog.bundle_items(b, values)
    lines = [render.item_line(n, item, note, cites) for n, (item, note) in enumerate(steps, 1)]
    sections = [Section(title=b.name, body=b.summary + _slot_summary(b, values), kind="overview"),
                Section(title="办理步骤（按顺序）", body="\n".join(lines), kind="steps")]
    if missing:  # asked once already: cover every branch instead of asking again
        sections.append(_branches(b, missing, values, cites))
    materials = _merged_materials([i for i, _ in steps])
    sections.append(Section(title="材料清单（合并去重，一次提交）", kind="materials",
                            body="\n".join(f"- {m.name}" + ("" if m.required else "（视情况）") for m in materials)))
    overall = [f"- 整体时限：{render.time_limit_text(b.time_limit, b)}"] if b.time_limit else []
    if b.online_note:
        overall.append(f"- 线上办理：{b.online_note}{render.demo_mark(b, 'online_note')}")
    overall += [f"- {t}" for t in b.tips]
    if overall:
        sections.append(Section(title="时限与提醒", body="\n".join(overall), kind="info"))
    pol = _fitting([catalog.catalog().policies[p] for p in b.policies] + [
        p for p in catalog.policies_for([b.id]) if p.id not in b.policies], ctx)
    if pol:
        sections.append(_policy_section(pol, cites))
    basis = cites.refs(b.legal_basis)
    if basis:
        sections.append(Section(title="一件事依据", body=basis, kind="legal"))
    branch = _branch_items(b, missing, values) if missing else []
    departments = list(dict.fromkeys(i.department for i in [*(i for i, _ in steps), *branch]))
    actions = [NextAction(label="预审我的材料", kind="fill", value=f"办{b.name}，我已经准备了……，还缺什么？")]
    actions += [NextAction(label=f"{i.name}详细说明", value=f"{i.name}需要什么材料？") for i, _ in steps[:2]]
    return SkillResult(sections=sections, citations=cites.citations, departments=departments,
                       next_actions=actions, data={"bundle": b.id, "slots": values, "items": [i.id for i, _ in steps],
                                                      "possible_departments": _possible([i for i, _ in steps], branch)})


def _slot_summary(b, values: dict[str, str]) -> str:
    said = []
    for s in b.slots:
        label = next((o.label for o in s.options if o.value == values.get(s.id)), None)
        if label:
            said.append(label)
    return f"\n\n按您的情况（{'、'.join(said)}）整理如下。" if said else ""


def _possible(sure: list[ServiceItem], maybe: list[ServiceItem]) -> list[str]:
    """The departments only of steps that apply for some answers (`maybe`), none of the `sure` steps' departments."""
    known = {i.department for i in sure}
    return list(dict.fromkeys(i.department for i in maybe if i.department not in known))


def _branch_items(b, missing, values: dict[str, str]) -> list[ServiceItem]:
    """The bundle's items that apply only for some answer to the `missing` questions (the rest already answered)."""
    open_ids = {s.id for s in missing}
    return [catalog.get_item(step.item) for step in b.items
            if step.when and set(step.when) & open_ids
            and all(values.get(k) == v for k, v in step.when.items() if k not in open_ids)]


def _branches(b, missing, values: dict[str, str], cites: CitationList) -> Section:
    lines = []
    for s in missing:
        for o in s.options:
            extra = [step for step in b.items if step.when.get(s.id) == o.value]
            names = "、".join(catalog.get_item(step.item).name for step in extra) or "无需另办"
            lines.append(f"- 如果{o.label}：{names}")
    return Section(title="视情况还需办理", body="\n".join(lines), kind="branches")


def _merged_materials(items: list[ServiceItem]) -> list[Material]:
    seen: dict[str, Material] = {}
    for item in items:
        for m in item.materials:
            if m.name not in seen or (m.required and not seen[m.name].required):
                seen[m.name] = m
    return list(seen.values())


# --- application pre-check (智能预审) ------------------------------------------------------


_HAVE_MARK = re.compile(r"(?:已经有|已有|手上有|手里有|手头有|手头上有|手边有|准备好了|准备了|带了|拿到了|有了|我有|现在有|i have|i've got)(.+?)(?:[，,。；;]?\s*(?:还缺|缺|够不够|齐不齐|齐全|what|is that)|$)",
                        re.IGNORECASE)
_PARTS = re.compile(r"及|和|、|或|以及|/")


def _what_user_has(text: str) -> str:
    """The part of the request that lists what the user already has (all of it if unmarked)."""
    found = _HAVE_MARK.findall(text)
    return "，".join(found) if found else text


#: a later clause listing documents before saying they are at hand ("身份证和租赁合同都有了")
_HAVE_AFTER = re.compile(r"(?<=[，,。；;])[^，,。；;]*?(?:都有了|都有|都带了|带齐了|都准备好了|都拿到了|我拿到了)")


def _without_what_user_has(text: str) -> str:
    """The request minus its list of documents: what remains names the service."""
    return _HAVE_MARK.sub("", _HAVE_AFTER.sub("", text)) or text


def _has(material: Material, have: str) -> bool:
    """Every part of the material's name ('委托书及代理人身份证件' has two) must be in what
    the user has: literally, through a synonym group, or by most of its words."""
    have_tokens = set(tokenize(have))
    for part in _PARTS.split(material.name.split("（")[0]):
        if not part:
            continue
        if part in have or knowledge.synonyms().related(part, have):
            continue
        core = {t for t in tokenize(part) if len(t) >= 2}
        if not core or len(core & have_tokens) / len(core) < 0.6:
            return False
    return True


def precheck(inp: TargetInput, ctx: SkillContext) -> SkillResult:
    if inp.bundle:
        b = catalog.get_bundle(inp.bundle)
        values, missing = slots.fill(b.slots, inp.text, ctx.slots)
        # which of the bundle's items apply depends on what the request does not say: the item it names is checked
        # instead, or the bundle's own question is asked (never "材料已齐" over a list that is not known yet)
        if missing and inp.item:
            return precheck(inp.model_copy(update={"bundle": None}), ctx)
        if missing and ctx.may_ask:
            return bundle(inp, ctx)
        items = [i for i, _ in catalog.bundle_items(b, values)]
        title = b.name
        unsettled = _branch_items(b, missing, values)  # asked no question: what the unsaid answers may add
    elif inp.item:
        items = [catalog.get_item(inp.item)]
        title = items[0].name
        unsettled = []
    else:
        return _no_target()
    said = _what_user_has(inp.text)
    materials = _merged_materials(items)
    have = [m for m in materials if _has(m, said)]
    lacking = [m for m in materials if m.required and m not in have]
    optional = [m for m in materials if not m.required and m not in have]
    lines = ["**已具备：** " + ("、".join(m.name for m in have) or "（没有识别到您已有的材料）"),
             "**还缺（必需）：** " + ("、".join(m.name for m in lacking) or "无，必需材料已齐全")]
    if optional:
        lines.append("**视情况提供：** " + "、".join(m.name for m in optional))
    if unsettled:
        lines.append("**视您的情况可能还要办：** " + "、".join(i.name for i in unsettled) + "（说明情况后可一并预审）")
    verdict = f"还缺 {len(lacking)} 项必需材料，补齐后再提交可一次办成。" if lacking else (
        "已确定要办的事项材料已齐；其余取决于您的情况。" if unsettled else "材料已齐，可以提交申请。")
    body = verdict + "\n\n" + "\n".join(lines) if materials else "还不能确定要哪些材料：请说明您的具体情况后再预审。"
    cites = CitationList()
    basis = cites.refs([ref for i in items for ref in i.legal_basis[:1]])
    sections = [Section(title=f"预审：{title}", body=body, kind="precheck")]
    if basis:
        sections.append(Section(title="依据", body=basis, kind="legal"))
    return SkillResult(sections=sections, citations=cites.citations,
                       departments=list(dict.fromkeys(i.department for i in items)),
                       data={"have": [m.name for m in have], "missing": [m.name for m in lacking]})


# --- proactive service (主动服务) ------------------------------------------------------------


def _life_event_routes() -> list[Route]:
    return [Route(f"{e.name} {e.name_en or ''} {' '.join(e.triggers)}", (("life_event", e.id),))
            for e in catalog.catalog().life_events.values()]


def _proactive_routes() -> list[Route]:
    return [*_life_event_routes(), *_policy_routes()]


def proactive(inp: LifeEventInput, ctx: SkillContext) -> SkillResult:
    if inp.policy or (not inp.life_event and ctx.mode == "policy"):
        return policy_match(inp, ctx)
    events = catalog.catalog().life_events
    event = events.get(inp.life_event or "")
    if event is None:
        return _no_target()
    cat = catalog.catalog()
    lines, departments = [], []
    for n, sug in enumerate(event.suggestions, 1):
        if sug.bundle:
            b = cat.bundles[sug.bundle]
            lines.append(f"{n}. **{b.name}**（一件事，多个事项一次办）：{sug.why}")
            departments += [cat.items[s.item].department for s in b.items]
        else:
            item = cat.items[sug.item]
            lines.append(f"{n}. **{item.name}**（{identity.department_name(item.department)}）：{sug.why}")
            departments.append(item.department)
    cites = CitationList()
    sections = [Section(title=f"{event.name}：您可能需要办理", body="\n".join(lines), kind="proactive")]
    pol = catalog.policies_for([event.id, *(s.item or s.bundle for s in event.suggestions)])
    if pol:
        sections.append(_policy_section(pol, cites))
    actions = [NextAction(label=f"怎么办：{(cat.bundles[s.bundle].name if s.bundle else cat.items[s.item].name)}",
                          value=f"{cat.bundles[s.bundle].name if s.bundle else cat.items[s.item].name}怎么办？")
               for s in event.suggestions[:3]]
    return SkillResult(sections=sections, citations=cites.citations, departments=list(dict.fromkeys(departments)),
                       next_actions=actions, data={"life_event": event.id})


def build() -> Agent:
    return Agent(
        id="gov_service",
        name="政务服务智能体",
        department="data_bureau",
        description="政务服务咨询导办、高效办成一件事、申请材料智能预审、生活事件主动服务",
        skills=[
            Skill(
                id="guide", modes=("service_guide",), name="咨询导办", input_model=TargetInput, handler=guide, target_params=("item",),
                cue_priority=50,
                cues=("怎么办", "怎么申请", "怎么弄", "咋办", "咋弄", "如何办理", "如何申请", "去哪办", "去哪里办", "在哪办",
                      "去哪领", "在哪领", "去哪申请", "在哪申请", "哪里申请", "哪里办", "怎么报名", "要带", "带什么", "带啥", "需要什么材料", "要什么材料", "哪些材料", "多久",
                      "几天", "怎么收费", "多少钱", "怎么取", "怎么提取", "能改吗", "怎么改", "能报", "怎么领", "怎么交",
                      "可以申请", "能申请", "取出来", "提出来", "能不能取", "能领", "how do i", "how can i", "how to", "how long", "where do i",
                      "what documents", "can i"),
                description="说明一个政务服务事项的条件、材料、流程、时限、收费与法律依据",
                examples=["怎么办理营业执照", "办这个需要什么材料", "在哪里办，要多久", "需要带哪些证件",
                          "How do I apply for a business licence?", "What documents do I need?"],
                routes=_item_routes,
            ),
            Skill(
                id="bundle", modes=("bundle",), name="高效办成一件事", input_model=TargetInput, handler=bundle, target_params=("bundle",),
                description="把一件事涉及的多个事项、多个部门合并成一张清单：顺序、材料、时限、政策",
                examples=["需要办哪些手续", "要跑哪些部门", "一件事怎么办", "开店要办什么证",
                          "What permits do I need to open a shop?"],
                cue_priority=60,
                cues=("哪些手续", "什么手续", "手续有哪些", "哪些证", "什么证", "证照", "哪些事项", "全部事项", "要办啥",
                      "要办哪些", "办哪些", "都要办", "跑哪些部门", "一件事", "一起办", "一次办", "一次申请", "一起转",
                      "哪些审批", "哪些流程", "流程有哪些", "要走哪些", "从头到尾", "一条龙", "一站式", "一起", "what licenses", "what permits",
                      "what do we need to", "everything i need"),
                routes=_bundle_routes,
            ),
            Skill(
                id="precheck", modes=("precheck",), name="智能预审", input_model=TargetInput, handler=precheck, target_params=("item", "bundle"),
                description="对照事项要求，判断用户已有的材料还缺什么",
                examples=["我已经准备了身份证和租房合同还缺什么", "材料齐不齐", "帮我预审一下材料",
                          "I have my ID card, what am I missing?"],
                cue_priority=90,
                cue_requires=("有", "带了", "准备", "手上", "手里", "拿到", "have", "got", "brought"),
                target_text=_without_what_user_has,
                cues=("还缺", "缺什么", "缺哪些", "缺啥", "还差", "差什么", "差啥", "齐了吗", "齐不齐", "齐全吗", "够不够",
                      "够了吗", "够吗", "够了没", "还要准备别的", "还需要准备别的", "还要带别的", "预审", "what am i missing",
                      "is that enough", "anything else i need"),
            ),
            Skill(
                id="proactive", modes=("bundle", "policy"), name="主动服务", input_model=LifeEventInput,
                handler=proactive, route_weight=0.6,
                target_params=("life_event", "policy"),
                mode_targets={"bundle": ("life_event",), "policy": ("policy",)},
                description="根据用户的人生事件（生孩子、退休、入学、买房、失业…）主动推荐要办的事和可享受的政策；"
                            "按用户的身份和情况匹配可以享受的扶持、补贴和优惠政策",
                examples=["家里刚发生一件大事还要办些什么", "接下来还需要办什么", "有什么要提前办的",
                          "What else should I take care of?"],
                cue_priority=75,
                cues=("接下来", "后面还要", "还要办什么", "还需要办什么", "还要办哪些", "该办些什么",
                      "有什么要办", "有什么手续要办", "有什么该办", "有啥需要", "提前准备", "要提前办",
                      "需要注意什么", "能申请些什么", "能帮他们申请", "what should i do", "what else should"),
                routes=_proactive_routes,
            ),
        ],
    )
