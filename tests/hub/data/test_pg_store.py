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

import httpx
import psycopg
import pytest

from aicity.core.config import configure, settings
from aicity.core.db import database, use_database
from aicity.core.errors import Problem
from aicity.core.meta import set_meta
from aicity.demo import loader
from aicity.hub.data import ask, demo, desensitize, pgstore, service, spaces, spaces_demo, sqlcheck, store
from aicity.hub.data.importer import import_bytes, import_path
from aicity.hub.data.models import Dataset, DatasetVersion
from aicity.hub.data.private_query import AggregateRequest
from aicity.hub.data.schema import parse_spec
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import backup, infra
from tests.hub.data.store_support import PACK_ROWS, failing_metadata
from tests.support.iot import wait_for
from tests.support.net import free_port

pytestmark = pytest.mark.postgres

SCHEMA = "hub_data_test"
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


def test_no_password_in_a_bad_url_problem() -> None:
    for url in ("host=db user=aicity password=s3cret dbname=x", "postgresql+psycopg//aicity:s3cret@db/x",
                "mysql://aicity:s3cret@db/x", "aicity:s3cret@db", "host=db password='s3 cret' user=aicity"):
        with pytest.raises(Problem) as exc:
            pgstore.conninfo(url)
        assert exc.value.type_ == "invalid-store-url" and exc.value.status == 500
        assert "s3cret" not in exc.value.detail and "s3 cret" not in exc.value.detail, exc.value.detail
    _, shown = pgstore.conninfo("postgresql+psycopg://aicity@db/x?password=s3cret")  # a password in the query
    assert "s3cret" not in shown


def test_a_failed_metadata_commit_undoes_the_store(pg_store: str) -> None:
    """The store commits first, then the metadata; when the metadata's commit fails the new table
    goes and the view shows the previous version again (the SQLite trigger fails that commit)."""
    import_bytes(b"station,district_id,aqi,day\nA,donghu,50,2025-01-01\n", "pg_meta.csv", spec=spec_of("pg_meta"))
    with failing_metadata("pg_meta", "pg_meta_new"):
        with pytest.raises(Exception, match="version refused"):
            import_bytes(b"station,district_id,aqi,day\nB,donghu,70,2025-02-01\n", "pg_meta.csv")
        with pytest.raises(Exception, match="version refused"):  # a first version: the view goes too
            import_bytes(b"station,district_id,aqi,day\nC,donghu,70,2025-02-01\n", "pg_meta_new.csv",
                         spec=spec_of("pg_meta_new"))
    store.invalidate()
    _nothing_of("pg_meta_new", pg_store)
    assert "pg_meta_new" not in schema_tables(pg_store) and "pg_meta__v2" not in schema_tables(pg_store)
    assert store.dataset("pg_meta").version == 1
    with database().session() as s:
        assert [v.version for v in s.query(DatasetVersion).filter_by(dataset_id="pg_meta")] == [1]
    cur = store.read_connection()
    try:
        assert cur.execute("SELECT station, aqi FROM pg_meta").fetchall() == [("A", 50)]
    finally:
        cur.close()
    assert import_bytes(b"station,district_id,aqi,day\nD,donghu,80,2025-03-01\n", "pg_meta.csv").version == 2


def _activity(url: str, pid: int) -> tuple[str, str]:
    with psycopg.connect(_plain(url)) as conn:
        row = conn.execute("SELECT state, backend_type FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return row


def test_a_held_cursor_holds_no_transaction(pg_store: str) -> None:
    """A read cursor kept through a request ends each statement's transaction at once: it holds no lock,
    and an import replacing the view it read goes through while the cursor is still open."""
    import_bytes(b"station,district_id,aqi,day\nA,donghu,50,2025-01-01\n", "pg_held.csv", spec=spec_of("pg_held"))
    cur = store.read_connection()
    try:
        pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert cur.execute("SELECT aqi FROM pg_held").fetchall() == [(50,)]
        assert _activity(pg_store, pid)[0] == "idle"  # not "idle in transaction"
        assert cur.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] != "0"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # still read only, statement by statement
            cur.execute("CREATE TABLE pg_held_evil (x int)")
        started = dt.datetime.now()
        import_bytes(b"station,district_id,aqi,day\nB,donghu,60,2025-01-02\n", "pg_held.csv")
        assert (dt.datetime.now() - started).total_seconds() < 20
        assert cur.execute("SELECT aqi FROM pg_held").fetchall() == [(60,)]
    finally:
        cur.close()
    imp = store._pool(False).get()
    try:
        assert imp.execute("SHOW lock_timeout").fetchone()[0] != "0"
    finally:
        store._pool(False).put(imp)


def _both(sql: str, params: list | None = None) -> tuple[list, list]:
    """`sql` (DuckDB's) on the PostgreSQL store and on the packaged pack in DuckDB."""
    cur = store.read_connection()
    try:
        on_pg = cur.execute(sql, params).fetchall()
    finally:
        cur.close()
    return on_pg, ask._pack_connection().execute(sql, params).fetchall()


def _same(on_pg: list, on_duck: list) -> None:
    assert len(on_pg) == len(on_duck)
    for a, b in zip(on_pg, on_duck, strict=True):
        for x, y in zip(a, b, strict=True):
            assert (x == pytest.approx(y, rel=1e-9) if isinstance(y, float) else x == y) and type(x) is type(y), (a, b)


@pytest.mark.parametrize("sql, params", [
    ("SELECT aqi % 7 AS r, count(*) AS n FROM air_quality_daily WHERE district_id = ? GROUP BY 1 ORDER BY 1",
     ["donghu"]),
    ('SELECT count(*) AS "占比%" FROM hotline_tickets WHERE district_id = ?', ["donghu"]),
    ("SELECT strftime(created_at, '%Y-%m') AS m, count(*) AS n FROM hotline_tickets WHERE district_id = ? "
     "AND category LIKE '%noise%' GROUP BY 1 ORDER BY 1", ["donghu"]),
    ("SELECT count(*) AS n FROM districts WHERE suffix(name, ?) AND contains(name, ?)", ["区", "湖"]),
])
def test_percent_signs_with_parameters(pg_store: str, sql: str, params: list) -> None:
    on_pg, on_duck = _both(sql, params)
    assert on_duck and on_duck[0][-1] > 0
    _same(on_pg, on_duck)


@pytest.mark.parametrize("sql", [
    "SELECT date_trunc('month', date) AS m, count(*) AS n FROM air_quality_daily GROUP BY 1 ORDER BY 1",
    "SELECT district_id, count(*) AS n FROM air_quality_daily GROUP BY district_id HAVING n > 300 ORDER BY 1",
    "SELECT second(created_at) AS s, count(*) AS n FROM hotline_tickets GROUP BY 1 ORDER BY 1 LIMIT 5",
    "SELECT approx_count_distinct(district_id) AS d FROM hotline_tickets",
])
def test_translations_give_what_duckdb_gives(pg_store: str, sql: str) -> None:
    on_pg, on_duck = _both(sql)
    assert on_duck
    _same(on_pg, on_duck)


def test_try_cast_is_refused_on_postgresql(pg_store: str) -> None:
    cur = store.read_connection()
    try:
        with pytest.raises(sqlcheck.SqlRefused, match="TRY_CAST"):
            cur.execute("SELECT try_cast(name AS BIGINT) FROM districts")
    finally:
        cur.close()
    with pytest.raises(sqlcheck.SqlRefused, match="TRY_CAST"):
        ask.run_sql("SELECT try_cast(district_id AS BIGINT) AS x FROM districts")


def test_dead_connections_are_replaced(pg_store: str) -> None:
    """A PostgreSQL restart kills every pooled connection: the next cursor gets a fresh one, no error."""
    cur = store.read_connection()
    pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
    cur.close()  # back in the pool, idle
    with psycopg.connect(_plain(pg_store), autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    cur = store.read_connection()
    try:
        assert cur.execute("SELECT count(*) FROM districts").fetchone() == (30,)
        pid2 = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(_plain(pg_store), autocommit=True) as conn:  # killed while held: a 503, not a 500
            conn.execute("SELECT pg_terminate_backend(%s)", [pid2])
        with pytest.raises(Problem) as exc:
            cur.execute("SELECT count(*) FROM districts")
        assert (exc.value.status, exc.value.type_) == (503, "store-unavailable")
    finally:
        cur.close()
    assert ask.ask("各区工单数量").status == "answered"


def test_the_analytics_size_is_the_schema(pg_store: str) -> None:
    with psycopg.connect(_plain(pg_store)) as conn:
        expected = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                                [SCHEMA]).fetchone()[0]
    assert store.size_bytes() == expected > 1_000_000
    assert infra.database_info()["analytics_size_bytes"] == expected


def test_backup_manifest_and_restore_with_a_postgresql_store(pg_store: str, tmp_path) -> None:
    previous_db, previous_dir = database().url, settings().data_dir
    city = tmp_path / "city"
    try:
        configure(data_dir=city)
        use_database(settings().resolved_database_url).migrate()
        archive, manifest = backup.create(tmp_path / "out")
        assert manifest["analytics"]["backend"] == "postgres" and manifest["analytics"]["method"] == "external"
        assert manifest["analytics"]["store"] == store.location() and SCHEMA in manifest["analytics"]["store"]
        assert f"-n {SCHEMA}" in manifest["analytics"]["backup_with"]
        assert not any(m["path"].startswith("analytics") for m in manifest["members"])
        with pytest.raises(backup.BackupError, match="store_url"):
            backup.restore(archive, tmp_path / "restored")
        assert not (tmp_path / "restored").exists()
    finally:
        configure(data_dir=previous_dir)
        use_database(previous_db)
        store.invalidate()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.cluster  # two servers start in about two minutes on a loaded 2-core machine
def test_two_servers_on_one_store_both_answer(pg_store: str, tmp_path) -> None:
    """Two `aicity serve` processes on loopback, one PostgreSQL store (and one metadata database):
    both answer 一句话问数 with the store's numbers, while this process holds the store too."""
    set_meta(loader.VERSION_KEY, loader.data_version())  # the city is there: no demo load at start-up
    env = {**os.environ, "AICITY_DATABASE_URL": database().url, "AICITY_DATA_DIR": str(settings().data_dir)}
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"serve{i}.log").open("w") for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-m", "aicity.cli", "serve", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT) for port, log in zip(ports, logs, strict=True)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        wait_for(lambda: all(_ready(b) or p.poll() is not None for b, p in zip(bases, procs, strict=True)), 240)
        assert all(p.poll() is None for p in procs), [(tmp_path / f"serve{i}.log").read_text()[-800:] for i in range(2)]
        expected = ask.ask("各区AQI平均值")
        for base in bases:
            resp = httpx.post(f"{base}/api/v1/data/ask", json={"question": "各区AQI平均值"}, timeout=60)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["status"] == "answered" and body["sql"] == expected.sql, body
            assert body["rows"] == [list(r) for r in expected.rows] and body["rows"]
    finally:
        for p in procs:
            p.terminate()
        for p, log in zip(procs, logs, strict=True):
            p.wait(timeout=30)
            log.close()
