"""The corpus centre (语料中心): what people said about answers and what operators corrected become
labelled examples, reviewed, then frozen in numbered versions that a retraining reads.

- **From feedback** (`collect`): every 👍/👎 on an answer (`ops_feedback`, agents.py) proposes its
  request once. A 👍 proposes the mode the assistant understood (the trace's); a 👎 proposes the
  request without a label, with the person's reason: a reviewer must say the right mode to accept it.
- **Corrections** (`correct`): an operator says what the right mode (and optionally skill and target)
  was for a trace, or for a request text.
- **Review** (`accept`, `reject`): operators and admins; accepting needs a label (the reviewer's or
  the proposal's) among the assistant's modes.
- **Versions** (`freeze`): a snapshot of every accepted example of one kind at that moment, numbered
  1, 2, … (across kinds); a version never changes afterwards, so a model names exactly what it learnt from.

Two kinds of examples: `modes` (a request and the assistant's mode, for the mode router) and `events`
(a citizen's report and its event category, for the events classifier). An event's correction by
staff (`POST /api/v1/events/{id}/correction`) is announced as `events.corrected`; `on_event_corrected`
(a durable subscription: once in the city) proposes the report with the corrected category. A city's
older corrections file (`<data dir>/training/events_corrections.jsonl`, which the classifier used to
learn from unreviewed) is proposed by `collect(kind="events")`, each row once.

Requests come from the traces, which keep them with personal information masked (guard.redact);
a correction's own text and every note are masked here before they are stored.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from aicity.assistant import modes as mode_data
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request, not_found
from aicity.core.ids import new_id, utcnow
from aicity.core.text import normalize
from aicity.core.tracing import get_trace
from aicity.hub.events import classify as event_classify
from aicity.hub.events import service as event_service
from aicity.identity.models import Role
from aicity.identity.service import Principal, require_operator
from aicity.ops import agents
from aicity.ops.centre_models import CorpusItem, CorpusVersion
from aicity.security import guard

TEXT_CHARS = 2000
NOTE_CHARS = 500
STATUSES = ("pending", "accepted", "rejected")
MODES, EVENTS = "modes", "events"
KINDS = (MODES, EVENTS)
#: a city's corrections file from before the corpus centre (read once by `collect`, never by the classifier)
LEGACY_EVENTS_FILE = "events_corrections.jsonl"
#: how the corpus centre reads a corrected event (the description, with personal information masked here)
READER = Principal(role=Role.admin, key_id="ops-corpus")
def _mask(text: str, limit: int) -> str:
    return str(guard.redact(normalize(text)))[:limit]


def _check_mode(mode: str) -> str:
    if mode not in mode_data.modes():
        raise bad_request(f"未知的模式 '{mode}'，可选：{', '.join(mode_data.modes())} / unknown mode", "unknown-mode")
    return mode


def _check_category(category: str) -> str:
    if category not in event_classify.categories():
        raise bad_request(f"未知的事件类别 '{category}' / unknown event category", "unknown-category",
                          allowed=sorted(event_classify.categories()))
    return category


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise bad_request(f"kind 只能是 {', '.join(KINDS)} / unknown corpus kind", "unknown-corpus-kind")
    return kind


def item_json(row: CorpusItem) -> dict[str, Any]:
    return {"id": row.id, "created_at": row.created_at.isoformat(), "kind": row.kind, "source": row.source,
            "trace_id": row.trace_id, "event_id": row.event_id,
            "text": row.text, "role": row.role, "predicted_mode": row.predicted_mode, "mode": row.mode,
            "skill": row.skill, "target": row.target, "predicted_category": row.predicted_category,
            "category": row.category, "status": row.status, "note": row.note,
            "submitted_by": row.submitted_by, "reviewed_by": row.reviewed_by,
            "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None}


def _trace_request(trace_id: str) -> tuple[str, str, str | None]:
    """(masked request text, role, the mode the assistant understood) of an assistant trace; 404 otherwise."""
    trace = get_trace(trace_id)
    text = str(((trace.request or {}) if trace else {}).get("text") or "")
    if trace is None or trace.kind != "assistant" or not text:
        raise not_found(f"trace '{trace_id}' not found", "unknown-trace")
    return text, trace.role, (trace.summary or {}).get("mode")


def collect(days: int = 30, kind: str = MODES) -> dict[str, int]:
    """Propose every rated answer's request once (a 👍 with the understood mode, a 👎 unlabelled); for
    kind `events`, the rows of the city's older corrections file not proposed yet."""
    if check_kind(kind) == EVENTS:
        return _collect_legacy_events()
    verdicts = agents.feedback(days)
    with database().session() as s:
        seen = set(s.scalars(select(CorpusItem.trace_id).where(CorpusItem.source == "feedback")))
    added = skipped = 0
    for verdict in verdicts:
        if verdict["trace_id"] in seen:
            continue
        try:
            text, role, understood = _trace_request(verdict["trace_id"])
        except Problem:  # the trace is gone (retention) or held no request
            skipped += 1
            continue
        label = understood if verdict["rating"] == "up" and understood in mode_data.modes() else None
        with database().session() as s:
            s.add(CorpusItem(id=new_id("cor"), created_at=utcnow(), kind=MODES, source="feedback", trace_id=verdict["trace_id"],
                             text=text[:TEXT_CHARS], role=role, predicted_mode=understood, mode=label, skill=None,
                             target=None, status="pending", note=f"{verdict['rating']}: {verdict['reason']}"[:NOTE_CHARS],
                             submitted_by="feedback", reviewed_by=None, reviewed_at=None))
        seen.add(verdict["trace_id"])
        added += 1
    return {"added": added, "skipped": skipped}


def correct(principal: Principal, mode: str, trace_id: str | None = None, text: str | None = None,
            skill: str | None = None, target: str | None = None, note: str = "") -> dict[str, Any]:
    """An operator's correction: the right mode (skill, target) for a trace's request or for a text."""
    require_operator(principal)
    _check_mode(mode)
    if (trace_id is None) == (text is None or not text.strip()):
        raise bad_request("请给出 trace_id 或 text 之一 / give either a trace id or a text", "trace-or-text")
    if trace_id is not None:
        request, role, understood = _trace_request(trace_id)
    else:
        request, role, understood = _mask(text or "", TEXT_CHARS), "citizen", None
    with database().session() as s:
        row = CorpusItem(id=new_id("cor"), created_at=utcnow(), kind=MODES, source="correction", trace_id=trace_id,
                         text=request[:TEXT_CHARS], role=role, predicted_mode=understood, mode=mode, skill=skill,
                         target=target, status="pending", note=_mask(note, NOTE_CHARS),
                         submitted_by=principal.actor, reviewed_by=None, reviewed_at=None)
        s.add(row)
        return item_json(row)


def _event_item(text: str, category: str, predicted: str | None, source: str, event_id: str | None,
                submitted_by: str, note: str = "") -> CorpusItem:
    return CorpusItem(id=new_id("cor"), created_at=utcnow(), kind=EVENTS, source=source, trace_id=None,
                      text=_mask(text, TEXT_CHARS), role="citizen", predicted_mode=None, mode=None, skill=None,
                      target=None, event_id=event_id, predicted_category=predicted, category=category,
                      status="pending", note=_mask(note, NOTE_CHARS), submitted_by=submitted_by[:60],
                      reviewed_by=None, reviewed_at=None)


def on_event_corrected(topic: str, payload: dict[str, Any]) -> None:
    """Staff corrected an event's category (`events.corrected`): propose its report with that category.
    A later correction of the same event, still pending, replaces the proposal's category."""
    event = event_service.get(str(payload["id"]), READER)
    category, previous = event.category, payload.get("previous_category")
    with database().session() as s:
        pending = s.scalar(select(CorpusItem).where(CorpusItem.kind == EVENTS, CorpusItem.event_id == event.id,
                                                    CorpusItem.status == "pending"))
        if pending is not None:
            pending.category = category
            return
        s.add(_event_item(event.description, category, previous, "correction", event.id,
                          str(payload.get("actor") or "events")))


def _collect_legacy_events() -> dict[str, int]:
    rows = event_classify.read_rows(settings().data_dir / "training" / LEGACY_EVENTS_FILE)
    with database().session() as s:
        seen = {(t, c) for t, c in s.execute(select(CorpusItem.text, CorpusItem.category)
                                               .where(CorpusItem.kind == EVENTS, CorpusItem.source == "legacy-file"))}
        added = skipped = 0
        for row in rows:
            text, category = row.get("text"), row.get("category")
            if not isinstance(text, str) or not normalize(text) or category not in event_classify.categories():
                skipped += 1
                continue
            item = _event_item(text, str(category), row.get("previous"), "legacy-file", row.get("event_id"),
                               "events_corrections.jsonl")
            if (item.text, item.category) in seen:
                continue
            seen.add((item.text, item.category))
            s.add(item)
            added += 1
    return {"added": added, "skipped": skipped}


def items(status: str | None = "pending", limit: int = 500, kind: str | None = None) -> list[dict[str, Any]]:
    """The review queue (pending), or the accepted or rejected examples, of one kind or all; newest first."""
    if status is not None and status not in STATUSES:
        raise bad_request(f"status 只能是 {', '.join(STATUSES)} / unknown status", "bad-status")
    query = select(CorpusItem).order_by(CorpusItem.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(CorpusItem.status == status)
    if kind is not None:
        query = query.where(CorpusItem.kind == check_kind(kind))
    with database().session() as s:
        return [item_json(r) for r in s.scalars(query)]


def _review(item_id: str, principal: Principal, status: str, mode: str | None, note: str,
            category: str | None = None) -> dict[str, Any]:
    require_operator(principal)
    with database().session() as s:
        row = s.get(CorpusItem, item_id)
        if row is None:
            raise not_found(f"语料条目 '{item_id}' 不存在 / unknown corpus item", "unknown-corpus-item")
        if row.status != "pending":
            raise Problem(409, "已审核 Already reviewed", f"'{item_id}' 已是 {row.status} / already {row.status}",
                          "already-reviewed")
        if status == "accepted" and row.kind == EVENTS:
            row.category = _check_category(category) if category is not None else row.category
            if row.category is None:
                raise bad_request("接受时请给出正确的事件类别 / say the right category to accept it", "label-required")
        elif status == "accepted":
            label = _check_mode(mode) if mode is not None else row.mode
            if label is None:
                raise bad_request("这条语料没有标注，接受时请给出正确的模式 / say the right mode to accept it",
                                  "label-required")
            row.mode = label
        row.status, row.reviewed_by, row.reviewed_at = status, principal.actor, utcnow()
        if note:
            row.note = _mask(note, NOTE_CHARS)
        return item_json(row)


def accept(item_id: str, principal: Principal, mode: str | None = None, note: str = "",
           category: str | None = None) -> dict[str, Any]:
    """Accept a proposed example, with its label or the reviewer's (`mode`; `category` for kind events)."""
    return _review(item_id, principal, "accepted", mode, note, category)


def reject(item_id: str, principal: Principal, note: str = "") -> dict[str, Any]:
    return _review(item_id, principal, "rejected", None, note)


def version_json(row: CorpusVersion, with_items: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"version": row.version, "kind": row.kind, "created_at": row.created_at.isoformat(),
                           "created_by": row.created_by, "size": len(row.items), "counts": row.counts,
                           "sha256": row.sha256}
    if with_items:
        out["items"] = row.items
    return out


def _frozen(row: CorpusItem) -> dict[str, Any]:
    if row.kind == EVENTS:
        return {"id": row.id, "text": row.text, "category": row.category, "event_id": row.event_id,
                "source": row.source}
    return {"id": row.id, "text": row.text, "role": row.role, "mode": row.mode, "skill": row.skill,
            "target": row.target, "source": row.source}


def freeze(principal: Principal, kind: str = MODES) -> dict[str, Any]:
    """A new corpus version of `kind`: every accepted example of that kind now, numbered after the last one."""
    require_operator(principal)
    check_kind(kind)
    label = "category" if kind == EVENTS else "mode"
    with database().session() as s:
        accepted = s.scalars(select(CorpusItem).where(CorpusItem.status == "accepted", CorpusItem.kind == kind)
                             .order_by(CorpusItem.created_at)).all()
        if not accepted:
            raise Problem(409, "没有已接受的语料 Nothing accepted", "先审核并接受语料 / accept some examples first",
                          "empty-corpus")
        rows = [_frozen(r) for r in accepted]
        number = (s.scalar(select(func.max(CorpusVersion.version))) or 0) + 1
        digest = hashlib.sha256(json.dumps([(r["text"], r[label]) for r in rows], ensure_ascii=False).encode())
        row = CorpusVersion(version=number, kind=kind, created_at=utcnow(), created_by=principal.actor, items=rows,
                            counts=dict(Counter(str(r[label]) for r in rows)), sha256=digest.hexdigest())
        s.add(row)
        return version_json(row)


def versions(kind: str | None = None) -> list[dict[str, Any]]:
    query = select(CorpusVersion).order_by(CorpusVersion.version.desc())
    if kind is not None:
        query = query.where(CorpusVersion.kind == check_kind(kind))
    with database().session() as s:
        return [version_json(r) for r in s.scalars(query)]


def get_version(number: int) -> dict[str, Any]:
    """A version with its examples; 404 when there is none."""
    with database().session() as s:
        row = s.get(CorpusVersion, number)
        if row is None:
            raise not_found(f"语料版本 {number} 不存在 / unknown corpus version", "unknown-corpus-version")
        return version_json(row, with_items=True)


def stats(days: int = 30) -> dict[str, Any]:
    """Counts per status, and how many were proposed in the last `days` days."""
    since = utcnow() - timedelta(days=days)
    with database().session() as s:
        by_status = dict(s.execute(select(CorpusItem.status, func.count()).group_by(CorpusItem.status)).all())
        recent = s.scalar(select(func.count()).select_from(CorpusItem).where(CorpusItem.created_at >= since))
    return {"by_status": {k: int(by_status.get(k, 0)) for k in STATUSES}, "recent": int(recent or 0)}
