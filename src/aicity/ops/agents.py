"""Agent operations (智能体运营): per agent and skill, how much they are used, how often they succeed,
decline or fail, how long they take, what they cost in model tokens, and what people said about the
answers; and the questions nobody served, grouped so that an operator sees what is missing.

Everything is read from the traces (`core.tracing`), the gateway's meter, the assistant's
unserved-requests corpus and the feedback kept here (`ops_feedback`), through their service functions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import select

from aicity.assistant import sessions, unserved
from aicity.core.db import database
from aicity.core.errors import bad_request, not_found
from aicity.core.ids import utcnow
from aicity.core.text import normalize, tokenize
from aicity.core.tracing import TraceRecord, get_trace, recent_traces
from aicity.hub.gateway import service as gateway
from aicity.identity.service import Principal
from aicity.ops.models import AnswerFeedback
from aicity.security import guard

#: the most traces one report reads
MAX_TRACES = 20000
REASON_CHARS = 500
#: questions whose TF-IDF word vectors are closer than this (cosine distance, average linkage) share a cluster
CLUSTER_DISTANCE = 0.8
MAX_CLUSTERED = 2000


# ---- feedback ---------------------------------------------------------------------------------

def give_feedback(trace_id: str, rating: str, reason: str, principal: Principal,
                  token: str | sessions.Local | None = sessions.LOCAL) -> dict[str, Any]:
    """Record a verdict on an answer. Only whoever may read the trace (its owner: the key that asked,
    or the keyless asker's session token; admins) may rate it; anyone else gets 404 as for the trace."""
    if rating not in ("up", "down"):
        raise bad_request("rating 只能是 up 或 down / rating must be up or down", "bad-rating")
    if len(reason) > REASON_CHARS:
        raise bad_request(f"理由不超过 {REASON_CHARS} 字 / the reason is too long", "reason-too-long")
    trace = get_trace(trace_id)
    if trace is None or trace.kind != "assistant" or not sessions.may_read(trace.owner, principal, token):
        raise not_found(f"trace '{trace_id}' not found", "unknown-trace")
    with database().session() as s:
        row = s.get(AnswerFeedback, trace_id)
        if row is None:
            row = AnswerFeedback(trace_id=trace_id)
            s.add(row)
        row.created_at, row.rating, row.reason = utcnow(), rating, guard.redact(normalize(reason))[:REASON_CHARS]
        row.role, row.skills = trace.role, list((trace.summary or {}).get("skills", []))
        return _feedback_json(row)


def _feedback_json(row: AnswerFeedback) -> dict[str, Any]:
    return {"trace_id": row.trace_id, "created_at": row.created_at.isoformat(), "rating": row.rating,
            "reason": row.reason, "role": row.role, "skills": row.skills}


def feedback(days: int | None = None, limit: int = 5000) -> list[dict[str, Any]]:
    """The newest verdicts (of the last `days` days when given)."""
    query = select(AnswerFeedback).order_by(AnswerFeedback.created_at.desc()).limit(limit)
    if days is not None:
        query = query.where(AnswerFeedback.created_at >= utcnow() - timedelta(days=days))
    with database().session() as s:
        return [_feedback_json(r) for r in s.scalars(query)]


# ---- the report -------------------------------------------------------------------------------

def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


def _new_row() -> dict[str, Any]:
    return {"calls": 0, "ok": 0, "errors": 0, "denied": 0, "abstained": 0, "latencies": [],
            "input_tokens": 0, "output_tokens": 0, "up": 0, "down": 0}


def _skill_stats(traces: list[TraceRecord]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = defaultdict(_new_row)
    for trace in traces:
        for step in trace.steps or []:
            if step.get("name") == "skill":
                row = rows[f"{step.get('agent')}.{step.get('skill')}"]
                row["calls"] += 1
                failed = bool(step.get("error")) or step.get("decision") == "denied"
                row["errors"] += bool(step.get("error"))
                row["denied"] += step.get("decision") == "denied"
                row["abstained"] += bool(step.get("abstained"))
                row["ok"] += not failed and not step.get("abstained")
                row["latencies"].append(float(step.get("ms") or 0.0))
            elif step.get("name") == "model":
                row = rows[str(step.get("within") or "assistant.plan")]
                row["input_tokens"] += int(step.get("input_tokens") or 0)
                row["output_tokens"] += int(step.get("output_tokens") or 0)
    return rows


def agent_report(days: int = 30, clusters: bool = True) -> dict[str, Any]:
    """Per skill and per agent: volume, success, abstentions, latency, model tokens and feedback;
    the gateway's metered use per calling component; and the questions that failed, were abandoned
    or were not served, clustered."""
    since = utcnow() - timedelta(days=days)
    traces = recent_traces(MAX_TRACES, kind="assistant", since=since)
    skills = _skill_stats(traces)
    verdicts = feedback(days)
    for verdict in verdicts:
        for skill in verdict["skills"] or ["(none)"]:
            skills[skill][verdict["rating"]] += 1
    agents: dict[str, dict[str, Any]] = defaultdict(_new_row)
    for name, row in skills.items():
        total = agents[name.split(".", 1)[0]]
        for key, value in row.items():
            total[key] = total[key] + value
    runs = [t for t in traces if t.status == "ok"]
    return {
        "days": days,
        "runs": len(traces),
        "blocked": sum(t.status == "blocked" for t in traces),
        "abstained_runs": sum(bool((t.summary or {}).get("abstained")) for t in runs),
        "clarifications": sum(bool((t.summary or {}).get("clarification")) for t in runs),
        "feedback": {"up": sum(v["rating"] == "up" for v in verdicts),
                     "down": sum(v["rating"] == "down" for v in verdicts)},
        "skills": [_finish(name, row) for name, row in sorted(skills.items(), key=lambda kv: -kv[1]["calls"])],
        "agents": [_finish(name, row) for name, row in sorted(agents.items(), key=lambda kv: -kv[1]["calls"])],
        "gateway": metered(since.strftime("%Y-%m-%d")),
        "failed": failed_questions(traces, verdicts) if clusters else [],
    }


def _finish(name: str, row: dict[str, Any]) -> dict[str, Any]:
    calls, latencies = row["calls"], row.pop("latencies")
    rated = row["up"] + row["down"]
    return {"name": name, **row,
            "success_rate": round(row["ok"] / calls, 4) if calls else None,
            "abstention_rate": round(row["abstained"] / calls, 4) if calls else None,
            "latency_ms_p50": _pct(latencies, 0.5), "latency_ms_p95": _pct(latencies, 0.95),
            "satisfaction": round(row["up"] / rated, 4) if rated else None}


def metered(since_day: str) -> list[dict[str, Any]]:
    """Tokens and calls through the gateway's meter since `since_day`, per calling component."""
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"requests": 0, "errors": 0, "prompt_tokens": 0,
                                                             "completion_tokens": 0})
    for row in gateway.gateway().meter.report(since_day):
        total = totals[row["agent"] or "(application keys)"]
        for key in ("requests", "errors", "prompt_tokens", "completion_tokens"):
            total[key] += row[key]
    return [{"agent": name, **values} for name, values in sorted(totals.items())]


# ---- what nobody served -----------------------------------------------------------------------

def _why(trace: TraceRecord, down: set[str]) -> str | None:
    summary = trace.summary or {}
    steps = [s for s in trace.steps or [] if s.get("name") == "skill"]
    if trace.id in down:
        return "down"
    if any(s.get("error") for s in steps):
        return "error"
    if summary.get("abstained"):
        return "abstained"
    return None


def failed_questions(traces: list[TraceRecord], verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions that failed (a skill error, an abstention, a thumbs down), were abandoned (a
    clarifying question nobody answered: the session's last turn) or were not served (the unserved
    corpus), clustered by their TF-IDF words (the search tokenizer; agglomerative, average linkage, cosine)."""
    down = {v["trace_id"] for v in verdicts if v["rating"] == "down"}
    last_of_session: dict[str, TraceRecord] = {}
    for trace in traces:  # newest first: the first seen is the session's last turn
        if trace.session_id and trace.session_id not in last_of_session:
            last_of_session[trace.session_id] = trace
    items: list[tuple[str, str]] = []
    for trace in traces:
        text = str((trace.request or {}).get("text") or "")
        why = _why(trace, down)
        if why is None and (trace.summary or {}).get("clarification") and last_of_session.get(
                trace.session_id or "") is trace:
            why = "abandoned"
        if why and text:
            items.append((text, why))
    items += [(row["text"], "unserved") for row in unserved.recent(MAX_CLUSTERED)]
    return cluster(items[:MAX_CLUSTERED])


def _terms(text: str) -> list[str]:
    """Words (the search tokenizer), or the characters of a text made only of stopwords."""
    return tokenize(text) or [c for c in text if not c.isspace()] or ["∅"]


def cluster(items: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Group (question, why) pairs by meaning; each group named by its most telling n-grams, largest first."""
    if not items:
        return []
    texts = [normalize(t) for t, _ in items]
    if len(items) == 1:
        labels = np.zeros(1, dtype=int)
        names = [texts[0][:12]]
    else:
        vectorizer = TfidfVectorizer(analyzer=_terms, sublinear_tf=True, min_df=1)
        matrix = vectorizer.fit_transform(texts)
        labels = AgglomerativeClustering(n_clusters=None, distance_threshold=CLUSTER_DISTANCE, metric="cosine",
                                         linkage="average").fit_predict(matrix.toarray())
        vocabulary = np.array(vectorizer.get_feature_names_out())
        names = []
        for label in range(int(labels.max()) + 1):
            centre = np.asarray(matrix[labels == label].mean(axis=0)).ravel()
            names.append("、".join(vocabulary[np.argsort(-centre)[:3]]))
    groups = []
    for label in range(int(labels.max()) + 1):
        members = [items[i] for i in np.flatnonzero(labels == label)]
        reasons: dict[str, int] = defaultdict(int)
        for _, why in members:
            reasons[why] += 1
        groups.append({"label": names[label], "size": len(members), "reasons": dict(reasons),
                       "examples": list(dict.fromkeys(t for t, _ in members))[:5]})
    return sorted(groups, key=lambda g: -g["size"])

