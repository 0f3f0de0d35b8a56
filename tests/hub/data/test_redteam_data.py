"""Red-team checks of the data hub (#14) through REST, the service and the checkers, with keys
of different roles and departments: derived datasets that would take another department's
dataset or a lower grade, data-space errors that would echo a row's value, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aicity.core.errors import Problem
from aicity.hub.data import access, spaces, sqlcheck, store
from aicity.hub.data.importer import import_bytes
from aicity.hub.data.policy import aggregate_policy
from aicity.hub.data.private_query import AggregateRequest
from aicity.hub.data.schema import load_spec, parse_spec
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.data_store import PACK, pack_dataset
from tests.support.http import problem

DATASET = "low_income_households"
CIVIL = Principal(Role.official, department="civil_affairs", key_id="rt-civil")
DATA = Principal(Role.official, department="data_bureau", key_id="rt-data")


def key(role: str, dept: str | None) -> dict[str, str]:
    _, plaintext = identity.create_api_key(f"redteam-{role}-{dept}", role, dept)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, dict[str, str]]:
    pack_dataset(DATASET)
    pack_dataset("enterprises")
    return {"civil_op": key("operator", "civil_affairs"), "data": key("official", "data_bureau"),
            "market_op": key("operator", "market")}


def test_desensitize_never_writes_into_another_departments_dataset(client: TestClient, keys) -> None:
    before = store.dataset("enterprises")
    steps = {"steps": [{"op": "drop", "column": "id_number"}]}
    body = problem(client.post(f"/api/v1/data/datasets/{DATASET}/desensitize?into=enterprises", json=steps,
                               headers=keys["civil_op"]), 409)
    assert body["type"].endswith("into-not-derived")
    after = store.dataset("enterprises")
    assert (after.version, after.owner_department, after.rows) == (before.version, before.owner_department,
                                                                    before.rows)
    # nor into any other dataset that was not derived from this source
    problem(client.post(f"/api/v1/data/datasets/{DATASET}/desensitize?into=districts", json=steps,
                        headers=keys["civil_op"]), 409)


def _relief_copy() -> None:
    """The pack's low-income households under another id, with no catalog words of their own (so
    the derived datasets made here never outrank the pack's in catalog searches)."""
    spec = load_spec(PACK / f"{DATASET}.yaml")
    spec = spec.model_copy(update={
        "id": "rt_relief", "title": "红队副本 red-team copy", "description": "", "keywords": [], "relations": [],
        "checks": [], "columns": [c.model_copy(update={"title": "", "meaning": "", "synonyms": []})
                                  for c in spec.columns]})
    import_bytes((PACK / f"{DATASET}.csv").read_bytes(), "rt_relief.csv", spec=spec, actor="test", confirm=True)


def test_a_derived_dataset_keeps_its_sources_grade_until_confirmed(client: TestClient, keys) -> None:
    _relief_copy()
    assert store.dataset("rt_relief").sensitivity_level == 4
    steps = {"steps": [{"op": "drop", "column": "id_number"}, {"op": "drop", "column": "mobile"},
                       {"op": "drop", "column": "head_name"}, {"op": "drop", "column": "household_id"},
                       {"op": "drop", "column": "has_disabled_member"}]}
    made = client.post("/api/v1/data/datasets/rt_relief/desensitize?into=rt_relief_masked", json=steps,
                       headers=keys["civil_op"])
    assert made.status_code == 201, made.text
    # masked values alone no longer look like persons' rows: the suggestion reads lower than the source
    assert made.json()["suggestion"]["level"] < 4, made.json()["suggestion"]
    assert made.json()["sensitivity_level"] == 4 and not made.json()["confirmed"]
    seen = client.get("/api/v1/data/datasets/rt_relief_masked", headers=keys["data"]).json()
    assert seen["may_read_rows"] is False and seen["sample"]["rows"] == []
    cols = {c["name"]: c for c in seen["columns"]}
    assert cols["monthly_allowance_yuan"]["pii"] == "sensitive" and cols["monthly_allowance_yuan"][
        "sensitivity_level"] == 4
    problem(client.get("/api/v1/data/datasets/rt_relief_masked/rows.csv", headers=keys["data"]), 403)
    # a second run into its own derived dataset is allowed
    again = client.post("/api/v1/data/datasets/rt_relief/desensitize?into=rt_relief_masked", json=steps,
                        headers=keys["civil_op"])
    assert again.status_code == 201 and again.json()["version"] == 2
    # another department's officer may not derive from it
    problem(client.post("/api/v1/data/datasets/rt_relief_masked/desensitize", json=steps,
                        headers=keys["market_op"]), 403)


def test_space_query_errors_never_echo_a_rows_value(keys) -> None:
    space = spaces.create_space(CIVIL, "红队空间", "city")
    spaces.join_space(DATA, space.id)
    offer = spaces.make_offer(CIVIL, space.id, DATASET, aggregate_policy(purposes=["红队"], epsilon=5.0))
    agreement = spaces.request_agreement(DATA, offer.id, "红队")
    spaces.agree(CIVIL, agreement.id)
    values = {r[0] for r in store.read_connection().execute(f"SELECT DISTINCT community FROM {DATASET}").fetchall()}
    for f in ({"column": "community", "op": "=", "value": 1}, {"column": "community", "op": "in", "value": [1, 2]},
              {"column": "start_date", "op": ">", "value": "not a date"}):
        try:
            spaces.run_query(DATA, agreement.id, AggregateRequest(metric="count", filters=[f], epsilon=0.01))
        except Problem as exc:
            assert not any(v in exc.detail for v in values), exc.detail
    # a numeric value against a text column is compared as text: no error, no leak, a count
    released, _ = spaces.run_query(DATA, agreement.id, AggregateRequest(
        metric="count", filters=[{"column": "household_size", "op": ">=", "value": "1"}], epsilon=0.01))
    assert released.groups and released.groups[0].value > 100


# ---- the ask engine's SQL checker (ask.py / sqlcheck.py belong to the ask builder) -------------

def _official_access() -> sqlcheck.Access:
    """What an official of another department may use of the low-income households (aggregate
    only), built from `access.py` as `ask.caller_access` builds it."""
    info = store.dataset(DATASET)
    personal = {c.name for c in info.columns if c.pii is not None and c.pii_kind in access.IDENTIFYING}
    allowed = access.allowed_columns("official", "data_bureau", info) - personal
    assert not access.may_read_rows("official", "data_bureau", info)
    return sqlcheck.Access(columns={DATASET: allowed}, row_tables=set(),
                           all_columns={DATASET: [c.name for c in info.columns]}, personal={DATASET: personal})


def test_ask_sql_refuses_a_whole_row_through_the_table_alias(keys) -> None:
    for sql in (f"SELECT first(l) FROM {DATASET} l", f"SELECT count(*), any_value(l) FROM {DATASET} l",
                f"SELECT max(l) FROM {DATASET} l", f"SELECT list(l) FROM {DATASET} l",
                f"SELECT count(*) FROM {DATASET} l GROUP BY l"):
        with pytest.raises(sqlcheck.SqlRefused):
            sqlcheck.check(sql, _official_access(), 1000)
    # a dataset read row by row: the struct carries the personal columns `e.*` would be refused
    info = store.dataset("enterprises")
    personal = {c.name for c in info.columns if c.pii is not None}
    rows = sqlcheck.Access(columns={"enterprises": access.allowed_columns("official", "data_bureau", info) - personal},
                           row_tables={"enterprises"}, all_columns={"enterprises": [c.name for c in info.columns]},
                           personal={"enterprises": personal})
    with pytest.raises(sqlcheck.SqlRefused):
        sqlcheck.check("SELECT e FROM enterprises e", rows, 1000)


def test_ask_sql_aggregate_only_means_no_row_values(keys) -> None:
    with pytest.raises(sqlcheck.SqlRefused):
        sqlcheck.check(f"SELECT list(monthly_allowance_yuan) FROM {DATASET}", _official_access(), 1000)
    # grouping by every column is answered, but no released group is smaller than the minimum: no row rebuilt
    checked = sqlcheck.check(f"SELECT district_id, start_date, household_size, monthly_allowance_yuan, count(*) AS n "
                             f"FROM {DATASET} GROUP BY ALL", _official_access(), 1000)
    rows = store.read_connection().execute(checked.sql).fetchall()
    assert all(row[-1] >= 5 for row in rows)
    assert store.read_connection().execute(
        f"SELECT count(*) FROM (SELECT count(*) AS n FROM {DATASET} "
        f"GROUP BY district_id, start_date, household_size, monthly_allowance_yuan) WHERE n < 5").fetchone()[0] > 0


QUALITY_SPEC = """
id: rt_contacts
title: 红队联系人 red-team contacts
owner_department: civil_affairs
category: 政务数据 · 测试
grade: {grade: general, level: 1}
columns:
  - {name: district_id, type: VARCHAR, level: 1}
  - {name: contact_mobile, type: VARCHAR, level: 1, pii: personal, pii_kind: mobile}
checks:
  - {kind: pattern, column: contact_mobile, regex: '^1[3-9][0-9]{9}$', severity: warn}
"""


def test_quality_examples_show_no_personal_values_outside_the_owner(client: TestClient, keys) -> None:
    rows = "district_id,contact_mobile\n" + "".join(f"donghu,1380013{i:04d}\n" for i in range(5)) + \
        "donghu,13800-13999\n"
    made = client.post("/api/v1/data/datasets", headers=keys["civil_op"], data={"confirm": "true"},
                       files={"file": ("rt_contacts.csv", rows.encode(), "text/csv"),
                              "declaration": ("rt_contacts.yaml", QUALITY_SPEC.encode(), "application/yaml")})
    assert made.status_code == 201, made.text
    owner = client.get("/api/v1/data/datasets/rt_contacts", headers=keys["civil_op"]).json()
    assert owner["quality"]["checks"][0]["examples"] == ["13800-13999"]
    for headers in ({}, keys["data"]):
        seen = client.get("/api/v1/data/datasets/rt_contacts", headers=headers).json()
        check = seen["quality"]["checks"][0]
        assert check["failing"] == 1 and check["examples"] == [], check
        assert "13800-13999" not in json.dumps(seen, ensure_ascii=False)


OPEN_SPEC = """
id: rt_open
title: 红队公开表 red-team open data
owner_department: civil_affairs
category: 公共数据 · 测试
grade: {grade: general, level: 1}
columns:
  - {name: district_id, type: VARCHAR, level: 1}
  - {name: n, type: BIGINT, level: 1}
"""


def _resident_id(serial: int) -> str:
    body = f"42010219800101{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_a_new_sensitive_column_does_not_inherit_a_lower_confirmed_grade(client: TestClient, keys) -> None:
    first = client.post("/api/v1/data/datasets", headers=keys["civil_op"], data={"confirm": "true"},
                        files={"file": ("rt_open.csv", b"district_id,n\ndonghu,1\n"),
                               "declaration": ("rt_open.yaml", OPEN_SPEC.encode())})
    assert first.status_code == 201 and first.json()["sensitivity_level"] == 1, first.text
    # the next version adds resident IDs, declared without grades and not confirmed
    spec = OPEN_SPEC.replace("grade: {grade: general, level: 1}\n", "") + "  - {name: id_number, type: VARCHAR}\n"
    rows = "district_id,n,id_number\n" + "".join(f"donghu,{i},{_resident_id(i)}\n" for i in range(20))
    second = client.post("/api/v1/data/datasets", headers=keys["civil_op"],
                         files={"file": ("rt_open.csv", rows.encode()), "declaration": ("rt_open.yaml", spec.encode())})
    assert second.status_code == 201, second.text
    info = store.dataset("rt_open")
    assert info.column("id_number").pii == "sensitive"
    assert info.sensitivity_level == 4 and not info.confirmed
    problem(client.get("/api/v1/data/datasets/rt_open/rows.csv"), 403)
    item = next(d for d in client.get("/api/v1/data/export/dcat").json()["dcat:dataset"]
                if d["dct:identifier"] == "rt_open")
    assert item["dct:accessRights"]["@id"].endswith("/NON_PUBLIC")


EMAIL_SPEC = """
id: rt_mailing
title: 红队邮件名单 red-team mailing list
owner_department: civil_affairs
category: 政务数据 · 测试
columns:
  - {name: district_id, type: VARCHAR}
  - {name: email, type: VARCHAR, pii: personal, pii_kind: email}
  - {name: visits, type: BIGINT}
"""


def test_space_queries_refuse_every_identifying_kind(keys) -> None:
    rows = "district_id,email,visits\n" + "".join(f"donghu,u{i}@example.cn,{i}\n" for i in range(30))
    import_bytes(rows.encode(), "rt_mailing.csv", spec=parse_spec(EMAIL_SPEC), actor="test")
    space = spaces.create_space(CIVIL, "红队邮件空间", "city")
    spaces.join_space(DATA, space.id)
    offer = spaces.make_offer(CIVIL, space.id, "rt_mailing", aggregate_policy(purposes=["红队"], epsilon=5.0))
    agreement = spaces.request_agreement(DATA, offer.id, "红队")
    spaces.agree(CIVIL, agreement.id)
    for request in ({"metric": "count", "group_by": ["email"], "epsilon": 0.1},
                    {"metric": "count", "filters": [{"column": "email", "op": "=", "value": "u1@example.cn"}],
                     "epsilon": 0.1}):
        with pytest.raises(Problem) as caught:
            spaces.run_query(DATA, agreement.id, AggregateRequest.model_validate(request))
        assert caught.value.type_ == "invalid-aggregate"
