"""Security events (安全事件): what the security center and the security report show.

Read, not stored: the audit ledger holds guard blocks (`block`), approvals (`approval.*`),
authentication (`auth.*`), guard policy changes and key management; the traces hold what the
guard masked or flagged in a turn (its `guard` notes, PII never included). Each becomes one
`SecurityEvent`; `summarise` counts them for the report and the console.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from aicity.core.audit_models import AuditEntry
from aicity.core.db import database
from aicity.core.tracing import TraceRecord

#: ledger actions that are security events, by prefix (see each slice's `audit.record` calls)
_AUDIT_PREFIXES = ("approval.", "auth.", "guard.", "gateway.key.")
#: at most this many traces are read per query (the newest first)
MAX_TRACES = 5000


@dataclass(frozen=True)
class SecurityEvent:
    time: str
    type: str  # guard.block | guard.mask | guard.flag | approval.* | auth.* | guard.policy.set | gateway.key.*
    source: str  # audit (ref = seq) | trace (ref = trace id)
    ref: str
    actor: str = ""
    stage: str | None = None
    role: str | None = None
    rules: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # attack, pii, payload
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(t: datetime) -> str:
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)).isoformat()


def _from_audit(e: AuditEntry) -> SecurityEvent:
    detail = e.detail or {}
    if e.action == "block":  # the guard's refusal of a text (see guard.enforce)
        findings = detail.get("findings", [])
        return SecurityEvent(_iso(e.time), "guard.block", "audit", str(e.seq), e.actor, e.target, detail.get("role"),
                             sorted({f.get("rule", "") for f in findings}), sorted({f.get("kind", "") for f in findings}),
                             {"interface": detail.get("interface")})
    brief = {k: v for k, v in detail.items() if k != "policy"}  # a policy change carries the whole policy
    return SecurityEvent(_iso(e.time), e.action, "audit", str(e.seq), e.actor, detail.get("stage"),
                         detail.get("role"), detail=brief | {"target": e.target})


def _from_trace(t: TraceRecord) -> list[SecurityEvent]:
    out = []
    for step in t.steps or []:
        if not isinstance(step, dict) or step.get("name") != "guard" or step.get("verdict") == "block":
            continue  # blocks are in the ledger already
        findings = step.get("findings") or []
        acted = {f.get("action") for f in findings} & {"mask", "neutralise"}
        out.append(SecurityEvent(_iso(t.created_at), "guard.mask" if acted else "guard.flag", "trace", t.id, t.kind,
                                 step.get("stage"), t.role, sorted({f.get("rule", "") for f in findings}),
                                 sorted({f.get("kind", "") for f in findings}),
                                 {"types": sorted({f.get("type", "") for f in findings})}))
    return out


def security_events(days: float = 7, limit: int = 200, types: set[str] | None = None) -> list[SecurityEvent]:
    """Events of the last `days`, newest first, at most `limit`; `types` filters by type or
    by prefix (`approval`, `auth`, `guard`)."""
    since = datetime.now(UTC) - timedelta(days=days)
    with database().session() as s:
        entries = list(s.scalars(
            select(AuditEntry).where(AuditEntry.time >= since,
                                     or_(AuditEntry.action == "block",
                                         *[AuditEntry.action.startswith(p) for p in _AUDIT_PREFIXES]))
            .order_by(AuditEntry.seq.desc())))
        traces = list(s.scalars(select(TraceRecord).where(TraceRecord.created_at >= since)
                                .order_by(TraceRecord.created_at.desc()).limit(MAX_TRACES)))
    found = [_from_audit(e) for e in entries] + [ev for t in traces for ev in _from_trace(t)]
    if types:
        found = [e for e in found if e.type in types or e.type.split(".", 1)[0] in types]
    found.sort(key=lambda e: e.time, reverse=True)
    return found[:limit]


def summarise(events: list[SecurityEvent], top: int = 10) -> dict[str, Any]:
    """Counts by type, stage and role; the most frequent rules; blocked attacks; approvals."""
    rules = Counter(r for e in events for r in e.rules if r)
    return {
        "total": len(events),
        "by_type": dict(Counter(e.type for e in events).most_common()),
        "by_stage": dict(Counter(e.stage for e in events if e.stage).most_common()),
        "by_role": dict(Counter(e.role for e in events if e.role).most_common()),
        "top_rules": [{"rule": r, "count": n} for r, n in rules.most_common(top)],
        "blocked_attacks": sum(1 for e in events if e.type == "guard.block" and "attack" in e.kinds),
        "approvals": dict(Counter(e.type.split(".", 1)[1] for e in events if e.type.startswith("approval.")).most_common()),
    }
