"""`/api/v1/data/spaces`: data spaces, offers, agreements, aggregate-only queries, usage.

Staff act for their own department (`identity` keys carry it): only the provider's staff offer,
agree and refuse; only the consumer's staff request and query. Errors are RFC 9457 problems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from aicity.hub.data import spaces
from aicity.hub.data.aggregate_sql import SqlAggregate
from aicity.hub.data.private_query import AggregateRequest
from aicity.hub.data.spaces import SpaceKind
from aicity.hub.data.spaces_schemas import (
    AgreementView,
    OfferView,
    QueryOut,
    SpaceOut,
    UsageOut,
    VerifyOut,
    agreement_view,
    offer_view,
    space_out,
    use_view,
)
from aicity.identity.api import Caller

router = APIRouter(prefix="/api/v1/data/spaces", tags=["data spaces"])


class SpaceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: SpaceKind
    description: str = Field(default="", max_length=2000)


class MemberAdd(BaseModel):
    member: str | None = Field(default=None, max_length=80,
                               description="a department id or enterprise:<uscc>; default: the caller's department")


class MemberOut(BaseModel):
    space_id: str
    member: str
    member_kind: str


class OfferCreate(BaseModel):
    dataset: str = Field(max_length=60)
    policy: dict[str, Any] = Field(description="ODRL 2.2 policy in the subset of docs/data-policy.md")
    title: str = Field(default="", max_length=200)


class AgreementRequest(BaseModel):
    purpose: str = Field(min_length=1, max_length=200, description="使用目的, one the policy permits")


class Refusal(BaseModel):
    reason: str = Field(default="", max_length=2000)


@router.get("", response_model=list[SpaceOut], summary="数据空间列表 Data spaces")
def list_spaces(principal: Caller) -> list[SpaceOut]:
    spaces.require_staff(principal)
    return [space_out(v) for v in spaces.list_spaces()]


@router.post("", status_code=201, response_model=SpaceOut, summary="创建数据空间（部门工作人员）Create a space")
def create_space(body: SpaceCreate, principal: Caller) -> SpaceOut:
    space = spaces.create_space(principal, body.name, body.kind, body.description)
    return space_out(spaces.get_space(space.id))


@router.get("/agreements", response_model=list[AgreementView], summary="本部门的数据使用协议 Agreements")
def list_agreements(principal: Caller, status: Annotated[str | None, Query(
        pattern="^(requested|agreed|refused)$")] = None) -> list[AgreementView]:
    return [agreement_view(a) for a in spaces.list_agreements(principal, status)]


@router.get("/agreements/{agreement_id}", response_model=AgreementView, summary="一份协议 One agreement")
def get_agreement(agreement_id: str, principal: Caller) -> AgreementView:
    return agreement_view(spaces.get_agreement(principal, agreement_id))


@router.get("/agreements/{agreement_id}/verify", response_model=VerifyOut,
            summary="核验协议签名与审计账本 Verify an agreement's signature")
def verify_agreement(agreement_id: str, principal: Caller) -> VerifyOut:
    spaces.get_agreement(principal, agreement_id)
    check = spaces.verify_agreement(agreement_id)
    return VerifyOut(ok=check.ok, sha256=check.sha256, ledger_seq=check.ledger_seq, reason=check.reason)


@router.post("/agreements/{agreement_id}/agree", response_model=AgreementView,
             summary="同意并签署（提供方）Agree (the provider)")
def agree(agreement_id: str, principal: Caller) -> AgreementView:
    return agreement_view(spaces.agree(principal, agreement_id))


@router.post("/agreements/{agreement_id}/refuse", response_model=AgreementView,
             summary="拒绝（提供方）Refuse (the provider)")
def refuse(agreement_id: str, body: Refusal, principal: Caller) -> AgreementView:
    return agreement_view(spaces.refuse(principal, agreement_id, body.reason))


@router.post("/agreements/{agreement_id}/query", response_model=QueryOut,
             summary="聚合查询（使用方；仅返回加噪聚合值）Aggregate query (the consumer)")
def query(agreement_id: str, body: AggregateRequest, principal: Caller) -> QueryOut:
    release, left = spaces.run_query(principal, agreement_id, body)
    return QueryOut(agreement_id=agreement_id, release=release, epsilon_left=left)


@router.post("/agreements/{agreement_id}/query-sql", response_model=QueryOut,
             summary="聚合 SQL 查询（使用方；经 sqlglot 检查为仅聚合）Aggregate-only SQL (the consumer)")
def query_sql(agreement_id: str, body: SqlAggregate, principal: Caller) -> QueryOut:
    release, left = spaces.run_sql_query(principal, agreement_id, body)
    return QueryOut(agreement_id=agreement_id, release=release, epsilon_left=left)


@router.get("/agreements/{agreement_id}/usage", response_model=UsageOut,
            summary="使用记录与剩余预算（协议双方）Usage and budget left")
def usage(agreement_id: str, principal: Caller) -> UsageOut:
    row, uses = spaces.usage(principal, agreement_id)
    return UsageOut(agreement=agreement_view(row), uses=[use_view(u) for u in uses])


@router.post("/offers/{offer_id}/requests", status_code=201, response_model=AgreementView,
             summary="申请使用（使用方）Request an agreement (the consumer)")
def request_agreement(offer_id: str, body: AgreementRequest, principal: Caller) -> AgreementView:
    return agreement_view(spaces.request_agreement(principal, offer_id, body.purpose))


@router.get("/{space_id}", response_model=SpaceOut, summary="一个数据空间 One space")
def get_space(space_id: str, principal: Caller) -> SpaceOut:
    spaces.require_staff(principal)
    return space_out(spaces.get_space(space_id))


@router.post("/{space_id}/members", status_code=201, response_model=MemberOut,
             summary="加入数据空间 Join (or, as its operator, add a member)")
def join(space_id: str, body: MemberAdd, principal: Caller) -> MemberOut:
    row = spaces.join_space(principal, space_id, body.member)
    return MemberOut(space_id=row.space_id, member=row.member, member_kind=row.member_kind)


@router.post("/{space_id}/offers", status_code=201, response_model=OfferView,
             summary="提供数据集及使用策略（提供方）Offer a dataset under a policy")
def offer(space_id: str, body: OfferCreate, principal: Caller) -> OfferView:
    return offer_view(spaces.make_offer(principal, space_id, body.dataset, body.policy, body.title))
