"""一句话问数 over a real DuckDB of the demo pack: the development questions against gold answers
computed by hand-written SQL, refusals of personal rows, "not understood" instead of guesses,
access by role, the answer's parts (sentence, table, chart, SQL, datasets), bad input."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import duckdb
import pytest

from aicity.hub.data import ask as engine_module
from aicity.hub.data import chart, timewin
from aicity.hub.data.ask import DataAnswer, embedded_answer
from tests.hub.data.ask_dev import DEV, FRESH

AS_OF = dt.date(2025, 12, 31)
NAMES = {"donghu": "东湖区", "guanggu": "光谷区", "jiangbin": "江滨区", "xicheng": "西城区", "nanhu": "南湖区",
         "beigang": "北港区"}


@pytest.fixture(scope="module")
def pack() -> Iterator[tuple]:
    conn = engine_module._pack_connection()
    yield conn, engine_module._engine(conn, "pack")
    conn.close()


@pytest.fixture(scope="module")
def gold() -> Iterator[duckdb.DuckDBPyConnection]:
    """The pack loaded again, apart from the engine, for the gold answers."""
    conn = duckdb.connect()
    for path in sorted(engine_module.pack_dir().glob("*.csv")):
        conn.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_csv('{path.as_posix()}')")
    yield conn
    conn.close()


def answer(pack: tuple, question: str, role: str = "official", department: str | None = None,
           as_of: dt.date = AS_OF) -> DataAnswer:
    conn, engine = pack
    return embedded_answer(question, role, department, as_of, conn, engine)


def _same(value: object, expected: object) -> bool:
    expected = NAMES.get(expected, expected) if isinstance(expected, str) else expected
    if isinstance(value, int | float) and isinstance(expected, int | float):
        return abs(value - expected) <= max(0.011, abs(expected) * 0.001)
    return value == expected


@pytest.mark.parametrize(("question", "sql", "status"), DEV + FRESH, ids=[q for q, _, _ in DEV + FRESH])
def test_development_questions(pack: tuple, gold: duckdb.DuckDBPyConnection, question: str, sql: str | None,
                               status: str) -> None:
    a = answer(pack, question)
    assert a.status == status, (a.answer, a.sql, a.reason)
    if sql is not None:
        expected = gold.execute(sql).fetchone()[0]
        got = a.value if a.value is not None or not a.rows else a.rows[0][1]  # a table: its first row's figure
        assert _same(got, expected), (got, expected, a.sql)
    if status == "answered":
        assert a.sql and a.datasets and a.answer.endswith("。") and a.confidence >= engine_module.MIN_CONFIDENCE
    else:
        assert a.reason and a.value is None and not a.rows


def test_answer_has_sentence_table_chart_sql_and_cites_the_dataset(pack: tuple) -> None:
    a = answer(pack, "各区工单数量")
    assert a.status == "answered" and a.datasets == ["hotline_tickets"]
    assert a.columns == ["区", "工单数（件）"] and len(a.rows) == 6 and a.rows[0][0] == "光谷区"
    assert "GROUP BY" in a.sql and a.sql.startswith("SELECT")
    ET.fromstring(a.chart_svg)  # well-formed SVG
    assert "光谷区" in a.chart_svg and "<rect" in a.chart_svg
    trend = answer(pack, "每月工单数量趋势")
    assert len(trend.rows) == 12 and "<polyline" in trend.chart_svg
    single = answer(pack, "东湖区3月份有多少工单")
    assert single.chart_svg is None and single.rows == [[single.value]]
    assert "2025年3月" in single.answer and "东湖区" in single.answer and "件" in single.answer


def test_relative_time_follows_as_of(pack: tuple) -> None:
    december = answer(pack, "上个月有多少工单", as_of=dt.date(2026, 1, 10))
    november = answer(pack, "上个月有多少工单")
    assert "2025年12月" in december.answer and "2025年11月" in november.answer
    assert december.value != november.value
    outside = answer(pack, "去年有多少工单")  # 2024: the pack starts in 2025
    assert outside.status == "not_understood" and "2025-01-01" in outside.reason


@pytest.mark.parametrize("question", ["列出低保户的身份证号", "东湖区低保户户主姓名", "低保家庭的手机号码",
                                      "低保户名单", "南湖区有哪些低保家庭，列出来", "企业法人代表的联系电话",
                                      "list the ID numbers of low-income households", "投诉人的电话号码"])
def test_personal_rows_are_refused_with_an_aggregate_alternative(pack: tuple, question: str) -> None:
    for role, dept in (("official", None), ("admin", None), ("operator", "civil_affairs")):
        a = answer(pack, question, role=role, department=dept)
        assert a.status == "refused", (question, a.answer)
        assert a.reason and a.alternative and "汇总" in a.alternative
        assert a.rows == [] and a.sql is None


def test_sensitive_dataset_is_aggregate_only_and_hidden_from_the_public(pack: tuple) -> None:
    official = answer(pack, "各区低保户数")
    assert official.status == "answered" and sum(r[1] for r in official.rows) == 1511
    citizen = answer(pack, "各区低保户数", role="citizen")
    assert citizen.status == "refused" and "low_income_households" in citizen.reason
    assert answer(pack, "各区空气质量AQI均值", role="citizen").status == "answered"  # open data (level 1)


def test_half_understood_questions_are_not_answered(pack: tuple) -> None:
    for q in ("东湖区女性户主的低保户", "工单里投诉物业费上涨的占多少", "江滨区独角兽企业有多少家", "明年GDP能到多少"):
        a = answer(pack, q)
        assert a.status in ("not_understood", "refused"), (q, a.answer, a.sql)
        assert a.value is None


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="空"):
        engine_module.ask("   ")
    with pytest.raises(ValueError, match="500"):
        engine_module.ask("多" * 501)


def test_time_windows() -> None:
    def window(text: str) -> tuple:
        w = timewin.merge(timewin.find(timewin.digits(text), AS_OF))
        return (w.start, w.end) if w else None

    assert window("2025年上半年") == (dt.date(2025, 1, 1), dt.date(2025, 7, 1))
    assert window("三季度") == (dt.date(2025, 7, 1), dt.date(2025, 10, 1))
    assert window("近3个月") == (dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert window("最近一周") == (dt.date(2025, 12, 25), dt.date(2026, 1, 1))
    assert window("3月1日到3月15日") == (dt.date(2025, 3, 1), dt.date(2025, 3, 16))
    assert window("first half of 2024") == (dt.date(2024, 1, 1), dt.date(2024, 7, 1))
    assert window("今年前三个月") == (dt.date(2025, 1, 1), dt.date(2025, 4, 1))
    assert window("2月30日") is None  # no such day
    march = timewin.find("3月", AS_OF)[0]
    assert march.previous("yoy").start == dt.date(2024, 3, 1) and march.previous("mom").start == dt.date(2025, 2, 1)


def test_chart_escapes_text() -> None:
    svg = chart.bar("<script>alert(1)</script>", ["<b>&", "x"], [3, 1])
    ET.fromstring(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;&amp;" in svg
