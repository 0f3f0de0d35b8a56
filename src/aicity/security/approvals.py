"""Tool authorisation and the approval queue (Agent 任务编排检测).

A skill that acts on the physical city (`RiskLevel.actuate`) never runs from a conversation.
When an authorised person asks for one, `submit` queues an approval request (skill, params,
requester, reason = the request text, and how many approvers it needs: two when the call would act on more
than one device as the skill resolves them (`Skill.acts_on`), else as `intent.approvals_needed` reads the words;
counted again at each approval, so devices registered meanwhile raise it);
a second person with an approver role runs it with `approve` or turns it down with `reject`; a
pending request lapses after the policy's expiry. An order that reaches several devices (every gate of
one district: 把东湖区的排水闸门全部打开) needs two distinct approvers, neither the requester: the first `approve`
is recorded (audited, announced as `approvals.progressed`) and leaves it pending, the second runs
it; one person never approves twice (403 `approval-same-approver`). A person is their API key, whatever role
they act as (an admin key may act as any role: `identity.service.acting_principal`): the requester's key is
kept on the request (`requester_key`), and neither it nor an approver's key approves again. Each approval and
decision is one conditional UPDATE (still pending, and as many approvals as the approver saw), so of two at
once one wins and the other gets a 409. Who may request and approve,
whether a single approver must be someone else, and the expiry are `GuardPolicy.approvals`
(`[aicity.guard.approvals]`, or `PUT /api/v1/guard/policy`).

A call made because of text from outside (the turn's trace has retrieved or tool findings, or
the call's arguments echo tool text) is refused and reported, never queued; so is a call that
acts on everything at once beyond one district or is forged (`intent.tool_call`), whatever the
wording. Every step is recorded in the audit ledger; a queued request is also announced on the
bus (`approvals.submitted`, the request as `to_dict` shows it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update

from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.db import database
from aicity.core.errors import Problem, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.core.tracing import Tracer
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import guard, intent
from aicity.security.models import Approval

#: runs an approved call — (agent, skill, params, text, the requester, a tracer) → the result's
#: sections as dicts; raises `KeyError` (no such skill), `ValidationError` or `Problem` when it cannot
Executor = Callable[[str, str, dict[str, str], str, Principal, Tracer], list[dict[str, Any]]]

STATUSES = ("pending", "approved", "failed", "rejected", "expired")
#: trace stages whose text came from outside the person's request
_UNTRUSTED_STAGES = frozenset({"retrieved", "tool"})
#: an argument shorter than this is not evidence of echoing (names of places, numbers)
_ECHO_MIN = 8
_ACTOR = "approvals"


#: how many devices a queued call (agent, skill, params, text) would reach now, as its skill resolves them; None
#: where the skill does not say
DeviceCount = Callable[[str, str, dict[str, str], str], int | None]
#: who runs approved calls and who counts their devices: the assistant registers its agents' skills
#: (`set_executor`, `set_device_count`), so the queue, below the agents in the layers, never imports them
_executor: list[Executor] = []
_device_count: list[DeviceCount] = []


def _register(slot: list[Any], value: Any) -> Callable[[], None]:
    """Put `value` in `slot` (one per process; the last one wins); returns the function that puts the previous one
    back."""
    previous = list(slot)
    slot[:] = [value]

    def restore() -> None:
        slot[:] = previous

    return restore


def set_executor(run: Executor) -> Callable[[], None]:
    """Register what runs an approved call."""
    return _register(_executor, run)


def set_device_count(count: DeviceCount) -> Callable[[], None]:
    """Register what counts the devices a call reaches at its last approval (`approve`)."""
    return _register(_device_count, count)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `submit` decided: `decision` (approval-required | denied | refused) for the trace,
    `error` for the dispatcher, and what the person sees (`title`, `body`)."""

    decision: str
    error: str
    title: str
    body: str
    approval_id: str | None = None


def policy() -> guard.ApprovalPolicy:
    return guard.current_policy()[0].approvals


# ---- a request from the assistant -----------------------------------------------------------------

def untrusted_findings(tracer: Tracer) -> list[dict[str, Any]]:
    """The findings of this turn in text that came from outside (documents, tool results)."""
    return [f for s in tracer.steps if s.get("name") == "guard" and s.get("stage") in _UNTRUSTED_STAGES
            for f in s.get("findings", [])]


def echoes(params: dict[str, str], text: str, request: str, untrusted: list[str]) -> bool:
    """Whether a call's arguments repeat text from outside that the person did not write."""
    values = [v for v in (*params.values(), text) if len(v) >= _ECHO_MIN and v not in request]
    return any(v in u for v in values for u in untrusted)


def submit(agent: str, skill: str, params: dict[str, str], text: str, label: str, principal: Principal,
           tracer: Tracer, devices: int | None = None) -> Outcome:
    """A call of an `actuate` skill (`agent`.`skill` with `params`, asked for with `text`; `label`
    is the skill's name people read): refused (text from outside, or a role that may not ask) or
    queued for approval. The skill never runs here. `devices`, where the skill resolved them, is how
    many devices the call would act on: more than one needs two approvers, one needs one, whatever
    district the words or arguments name; else the words decide (`intent.approvals_needed`)."""
    rules = policy()
    target = f"{agent}.{skill}"
    if findings := untrusted_findings(tracer):
        tracer.note("security-finding", type="tool-hijack", agent=agent, skill=skill, findings=findings)
        audit.record(principal.actor, "approval.refused", target,
                     {"reason": "untrusted-text", "trace_id": tracer.id, "findings": findings})
        return Outcome("refused", "actuate-refused", "操作已拒绝",
                       f"“{label}”的调用来自检索资料或工具结果中的文字，而不是您的请求，已拒绝并记录。"
                       "如确需执行，请工作人员直接提出。")
    if principal.role.value not in rules.request_roles:
        audit.record(principal.actor, "approval.denied", target, {"role": principal.role.value,
                                                                   "trace_id": tracer.id})
        return Outcome("denied", "denied", "需要人工审批",
                       f"“{label}”会直接作用于城市设施，只能由有权限的工作人员提出申请并经审批后执行。"
                       "如遇紧急情况请拨打 119 或燃气抢修电话。")
    if refusal := intent.tool_call(text, params):
        tracer.note("security-finding", type=f"tool-{refusal.kind}", agent=agent, skill=skill)
        audit.record(principal.actor, "approval.refused", target, {"reason": refusal.kind, "trace_id": tracer.id})
        return Outcome("refused", "actuate-refused", "操作已拒绝", f"“{label}”：{refusal.reason}{refusal.alternative}")
    now = utcnow()
    needed = intent.approvals_needed(text, params) if devices is None else (2 if devices > 1 else 1)
    row = Approval(id=new_id("apr"), agent=agent, skill=skill, params=dict(params), text=text,
                   reason=text, requester=principal.actor, requester_key=principal.key_id,
                   requester_role=principal.role.value,
                   department=principal.department, status="pending", created_at=now,
                   expires_at=now + timedelta(minutes=rules.expires_minutes), note="", trace_id=tracer.id,
                   approvals_needed=needed, approved_by=[])
    with database().session() as s:
        s.add(row)
    audit.record(row.requester, "approval.requested", target,
                 {"approval": row.id, "params": guard.redact(row.params), "reason": guard.redact(row.reason),
                  "approvals_needed": needed, "trace_id": tracer.id})
    bus.publish("approvals.submitted", to_dict(row))
    if needed > 1:
        who = f"申请人以外的 {needed} 位审批人分别"
    else:
        who = "另一位有审批权限的工作人员" if rules.second_person else "有审批权限的工作人员"
    return Outcome("approval-required", "approval-required", "需要人工审批",
                   f"“{label}”会直接作用于城市设施，不会由助理自动执行。已提交审批申请 {row.id}，"
                   f"待{who}批准后执行（{rules.expires_minutes} 分钟内有效）。", row.id)


# ---- the queue ---------------------------------------------------------------------------------------

def _expire_due() -> None:
    """Pending requests past their expiry become `expired` (each audited)."""
    now = utcnow()
    with database().session() as s:
        due = list(s.scalars(select(Approval.id).where(Approval.status == "pending", Approval.expires_at <= now)))
        if due:
            s.execute(update(Approval).where(Approval.id.in_(due)).values(status="expired", decided_at=now))
    for approval_id in due:
        audit.record(_ACTOR, "approval.expired", approval_id, {})


def list_approvals(status: str | None = None, limit: int = 100) -> list[Approval]:
    _expire_due()
    with database().session() as s:
        q = select(Approval).order_by(Approval.created_at.desc()).limit(limit)
        if status:
            q = q.where(Approval.status == status)
        return list(s.scalars(q))


def get(approval_id: str) -> Approval:
    _expire_due()
    with database().session() as s:
        row = s.get(Approval, approval_id)
    if row is None:
        raise not_found(f"审批申请 '{approval_id}' 不存在 approval not found")
    return row


def _person(key: str | None, actor: str) -> str:
    """Who someone is, whatever role they act as: their API key, else (in process, no key) their actor."""
    return key or actor


def _decidable(approval_id: str, approver: Principal) -> Approval:
    """The pending request `approver` may decide: an approver role, not the requester under any role (when the
    policy asks for a second person, and always for a request needing more than one approver)."""
    rules = policy()
    row = get(approval_id)
    if approver.role.value not in rules.approver_roles:
        raise forbidden(f"角色 '{approver.role.value}' 无审批权限 / this role may not decide approvals")
    requester = _person(row.requester_key, row.requester)
    if (rules.second_person or row.approvals_needed > 1) and _person(approver.key_id, approver.actor) == requester:
        raise forbidden("申请人不能审批自己的申请 / the requester cannot decide their own request",
                        "approval-same-person")
    if row.status != "pending":
        raise Problem(409, "审批申请已处理 Approval not pending", f"状态为 {row.status}", "approval-not-pending",
                      status_now=row.status)
    return row


def _write(row: Approval, **values: Any) -> Approval:
    """Write an approval or a decision only if the request is as the approver saw it: still pending, with as many
    approvals (one conditional UPDATE, so of two at once one wins on every database; row locks are a no-op on
    SQLite)."""
    with database().session() as s:
        done = s.connection().execute(update(Approval).where(
            Approval.id == row.id, Approval.status == "pending",
            func.json_array_length(Approval.approved_by) == len(row.approved_by)).values(**values)).rowcount
    if not done:
        raise Problem(409, "审批申请已变化 Approval changed", "另一位审批人刚刚处理了该申请，请刷新后再试",
                      "approval-not-pending")
    return get(row.id)


def approve(approval_id: str, approver: Principal, note: str) -> Approval:
    """Approve; once the request has all the approvals it needs, run the skill with the original
    params, as the requester (through the executor the assistant registered), and record the result.
    An approval short of that is recorded (audited, `approvals.progressed`) and leaves it pending."""
    if not _executor:
        raise Problem(503, "审批执行器未就绪 No executor", "助理尚未注册执行审批的智能体 / the assistant has not "
                      "registered what runs approved calls", "approval-executor-missing")
    row = _decidable(approval_id, approver)
    me = _person(approver.key_id, approver.actor)
    if any(_person(a.get("key"), a["actor"]) == me for a in row.approved_by):
        raise forbidden("您已批准过该申请，须由另一位审批人批准 / you have approved this request already; "
                        "another approver must", "approval-same-approver")
    approved_by = [*row.approved_by, {"actor": approver.actor, "key": approver.key_id, "at": _iso(utcnow()),
                                      "note": note}]
    needed = _needed_now(row)
    given = {"skill": f"{row.agent}.{row.skill}", "note": guard.redact(note), "approvals": len(approved_by),
             "approvals_needed": needed}
    if len(approved_by) < needed:
        row = _write(row, approved_by=approved_by, approvals_needed=needed)
        audit.record(approver.actor, "approval.approved", approval_id, given)
        bus.publish("approvals.progressed", to_dict(row))
        return row
    _write(row, status="approved", decided_at=utcnow(), decided_by=approver.actor, note=note, approved_by=approved_by)
    audit.record(approver.actor, "approval.approved", approval_id, given)
    requester = Principal(role=Role(row.requester_role), department=row.department, key_id=row.requester_key)
    tracer = Tracer("approval", row.requester_role, {"approval": row.id, "skill": f"{row.agent}.{row.skill}"},
                    redact=guard.redact)
    status, error = "approved", None
    with tracer.step("skill", agent=row.agent, skill=row.skill, params=row.params, approval=row.id) as step:
        sections: list[dict[str, Any]] = []
        try:
            sections = _executor[0](row.agent, row.skill, row.params, row.text, requester, tracer)
        except (KeyError, ValidationError, Problem) as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001  (a faulty skill is a failed approval, never raised)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        step["status"] = status
    tracer.status = "ok" if status == "approved" else "error"
    tracer.save({"approval": row.id, "status": status})
    outcome = {"sections": sections, "error": error}
    with database().session() as s:
        s.execute(update(Approval).where(Approval.id == approval_id)
                  .values(status=status, result=guard.redact(outcome), trace_id=tracer.id))
    audit.record(_ACTOR, "approval.executed" if status == "approved" else "approval.failed", approval_id,
                 {"skill": f"{row.agent}.{row.skill}", "trace_id": tracer.id, "error": error})
    return get(approval_id)


def _needed_now(row: Approval) -> int:
    """The approvers a request needs at its approval: as many as when it was queued, or two when its call would now
    reach more than one device (a second gate registered in the district meanwhile: the run resolves its devices
    again)."""
    reached = _device_count[0](row.agent, row.skill, row.params, row.text) if _device_count else None
    return max(row.approvals_needed, 2 if reached is not None and reached > 1 else 1)


def reject(approval_id: str, approver: Principal, reason: str) -> Approval:
    row = _write(_decidable(approval_id, approver), status="rejected", decided_at=utcnow(), decided_by=approver.actor,
                 note=reason)
    audit.record(approver.actor, "approval.rejected", approval_id, {"skill": f"{row.agent}.{row.skill}",
                                                                       "reason": guard.redact(reason)})
    return row


def _iso(t: datetime | None) -> str | None:
    """SQLite gives naive datetimes back; they are UTC."""
    return t.replace(tzinfo=t.tzinfo or UTC).isoformat() if t else None


def progress(row: Approval) -> str:
    """How far a request is along its approvals, as people read it: 需要 2 人审批，已批 1 人."""
    return f"需要 {row.approvals_needed} 人审批，已批 {len(row.approved_by)} 人"


def to_dict(row: Approval) -> dict[str, Any]:
    """An approval as the API and CLI show it (personal information masked)."""
    return {"id": row.id, "agent": row.agent, "skill": row.skill, "params": guard.redact(row.params),
            "reason": guard.redact(row.reason), "requester": row.requester, "requester_role": row.requester_role,
            "department": row.department, "status": row.status, "created_at": _iso(row.created_at),
            "expires_at": _iso(row.expires_at), "decided_by": row.decided_by, "decided_at": _iso(row.decided_at),
            "note": guard.redact(row.note), "result": row.result, "trace_id": row.trace_id,
            "approvals_needed": row.approvals_needed,
            "approved_by": [{**a, "note": guard.redact(a["note"])} for a in row.approved_by],
            "progress": progress(row)}
