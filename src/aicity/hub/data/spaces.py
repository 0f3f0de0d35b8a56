"""Data spaces (可信数据空间): members offer datasets under usage policies, consumers ask,
providers agree or refuse, and agreed consumers run aggregate-only queries next to the data.

- A space is of one of five kinds (city, industry, enterprise, personal, cross-border) and has
  members (departments; enterprises as `enterprise:<uscc>`).
- An offer names a dataset of the provider and an ODRL policy (`policy.py`), validated when offered.
- An agreement is the offer's policy narrowed to one consumer and purpose, pinned to the dataset
  version current when it was agreed. It is canonicalised (sorted-key JSON), hashed, signed with
  the audit ledger's Ed25519 key and recorded in the ledger (`data.agreement.agreed`).
- Every query (`data.query.released`) and every refusal (`data.query.refused`,
  `data.agreement.refused`) is recorded in the ledger and in `data_usage`; the provider sees who
  used what, when, for what purpose, and how much budget is left.

Who may do what: staff (official, operator, admin) act for their own department only; only the
provider's staff offer and decide, only the consumer's staff request and query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from cryptography.exceptions import InvalidSignature
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from aicity.core import audit
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request, conflict, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.hub.data import private_query, store
from aicity.hub.data.aggregate_sql import SqlAggregate, to_request
from aicity.hub.data.policy import Policy, Terms, parse_policy, terms_for
from aicity.hub.data.private_query import AggregateRequest, Release
from aicity.hub.data.settings import DataSettings
from aicity.hub.data.spaces_models import DataAgreement, DataOffer, DataSpace, DataUsage, SpaceMember
from aicity.identity.models import Role
from aicity.identity.service import Principal

KINDS = {"city": "城市数据空间", "industry": "行业数据空间", "enterprise": "企业数据空间",
         "personal": "个人数据空间", "cross_border": "跨境数据空间"}
SpaceKind = Literal["city", "industry", "enterprise", "personal", "cross_border"]
STAFF = (Role.official, Role.operator, Role.admin)
#: tolerance of the budget comparison (sums of floats)
_EPS_SLACK = 1e-9


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else (t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC))


def _department(principal: Principal | None, what: str) -> str:
    """The department a staff caller acts for; 401/403 otherwise."""
    if principal is None:
        raise Problem(401, "未认证 Unauthorized", f"{what}需要工作人员 API key a staff key is required", "unauthorized")
    if principal.role not in STAFF or not principal.department:
        raise forbidden(f"{what}须由部门工作人员办理 only a department's staff may do this "
                        f"(role {principal.role.value}, department {principal.department or '—'})")
    return principal.department


def require_staff(principal: Principal | None) -> Principal:
    """Any staff member (the spaces and their offers are an internal catalogue)."""
    if principal is None or principal.role not in STAFF:
        raise forbidden("查看数据空间需要工作人员身份 staff key required")
    return principal


Row = TypeVar("Row", DataSpace, DataOffer, DataAgreement)


# ---- spaces and members --------------------------------------------------------------------

def _row(s: Session, model: type[Row], row_id: str, what: tuple[str, str], kind: str) -> Row:
    """The row with this id, or a 404 of `kind` naming it (`what`: its name in Chinese and English)."""
    row = s.get(model, row_id)
    if row is None:
        raise not_found(f"没有{what[0]} no {what[1]} '{row_id}'", kind)
    return row


def _space(s: Session, space_id: str) -> DataSpace:
    return _row(s, DataSpace, space_id, ("数据空间", "data space"), "unknown-space")


def _members(s: Session, space_id: str) -> list[str]:
    return list(s.scalars(select(SpaceMember.member).where(SpaceMember.space_id == space_id)
                          .order_by(SpaceMember.joined_at)))


def create_space(principal: Principal | None, name: str, kind: str, description: str = "") -> DataSpace:
    department = _department(principal, "创建数据空间")
    assert principal is not None
    if kind not in KINDS:
        raise bad_request(f"未知空间类型 unknown kind '{kind}'; known: {', '.join(KINDS)}", "unknown-space-kind")
    if not name.strip():
        raise bad_request("空间名称不能为空 the name is empty", "invalid-space")
    now = utcnow()
    space = DataSpace(id=new_id("dsp"), name=name.strip(), kind=kind, description=description, operator=department,
                      created_by=principal.actor, created_at=now)
    with database().session() as s:
        s.add(space)
        s.flush()
        s.add(SpaceMember(space_id=space.id, member=department, member_kind="department", joined_by=principal.actor,
                          joined_at=now))
    audit.record(principal.actor, "data.space.created", space.id, {"name": space.name, "kind": kind,
                                                                   "operator": department})
    return space


def join_space(principal: Principal | None, space_id: str, member: str | None = None) -> SpaceMember:
    """The caller's department joins; the space's operator (or an admin) may add another member
    (a department id or `enterprise:<uscc>`)."""
    department = _department(principal, "加入数据空间")
    assert principal is not None
    who = (member or department).strip()
    with database().session() as s:
        space = _space(s, space_id)
        if who != department and principal.role != Role.admin and space.operator != department:
            raise forbidden(f"只有空间运营方 {space.operator} 或管理员可以添加其他成员 only the space's operator or an "
                            "admin may add another member")
        if s.get(SpaceMember, (space_id, who)) is not None:
            raise conflict(f"{who} 已是空间 {space_id} 的成员 is a member already", "already-member")
        row = SpaceMember(space_id=space_id, member=who,
                          member_kind="enterprise" if who.startswith("enterprise:") else "department",
                          joined_by=principal.actor, joined_at=utcnow())
        s.add(row)
    audit.record(principal.actor, "data.space.joined", space_id, {"member": who})
    return row


@dataclass(frozen=True)
class SpaceView:
    space: DataSpace
    members: list[str]
    offers: list[DataOffer]


def list_spaces() -> list[SpaceView]:
    with database().session() as s:
        spaces = list(s.scalars(select(DataSpace).order_by(DataSpace.created_at)))
        offers = list(s.scalars(select(DataOffer).order_by(DataOffer.created_at)))
        return [SpaceView(sp, _members(s, sp.id), [o for o in offers if o.space_id == sp.id]) for sp in spaces]


def get_space(space_id: str) -> SpaceView:
    with database().session() as s:
        space = _space(s, space_id)
        offers = list(s.scalars(select(DataOffer).where(DataOffer.space_id == space_id).order_by(DataOffer.created_at)))
        return SpaceView(space, _members(s, space_id), offers)


# ---- offers ---------------------------------------------------------------------------------

def make_offer(principal: Principal | None, space_id: str, dataset_id: str, policy: dict[str, Any],
               title: str = "") -> DataOffer:
    """Offer a dataset the caller's department owns, under a validated policy."""
    department = _department(principal, "提供数据")
    assert principal is not None
    info = store.dataset(dataset_id)
    if info.owner_department and info.owner_department != department:
        raise forbidden(f"数据集 {dataset_id} 属于 {info.owner_department}，只有其工作人员可以提供 only its owner "
                        f"department's staff may offer it", "not-dataset-owner")
    parsed = parse_policy(policy)
    with database().session() as s:
        _space(s, space_id)
        if s.get(SpaceMember, (space_id, department)) is None:
            raise forbidden(f"{department} 不是空间 {space_id} 的成员 is not a member of the space", "not-member")
        offer = DataOffer(id=new_id("dof"), space_id=space_id, provider=department, dataset_id=dataset_id,
                          dataset_version=info.version, title=title.strip() or info.title,
                          policy=parsed.as_jsonld(), status="active", created_by=principal.actor,
                          created_at=utcnow())
        s.add(offer)
    audit.record(principal.actor, "data.offer.created", offer.id,
                 {"space": space_id, "provider": department, "dataset": dataset_id, "version": info.version,
                  "policy_sha256": hashlib.sha256(audit.canonical_json(offer.policy).encode()).hexdigest()})
    return offer


def _offer(s: Session, offer_id: str) -> DataOffer:
    return _row(s, DataOffer, offer_id, ("数据产品", "offer"), "unknown-offer")


# ---- agreements -----------------------------------------------------------------------------

def _agreement(s: Session, agreement_id: str) -> DataAgreement:
    return _row(s, DataAgreement, agreement_id, ("协议", "agreement"), "unknown-agreement")


def _narrowed(offer: DataOffer, consumer: str, terms: Terms, agreement_id: str) -> dict[str, Any]:
    """The ODRL Agreement for one consumer: the terms that apply to them, and nothing else."""
    constraint: list[dict[str, Any]] = [
        {"leftOperand": "aicity:minGroupSize", "operator": "gteq", "rightOperand": terms.min_group_size}]
    if terms.purposes:
        constraint.append({"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": list(terms.purposes)})
    if terms.epsilon_budget is not None:
        constraint.append({"leftOperand": "aicity:epsilonBudget", "operator": "lteq",
                           "rightOperand": terms.epsilon_budget})
    if terms.query_quota is not None:
        constraint.append({"leftOperand": "count", "operator": "lteq", "rightOperand": terms.query_quota})
    if terms.expires_at is not None:
        constraint.append({"leftOperand": "dateTime", "operator": "lt", "rightOperand": terms.expires_at.isoformat()})
    duty = [{"action": f"aicity:{d}"} for d in terms.duties]
    permission = [{"action": a, "assignee": [consumer],
                   "constraint": constraint if a == "aggregate" else [c for c in constraint if c["leftOperand"]
                                                                       in ("purpose", "count", "dateTime")],
                   "duty": duty} for a in terms.actions]
    return {"@context": offer.policy.get("@context", "http://www.w3.org/ns/odrl.jsonld"), "@type": "Agreement",
            "uid": f"urn:aicity:agreement:{agreement_id}", "assigner": offer.provider, "assignee": consumer,
            "target": f"urn:aicity:dataset:{offer.dataset_id}:v{offer.dataset_version}",
            "permission": permission, "prohibition": [p for p in offer.policy.get("prohibition", [])
                                                      if not p.get("assignee") or consumer in p["assignee"]]}


def request_agreement(principal: Principal | None, offer_id: str, purpose: str) -> DataAgreement:
    consumer = _department(principal, "申请使用数据")
    assert principal is not None
    purpose = purpose.strip()
    if not purpose:
        raise bad_request("须说明使用目的 a purpose is required", "purpose-required")
    with database().session() as s:
        offer = _offer(s, offer_id)
        if offer.status != "active":
            raise conflict(f"数据产品 {offer_id} 已撤回 the offer is withdrawn", "offer-withdrawn")
        if offer.provider == consumer:
            raise bad_request("提供方无需向自己申请 the provider needs no agreement with itself", "own-offer")
        if s.get(SpaceMember, (offer.space_id, consumer)) is None:
            raise forbidden(f"{consumer} 不是空间 {offer.space_id} 的成员，请先加入 join the space first", "not-member")
        terms = terms_for(Policy.model_validate(offer.policy), consumer)
        if terms is None:
            raise forbidden(f"该数据产品的策略不允许 {consumer} 使用 the offer's policy permits {consumer} nothing",
                            "policy-not-permitted")
        if terms.purposes and purpose not in terms.purposes:
            raise forbidden(f"使用目的「{purpose}」不在策略允许的目的之内（{'、'.join(terms.purposes)}） "
                            "the purpose is not one the policy permits", "purpose-not-permitted")
        if terms.expires_at is not None and terms.expires_at <= utcnow():
            raise forbidden("该数据产品的策略已过期 the offer's policy has expired", "agreement-expired")
        row_id = new_id("dag")
        row = DataAgreement(
            id=row_id, offer_id=offer.id, space_id=offer.space_id, provider=offer.provider, consumer=consumer,
            dataset_id=offer.dataset_id, dataset_version=offer.dataset_version, purpose=purpose, status="requested",
            policy=_narrowed(offer, consumer, terms, row_id), actions=list(terms.actions),
            min_group_size=terms.min_group_size, epsilon_budget=terms.epsilon_budget, epsilon_spent=0.0,
            query_quota=terms.query_quota, queries_used=0, expires_at=terms.expires_at,
            requested_by=principal.actor, requested_at=utcnow(), reason="")
        s.add(row)
    audit.record(principal.actor, "data.agreement.requested", row.id,
                 {"offer": offer_id, "provider": row.provider, "consumer": consumer, "dataset": row.dataset_id,
                  "purpose": purpose})
    return row


def canonical_agreement(row: DataAgreement) -> str:
    """The signed bytes of an agreement: its policy, parties, dataset version, purpose and times."""
    return audit.canonical_json({
        "agreement": row.id, "offer": row.offer_id, "space": row.space_id, "provider": row.provider,
        "consumer": row.consumer, "dataset": row.dataset_id, "dataset_version": row.dataset_version,
        "purpose": row.purpose, "policy": row.policy,
        "terms": {"actions": list(row.actions), "min_group_size": row.min_group_size,
                  "epsilon_budget": row.epsilon_budget, "query_quota": row.query_quota},
        "requested_at": _iso(row.requested_at), "agreed_at": _iso(row.decided_at),
        "expires_at": _iso(row.expires_at), "requested_by": row.requested_by, "agreed_by": row.decided_by})


def _iso(t: dt.datetime | None) -> str | None:
    u = _utc(t)
    return None if u is None else u.isoformat(timespec="microseconds")


def _decidable(s: Session, principal: Principal | None, agreement_id: str) -> tuple[DataAgreement, str]:
    department = _department(principal, "审批数据使用申请")
    row = _agreement(s, agreement_id)
    if row.provider != department:
        raise forbidden(f"只有提供方 {row.provider} 的工作人员可以决定 only the provider's staff may decide",
                        "not-provider")
    if row.status != "requested":
        raise conflict(f"协议 {agreement_id} 已是 {row.status} the request was decided already", "agreement-decided")
    return row, department


def agree(principal: Principal | None, agreement_id: str) -> DataAgreement:
    """The provider agrees: the agreement is canonicalised, signed and recorded in the ledger."""
    with database().session() as s:
        row, _ = _decidable(s, principal, agreement_id)
        assert principal is not None
        if row.expires_at is not None and _utc(row.expires_at) <= utcnow():  # type: ignore[operator]
            raise conflict("申请所依据的策略已过期，不能再同意 the policy expired before the decision",
                           "agreement-expired")
        row.status, row.decided_by, row.decided_at = "agreed", principal.actor, utcnow()
        row.canonical = canonical_agreement(row)
        row.sha256 = hashlib.sha256(row.canonical.encode()).hexdigest()
        row.signature = audit.signing_key().sign(row.canonical.encode()).hex()
    entry = audit.record(principal.actor, "data.agreement.agreed", row.id, {
        "provider": row.provider, "consumer": row.consumer, "dataset": row.dataset_id,
        "version": row.dataset_version, "purpose": row.purpose, "sha256": row.sha256, "signature": row.signature,
        "epsilon_budget": row.epsilon_budget, "min_group_size": row.min_group_size, "query_quota": row.query_quota})
    with database().session() as s:
        s.execute(update(DataAgreement).where(DataAgreement.id == row.id).values(audit_seq=entry.seq))
    row.audit_seq = entry.seq
    return row


def refuse(principal: Principal | None, agreement_id: str, reason: str = "") -> DataAgreement:
    with database().session() as s:
        row, _ = _decidable(s, principal, agreement_id)
        assert principal is not None
        row.status, row.decided_by, row.decided_at, row.reason = "refused", principal.actor, utcnow(), reason.strip()
    entry = audit.record(principal.actor, "data.agreement.refused", row.id,
                         {"provider": row.provider, "consumer": row.consumer, "dataset": row.dataset_id,
                          "reason": row.reason})
    with database().session() as s:
        s.execute(update(DataAgreement).where(DataAgreement.id == row.id).values(audit_seq=entry.seq))
    row.audit_seq = entry.seq
    return row


def get_agreement(principal: Principal | None, agreement_id: str) -> DataAgreement:
    """An agreement, for its provider's or consumer's staff (an admin sees every one)."""
    department = _department(principal, "查看数据使用协议")
    assert principal is not None
    with database().session() as s:
        row = _agreement(s, agreement_id)
    if principal.role != Role.admin and department not in (row.provider, row.consumer):
        raise forbidden("只有协议双方可以查看 only the agreement's parties may see it", "not-party")
    return row


def list_agreements(principal: Principal | None, status: str | None = None) -> list[DataAgreement]:
    """The agreements the caller's department is a party to (an admin: all)."""
    department = _department(principal, "查看数据使用协议")
    assert principal is not None
    q = select(DataAgreement).order_by(DataAgreement.requested_at.desc())
    if principal.role != Role.admin:
        q = q.where(or_(DataAgreement.provider == department, DataAgreement.consumer == department))
    if status:
        q = q.where(DataAgreement.status == status)
    with database().session() as s:
        return list(s.scalars(q))


def _signed(row: DataAgreement) -> bool:
    """The stored terms are the ones the provider signed."""
    try:
        audit.public_key().verify(bytes.fromhex(row.signature or ""), canonical_agreement(row).encode())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    sha256: str | None
    ledger_seq: int | None
    reason: str


def verify_agreement(agreement_id: str) -> SignatureCheck:
    """Recompute the agreement's canonical form, check its Ed25519 signature and that the ledger
    entry recorded when it was agreed carries the same hash."""
    with database().session() as s:
        row = _agreement(s, agreement_id)
    if row.status != "agreed" or row.signature is None:
        return SignatureCheck(False, None, row.audit_seq, f"协议状态为 {row.status}，没有签名 not signed")
    canonical = canonical_agreement(row)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    if not _signed(row):
        return SignatureCheck(False, digest, row.audit_seq, "签名与协议内容不符 the signature does not match the terms")
    entries = [e for e in audit.recent_entries(limit=1, before=(row.audit_seq or 0) + 1)] if row.audit_seq else []
    if not entries or entries[0].action != "data.agreement.agreed" or entries[0].detail.get("sha256") != digest:
        return SignatureCheck(False, digest, row.audit_seq, "审计账本中的记录与协议不符 the ledger entry does not match")
    return SignatureCheck(True, digest, row.audit_seq, "签名有效，与审计账本一致 signature valid, matches the ledger")


# ---- aggregate queries ------------------------------------------------------------------------

class QueryRefused(Problem):
    def __init__(self, detail: str, type_: str, status: int = 403) -> None:
        super().__init__(status, "查询被拒绝 Query refused", detail, type_)


def _refused(principal: Principal, row: DataAgreement, request: AggregateRequest, problem: QueryRefused) -> None:
    entry = audit.record(principal.actor, "data.query.refused", row.id,
                         {"consumer": row.consumer, "dataset": row.dataset_id, "reason": problem.type_,
                          "epsilon": request.epsilon})
    with database().session() as s:
        s.add(DataUsage(agreement_id=row.id, at=utcnow(), actor=principal.actor, consumer=row.consumer,
                        purpose=row.purpose, action="aggregate", outcome="refused", reason=problem.detail,
                        request=request.model_dump(), epsilon=0.0, audit_seq=entry.seq))
    raise problem


def _why_not(row: DataAgreement, epsilon: float) -> QueryRefused | None:
    if row.status != "agreed":
        return QueryRefused(f"协议状态为 {row.status}，未生效 the agreement is not in force", "agreement-not-active")
    if not _signed(row):
        return QueryRefused("协议条款与签名不符（被改动），拒绝执行 the stored terms do not match the signed agreement",
                            "agreement-tampered", 409)
    if "aggregate" not in row.actions:
        return QueryRefused("协议不允许聚合查询 the agreement does not permit aggregate queries", "action-not-permitted")
    if row.expires_at is not None and _utc(row.expires_at) <= utcnow():  # type: ignore[operator]
        return QueryRefused(f"协议已于 {_iso(row.expires_at)} 到期 the agreement expired", "agreement-expired")
    if row.query_quota is not None and row.queries_used >= row.query_quota:
        return QueryRefused(f"查询次数已用完（{row.queries_used}/{row.query_quota}） the query quota is spent",
                            "query-quota-exhausted")
    if row.epsilon_budget is not None and row.epsilon_spent + epsilon > row.epsilon_budget + _EPS_SLACK:
        left = round(max(0.0, row.epsilon_budget - row.epsilon_spent), 9)
        return QueryRefused(f"隐私预算不足：剩余 ε={left:.4g}，本次需要 ε={epsilon:g} "
                            f"the privacy budget is spent (left {left:.4g}, asked {epsilon:g})",
                            "privacy-budget-exhausted")
    return None


def _spend(row: DataAgreement, epsilon: float) -> bool:
    """Deduct one query and its epsilon in one conditional UPDATE: two processes cannot both
    spend the last of a budget."""
    q = update(DataAgreement).where(DataAgreement.id == row.id, DataAgreement.status == "agreed")
    if row.query_quota is not None:
        q = q.where(DataAgreement.queries_used < DataAgreement.query_quota)
    if row.epsilon_budget is not None:
        q = q.where(DataAgreement.epsilon_spent + epsilon <= DataAgreement.epsilon_budget + _EPS_SLACK)
    q = q.values(epsilon_spent=DataAgreement.epsilon_spent + epsilon, queries_used=DataAgreement.queries_used + 1)
    with database().session() as s:
        return s.execute(q).rowcount == 1  # type: ignore[attr-defined]


def run_query(principal: Principal | None, agreement_id: str,
              request: AggregateRequest) -> tuple[Release, float | None]:
    """Run an aggregate request under an agreement: the release and the epsilon left (None: no budget)."""
    department = _department(principal, "查询数据")
    assert principal is not None
    with database().session() as s:
        row = _agreement(s, agreement_id)
    if row.consumer != department:
        raise forbidden(f"只有使用方 {row.consumer} 的工作人员可以查询 only the consumer's staff may query",
                        "not-consumer")
    problem = _why_not(row, request.epsilon)
    if problem is not None:
        _refused(principal, row, request, problem)
    info = store.dataset(row.dataset_id)
    version = row.dataset_version or info.version
    found = private_query.truth(info, version, request)  # checks the request before anything is spent
    if not _spend(row, request.epsilon):
        with database().session() as s:
            fresh = _agreement(s, agreement_id)
        _refused(principal, row, request, _why_not(fresh, request.epsilon)
                 or QueryRefused("并发查询已用尽预算 a concurrent query spent the budget", "privacy-budget-exhausted"))
    floor = settings().section(DataSettings).min_group_size  # the platform's floor under any policy
    released = private_query.noisy_release(request, found, max(row.min_group_size, floor))
    entry = audit.record(principal.actor, "data.query.released", row.id, {
        "consumer": row.consumer, "dataset": row.dataset_id, "version": version, "purpose": row.purpose,
        "metric": request.metric, "column": request.column, "group_by": request.group_by, "epsilon": request.epsilon,
        "groups": len(released.groups), "suppressed": released.suppressed})
    with database().session() as s:
        s.add(DataUsage(agreement_id=row.id, at=utcnow(), actor=principal.actor, consumer=row.consumer,
                        purpose=row.purpose, action="aggregate", outcome="released", reason="",
                        request=request.model_dump(), epsilon=request.epsilon, groups_released=len(released.groups),
                        groups_suppressed=released.suppressed, audit_seq=entry.seq))
        left = budget_left(_agreement(s, agreement_id))
    return released, left


def run_sql_query(principal: Principal | None, agreement_id: str,
                  body: SqlAggregate) -> tuple[Release, float | None]:
    """The same, the request written as aggregate-only SQL over the agreed dataset (`aggregate_sql.py`)."""
    _department(principal, "查询数据")
    with database().session() as s:
        dataset_id = _agreement(s, agreement_id).dataset_id
    return run_query(principal, agreement_id, to_request(body, dataset_id))


def usage(principal: Principal | None, agreement_id: str) -> tuple[DataAgreement, list[DataUsage]]:
    """Who used the agreement, when, for what purpose, what it spent (its parties only)."""
    row = get_agreement(principal, agreement_id)
    with database().session() as s:
        uses = list(s.scalars(select(DataUsage).where(DataUsage.agreement_id == agreement_id)
                              .order_by(DataUsage.id)))
    return row, uses


def budget_left(row: DataAgreement) -> float | None:
    return None if row.epsilon_budget is None else round(max(0.0, row.epsilon_budget - row.epsilon_spent), 10)
