"""政务办公智能体 (office agent): the assistant's `office` mode for officials — drafting a document
(`drafting.draft`: text, 发文字号, citations, DOCX download), polishing a passage into the official
register, summarising a document, registering an incoming one (收文登记) and searching the register.
Staff only: a citizen asking gets the assistant's staff-only statement.

A chat request carries the text to work on after its instruction ("帮我把这段话改得正式一点：……",
"给这份文件写个摘要：\\n……"); a summary may also name a registered document (its 发文字号 or title).
"""

from __future__ import annotations

import re

from aicity.agents.base import Agent, NextAction, RiskLevel, Section, Skill, SkillContext, SkillInput, SkillResult
from aicity.agents.office import documents, drafting, intake, textwork
from aicity.agents.office.documents import DocumentError
from aicity.agents.office.registration import FIELDS, RegistrationError
from aicity.core.errors import Problem
from aicity.hub.knowledge.service import Citation
from aicity.identity.models import STAFF_ROLES

STAFF = frozenset(r.value for r in STAFF_ROLES)
#: the longest instruction before the text it applies to ("帮我润色一下这段话：……")
INSTRUCTION_CHARS = 60
#: documents listed by a search
LISTED = 10
#: characters of a draft shown in chat (the whole text is in the register and the DOCX)
CHAT_CHARS = 3000
#: a one-line register request at most this long describes a letter rather than pasting it
DESCRIBED_MAX_CHARS = 100
_LABELS = {"kind": "文种", "issuer": "发文机关", "doc_number": "发文字号", "title": "标题", "recipients": "主送机关",
           "date": "成文日期", "classification": "密级", "urgency": "紧急程度", "signer": "签发人", "attachments": "附件",
           "cc": "抄送", "suggested_departments": "建议承办部门", "deadline": "办理时限"}


def split_request(text: str) -> tuple[str, str]:
    """(instruction, the text it applies to): what follows the first colon or line break after a short
    instruction; ("", "") parts when there is none."""
    m = re.search(r"[：:\n]", text)
    if m and m.start() <= INSTRUCTION_CHARS and text[m.end():].strip():
        return text[:m.start()].strip(), text[m.end():].strip().strip("“”\"「」")
    return text.strip(), ""


def _ask_for(what: str, example: str) -> SkillResult:
    return SkillResult(sections=[Section(title="请提供文字", kind="clarify",
                                         body=f"请把要{what}的文字放在要求后面一起发给我，例如：{example}")])


def _doc_link(doc_id: str) -> str:
    return f"/api/v1/office/documents/{doc_id}/docx"


# ---------------------------------------------------------------- skills


def draft_skill(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    try:
        result = drafting.draft(inp.text, principal=ctx.principal)
    except (ValueError, Problem) as exc:
        detail = exc.detail if isinstance(exc, Problem) else str(exc)
        return SkillResult(sections=[Section(title="无法起草", body=detail, kind="refusal")])
    ctx.tracer.note("office-draft", kind=result.kind, doc_number=result.doc_number, document=result.document_id)
    citations = [c if isinstance(c, Citation) else Citation.model_validate(c) for c in result.citations]
    marks = "".join(f"[^{i}]" for i in range(1, len(citations) + 1))
    text = result.text if len(result.text) <= CHAT_CHARS else result.text[:CHAT_CHARS] + "……（全文见 DOCX）"
    head = f"**{result.title}**（{result.kind}，{result.doc_number or '未编号'}）"
    body = f"{head}\n\n```\n{text}\n```"
    if citations:
        body += f"\n\n依据：{marks}"
    actions = [NextAction(label="下载 DOCX", kind="link", value=_doc_link(result.document_id)),
               NextAction(label="在公文页面查看版式", kind="link", value="/#/office"),
               NextAction(label="润色这份公文", kind="fill", value="帮我把这段话改得正式一点：……")]
    return SkillResult(sections=[Section(title="公文草稿", body=body, kind="draft")], citations=citations,
                       next_actions=actions,
                       data={"document_id": result.document_id, "kind": result.kind, "title": result.title,
                             "doc_number": result.doc_number, "recipients": list(result.recipients),
                             "download": _doc_link(result.document_id)})


def polish_skill(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    _, text = split_request(inp.text)
    if not text:
        return _ask_for("润色", "帮我把这段话改得正式一点：希望大家赶紧把材料报上来。")
    out = textwork.polish(text, ctx.principal.role.value)
    rows = "\n".join(f"| {c['before'] or '（无）'} | {c['after'] or '（删除）'} | {c['rule']} |" for c in out["changes"][:30])
    body = out["text"]
    if rows:
        body += f"\n\n| 原文 | 改为 | 依据 |\n|---|---|---|\n{rows}"
    else:
        body += "\n\n（没有需要修改的地方）"
    return SkillResult(sections=[Section(title="润色结果", body=body, kind="polish")],
                       data={"text": out["text"], "changes": out["changes"], "writer": out["writer"]})


def _registered_text(query: str, ctx: SkillContext) -> tuple[str, str] | None:
    """(title, text) of a registered document the request names by 发文字号 or title words."""
    number = re.search(r"[\u4e00-\u9fa5]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\d+号", query)
    q = number.group(0) if number else re.sub(r"(给|帮我|请|写个|写一个|做个|摘要|概括|总结|这份|文件|公文|一下|的)", "", query)
    if not q.strip() or len(q) < 2:
        return None
    try:
        found = documents.list_documents(q=q.strip(), principal=ctx.principal, limit=1)
    except (DocumentError, Problem):
        return None
    return (found[0].title, found[0].text) if found else None


def summarize_skill(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    instruction, text = split_request(inp.text)
    title = ""
    if not text:
        named = _registered_text(instruction, ctx)
        if named is None:
            return _ask_for("摘要", "给这份文件写个摘要：（粘贴公文全文）；或写明已登记公文的发文字号")
        title, text = named
    out = textwork.summarize(text, ctx.principal.role.value)
    body = f"{out['summary']}\n\n关键词：{'、'.join(out['keywords'])}"
    return SkillResult(sections=[Section(title=f"摘要{('：' + title) if title else ''}", body=body, kind="summary")],
                       data=out)


#: how to ask for a letter to register
_REGISTER_EXAMPLE = "登记这份来文：（粘贴公文全文），或在公文页面上传 DOCX/PDF"


def register_skill(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    _, text = split_request(inp.text)
    if not text:
        return _ask_for("登记", _REGISTER_EXAMPLE)
    try:
        row = intake.register(principal=ctx.principal, text=text)
    except RegistrationError as exc:
        if exc.code == "not-a-document" and "\n" not in text and len(text) <= DESCRIBED_MAX_CHARS:
            # one short line about a letter (its issuer, 文号 or title) describes it; the document itself is still to
            # come (a longer text keeps the register's own reason: a flattened document, a web page)
            return _ask_for("登记", _REGISTER_EXAMPLE)
        return SkillResult(sections=[Section(title="无法登记", body=str(exc), kind="refusal")])
    fields = row.registration.fields()
    lines = [f"- {_LABELS[k]}：{'、'.join(v) if isinstance(v, list) else v}" for k in FIELDS
             if (v := fields[k]) not in (None, [], "")]
    return SkillResult(sections=[Section(title=f"已登记收文 {row.document.id}", body="\n".join(lines), kind="register")],
                       departments=fields["suggested_departments"][:1],
                       data={"document_id": row.document.id, **fields},
                       next_actions=[NextAction(label="在公文页面查看收文", kind="link", value="/#/office")])


def search_skill(inp: SkillInput, ctx: SkillContext) -> SkillResult:
    text = inp.text
    direction = "in" if re.search(r"收文|来文|收到", text) else "out" if re.search(r"发文|发出|印发|起草的", text) else None
    q = re.sub(r"(查一下|查找|查询|搜索|找一下|帮我|有没有|哪些|所有|最近|的|关于|收文|来文|发文|公文|文件|收到|发出|一下|列出|看看|[？?。，,])",
               " ", text).strip()
    q = max(q.split(), key=len) if q.split() else None
    found = documents.list_documents(direction, q, principal=ctx.principal, limit=LISTED)
    if not found and q:
        found = []
    if not found:
        return SkillResult(sections=[Section(title="公文检索", body=f"没有找到{('与“' + q + '”有关的') if q else ''}公文。",
                                             kind="search")], data={"documents": []})
    rows = "\n".join(f"| {'收文' if d.direction == 'in' else '发文'} | {d.doc_number or ''} | {d.title} | {d.date or ''} |"
                     f" {d.status} |" for d in found)
    body = f"| 方向 | 发文字号 | 标题 | 成文日期 | 状态 |\n|---|---|---|---|---|\n{rows}"
    return SkillResult(sections=[Section(title="公文检索", body=body, kind="search")],
                       data={"documents": [documents.as_json(d, with_text=False) for d in found]},
                       next_actions=[NextAction(label="在公文页面查看", kind="link", value="/#/office")])


def build() -> Agent:
    return Agent(
        id="office",
        name="政务办公智能体",
        department="gov_office",
        description="公文起草（GB/T 9704 版式、发文字号、法规依据、DOCX）、润色、摘要、收文登记和公文检索；面向工作人员",
        skills=[
            Skill(
                id="draft", modes=("office",), name="公文起草", input_model=SkillInput, handler=draft_skill,
                risk=RiskLevel.write, roles=STAFF,
                description="按 GB/T 9704 起草通知、请示、报告、函、纪要等公文，给出发文字号、依据条文和 DOCX",
                examples=["起草一份关于开展燃气安全检查的通知", "帮我写个请示，申请防汛物资经费", "拟一份函，商请水务局配合排查",
                          "起草一份关于汛期安全的通知", "写一份关于老旧小区改造的报告", "起草会议纪要，今天开的防汛调度会",
                          "Draft a notice about road closure for the marathon"],
                cue_priority=70,
                cues=("起草", "拟一份", "拟个", "拟一个", "写一份", "写个", "写一个", "帮我写", "draft", "write a"),
            ),
            Skill(
                id="polish", modes=("office",), name="公文润色", input_model=SkillInput, handler=polish_skill,
                roles=STAFF,
                description="把一段文字改成规范的公文语体：书面语、请示要求用语、日期数字写法、固定用语、标点",
                examples=["帮我把这段话改得正式一点", "润色一下这段文字", "把这段口语改成公文的语气", "帮我改改，读起来更正式",
                          "校对一下这份通知的用语", "Please polish this paragraph for an official letter"],
                cue_priority=75,
                cues=("润色", "正式一点", "正式些", "更正式", "书面语", "公文的语气", "公文语气", "改得规范", "改规范", "校对",
                      "改改", "polish"),
            ),
            Skill(
                id="summarize", modes=("office",), name="公文摘要", input_model=SkillInput, handler=summarize_skill,
                roles=STAFF,
                description="给公文写摘要、提炼关键词（可粘贴全文，或写明已登记公文的发文字号）",
                examples=["给这份文件写个摘要", "概括一下这份通知的要点", "帮我总结这个文件的主要内容", "提炼这份报告的关键词",
                          "把这份材料压缩成一段话", "Summarise this document"],
                cue_priority=76,
                cues=("摘要", "概括", "要点", "主要内容", "关键词", "提炼", "压缩", "summar"),
            ),
            Skill(
                id="register", modes=("office",), name="收文登记", input_model=SkillInput, handler=register_skill,
                risk=RiskLevel.write, roles=STAFF,
                description="登记收到的公文：提取文种、发文机关、发文字号、标题、主送、日期、密级、附件、抄送，建议承办部门和时限",
                examples=["登记这份来文", "帮我做个收文登记", "这份文件登记一下", "Register this incoming document"],
                cue_priority=77,
                cues=("收文登记", "登记收文", "登记这份", "登记一份", "登记一下", "做个登记", "帮我登记", "登记并",
                      # the verb, not the noun ("search the register for …")
                      "register this", "register the", "register a", "please register"),
            ),
            Skill(
                id="search", modes=("office",), name="公文检索", input_model=SkillInput, handler=search_skill,
                roles=STAFF,
                description="查找登记簿中的收文和发文（按标题、发文字号、正文）",
                examples=["查一下关于防汛的来文", "最近收到哪些文件", "查找江政办发〔2026〕12号", "有没有关于燃气安全的发文",
                          "Find the documents about flood control"],
                cue_priority=72,
                cues=("查一下", "查找", "检索", "搜索", "有没有", "收到哪些", "来文", "收文", "find the", "search", "look up"),
                cue_requires=("来文", "收文", "发文", "文件", "公文", "〔", "document"),
            ),
        ],
    )
