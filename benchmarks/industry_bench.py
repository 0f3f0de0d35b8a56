"""产业招商 benchmark: answer latency for chain and lead questions and report generation time.

    .venv/bin/python benchmarks/industry_bench.py [--rounds 3]

A fresh temporary city (the demo load, the data hub's store with the pack imported). Times, per
call: the chain map (`chains.chain_map`, every figure asked of the data hub) computed and kept (a
map is kept until a dataset it reads changes), the ranked leads (`leads.rank`), the same questions
through the super assistant for a commerce official (mode, routing, the skill, the answer), and the
chain report in Markdown, HTML (with SVG charts) and DOCX.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

CHAIN_QUESTIONS = ["光谷区新能源汽车哪些环节薄弱", "集成电路产业链缺哪些环节", "生物医药产业链的短板在哪里",
                   "北港区人工智能产业链哪些环节薄弱"]
LEAD_QUESTIONS = ["找几家适合来投资的动力电池企业", "推荐几家EDA与IP核方面的招商对象", "光芯片环节有哪些值得招的外地企业",
                  "找5家适合来投资的冷链物流企业"]
CHAINS = ["新能源汽车", "集成电路", "生物医药", "光电子信息", "人工智能", "现代物流"]


def ms(f) -> float:
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


def line(name: str, values: list[float]) -> None:
    print(f"{name:<34} p50 {statistics.median(values):7.1f} ms   max {max(values):7.1f} ms   (n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("AICITY_DATA_DIR", tempfile.mkdtemp(prefix="aicity-industry-bench-"))
    from aicity.agents.industry import chains, leads, report  # noqa: PLC0415 — after the data dir is chosen
    from aicity.assistant.cli import ready_assistant  # noqa: PLC0415
    from aicity.assistant.service import assistant  # noqa: PLC0415
    from aicity.core import slices  # noqa: PLC0415
    from aicity.core.cli import open_city, set_city_loader  # noqa: PLC0415
    from aicity.demo.loader import ensure_city  # noqa: PLC0415
    from aicity.identity.models import Role  # noqa: PLC0415
    from aicity.identity.service import Principal  # noqa: PLC0415

    slices.activate()
    set_city_loader(ensure_city)
    t = time.perf_counter()
    open_city(Path(os.environ["AICITY_DATA_DIR"]))
    ready_assistant()
    print(f"city ready (demo load, assistant models): {time.perf_counter() - t:.1f} s")
    official = Principal(role=Role.official, department="commerce")
    assistant().ask(CHAIN_QUESTIONS[0], official)  # warm-up
    cold, maps, ranked, chain_q, lead_q = [], [], [], [], []
    skills: dict[str, int] = {}
    for _ in range(args.rounds):
        chains.forget()
        for c in CHAINS:
            cold.append(ms(lambda c=c: chains.chain_map(c)))
            maps.append(ms(lambda c=c: chains.chain_map(c)))
            ranked.append(ms(lambda c=c: leads.rank(c, limit=10)))
        for q, bucket in [(q, chain_q) for q in CHAIN_QUESTIONS] + [(q, lead_q) for q in LEAD_QUESTIONS]:
            t = time.perf_counter()
            result = assistant().ask(q, official)
            bucket.append((time.perf_counter() - t) * 1000)
            for s in result.skills:
                skills[f"{s.agent}.{s.skill}"] = skills.get(f"{s.agent}.{s.skill}", 0) + 1
    line("chain map (service, computed)", cold)
    line("chain map (service, kept)", maps)
    line("ranked leads (service, incl. map)", ranked)
    line("assistant: chain questions", chain_q)
    line("assistant: lead questions", lead_q)
    print("skills answering:", ", ".join(f"{k} {v // args.rounds}" for k, v in sorted(skills.items())))
    for fmt in report.FORMATS:
        times = []
        size = 0
        for c in CHAINS:
            t = time.perf_counter()
            size = len(report.render(report.build(c), fmt))
            times.append((time.perf_counter() - t) * 1000)
        line(f"report {fmt} (build + render)", times)
        print(f"{'':<34} last size {size:,} bytes")


if __name__ == "__main__":
    main()
