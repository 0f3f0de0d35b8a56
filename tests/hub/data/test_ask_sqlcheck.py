"""The SQL checker with hostile SQL: whatever writes, reads files, reaches the system, returns
personal columns or the rows of an aggregate-only dataset is refused before it runs; allowed SQL
gets a row limit. The access is the demo pack's for an official (real declarations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aicity.hub.data import ask as engine_module
from aicity.hub.data.sqlcheck import Access, SqlRefused, check


@pytest.fixture(scope="module")
def official() -> Iterator[Access]:
    conn = engine_module._pack_connection()
    engine = engine_module._engine(conn, "pack")
    yield engine_module.caller_access(engine, "official", None)
    conn.close()


HOSTILE = [
    ("SELECT COUNT(*) FROM hotline_tickets; DROP TABLE hotline_tickets", "sql-multiple"),
    ("SELECT 1; SELECT 2", "sql-multiple"),
    ("DROP TABLE hotline_tickets", "sql-not-select"),
    ("DELETE FROM hotline_tickets", "sql-not-select"),
    ("UPDATE enterprises SET status = '注销'", "sql-not-select"),
    ("INSERT INTO districts VALUES ('x')", "sql-not-select"),
    ("CREATE TABLE x AS SELECT * FROM hotline_tickets", "sql-not-select"),
    ("ALTER TABLE districts ADD COLUMN x INT", "sql-not-select"),
    ("COPY hotline_tickets TO '/tmp/out.csv'", "sql-not-select"),
    ("ATTACH '/tmp/other.duckdb' AS other", "sql-not-select"),
    ("PRAGMA table_info('low_income_households')", "sql-not-select"),
    ("SET enable_external_access = true", "sql-not-select"),
    ("INSTALL httpfs", "sql-not-select"),
    ("LOAD httpfs", "sql-not-select"),
    ("SELECT * INTO copy_of FROM districts", "sql-forbidden"),
    ("SELECT * FROM read_csv('/etc/passwd')", "sql-function"),
    ("SELECT * FROM read_csv_auto('/work/secret.csv')", "sql-function"),
    ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", "sql-function"),
    ("SELECT * FROM '/etc/passwd'", "sql-table"),
    ("SELECT * FROM glob('/*')", "sql-function"),
    ("SELECT getenv('HOME')", "sql-function"),
    ("SELECT current_setting('threads')", "sql-function"),
    ("SELECT * FROM duckdb_settings()", "sql-function"),
    ("SELECT query('SELECT * FROM low_income_households')", "sql-function"),
    ("SELECT * FROM main.hotline_tickets", "sql-table"),
    ("SELECT * FROM information_schema.tables", "sql-table"),
    ("SELECT * FROM some_other_table", "sql-table"),
    # personal columns, however they are reached
    ("SELECT * FROM low_income_households", "sql-personal"),
    ("SELECT head_name, id_number FROM low_income_households", "sql-personal"),
    ("SELECT legal_representative FROM enterprises WHERE district_id = 'donghu'", "sql-personal"),
    ("SELECT * FROM enterprises LIMIT 5", "sql-personal"),
    ("SELECT district_id, COUNT(DISTINCT id_number) FROM low_income_households GROUP BY 1", "sql-personal"),
    ("WITH x AS (SELECT * FROM low_income_households) SELECT COUNT(*) FROM x", "sql-personal"),
    ("SELECT n FROM (SELECT mobile AS n FROM low_income_households) AS s", "sql-personal"),
    ("SELECT (SELECT MAX(id_number) FROM low_income_households) AS v", "sql-personal"),
    ("SELECT district_id FROM hotline_tickets WHERE district_id IN (SELECT head_name FROM low_income_households)",
     "sql-personal"),
    # rows of an aggregate-only dataset
    ("SELECT district_id, household_size FROM low_income_households", "sql-aggregate-only"),
    ("SELECT s FROM (SELECT household_size AS s FROM low_income_households) AS q", "sql-aggregate-only"),
    ("SELECT district_id, COUNT(*) FILTER (WHERE has_disabled_member = 1) FROM low_income_households GROUP BY 1",
     "sql-aggregate-only"),
    ("SELECT district_id, SUM(CASE WHEN household_size > 4 THEN 1 ELSE 0 END) FROM low_income_households GROUP BY 1",
     "sql-aggregate-only"),
    ("SELECT district_id, SUM(CAST(monthly_allowance_yuan > 2000 AS INT)) FROM low_income_households GROUP BY 1",
     "sql-aggregate-only"),
    ("SELECT district_id, count_if(household_size = 1) FROM low_income_households GROUP BY 1", "sql-aggregate-only"),
    ("SELECT no_such_column FROM districts", "sql-column"),
    ("", "sql-empty"),
    ("SELEC * FROM districts", "sql-syntax"),
]


@pytest.mark.parametrize(("sql", "kind"), HOSTILE, ids=[s[:50] or "empty" for s, _ in HOSTILE])
def test_hostile_sql_is_refused(official: Access, sql: str, kind: str) -> None:
    with pytest.raises(SqlRefused) as caught:
        check(sql, official, 100)
    assert caught.value.kind == kind, caught.value.reason
    assert caught.value.reason


def test_allowed_sql_gets_a_row_limit(official: Access) -> None:
    checked = check("SELECT district_id, COUNT(*) AS n FROM hotline_tickets GROUP BY 1", official, 100)
    assert checked.sql.endswith("LIMIT 100") and checked.tables == ["hotline_tickets"]
    assert check("SELECT * FROM districts LIMIT 100000", official, 50).sql.endswith("LIMIT 50")
    assert check("SELECT * FROM districts LIMIT 3", official, 50).sql.endswith("LIMIT 3")
    union = check("SELECT district_id FROM districts UNION SELECT district_id FROM hotline_tickets", official, 10)
    assert union.sql.endswith("LIMIT 10")
    aggregate = check("WITH g AS (SELECT district_id, SUM(household_size) AS p FROM low_income_households GROUP BY 1) "
                      "SELECT * FROM g ORDER BY p DESC", official, 100)
    assert aggregate.tables == ["low_income_households"]


def test_a_citizen_sees_open_data_only() -> None:
    conn = engine_module._pack_connection()
    citizen = engine_module.caller_access(engine_module._engine(conn, "pack"), "citizen", None)
    conn.close()
    assert check("SELECT AVG(aqi) FROM air_quality_daily", citizen, 10).tables == ["air_quality_daily"]
    for sql in ("SELECT COUNT(*) FROM hotline_tickets", "SELECT COUNT(*) FROM low_income_households"):
        with pytest.raises(SqlRefused, match="may not query dataset"):
            check(sql, citizen, 10)
