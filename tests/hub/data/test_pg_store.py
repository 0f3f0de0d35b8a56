"""The analytical store on a real PostgreSQL (`data.store_url`): the demo pack imported with COPY
into its own schema, the catalog, versions, quality, 一句话问数 giving the numbers the embedded
DuckDB gives, a differentially private aggregate under an agreement, read-only queries with a
timeout, a read-only role, and failures that leave nothing behind."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest

from aicity.core.config import configure, settings
from aicity.core.db import database, use_database
from aicity.core.errors import Problem
from aicity.hub.data import ask, demo, desensitize, pgstore, service, spaces, spaces_demo, sqlcheck, store
from aicity.hub.data.importer import import_bytes, import_path
from aicity.hub.data.models import Dataset, DatasetVersion
from aicity.hub.data.private_query import AggregateRequest
from aicity.hub.data.schema import parse_spec
from aicity.identity.models import Role
from aicity.identity.service import Principal

pytestmark = pytest.mark.postgres

SCHEMA = "hub_data_test"
PACK_ROWS = {"districts": 30, "chain_nodes": 51, "enterprises": 4004, "investment_leads": 300,
             "hotline_tickets": 25013, "air_quality_daily": 3644, "low_income_households": 1511,
             "traffic_flow_hourly": 11520}
SPEC = """
id: {id}
title: 测试站点 test stations
owner_department: ecology
category: 公共数据 · 测试
primary_key: [station]
columns:
  - {{name: station, type: VARCHAR}}
  - {{name: district_id, type: VARCHAR}}
  - {{name: aqi, type: BIGINT}}
  - {{name: day, type: DATE}}
checks:
  - {{kind: range, column: aqi, min: 0, max: 500, severity: error}}
  - {{kind: reference, column: district_id, references: districts.district_id}}
"""
QUESTIONS = ["各区工单数量", "江滨区2025年5月有多少12345工单", "每月工单数量趋势", "三季度和四季度的工单量分别是多少",
             "周末车流量最大的道路", "各时段平均车流量", "路灯故障工单的平均办理时长", "第三季度热线满意率",
             "各区AQI平均值", "注册资本超过5000万元的企业数", "各区低保户数", "how many tickets in Nanhu in June"]


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def pg_store(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The pack in a PostgreSQL store (schema hub_data_test), metadata in a fresh SQLite database."""
    data_dir = tmp_path_factory.mktemp("pgstore")
    previous_db, previous_dir = database().url, settings().data_dir
    with psycopg.connect(_plain(pg_url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AICITY_DATA_STORE_URL", pg_url)
        mp.setenv("AICITY_DATA_STORE_SCHEMA", SCHEMA)
        mp.setenv("AICITY_PLANNER", "embedded")
        store.close()
        configure(data_dir=data_dir)
        use_database(f"sqlite:///{data_dir / 'meta.db'}").migrate()
        store.invalidate()
        ask.reset()
        for path, spec in demo.pack(ask.pack_dir().parent):
            import_path(path, spec=spec, actor=demo.DEMO_OFFICER, confirm=True)
        try:
            yield pg_url
        finally:
            store.close()
            ask.reset()
    configure(data_dir=previous_dir)
    use_database(previous_db)
    store.invalidate()


def spec_of(ds_id: str):
    return parse_spec(SPEC.format(id=ds_id))


def schema_tables(url: str) -> dict[str, str]:
    with psycopg.connect(_plain(url)) as conn:
        return dict(conn.execute("SELECT table_name, table_schema FROM information_schema.tables "
                                 "WHERE table_schema IN (%s, 'public')", [SCHEMA]).fetchall())


def test_the_pack_is_in_its_own_schema_with_the_catalog(pg_store: str) -> None:
    assert store.backend() == "postgres" and SCHEMA in store.location() and "@" in store.location()
    infos = {d.id: d for d in store.list_datasets()}
    for ds_id, rows in PACK_ROWS.items():
        assert infos[ds_id].rows == rows and infos[ds_id].quality_score == 1.0 and infos[ds_id].confirmed
    where = schema_tables(pg_store)
    assert where["hotline_tickets"] == SCHEMA and where["hotline_tickets__v1"] == SCHEMA
    assert "datasets" not in where  # the platform's metadata lives elsewhere (here SQLite)
    assert dict(store.column_types("hotline_tickets"))["created_at"] == "TIMESTAMP"
    cur = store.read_connection()
    try:
        assert cur.execute("SELECT count(*) FROM hotline_tickets").fetchone() == (25013,)
        n = cur.execute("SELECT count(*) FROM enterprises WHERE status IN (?, ?)", ["存续", "在业"]).fetchone()[0]
        assert n > 3000
    finally:
        cur.close()
    low = infos["low_income_households"]
    assert (low.grade, low.sensitivity_level) == ("general", 4) and low.column("id_number").pii == "sensitive"
    assert service.quality("districts")["score"] == 1.0


def test_gb18030_reimport_versions_and_quality(pg_store: str) -> None:
    v1 = import_bytes("station,district_id,aqi,day\n东湖站,donghu,50,2025-01-01\nA2,nowhere,61,\n"
                      .encode("gb18030"), "pg_st.csv", spec=spec_of("pg_st"))
    assert (v1.version, v1.rows, v1.encoding) == (1, 2, "gb18030")
    dangling = next(c for c in v1.checks if c["kind"] == "reference")  # districts read from PostgreSQL
    assert dangling["status"] == "failed" and dangling["failing"] == 1 and dangling["examples"] == ["nowhere"]
    v2 = import_bytes(b"station,district_id,aqi,day\nB1,donghu,70,2025-02-01\n", "pg_st.csv")
    assert v2.version == 2 and next(c for c in v2.checks if c["kind"] == "reference")["status"] == "passed"
    cur = store.read_connection()
    try:
        assert cur.execute("SELECT station, day FROM pg_st__v1 WHERE aqi = 50").fetchone() == (
            "东湖站", dt.date(2025, 1, 1))
        assert cur.execute("SELECT count(*) FROM pg_st__v1 WHERE day IS NULL").fetchone() == (1,)
        assert cur.execute("SELECT station FROM pg_st").fetchall() == [("B1",)]
    finally:
        cur.close()
    assert [v["version"] for v in service.versions("pg_st")] == [1, 2]
    assert service.quality("pg_st", 1)["failed"] == 1 and service.quality("pg_st")["failed"] == 0


def test_questions_give_the_numbers_duckdb_gives(pg_store: str) -> None:
    assert ask.connection()[1].startswith(store.location())  # the store, not the packaged pack
    for q in QUESTIONS:
        on_pg, on_duck = ask.ask(q), ask.ask_pack(q)
        assert on_pg.status == on_duck.status == "answered", (q, on_pg.reason)
        assert on_pg.sql == on_duck.sql, q  # one checked query; the store's cursor transpiles it
        assert len(on_pg.rows) == len(on_duck.rows), q
        for a, b in zip(on_pg.rows, on_duck.rows, strict=True):
            for x, y in zip(a, b, strict=True):
                assert x == pytest.approx(y, rel=1e-9) if isinstance(y, float) else x == y, (q, a, b)
    refused = ask.ask("列出低保户的身份证号")
    assert refused.status == "refused"


def test_sql_in_either_dialect(pg_store: str) -> None:
    ran, _, rows = ask.run_sql("SELECT count(*) AS n FROM hotline_tickets WHERE quarter(created_at) = 3")
    ran_pg, _, rows_pg = ask.run_sql("SELECT count(*) AS n FROM hotline_tickets "
                                     "WHERE EXTRACT(QUARTER FROM created_at) = 3", dialect="postgres")
    assert rows == rows_pg and rows[0][0] > 0
    with pytest.raises(sqlcheck.SqlRefused):
        ask.run_sql("SELECT pg_read_file('/etc/passwd') FROM districts", dialect="postgres")
    with pytest.raises(sqlcheck.SqlRefused):
        ask.run_sql("SELECT 1 FROM districts", dialect="oracle")


def test_desensitize_into_a_derived_dataset(pg_store: str) -> None:
    steps = desensitize.Plan.model_validate({"steps": [
        {"op": "mask", "column": "head_name"}, {"op": "age_band", "column": "id_number"},
        {"op": "suppress", "columns": ["community"], "k": 5}]}).steps
    done = desensitize.apply("low_income_households", steps, into="pg_low_income", actor="test")
    cur = store.read_connection()
    try:
        names = [r[0] for r in cur.execute("SELECT head_name FROM pg_low_income LIMIT 20").fetchall()]
        small = cur.execute("SELECT count(*) FROM (SELECT community FROM pg_low_income GROUP BY 1 "
                            "HAVING count(*) < 5)").fetchone()[0]
    finally:
        cur.close()
    assert names and all(set(n[1:]) == {"*"} for n in names)
    assert small == 0 and 0 < done.rows <= 1511
    assert "id_number" not in dict(store.column_types("pg_low_income"))
    assert service.lineage("pg_low_income")[0]["inputs"] == ["dataset:low_income_households@1"]


def test_dp_aggregate_under_an_agreement(pg_store: str) -> None:
    spaces_demo.load_demo(ask.pack_dir().parent, lambda *_: None)
    consumer = Principal(Role.official, department=spaces_demo.CONSUMER, key_id="t")
    agreement = next(a for a in spaces.list_agreements(consumer) if a.status == "agreed")
    released, left = spaces.run_query(consumer, agreement.id, AggregateRequest(
        metric="count", group_by=["district_id"], epsilon=0.5))
    truth = dict(ask._pack_connection().execute(
        "SELECT district_id, count(*) FROM low_income_households GROUP BY district_id").fetchall())
    assert len(released.groups) + released.suppressed == len(truth)
    for g in released.groups:  # noise of ε = 0.5 on a count: within ±40 with overwhelming probability
        assert abs(g.value - truth[g.key["district_id"]]) < 40
    assert left == pytest.approx(0.5)


def test_question_queries_are_read_only_at_the_database(pg_store: str) -> None:
    cur = store.read_connection()
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            cur.execute("DELETE FROM districts__v1")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # past the checker, the database refuses
            ask.run_checked(cur, sqlcheck.Checked(sql="CREATE TABLE evil AS SELECT 1 AS x", tables=[], columns={}))
        assert cur.execute("SELECT count(*) FROM districts").fetchone() == (30,)  # the cursor goes on
    finally:
        cur.close()
    with pytest.raises(sqlcheck.SqlRefused):
        ask.run_sql("DELETE FROM districts")
    assert store.dataset("districts").rows == 30


def test_statement_timeout(pg_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICITY_DATA_QUERY_TIMEOUT_S", "0.2")
    store.close()
    configure(data_dir=settings().data_dir)
    try:
        cur = store.read_connection()
        try:
            with pytest.raises(psycopg.errors.QueryCanceled):
                cur.execute("SELECT pg_sleep(2)")
        finally:
            cur.close()
    finally:
        monkeypatch.delenv("AICITY_DATA_QUERY_TIMEOUT_S")
        store.close()
        configure(data_dir=settings().data_dir)


def test_a_read_only_role(pg_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with psycopg.connect(_plain(pg_store), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS hub_reader_t")
        conn.execute("CREATE ROLE hub_reader_t LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO hub_reader_t")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO hub_reader_t")
    reader = pg_store.replace("//aicity@", "//hub_reader_t@")
    monkeypatch.setenv("AICITY_DATA_STORE_READ_URL", reader)
    store.close()
    configure(data_dir=settings().data_dir)
    try:
        cur = store.read_connection()
        try:
            assert cur.execute("SELECT current_user").fetchone() == ("hub_reader_t",)
            assert cur.execute("SELECT count(*) FROM districts").fetchone() == (30,)
        finally:
            cur.close()
        assert ask.ask("各区工单数量").status == "answered"
    finally:
        monkeypatch.delenv("AICITY_DATA_STORE_READ_URL")
        store.close()
        configure(data_dir=settings().data_dir)
        ask.reset()


def _nothing_of(ds_id: str, url: str, versions: int = 0) -> None:
    assert ds_id not in store.tables() and f"{ds_id}__v{versions + 1}" not in schema_tables(url)
    with database().session() as s:
        assert len(s.query(DatasetVersion).filter_by(dataset_id=ds_id).all()) == versions
        assert (s.get(Dataset, ds_id) is None) == (versions == 0)


def test_failed_imports_leave_nothing(pg_store: str) -> None:
    # DuckDB takes the year 5880000, PostgreSQL's dates end in 5874897: the COPY fails after the table was created
    with pytest.raises(Problem) as exc:
        import_bytes(b"station,district_id,aqi,day\nA,donghu,50,5880000-01-01\n", "pg_nul.csv",
                     spec=spec_of("pg_nul"))
    assert exc.value.status == 422 and exc.value.type_ == "store-refused"
    _nothing_of("pg_nul", pg_store)
    with pytest.raises(Problem) as exc:  # a type error before anything reaches PostgreSQL
        import_bytes(b"station,district_id,aqi,day\nA,donghu,high,2025-01-01\n", "pg_bad.csv", spec=spec_of("pg_bad"))
    assert exc.value.type_ == "type-mismatch"
    _nothing_of("pg_bad", pg_store)
    import_bytes(b"station,district_id,aqi,day\nA,donghu,50,2025-01-01\n", "pg_keep.csv", spec=spec_of("pg_keep"))
    with pytest.raises(Problem):  # a failed quality check on the next version: the first stays current
        import_bytes(b"station,district_id,aqi,day\nA,donghu,900,2025-01-01\n", "pg_keep.csv")
    assert "pg_keep__v2" not in store.tables() and store.dataset("pg_keep").version == 1
    cur = store.read_connection()
    try:
        assert cur.execute("SELECT aqi FROM pg_keep").fetchall() == [(50,)]
    finally:
        cur.close()


def test_another_process_reads_while_this_one_holds_the_store(pg_store: str) -> None:
    cur = store.read_connection()
    try:
        cur.execute("SELECT count(*) FROM hotline_tickets").fetchone()
        code = ("from aicity.hub.data import store; c = store.read_connection(); "
                "print(c.execute('SELECT count(*) FROM hotline_tickets').fetchone()[0])")
        env = {**os.environ, "AICITY_DATA_DIR": str(settings().data_dir)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-800:]
        assert done.stdout.strip() == "25013"
    finally:
        cur.close()


def test_two_processes_import_one_dataset_at_once(pg_store: str) -> None:
    """Each import holds an advisory lock on its dataset: the second waits, then takes the next version."""
    code = ("import sys; from aicity.core.db import use_database; from aicity.hub.data.importer import import_bytes; "
            "use_database(sys.argv[1]); "
            "print(import_bytes(('station,aqi\\n' + sys.argv[2] + ',1\\n').encode(), 'pg_race.csv').version)")
    env = {**os.environ, "AICITY_DATA_DIR": str(settings().data_dir)}
    procs = [subprocess.Popen([sys.executable, "-c", code, database().url, name], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("first", "second")]
    outs = [p.communicate(timeout=90) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-600:] for _, err in outs]
    assert sorted(int(out.strip()) for out, _ in outs) == [1, 2]
    store.invalidate()
    assert store.dataset("pg_race").version == 2 and {"pg_race__v1", "pg_race__v2"} <= store.tables()
    cur = store.read_connection()
    try:
        both = {cur.execute("SELECT station FROM pg_race__v1").fetchone()[0],
                cur.execute("SELECT station FROM pg_race__v2").fetchone()[0]}
        assert both == {"first", "second"}
        assert cur.execute("SELECT station FROM pg_race").fetchone() == cur.execute(
            "SELECT station FROM pg_race__v2").fetchone()
    finally:
        cur.close()


def test_bad_store_urls(pg_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = os.environ["AICITY_DATA_STORE_URL"]
    try:
        for url, kind, status in (("mysql://u@127.0.0.1/db", "invalid-store-url", 500),
                                  ("postgresql+psycopg://nobody@127.0.0.1:1/none", "store-unavailable", 503)):
            monkeypatch.setenv("AICITY_DATA_STORE_URL", url)
            store.close()
            configure(data_dir=settings().data_dir)
            with pytest.raises(Problem) as exc:
                import_bytes(b"station,district_id,aqi,day\nA,donghu,50,2025-01-01\n", "pg_url.csv",
                             spec=spec_of("pg_url"))
            assert (exc.value.type_, exc.value.status) == (kind, status)
            assert "nobody:" not in exc.value.detail
            with pytest.raises(Problem):
                store.read_connection()
        with database().session() as s:
            assert s.get(Dataset, "pg_url") is None
    finally:
        monkeypatch.setenv("AICITY_DATA_STORE_URL", previous)
        store.close()
        configure(data_dir=settings().data_dir)
    assert isinstance(store.read_connection(), pgstore.PgCursor)
