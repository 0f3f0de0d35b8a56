"""Typed shapes of data spaces, offers, agreements and uses (REST answers and `--json`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from aicity.hub.data.private_query import Release
from aicity.hub.data.spaces import KINDS, SpaceKind, SpaceView, budget_left
from aicity.hub.data.spaces_models import DataAgreement, DataOffer, DataUsage


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)).isoformat()


class OfferView(BaseModel):
    id: str
    space_id: str
    provider: str
    dataset_id: str
    dataset_version: int | None
    title: str
    status: str
    policy: dict[str, Any] = Field(description="ODRL 2.2 policy (docs/data-policy.md)")
    created_by: str
    created_at: str | None


class SpaceOut(BaseModel):
    id: str
    name: str
    kind: SpaceKind
    kind_name: str
    description: str
    operator: str
    created_at: str | None
    members: list[str]
    offers: list[OfferView]


class AgreementView(BaseModel):
    id: str
    offer_id: str
    space_id: str
    provider: str
    consumer: str
    dataset_id: str
    dataset_version: int | None
    purpose: str
    status: str = Field(description="requested | agreed | refused")
    actions: list[str]
    min_group_size: int
    epsilon_budget: float | None
    epsilon_spent: float
    epsilon_left: float | None
    query_quota: int | None
    queries_used: int
    expires_at: str | None
    requested_by: str
    requested_at: str | None
    decided_by: str | None
    decided_at: str | None
    reason: str
    sha256: str | None = Field(description="SHA-256 of the canonical agreement")
    signature: str | None = Field(description="Ed25519 signature (hex) by the audit ledger's key")
    audit_seq: int | None = Field(description="the ledger entry recording the decision")
    policy: dict[str, Any] = Field(description="the ODRL Agreement")


class UseView(BaseModel):
    at: str | None
    actor: str
    consumer: str
    purpose: str
    action: str
    outcome: str = Field(description="released | refused")
    reason: str
    request: dict[str, Any]
    epsilon: float
    groups_released: int
    groups_suppressed: int
    audit_seq: int | None


class UsageOut(BaseModel):
    agreement: AgreementView
    uses: list[UseView]


class QueryOut(BaseModel):
    agreement_id: str
    release: Release
    epsilon_left: float | None


class VerifyOut(BaseModel):
    ok: bool
    sha256: str | None
    ledger_seq: int | None
    reason: str


def offer_view(o: DataOffer) -> OfferView:
    return OfferView(id=o.id, space_id=o.space_id, provider=o.provider, dataset_id=o.dataset_id,
                     dataset_version=o.dataset_version, title=o.title, status=o.status, policy=o.policy,
                     created_by=o.created_by, created_at=_iso(o.created_at))


def space_out(v: SpaceView) -> SpaceOut:
    sp = v.space
    return SpaceOut(id=sp.id, name=sp.name, kind=sp.kind, kind_name=KINDS[sp.kind],  # type: ignore[arg-type]
                    description=sp.description, operator=sp.operator, created_at=_iso(sp.created_at),
                    members=v.members, offers=[offer_view(o) for o in v.offers])


def agreement_view(a: DataAgreement) -> AgreementView:
    return AgreementView(
        id=a.id, offer_id=a.offer_id, space_id=a.space_id, provider=a.provider, consumer=a.consumer,
        dataset_id=a.dataset_id, dataset_version=a.dataset_version, purpose=a.purpose, status=a.status,
        actions=list(a.actions), min_group_size=a.min_group_size, epsilon_budget=a.epsilon_budget,
        epsilon_spent=round(a.epsilon_spent, 10), epsilon_left=budget_left(a), query_quota=a.query_quota,
        queries_used=a.queries_used, expires_at=_iso(a.expires_at), requested_by=a.requested_by,
        requested_at=_iso(a.requested_at), decided_by=a.decided_by, decided_at=_iso(a.decided_at), reason=a.reason,
        sha256=a.sha256, signature=a.signature, audit_seq=a.audit_seq, policy=a.policy)


def use_view(u: DataUsage) -> UseView:
    return UseView(at=_iso(u.at), actor=u.actor, consumer=u.consumer, purpose=u.purpose, action=u.action,
                   outcome=u.outcome, reason=u.reason, request=u.request, epsilon=u.epsilon,
                   groups_released=u.groups_released, groups_suppressed=u.groups_suppressed, audit_seq=u.audit_seq)
