"""Policy and law agent (政策法规智能体): answers from the knowledge base, quoting articles."""

from __future__ import annotations

from pydantic import Field

from aicity.agents.base import Agent, Route, Section, Skill, SkillContext, SkillInput, SkillResult
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.extractive import extractive_answer

#: how many articles an answer quotes
QUOTED_ARTICLES = 3


class LegalQuestion(SkillInput):
    top_k: int = Field(default=QUOTED_ARTICLES, ge=1, le=10)
    docs: str | None = Field(default=None, description="comma-separated document keys to search within")


def _law_routes() -> list[Route]:
    return [Route(f"{d.key} {d.title} 规定", ()) for d in knowledge.list_documents({knowledge.GLOBAL_KB})]


def answer_from_kb(inp: LegalQuestion, ctx: SkillContext, docs: set[str] | None = None,
                   title: str = "法规依据") -> SkillResult:
    """The rule first, then the governing provision quoted and the other passages found (only from
    `docs` when given); a superseded or overridden provision is never presented as the rule."""
    with ctx.tracer.step("retrieval", source="knowledge", top_k=inp.top_k) as step:
        found = extractive_answer(inp.text, ctx.principal, top_k=inp.top_k, docs=docs, tracer=ctx.tracer)
        step["hits"] = len(found.citations)
    if not found.citations:  # the guard's notice, when it withheld what was found
        body = "\n".join(["知识库中没有找到与问题相关的条文，建议咨询12345政务服务热线。", *found.notes])
        return SkillResult(sections=[Section(title=title, kind="legal", body=body)], data={"abstained": True})
    return SkillResult(sections=[Section(title=title, body=found.answer, kind="legal")],
                       citations=found.citations, data={"hits": len(found.citations)})


def legal_qa(inp: LegalQuestion, ctx: SkillContext) -> SkillResult:
    docs = set(inp.docs.split(",")) if inp.docs else None
    return answer_from_kb(inp, ctx, docs)


def build() -> Agent:
    return Agent(
        id="policy",
        name="政策法规智能体",
        department="gov_office",
        description="依据法律法规知识库回答政策法规问题，逐条引用原文",
        skills=[
            Skill(
                id="legal_qa", modes=("legal",), name="法规问答", input_model=LegalQuestion, handler=legal_qa,
                description="检索法律法规原文并引用条款回答",
                examples=["法律是怎么规定的", "违反规定会怎么处罚", "有没有法律依据", "罚款多少", "合法吗",
                          "法律责任是什么", "What does the law say about this?", "Is it legal to"],
                cue_priority=70,
                cues=("法律规定", "法规定", "条例规定", "法律怎么说", "法律上", "按法律", "怎么规定", "有什么规定", "哪条法律", "依据什么",
                      "处罚", "罚款", "罚多少", "合法吗", "违法吗", "合不合法", "违不违法", "犯法", "法律责任",
                      "什么责任", "赔偿", "判", "is it legal", "illegal", "penalty", "what does the law"),
                routes=_law_routes,
            )
        ],
    )
