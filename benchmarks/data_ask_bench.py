"""一句话问数 latency benchmark: question → answer in process over the demo pack.

    .venv/bin/python benchmarks/data_ask_bench.py [--rounds 5]

For each question the whole `ask()` is timed (parse over the semantic layer, the sqlglot check for
an official's access, the DuckDB query, the sentence, table and chart) and, as the baseline in the
same run, the final checked SQL run alone on the same connection. Prints p50 / p95 of both and the
engine's own share (target: question → answer p50 ≤ 200 ms). The data dir is a fresh temporary one,
so the engine reads the packaged demo pack (in-memory DuckDB) — the same engine, without the store
file's I/O.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

QUESTIONS = [
    "江滨区2025年5月有多少12345工单", "下半年燃气泄漏工单多少件", "各区工单数量", "哪个区的工单最多",
    "路灯故障工单的平均办理时长", "第三季度热线满意率", "电话渠道工单占比", "每月工单数量趋势", "10月工单环比增长多少",
    "近三个月未办结工单数", "每万人工单数最多的区", "工单数量前5的类别", "各区AQI平均值", "PM10最高的监测站",
    "7月空气优良天数", "9月光谷大道早高峰平均车速", "周末车流量最大的道路", "各时段平均车流量", "高新技术企业有多少家",
    "制造业企业营业收入合计", "各区专精特新企业数量", "注册资本超过5000万元的企业数", "上游环节的企业有多少家",
    "2025年新成立企业数", "哪个产业链的企业最多", "光谷区常住人口", "2025年GDP同比增长多少", "各区老龄化率",
    "全市人口密度", "各区低保户数", "有残疾成员的低保户占比", "招商线索最多的省份", "人工智能产业链招商线索融资总额",
    "生物医药产业链有多少个环节", "how many tickets in Nanhu in June", "average AQI by district",
    "列出低保户的身份证号", "东湖区养老院床位数",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("AICITY_DATA_DIR", tempfile.mkdtemp(prefix="aicity-ask-bench-"))
    os.environ.setdefault("AICITY_PLANNER", "embedded")  # the embedded parser: no model, no city database
    from aicity.hub.data import ask as engine  # noqa: PLC0415 — after the data dir is chosen

    started = time.perf_counter()
    engine.ask("各区工单数量")  # loads the pack and the semantic layer once
    print(f"first question (loads the pack and the layer): {(time.perf_counter() - started) * 1000:.0f} ms")
    conn, _ = engine.connection()
    full: list[float] = []
    raw: list[float] = []
    statuses: dict[str, int] = {}
    for _ in range(args.rounds):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            a = engine.ask(q)
            full.append((time.perf_counter() - t0) * 1000)
            statuses[a.status] = statuses.get(a.status, 0) + 1
            if a.sql and a.status == "answered":
                t1 = time.perf_counter()
                conn.execute(a.sql).fetchall()
                raw.append((time.perf_counter() - t1) * 1000)
    n = len(QUESTIONS)
    print(f"{n} questions × {args.rounds} rounds; statuses per round: "
          + ", ".join(f"{k} {v // args.rounds}" for k, v in sorted(statuses.items())))
    print(f"question → answer   p50 {statistics.median(full):6.1f} ms   p95 {pct(full, 0.95):6.1f} ms   "
          f"max {max(full):6.1f} ms   (target p50 ≤ 200 ms)")
    print(f"baseline: SQL alone p50 {statistics.median(raw):6.1f} ms   p95 {pct(raw, 0.95):6.1f} ms")
    print(f"engine overhead (parse, check, compose) ≈ p50 {statistics.median(full) - statistics.median(raw):.1f} ms")


if __name__ == "__main__":
    main()
