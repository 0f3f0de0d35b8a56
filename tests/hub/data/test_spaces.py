"""Data spaces end to end on the real store (DuckDB), database and audit ledger: policies that
contradict themselves are refused by name; request → agree (signed, in the ledger) → aggregate
queries with noise → small groups suppressed → budget or quota spent, or the agreement expired →
refused with the reason and recorded; only the parties act; never a row."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import update

from aicity.core import audit
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.data import spaces, spaces_demo
from aicity.hub.data.aggregate_sql import SqlAggregate, to_request
from aicity.hub.data.policy import aggregate_policy, parse_policy, terms_for
from aicity.hub.data.private_query import AggregateRequest
from aicity.hub.data.spaces_models import DataAgreement
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.data_store import PACK, pack_dataset

DATASET = "low_income_households"
CIVIL = Principal(Role.official, department="civil_affairs", key_id="t-civil")
DATA = Principal(Role.official, department="data_bureau", key_id="t-data")
HEALTH = Principal(Role.official, department="health", key_id="t-health")
PURPOSE = "低保覆盖情况分区统计"


def _truth(sql: str) -> list[tuple]:
    """The exact figures, straight from the pack's CSV (not through the code under test)."""
    return duckdb.sql(sql.replace("{T}", f"read_csv('{PACK / (DATASET + '.csv')}')")).fetchall()


def _problem(call, status: int, type_: str) -> Problem:
    with pytest.raises(Problem) as caught:
        call()
    assert caught.value.status == status and caught.value.type_ == type_, (caught.value.status, caught.value.detail)
    return caught.value


@pytest.fixture(scope="module")
def dataset(city: Path):
    return pack_dataset(DATASET)


def _agreement(epsilon: float = 1.0, quota: int | None = None, min_group: int = 10) -> DataAgreement:
    space = spaces.create_space(CIVIL, "测试空间", "city")
    spaces.join_space(DATA, space.id)
    offer = spaces.make_offer(CIVIL, space.id, DATASET, aggregate_policy(
        purposes=[PURPOSE], epsilon=epsilon, min_group_size=min_group, quota=quota))
    return spaces.request_agreement(DATA, offer.id, PURPOSE)


# ---- the policy ------------------------------------------------------------------------------

def test_an_aggregate_only_policy_parses_into_terms() -> None:
    policy = parse_policy(aggregate_policy(purposes=[PURPOSE], epsilon=1.0, min_group_size=10, quota=20))
    terms = terms_for(policy, "data_bureau")
    assert terms is not None and terms.aggregate_only
    assert (terms.epsilon_budget, terms.min_group_size, terms.query_quota, terms.purposes) == (1.0, 10, 20, (PURPOSE,))
    assert terms.duties == ("recordUse",)


def _policy(**rule) -> dict:
    return {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer", "permission": [rule]}


EPS = {"leftOperand": "aicity:epsilonBudget", "operator": "lteq", "rightOperand": 1}


@pytest.mark.parametrize(("policy", "contradiction"), [
    ({**_policy(action="read", assignee=["data_bureau"]),
      "prohibition": [{"action": "read", "assignee": ["data_bureau", "health"]}]}, "permitted-and-prohibited"),
    ({**_policy(action="download"), "prohibition": [{"action": "read"}]}, "permitted-and-prohibited"),
    (_policy(action="aggregate", constraint=[EPS, {"leftOperand": "dateTime", "operator": "lt",
                                                   "rightOperand": "2020-01-01"}]), "expired"),
    (_policy(action="download", constraint=[{"leftOperand": "aicity:minGroupSize", "operator": "gteq",
                                             "rightOperand": 10}]), "row-action-with-aggregate-constraints"),
    (_policy(action="aggregate", constraint=[EPS, {"leftOperand": "aicity:minGroupSize", "operator": "gteq",
                                                   "rightOperand": 0}]), "min-group-size"),
    (_policy(action="aggregate", constraint=[{**EPS, "rightOperand": 0}]), "epsilon-budget"),
    (_policy(action="aggregate", constraint=[EPS, {"leftOperand": "count", "operator": "lteq",
                                                   "rightOperand": 0}]), "query-quota"),
    (_policy(action="aggregate", constraint=[EPS, {**EPS, "rightOperand": 2}]), "duplicate-constraint"),
])
def test_a_contradictory_policy_is_a_422_naming_it(policy: dict, contradiction: str) -> None:
    problem = _problem(lambda: parse_policy(policy), 422, "policy-contradiction")
    assert problem.extra["contradiction"] == contradiction


@pytest.mark.parametrize(("policy", "fault"), [
    (_policy(action="sell"), "unknown action"),
    ({"permission": []}, "permission"),
    (_policy(action="aggregate"), "epsilonBudget"),
    (_policy(action="aggregate", constraint=[EPS, {"leftOperand": "spatial", "operator": "eq",
                                                   "rightOperand": "x"}]), "unknown constraint"),
    (_policy(action="aggregate", constraint=[{**EPS, "operator": "gt"}]), "takes lteq"),
    (_policy(action="aggregate", constraint=[{**EPS, "rightOperand": "lots"}]), "invalid value"),
])
def test_a_malformed_policy_is_a_422_naming_the_fault(policy: dict, fault: str) -> None:
    problem = _problem(lambda: parse_policy(policy), 422, "invalid-policy")
    assert fault in problem.detail


def test_a_ban_of_one_consumer_under_a_permission_for_all_is_an_exception() -> None:
    policy = parse_policy({**_policy(action="aggregate", constraint=[EPS]),
                           "prohibition": [{"action": "aggregate", "assignee": ["health"]}]})
    assert terms_for(policy, "health") is None
    assert terms_for(policy, "data_bureau") is not None


# ---- the flow ------------------------------------------------------------------------------

def test_request_agree_query_until_the_budget_is_spent(dataset) -> None:
    row = _agreement(epsilon=0.5)
    assert row.status == "requested" and row.epsilon_budget == 0.5 and row.min_group_size == 10
    _problem(lambda: spaces.agree(DATA, row.id), 403, "not-provider")  # the consumer cannot agree for the provider
    agreed = spaces.agree(CIVIL, row.id)
    assert agreed.status == "agreed" and agreed.signature and agreed.audit_seq
    check = spaces.verify_agreement(row.id)
    assert check.ok, check.reason
    _problem(lambda: spaces.agree(CIVIL, row.id), 409, "agreement-decided")

    request = AggregateRequest(metric="count", group_by=["district_id"], epsilon=0.2)
    release, left = spaces.run_query(DATA, row.id, request)
    truth = dict(_truth("SELECT district_id, COUNT(*) FROM {T} GROUP BY 1"))
    assert {g.key["district_id"] for g in release.groups} == set(truth)
    for g in release.groups:
        assert abs(g.value - truth[g.key["district_id"]]) < 80  # Laplace-like noise of scale 1/0.2
        assert set(g.key) == {"district_id"}  # the group key and a number: never a row
    assert left == pytest.approx(0.3)

    spaces.run_query(DATA, row.id, request)
    refused = _problem(lambda: spaces.run_query(DATA, row.id, request), 403, "privacy-budget-exhausted")
    assert "ε" in refused.detail
    agreement, uses = spaces.usage(CIVIL, row.id)  # the provider sees every use and refusal
    assert [u.outcome for u in uses] == ["released", "released", "refused"]
    assert agreement.epsilon_spent == pytest.approx(0.4) and agreement.queries_used == 2
    assert all(u.purpose == PURPOSE and u.actor == DATA.actor for u in uses)
    actions = [e.action for e in audit.recent_entries(limit=6) if e.target == row.id]
    assert actions[:4] == ["data.query.refused", "data.query.released", "data.query.released",
                           "data.agreement.agreed"]
    assert audit.verify().ok


def test_small_groups_are_suppressed_and_sums_are_clipped(dataset) -> None:
    row = spaces.agree(CIVIL, _agreement(epsilon=5.0).id)
    release, _ = spaces.run_query(DATA, row.id, AggregateRequest(
        metric="count", group_by=["community", "has_disabled_member"], epsilon=1.0))
    sizes = dict(((c, d), n) for c, d, n in _truth("SELECT community, has_disabled_member, COUNT(*) FROM {T} GROUP BY 1, 2"))
    small = sum(1 for n in sizes.values() if n < 10)
    assert small > 0 and release.suppressed == small
    assert all(sizes[(g.key["community"], g.key["has_disabled_member"])] >= 10 for g in release.groups)

    loose = spaces.agree(CIVIL, _agreement(min_group=1).id)  # the platform's floor (5) still holds
    release, _ = spaces.run_query(DATA, loose.id, AggregateRequest(
        metric="count", group_by=["community", "household_size"], epsilon=0.1))
    sizes = dict(((c, n), k) for c, n, k in _truth("SELECT community, household_size, COUNT(*) FROM {T} GROUP BY 1, 2"))
    assert release.suppressed == sum(1 for k in sizes.values() if k < 5) > 0
    assert all(sizes[(g.key["community"], g.key["household_size"])] >= 5 for g in release.groups)

    total = _truth("SELECT SUM(LEAST(monthly_allowance_yuan, 3000)) FROM {T} WHERE district_id = 'donghu'")[0][0]
    release, _ = spaces.run_query(DATA, row.id, AggregateRequest(
        metric="sum", column="monthly_allowance_yuan", lower=0, upper=3000,
        filters=[{"column": "district_id", "value": "donghu"}], epsilon=2.0))
    [group] = release.groups
    assert group.key == {} and abs(group.value - total) < 3000 * 20 / 2.0


def test_identifying_columns_and_bad_requests_are_refused_before_spending(dataset) -> None:
    row = spaces.agree(CIVIL, _agreement().id)
    for request, fault in [
        (AggregateRequest(metric="count", group_by=["id_number"], epsilon=0.1), "identifies a person"),
        (AggregateRequest(metric="count", filters=[{"column": "head_name", "value": "张三"}], epsilon=0.1),
         "identifies a person"),
        (AggregateRequest(metric="count", group_by=["nope"], epsilon=0.1), "no column"),
        (AggregateRequest(metric="sum", column="community", lower=0, upper=1, epsilon=0.1), "not numeric"),
    ]:
        problem = _problem(lambda r=request: spaces.run_query(DATA, row.id, r), 422, "invalid-aggregate")
        assert fault in problem.detail
    with pytest.raises(ValueError, match="bounds"):
        AggregateRequest(metric="sum", column="household_size", epsilon=0.1)
    assert spaces.usage(CIVIL, row.id)[0].epsilon_spent == 0


def test_quota_expiry_and_who_may_act(dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    row = spaces.agree(CIVIL, _agreement(quota=1).id)
    request = AggregateRequest(metric="count", epsilon=0.1)
    _problem(lambda: spaces.run_query(HEALTH, row.id, request), 403, "not-consumer")
    _problem(lambda: spaces.run_query(CIVIL, row.id, request), 403, "not-consumer")
    _problem(lambda: spaces.run_query(Principal(Role.citizen), row.id, request), 403, "forbidden")
    _problem(lambda: spaces.run_query(None, row.id, request), 401, "unauthorized")
    spaces.run_query(DATA, row.id, request)
    _problem(lambda: spaces.run_query(DATA, row.id, request), 403, "query-quota-exhausted")

    space = spaces.create_space(CIVIL, "测试空间三", "city")
    spaces.join_space(DATA, space.id)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    offer = spaces.make_offer(CIVIL, space.id, DATASET, aggregate_policy(purposes=[PURPOSE], epsilon=1.0,
                                                                        expires=tomorrow))
    other = spaces.agree(CIVIL, spaces.request_agreement(DATA, offer.id, PURPOSE).id)
    spaces.run_query(DATA, other.id, request)
    monkeypatch.setattr(spaces, "utcnow", lambda: tomorrow + dt.timedelta(seconds=1))  # a day later
    _problem(lambda: spaces.run_query(DATA, other.id, request), 403, "agreement-expired")
    assert [u.reason[:4] for u in spaces.usage(DATA, other.id)[1]] == ["", "协议已于"]


def test_requests_outside_the_policy_and_refusals(dataset) -> None:
    space = spaces.create_space(CIVIL, "测试空间二", "industry")
    offer = spaces.make_offer(CIVIL, space.id, DATASET, aggregate_policy(purposes=[PURPOSE], epsilon=1.0))
    _problem(lambda: spaces.request_agreement(DATA, offer.id, PURPOSE), 403, "not-member")
    spaces.join_space(DATA, space.id)
    _problem(lambda: spaces.join_space(DATA, space.id), 409, "already-member")
    _problem(lambda: spaces.request_agreement(DATA, offer.id, "商业营销"), 403, "purpose-not-permitted")
    _problem(lambda: spaces.make_offer(DATA, space.id, DATASET, aggregate_policy(purposes=["x"], epsilon=1.0)),
             403, "not-dataset-owner")
    _problem(lambda: spaces.create_space(DATA, "x", "galactic"), 400, "unknown-space-kind")
    row = spaces.request_agreement(DATA, offer.id, PURPOSE)
    refused = spaces.refuse(CIVIL, row.id, "目的与职责不符")
    assert refused.status == "refused" and refused.audit_seq
    _problem(lambda: spaces.run_query(DATA, row.id, AggregateRequest(metric="count", epsilon=0.1)),
             403, "agreement-not-active")
    assert not spaces.verify_agreement(row.id).ok


def test_an_edited_agreement_no_longer_verifies(dataset) -> None:
    row = spaces.agree(CIVIL, _agreement().id)
    with database().session() as s:
        s.execute(update(DataAgreement).where(DataAgreement.id == row.id).values(min_group_size=1))
    check = spaces.verify_agreement(row.id)
    assert not check.ok and "signature" in check.reason
    _problem(lambda: spaces.run_query(DATA, row.id, AggregateRequest(metric="count", epsilon=0.1)),
             409, "agreement-tampered")  # terms edited after signing are not enforced: nothing runs


def test_the_demo_agreement_end_to_end(dataset) -> None:
    """The demo loader's agreement (civil affairs → data administration, min group 10, ε 1.0, 20
    queries): counts by district until the budget is spent, then refused; the trail verifies."""
    rows = [a for a in spaces.list_agreements(CIVIL) if a.consumer == "data_bureau" and a.purpose == spaces_demo.PURPOSE
            and a.requested_by == "official:demo"]
    assert rows, "the demo loader made no agreement"
    row = rows[-1]
    assert (row.status, row.min_group_size, row.epsilon_budget, row.query_quota) == ("agreed", 10, 1.0, 20)
    assert spaces.verify_agreement(row.id).ok
    request = AggregateRequest(metric="count", group_by=["district_id"], epsilon=0.25)
    left = row.epsilon_budget - row.epsilon_spent
    while left > 0.25 - 1e-9:
        release, now_left = spaces.run_query(DATA, row.id, request)
        assert len(release.groups) == 6 and now_left == pytest.approx(left - 0.25)
        left = now_left
    _problem(lambda: spaces.run_query(DATA, row.id, request), 403, "privacy-budget-exhausted")
    newest = next(e for e in audit.recent_entries(limit=50) if e.target == row.id)
    assert newest.action == "data.query.refused" and newest.detail["reason"] == "privacy-budget-exhausted"
    [signed] = audit.recent_entries(limit=1, before=row.audit_seq + 1)
    assert (signed.action, signed.target, signed.detail["sha256"]) == ("data.agreement.agreed", row.id, row.sha256)
    assert audit.verify().ok


def test_concurrent_queries_cannot_overspend(dataset) -> None:
    """Eight queries of ε 0.3 at once against a budget of 1.0: exactly three are released."""
    row = spaces.agree(CIVIL, _agreement(epsilon=1.0).id)
    request = AggregateRequest(metric="count", epsilon=0.3)

    def one(_: int) -> str:
        try:
            spaces.run_query(DATA, row.id, request)
        except Problem as exc:
            return exc.type_
        return "released"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(one, range(8)))
    assert outcomes == ["privacy-budget-exhausted"] * 5 + ["released"] * 3
    assert spaces.usage(CIVIL, row.id)[0].epsilon_spent == pytest.approx(0.9)


@pytest.mark.parametrize(("sql", "metric", "group_by", "filters"), [
    ("SELECT district_id, COUNT(*) AS n FROM low_income_households WHERE household_size >= 2 "
     "AND district_id IN ('donghu', 'nanhu') GROUP BY district_id", "count", ["district_id"],
     [("household_size", ">=", 2), ("district_id", "in", ["donghu", "nanhu"])]),
    ("select avg(monthly_allowance_yuan), community from low_income_households where (has_disabled_member <> 0) "
     "group by community", "mean", ["community"], [("has_disabled_member", "!=", 0)]),
])
def test_aggregate_only_sql_becomes_a_structured_request(sql: str, metric: str, group_by: list, filters: list) -> None:
    request = to_request(SqlAggregate(sql=sql, lower=0, upper=6000, epsilon=0.1), DATASET)
    assert (request.metric, request.group_by) == (metric, group_by)
    assert [(f.column, f.op, f.value) for f in request.filters] == filters


@pytest.mark.parametrize(("sql", "fault"), [
    ("SELECT * FROM low_income_households", "only COUNT(*)"),
    ("SELECT head_name, COUNT(*) FROM low_income_households", "grouped ones"),
    ("DELETE FROM low_income_households", "one SELECT"),
    ("SELECT COUNT(*) FROM low_income_households; SELECT 1", "one SELECT"),
    ("SELECT COUNT(*) FROM enterprises", "agreed dataset"),
    ("SELECT COUNT(*) FROM low_income_households__v1", "agreed dataset"),
    ("SELECT COUNT(*) FROM low_income_households a JOIN districts d ON a.district_id = d.district_id", "joins"),
    ("SELECT district_id, COUNT(*) FROM low_income_households GROUP BY district_id HAVING COUNT(*) < 3", "having"),
    ("SELECT COUNT(*) FROM low_income_households LIMIT 1", "limit"),
    ("SELECT COUNT(*) FROM low_income_households WHERE district_id IN (SELECT district_id FROM districts)",
     "subqueries"),
    ("SELECT COUNT(*) OVER () FROM low_income_households", "window"),
    ("SELECT MAX(monthly_allowance_yuan) FROM low_income_households", "only COUNT(*)"),
    ("SELECT COUNT(*) FROM low_income_households WHERE head_name LIKE '张%'", "comparisons"),
    ("SELECT SUM(household_size) FROM low_income_households", "bounds"),
])
def test_sql_that_is_not_aggregate_only_is_refused(sql: str, fault: str) -> None:
    problem = _problem(lambda: to_request(SqlAggregate(sql=sql, epsilon=0.1), DATASET), 422, "invalid-aggregate")
    assert fault in problem.detail


def test_sql_queries_run_under_the_agreement(dataset) -> None:
    row = spaces.agree(CIVIL, _agreement().id)
    release, left = spaces.run_sql_query(DATA, row.id, SqlAggregate(
        sql="SELECT district_id, SUM(monthly_allowance_yuan) FROM low_income_households GROUP BY district_id",
        lower=0, upper=6000, epsilon=0.5))
    assert len(release.groups) == 6 and release.metric == "sum" and left == pytest.approx(0.5)
    _problem(lambda: spaces.run_sql_query(DATA, row.id, SqlAggregate(
        sql="SELECT id_number, COUNT(*) FROM low_income_households GROUP BY id_number", epsilon=0.1)),
        422, "invalid-aggregate")
