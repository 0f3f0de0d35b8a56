"""Knowledge operations (知识运营): is the knowledge center fresh, does it cover what people ask, and
which knowledge bases are used.

- **Freshness.** A document is due for review `REVIEW_DAYS` after its last review (an operator's,
  `review`), or after it was ingested when nobody has reviewed it yet, unless the review set another
  date; past that date it is overdue. Superseded texts (a document marked `superseded`, or replaced in
  `laws.yaml`) still cited — by catalog items' legal bases, or by answers given in the period (their
  provenance records' sources) — are listed with who cites them.
- **Coverage gaps.** Questions with no good passage: assistant runs that searched the knowledge base
  and found nothing, whose retrieving skill declined, or whose question's best passage (searched again
  now, as the asker's role) shares none of the words the question is about — the search's scores are
  relative, so a passage is always "best"; and unserved requests for which no
  governing law was found; clustered as in agent operations (agents.cluster).
- **Usage per knowledge base.** Documents and chunks, and the passages cited in answers in the period:
  how many, from how many documents, the most cited documents (not named for personal bases).

Everything is read through service functions: the knowledge center's (`list_kbs`, `list_documents`,
`document_stats`, `relations`), the catalog's, the traces', the provenance records' and the
assistant's unserved corpus.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from aicity.assistant import unserved
from aicity.core.db import database
from aicity.core.errors import bad_request
from aicity.core.ids import utcnow
from aicity.core.tracing import TraceRecord, recent_traces
from aicity.hub.catalog import service as catalog
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.relations import relations
from aicity.identity.service import Principal, parse_role
from aicity.ops import agents, corpus
from aicity.ops.centre_models import KbReview
from aicity.security import guard, provenance

#: a document is reviewed at least yearly (a demo-city assumption; a city sets its own cadence per document
#: with `review(next_review=…)`)
REVIEW_DAYS = 365
MAX_TRACES = 5000
TOP_DOCUMENTS = 5
#: words any legal or service question uses: they say what kind of answer is wanted, not what it is about
GENERIC_WORDS = frozenset("法律 法规 规定 条例 办法 什么 怎么 怎样 如何 哪些 是否 能不能 可不可以 可以 需要 合法 违法 犯法 "
                          "处罚 罚款 责任 条件 手续 办理 申请 要求 问题 有关 相关 依据 国家".split())
#: a review may be set at most this far ahead
MAX_AHEAD_DAYS = 5 * 366


def review(kb: str, key: str, principal: Principal, next_review: date | None = None, note: str = "") -> dict[str, Any]:
    """Record that a document was reviewed today; due again at `next_review` (default: in REVIEW_DAYS)."""
    corpus.require_operator(principal)
    knowledge.document_chunks(kb, key)  # 404 for an unknown document
    today = utcnow().date()
    due = next_review or today + timedelta(days=REVIEW_DAYS)
    if not today < due <= today + timedelta(days=MAX_AHEAD_DAYS):
        raise bad_request(f"下次审核日期须在今天之后、{MAX_AHEAD_DAYS} 天以内 / the next review must be after today "
                          "and within five years", "bad-review-date")
    with database().session() as s:
        row = s.scalar(select(KbReview).where(KbReview.kb == kb, KbReview.key == key))
        if row is None:
            row = KbReview(kb=kb, key=key)
            s.add(row)
        row.reviewed_at, row.reviewed_by, row.next_review = utcnow(), principal.actor, due
        row.note = str(guard.redact(note))[:500]
        return {"kb": kb, "key": key, "reviewed_at": row.reviewed_at.isoformat(), "reviewed_by": row.reviewed_by,
                "next_review": due.isoformat(), "note": row.note}


def _reviews() -> dict[tuple[str, str], KbReview]:
    with database().session() as s:
        return {(r.kb, r.key): r for r in s.scalars(select(KbReview))}


def _overdue(documents: list[Any], today: date) -> list[dict[str, Any]]:
    reviews = _reviews()
    out = []
    for doc in documents:
        done = reviews.get((doc.kb, doc.key))
        due = done.next_review if done else doc.created_at.date() + timedelta(days=REVIEW_DAYS)
        if due < today:
            out.append({"kb": doc.kb, "key": doc.key, "title": doc.title, "due": due.isoformat(),
                        "days_overdue": (today - due).days,
                        "last_reviewed": done.reviewed_at.date().isoformat() if done else None})
    return sorted(out, key=lambda r: -r["days_overdue"])


def _answer_sources(traces: list[TraceRecord]) -> list[tuple[str, str]]:
    """(trace id, cited document title) for every passage cited in these answers."""
    out = []
    for trace in traces:
        record = provenance.get_record(trace.id)
        for source in (record.sources if record is not None else []) or []:
            if source.get("doc"):
                out.append((trace.id, str(source["doc"])))
    return out


def _superseded_cited(documents: list[Any], cited: list[tuple[str, str]]) -> list[dict[str, Any]]:
    replaced = relations().superseded
    old = {d.key: d for d in documents if d.status == "superseded" or d.key in replaced}
    by_title = {d.title: d.key for d in old.values()} | {k: k for k in old}
    in_catalog: dict[str, list[str]] = defaultdict(list)
    for entry, ref in catalog.catalog().legal_refs():
        if ref.doc in old:
            in_catalog[ref.doc].append(f"{entry} {ref.article}")
    in_answers: dict[str, list[str]] = defaultdict(list)
    for trace_id, title in cited:
        if title in by_title:
            in_answers[by_title[title]].append(trace_id)
    return [{"key": key, "title": doc.title, "kb": doc.kb,
             "superseded_by": doc.superseded_by or replaced.get(key),
             "catalog": sorted(set(in_catalog[key])), "answers": len(in_answers[key]),
             "answer_traces": list(dict.fromkeys(in_answers[key]))[:10]}
            for key, doc in sorted(old.items()) if in_catalog[key] or in_answers[key]]


def _no_good_passage(trace: TraceRecord) -> str | None:
    """Why a run that looked in the knowledge base had no good passage: it found none, the skill that
    looked declined, or the best passage the question finds now shares none of the words the question is
    about (GENERIC_WORDS aside); else None."""
    steps = trace.steps or []
    retrieved = [s for s in steps if s.get("name") == "retrieval"]
    text = str((trace.request or {}).get("text") or "")
    if not retrieved or not text:
        return None
    if any(int(s.get("hits") or 0) == 0 for s in retrieved):
        return "no_passage"
    if any(s.get("name") == "skill" and s.get("abstained") for s in steps):
        return "declined"
    topic = _topic(text)
    hits = knowledge.search(text, Principal(role=parse_role(trace.role)), top_k=1)
    return None if not topic or (hits and topic & _topic(hits[0].text)) else "off_topic"


def _topic(text: str) -> set[str]:
    """What a text is about: its search words of two characters or more, less the generic ones."""
    return {t for t in knowledge.query_tokens(text) if len(t) >= 2 and t not in GENERIC_WORDS}


def coverage(traces: list[TraceRecord]) -> dict[str, Any]:
    """The questions with no good passage, clustered."""
    items = [(str((t.request or {}).get("text") or ""), why) for t in traces[:agents.MAX_CLUSTERED]
             if (why := _no_good_passage(t)) is not None]
    items += [(r["text"], "unserved_no_law") for r in unserved.recent(agents.MAX_CLUSTERED) if not r.get("law")]
    retrievals = sum(1 for t in traces for step in t.steps or [] if step.get("name") == "retrieval")
    return {"retrievals": retrievals, "questions": len(items),
            "clusters": agents.cluster(items[:agents.MAX_CLUSTERED])}


def usage(documents: list[Any], cited: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per knowledge base: its size, and the passages of it cited in answers."""
    kb_of = {d.title: d.kb for d in documents} | {d.key: d.kb for d in documents}
    per_kb: dict[str, Counter[str]] = defaultdict(Counter)
    for _, title in cited:
        if title in kb_of:
            per_kb[kb_of[title]][title] += 1
    out = []
    for kb in knowledge.list_kbs():
        counts = per_kb.get(kb.id, Counter())
        size = knowledge.document_stats({kb.id})
        out.append({"kb": kb.id, "name": kb.name, "level": kb.level, **size,
                    "citations": sum(counts.values()), "cited_documents": len(counts),
                    "uncited_documents": max(size["documents"] - len(counts), 0),
                    "top": [] if kb.level == "personal" else [{"doc": d, "citations": n}
                                                              for d, n in counts.most_common(TOP_DOCUMENTS)]})
    return sorted(out, key=lambda r: (-r["citations"], r["kb"]))


def report(days: int = 30) -> dict[str, Any]:
    """Freshness, coverage gaps and usage per knowledge base over the last `days` days."""
    now = utcnow()
    traces = recent_traces(MAX_TRACES, kind="assistant", since=now - timedelta(days=days))
    documents = knowledge.list_documents()
    cited = _answer_sources(traces)
    return {"days": days, "generated_at": now.isoformat(), "documents": len(documents), "answers": len(traces),
            "review_days": REVIEW_DAYS,
            "freshness": {"overdue": _overdue(documents, now.date()),
                          "superseded_cited": _superseded_cited(documents, cited)},
            "coverage": coverage(traces), "usage": usage(documents, cited)}
