"""The data hub's datasets on a real DuckDB store and the real demo pack: import of every format
and encoding, versions, quality reports, all-or-nothing failures, grading, access, desensitization,
the catalog and its exports, over the service, REST and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from aicity.core.config import configure
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.data import access, catalog, desensitize, service, store
from aicity.hub.data.cli import app as data_cli
from aicity.hub.data.importer import import_bytes, stored_spec
from aicity.hub.data.models import Dataset, DatasetVersion, LineageStep
from aicity.hub.data.schema import parse_spec
from aicity.hub.iot import service as iot
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.hub.data.store_support import PACK_ROWS

SMALL_SPEC = """
id: {id}
title: 测试站点 test stations
owner_department: ecology
category: 公共数据 · 测试
primary_key: [station]
columns:
  - {{name: station, type: VARCHAR, title: 站点}}
  - {{name: district_id, type: VARCHAR}}
  - {{name: aqi, type: BIGINT}}
  - {{name: day, type: DATE}}
checks:
  - {{kind: range, column: aqi, min: 0, max: 500, severity: error}}
  - {{kind: reference, column: district_id, references: districts.district_id}}
"""
GOOD = "station,district_id,aqi,day\nA1,donghu,50,2025-01-01\nA2,guanggu,61,2025-01-02\n东湖站,nanhu,70,2025-01-03\n"


def spec_of(ds_id: str):
    return parse_spec(SMALL_SPEC.format(id=ds_id))


def names_in_store() -> set[str]:
    return store.tables()


def metadata_rows(ds_id: str) -> tuple[Dataset | None, list[DatasetVersion]]:
    with database().session() as s:
        return s.get(Dataset, ds_id), list(s.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == ds_id)))


def key(role: str, dept: str | None) -> dict[str, str]:
    _, plaintext = identity.create_api_key(f"data-test-{role}-{dept}", role, dept)
    return {"Authorization": f"Bearer {plaintext}"}


# ---- the demo pack -----------------------------------------------------------------------

def test_demo_pack_is_loaded_graded_and_queryable(city: Path) -> None:
    infos = {d.id: d for d in store.list_datasets()}
    for ds_id, rows in PACK_ROWS.items():
        assert infos[ds_id].rows == rows
        assert infos[ds_id].confirmed and infos[ds_id].quality_score == 1.0
    cur = store.read_connection()
    assert cur.execute("SELECT count(*) FROM hotline_tickets").fetchone()[0] == 25013
    assert cur.execute("SELECT count(*) FROM enterprises WHERE status IN ('存续', '在业')").fetchone()[0] > 3000
    assert str(cur.execute("SELECT typeof(created_at) FROM hotline_tickets LIMIT 1").fetchone()[0]) == "TIMESTAMP"
    low = infos["low_income_households"]
    assert (low.grade, low.sensitivity_level, low.owner_department) == ("general", 4, "civil_affairs")
    assert low.column("id_number").pii == "sensitive" and low.column("id_number").pii_kind == "resident_id"
    assert infos["enterprises"].column("contact_mobile").pii == "personal"
    assert infos["districts"].sensitivity_level == 1 and not any(c.pii for c in infos["districts"].columns)


def test_unknown_dataset(city: Path, client: TestClient) -> None:
    with pytest.raises(store.UnknownDataset):
        store.dataset("no_such_dataset")
    r = client.get("/api/v1/data/datasets/no_such_dataset")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "no_such_dataset" in r.json()["detail"]


# ---- formats and encodings ---------------------------------------------------------------

def test_gb18030_and_bom_csv(city: Path) -> None:
    gb = import_bytes(GOOD.encode("gb18030"), "t_gb.csv", spec=spec_of("t_gb"))
    assert (gb.encoding, gb.rows) == ("gb18030", 3)
    bom = import_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"), "t_bom.csv", spec=spec_of("t_bom"))
    assert bom.encoding == "utf-8-sig"
    cur = store.read_connection()
    assert cur.execute("SELECT station FROM t_gb WHERE aqi = 70").fetchone()[0] == "东湖站"
    assert cur.execute("SELECT station FROM t_bom WHERE aqi = 70").fetchone()[0] == "东湖站"


def test_wrong_encoding_is_refused(city: Path) -> None:
    with pytest.raises(Problem) as exc:
        import_bytes(b"station,aqi\n\x81\x30\xff\xff,1\n", "t_bad_enc.csv")
    assert exc.value.status == 422 and exc.value.type_ == "wrong-encoding"
    assert "t_bad_enc" not in names_in_store()


def test_xlsx_json_jsonl_and_parquet(city: Path, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["station", "district_id", "aqi", "day"])
    sheet.append(["X1", "donghu", 42, "2025-03-01"])
    buf = io.BytesIO()
    book.save(buf)
    assert import_bytes(buf.getvalue(), "t_xlsx.xlsx", spec=spec_of("t_xlsx")).rows == 1
    records = [{"station": "J1", "district_id": "nanhu", "aqi": 33, "day": "2025-04-01"},
               {"station": "J2", "district_id": "nanhu", "aqi": None, "day": "2025-04-02"}]
    assert import_bytes(json.dumps(records).encode(), "t_json.json", spec=spec_of("t_json")).rows == 2
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    assert import_bytes(lines, "t_jsonl.jsonl", spec=spec_of("t_jsonl")).format == "json"
    parquet = tmp_path / "t.parquet"
    store.read_connection().execute(f"COPY (SELECT * FROM t_json) TO '{parquet}' (FORMAT parquet)")
    assert import_bytes(parquet.read_bytes(), "t_parquet.parquet", spec=spec_of("t_parquet")).rows == 2
    cur = store.read_connection()
    assert cur.execute("SELECT count(*) FROM t_parquet WHERE aqi IS NULL").fetchone()[0] == 1
    inferred = import_bytes(GOOD.encode(), "t_inferred.csv")  # no declaration: types from the values
    assert {c.name: c.type for c in store.dataset(inferred.dataset).columns} == {
        "station": "VARCHAR", "district_id": "VARCHAR", "aqi": "BIGINT", "day": "DATE"}


# ---- bad input: nothing half-written -----------------------------------------------------

def test_malformed_csv_names_the_line(city: Path) -> None:
    with pytest.raises(Problem) as exc:
        import_bytes(b"station,district_id,aqi,day\nA1,donghu,50,2025-01-01\nA2,guanggu\n", "t_ragged.csv")
    assert exc.value.status == 422 and "line 3" in exc.value.detail
    assert metadata_rows("t_ragged") == (None, [])


def test_type_breaking_column_leaves_the_old_version(city: Path) -> None:
    import_bytes(GOOD.encode(), "t_types.csv", spec=spec_of("t_types"))
    bad = GOOD + "A4,donghu,很好,2025-01-04\nA5,donghu,1.5,2025-01-05\n"
    with pytest.raises(Problem) as exc:
        import_bytes(bad.encode(), "t_types.csv")  # the stored declaration is used
    assert exc.value.status == 422 and exc.value.type_ == "type-mismatch"
    assert "aqi" in exc.value.detail and "line 5" in exc.value.detail and "很好" in exc.value.detail
    assert exc.value.extra["bad_values"] == 2
    assert store.dataset("t_types").version == 1
    assert "t_types__v2" not in names_in_store()
    assert store.read_connection().execute("SELECT count(*) FROM t_types").fetchone()[0] == 3


def test_failed_check_after_the_table_was_written_rolls_everything_back(city: Path) -> None:
    """The range check (severity error) fails after the version table was created in the
    transaction: no table, no view change, no metadata, no lineage."""
    import_bytes(GOOD.encode(), "t_atomic.csv", spec=spec_of("t_atomic"))
    with pytest.raises(Problem) as exc:
        import_bytes((GOOD + "A9,donghu,900,2025-01-09\n").encode(), "t_atomic.csv")
    assert exc.value.type_ == "quality-failed" and "900" in exc.value.detail
    ds, versions = metadata_rows("t_atomic")
    assert ds is not None and ds.current_version == 1 and [v.version for v in versions] == [1]
    assert "t_atomic__v2" not in names_in_store()
    with database().session() as s:
        assert s.scalar(select(LineageStep.version).where(LineageStep.dataset_id == "t_atomic",
                                                          LineageStep.version == 2)) is None
    assert store.read_connection().execute("SELECT max(aqi) FROM t_atomic").fetchone()[0] == 70


def test_reimport_is_a_new_version_and_the_old_stays_queryable(city: Path) -> None:
    import_bytes(GOOD.encode(), "t_versions.csv", spec=spec_of("t_versions"))
    second = import_bytes((GOOD + "A4,xicheng,80,2025-01-04\n").encode(), "t_versions.csv")
    assert second.version == 2
    cur = store.read_connection()
    assert cur.execute("SELECT count(*) FROM t_versions").fetchone()[0] == 4
    assert cur.execute("SELECT count(*) FROM t_versions__v1").fetchone()[0] == 3
    assert [v["version"] for v in service.versions("t_versions")] == [1, 2]
    assert stored_spec("t_versions").primary_key == ["station"]


def test_quality_report_counts_dangling_references_and_duplicates(city: Path) -> None:
    text = GOOD + "A1,atlantis,20,2025-01-04\n"
    done = import_bytes(text.encode(), "t_quality.csv", spec=spec_of("t_quality"))
    by_kind = {c["kind"]: c for c in done.checks}
    assert by_kind["reference"]["status"] == "failed" and by_kind["reference"]["examples"] == ["atlantis"]
    assert by_kind["unique"]["failing"] == 1 and by_kind["unique"]["examples"] == [["A1"]]
    assert 0 < done.quality_score < 1
    assert service.quality("t_quality")["failed"] == 2


# ---- grading and access ------------------------------------------------------------------

def test_grading_suggestions_on_the_pack(city: Path) -> None:
    low = service.suggestions("low_income_households")
    suggested = {c["name"]: c["suggested"]["pii"] for c in low["columns"]}
    assert suggested["id_number"] == "sensitive" and suggested["head_name"] == "personal"
    assert suggested["household_size"] is None and low["suggested"]["sensitivity_level"] == 4
    assert not any(c["suggested"]["pii"] for c in service.suggestions("hotline_tickets")["columns"])


def test_access_follows_the_grade(city: Path) -> None:
    low = store.dataset("low_income_households")
    assert not access.may_read_rows("official", "civil_affairs", low)
    assert not access.may_read_rows("admin", None, low)
    assert access.may_read_rows("operator", "civil_affairs", low)
    assert "id_number" not in access.allowed_columns("official", "market", low)
    assert "monthly_allowance_yuan" in access.allowed_columns("official", "market", low)
    assert access.allowed_columns("citizen", None, low) == set()
    assert access.may_read_rows("citizen", None, store.dataset("air_quality_daily"))
    assert not access.may_read_rows("citizen", None, store.dataset("hotline_tickets"))
    official = service.sample("enterprises", Principal(Role.official, "tax"), 3)
    mobile = official["columns"].index("contact_mobile")
    assert all("****" in row[mobile] for row in official["rows"])
    owner = service.sample("enterprises", Principal(Role.operator, "market"), 3)
    assert not any("****" in str(v) for v in owner["rows"][0])
    assert service.sample("low_income_households", Principal(Role.official, "market"))["allowed"] is False


def test_rest_permissions_and_problems(city: Path, client: TestClient) -> None:
    files = {"file": ("t_rest.csv", GOOD.encode(), "text/csv")}
    assert client.post("/api/v1/data/datasets", files=files).status_code == 403
    assert client.post("/api/v1/data/datasets", files=files, headers=key("official", "ecology")).status_code == 403
    again = {"file": ("enterprises.csv", b"uscc\n1\n", "text/csv")}
    r = client.post("/api/v1/data/datasets", files=again, headers=key("operator", "ecology"))
    assert r.status_code == 403 and r.json()["type"].endswith("not-data-officer")
    schema = ("t_rest.yaml", SMALL_SPEC.format(id="t_rest").encode(), "application/yaml")
    ecology = key("operator", "ecology")
    r = client.post("/api/v1/data/datasets", files={**files, "declaration": schema}, headers=ecology)
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 3
    bad = {"file": ("t_rest.csv", (GOOD + "A4,donghu,abc,2025-01-04\n").encode(), "text/csv")}
    r = client.post("/api/v1/data/datasets", files=bad, headers=ecology)
    assert r.status_code == 422 and "aqi" in r.json()["detail"]
    r = client.post("/api/v1/data/datasets", files={"file": ("t_rest_owner.csv", GOOD.encode(), "text/csv")},
                    headers=ecology)
    assert r.status_code == 201 and store.dataset("t_rest_owner").owner_department == "ecology"
    r = client.post("/api/v1/data/datasets", files={"file": ("x.doc", b"hello", "application/msword")},
                    headers=ecology)
    assert r.status_code == 415
    r = client.post("/api/v1/data/datasets/low_income_households/grading/confirm", json={"sensitivity_level": 2},
                    headers=key("operator", "market"))
    assert r.status_code == 403
    detail = client.get("/api/v1/data/datasets/low_income_households").json()
    assert detail["sample"]["allowed"] is False and detail["may_read_rows"] is False
    assert "id_number" not in detail["allowed_columns"]


def test_grade_confirmation_by_the_owner(city: Path, client: TestClient) -> None:
    import_bytes(GOOD.encode(), "t_grade.csv", spec=spec_of("t_grade"))
    assert store.dataset("t_grade").confirmed is False
    r = client.post("/api/v1/data/datasets/t_grade/grading/confirm",
                    json={"sensitivity_level": 2, "columns": {"station": {"sensitivity_level": 2}}},
                    headers=key("operator", "ecology"))
    assert r.status_code == 200, r.text
    info = store.dataset("t_grade")
    assert info.confirmed and info.sensitivity_level == 2 and info.column("station").sensitivity_level == 2
    assert service.lineage("t_grade")[-1]["step"] == "grade_confirm"
    r = client.post("/api/v1/data/datasets/t_grade/grading/confirm", json={"columns": {"nope": {"sensitivity_level": 1}}},
                    headers=key("operator", "ecology"))
    assert r.status_code == 422


# ---- desensitization ---------------------------------------------------------------------

@pytest.fixture
def pseudonym_key(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    key_file = tmp_path / "pseudonym.key"  # outside the data dir
    key_file.write_text("a-test-key-of-more-than-16-bytes\n")
    monkeypatch.setenv("AICITY_DATA_PSEUDONYM_KEY_FILE", str(key_file))
    configure(data_dir=city)
    yield
    monkeypatch.delenv("AICITY_DATA_PSEUDONYM_KEY_FILE")
    configure(data_dir=city)


def test_desensitize_into_a_derived_dataset(pseudonym_key: None) -> None:
    steps = desensitize.Plan.model_validate({"steps": [
        {"op": "mask", "column": "head_name"}, {"op": "mask", "column": "mobile"},
        {"op": "age_band", "column": "id_number", "keep_source": True},
        {"op": "pseudonymise", "column": "id_number"}, {"op": "suppress", "columns": ["community"], "k": 5}]}).steps
    done = desensitize.apply("low_income_households", steps, into="t_low_income_test", actor="test")
    cur = store.read_connection()
    src = cur.execute("SELECT id_number FROM low_income_households ORDER BY household_id LIMIT 1").fetchone()[0]
    names = [r[0] for r in cur.execute("SELECT head_name FROM t_low_income_test LIMIT 20").fetchall()]
    assert all(len(n) >= 2 and set(n[1:]) == {"*"} for n in names)
    assert all(r[0].startswith("P") and len(r[0]) == 21
               for r in cur.execute("SELECT id_number FROM t_low_income_test").fetchall())
    key = desensitize.pseudonym_key()
    assert desensitize.pseudonym(src, key) == desensitize.pseudonym(src, key)  # same person, same token
    assert cur.execute("SELECT count(*) FROM t_low_income_test WHERE id_number = ?",
                       [desensitize.pseudonym(src, key)]).fetchone()[0] <= 1
    assert cur.execute("SELECT count(*) FROM t_low_income_test WHERE age_band IS NULL").fetchone()[0] == 0
    small = cur.execute("SELECT count(*) FROM (SELECT community FROM t_low_income_test GROUP BY 1 "
                        "HAVING count(*) < 5)").fetchone()[0]
    assert small == 0 and done.rows <= 1511
    step = service.lineage("t_low_income_test")[0]
    assert step["step"] == "desensitize" and step["inputs"] == ["dataset:low_income_households@1"]
    assert "t_low_income_test" in service.derived_from("low_income_households")
    assert store.dataset("t_low_income_test").confirmed is False


def test_pseudonymise_without_a_key_is_refused(city: Path) -> None:
    steps = desensitize.Plan.model_validate({"steps": [{"op": "pseudonymise", "column": "id_number"}]}).steps
    with pytest.raises(Problem) as exc:
        desensitize.apply("low_income_households", steps, into="t_no_key")
    assert exc.value.type_ == "pseudonym-key-missing"


def test_masking_rules() -> None:
    assert desensitize.mask("何菊香", "name") == "何**"
    assert desensitize.mask("422223194903018548", "resident_id") == "422223********8548"
    assert desensitize.mask("17741337422", "mobile") == "177****7422"
    assert desensitize.age_band("422223194903018548", dt.date(2025, 12, 31)) == "70-79"
    assert desensitize.district_of("光谷大道77号") == "光谷区"


# ---- catalog and exports -----------------------------------------------------------------

def test_catalog_search_and_exports(city: Path, client: TestClient) -> None:
    assert catalog.search("低保 保障金")[0]["id"] == "low_income_households"
    assert catalog.search("PM2.5 空气")[0]["id"] == "air_quality_daily"
    hit = catalog.search("纳税")[0]
    assert hit["id"] == "enterprises" and "tax_2024_10k_yuan" in hit["columns"]
    listed = client.get("/api/v1/data/datasets", params={"q": "12345 工单"}).json()
    assert listed[0]["id"] == "hotline_tickets"
    package = client.get("/api/v1/data/export/datapackage").json()
    ent = next(r for r in package["resources"] if r["name"] == "enterprises")
    assert {"fields": "district_id", "reference": {"resource": "districts", "fields": "district_id"}} in \
        ent["schema"]["foreignKeys"]
    assert next(f for f in ent["schema"]["fields"] if f["name"] == "founded_date")["type"] == "date"
    dcat = client.get("/api/v1/data/export/dcat").json()
    assert dcat["@type"] == "dcat:Catalog"
    low = next(d for d in dcat["dcat:dataset"] if d["dct:identifier"] == "low_income_households")
    assert low["dct:accessRights"]["@id"].endswith("NON_PUBLIC")


# ---- the CLI -----------------------------------------------------------------------------

def test_cli_import_show_and_errors(city: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "t_cli.csv"
    good.write_bytes(GOOD.encode("gb18030"))
    r = runner.invoke(data_cli, ["import", str(good), "--json", "--data-dir", str(city)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["encoding"] == "gb18030"
    bad = tmp_path / "t_cli_bad.csv"
    bad.write_text("a,b\n1\n", encoding="utf-8")
    r = runner.invoke(data_cli, ["import", str(bad), "--data-dir", str(city)])
    assert r.exit_code == 2 and "line 2" in r.output
    r = runner.invoke(data_cli, ["show", "nope", "--data-dir", str(city)])
    assert r.exit_code == 2 and "nope" in r.output
    r = runner.invoke(data_cli, ["show", "districts", "--json", "--data-dir", str(city)])
    assert json.loads(r.stdout)["rows"] == 30


def test_platform_table_as_a_dataset(city: Path, client: TestClient) -> None:
    iot.create_device(iot.DeviceSpec(type="WaterLevelObserved", id="data-test-level-1", name="测试积水点",
                                     district="guanggu", lat=30.43, lon=114.47), "test")
    done = service.import_platform("platform_devices", actor="test")
    assert done.rows >= 1
    info = store.dataset("platform_devices")
    assert info.title.startswith("物联设备") and info.source == "platform:iot"
    assert service.lineage("platform_devices")[-1]["step"] == "platform_export"
    assert store.read_connection().execute(
        "SELECT count(*) FROM platform_devices WHERE id = 'data-test-level-1'").fetchone()[0] == 1
    assert client.post("/api/v1/data/platform/platform_devices", headers=key("operator", "data_bureau")).status_code == 403
    assert client.post("/api/v1/data/platform/nope", headers=key("admin", None)).status_code == 404


def test_what_may_leave_the_hub(city: Path, client: TestClient) -> None:
    r = client.get("/api/v1/data/datasets/air_quality_daily/rows.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert len(r.text.strip().splitlines()) == 3645
    assert client.get("/api/v1/data/datasets/hotline_tickets/rows.csv").status_code == 403
    official = key("official", "tax")
    r = client.get("/api/v1/data/datasets/enterprises/rows.csv", headers=official)
    header, first = r.text.splitlines()[:2]
    assert "****" in first.split(",")[header.split(",").index("contact_mobile")]
    r = client.get("/api/v1/data/datasets/low_income_households/rows.csv", headers=official)
    assert r.status_code == 403 and r.json()["type"].endswith("export-not-allowed")
    r = client.get("/api/v1/data/datasets/low_income_households/rows.csv", headers=key("operator", "civil_affairs"))
    assert r.status_code == 200 and "****" not in r.text
