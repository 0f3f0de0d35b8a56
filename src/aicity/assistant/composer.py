"""Composition: many skill results become one answer with sections, numbered citations
(footnotes in the text, structured beside it) and next actions."""

from __future__ import annotations

import re

from pydantic import BaseModel

from aicity.agents.base import Clarification, NextAction, Section, SkillResult
from aicity.hub.knowledge.service import Citation

_MARKER = re.compile(r"\[\^(\d+)\]")
MAX_NEXT_ACTIONS = 5
NOT_UNDERSTOOD = ("抱歉，我没能理解您的问题。可以换个说法，例如“开便利店要办哪些手续”“公积金怎么提取”，"
                  "或拨打 12345 政务服务便民热线。")


class Composed(BaseModel):
    answer: str
    sections: list[Section]
    citations: list[Citation]
    departments: list[str]
    next_actions: list[NextAction]
    clarification: Clarification | None = None


def compose(results: list[SkillResult]) -> Composed:
    citations: list[Citation] = []
    sections: list[Section] = []
    for result in results:
        mapping: dict[int, int] = {}
        for local, cit in enumerate(result.citations, start=1):
            key = (cit.doc_key, cit.locator)
            found = next((i for i, c in enumerate(citations, 1) if (c.doc_key, c.locator) == key), None)
            if found is None:
                citations.append(cit)
                found = len(citations)
            mapping[local] = found
        for sec in result.sections:
            body = _MARKER.sub(lambda m, mapping=mapping: f"[^{mapping.get(int(m.group(1)), m.group(1))}]", sec.body)
            sections.append(sec.model_copy(update={"body": body}))
    departments = list(dict.fromkeys(d for r in results for d in r.departments))
    actions = list({a.value: a for r in results for a in r.next_actions}.values())[:MAX_NEXT_ACTIONS]
    clarification = next((r.clarification for r in results if r.clarification), None)
    return Composed(answer=render_markdown(sections, citations, clarification, len(results)), sections=sections,
                    citations=citations, departments=departments, next_actions=actions, clarification=clarification)


def render_markdown(sections: list[Section], citations: list[Citation], clarification: Clarification | None,
                    tasks: int) -> str:
    parts: list[str] = []
    if not sections and not clarification:
        return NOT_UNDERSTOOD
    if tasks > 1:
        parts.append(f"您的问题涉及 {tasks} 件事，分别说明如下。")
    if clarification:
        parts.append(clarification.question)
    for sec in sections:
        parts.append(f"## {sec.title}\n\n{sec.body}")
    return with_footnotes("\n\n".join(parts), citations)


def with_footnotes(text: str, citations: list[Citation]) -> str:
    """`text` followed by the footnote definitions of `citations` (numbered from 1)."""
    if not citations:
        return text
    return text + "\n\n" + "\n".join(f"[^{i}]: {footnote(c)}" for i, c in enumerate(citations, 1))


def footnote(c: Citation) -> str:
    """`《title》第X条 text…` on one line (a footnote cannot span paragraphs)."""
    text = c.text.replace("\n", " ")
    if text.startswith(c.locator):
        return f"《{c.doc}》{text}"
    article = c.locator.split()[0]  # a 款/项 quote opens with its article's number: not said twice
    body = text[len(article):].lstrip() if text.startswith(article) else text
    return f"《{c.doc}》{c.locator}：{body}"
