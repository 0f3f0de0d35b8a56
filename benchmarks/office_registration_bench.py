"""收文登记 time per document: file → elements (reading the DOCX / PDF text layer / text, the
GB/T 9704 zones, the suggested departments), over the development documents.

    .venv/bin/python benchmarks/office_registration_bench.py [--rounds 5]

Prints p50 / p95 / max per format and overall (no database: storing a registration is one INSERT).
The first document of the run is timed apart (the rjieba dictionary and the departments load then).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from aicity.agents.office.registration import register_bytes

DEV = Path(__file__).resolve().parents[1] / "tests" / "agents" / "office" / "registration_dev"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in (DEV / "index.jsonl").read_text(encoding="utf-8").splitlines() if line]
    files = [(DEV / r["path"]).read_bytes() for r in rows]
    started = time.perf_counter()
    register_bytes(rows[0]["path"], files[0])
    first = (time.perf_counter() - started) * 1000
    by_format: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for row, data in zip(rows, files, strict=True):
            t0 = time.perf_counter()
            register_bytes(row["path"], data)
            by_format.setdefault(Path(row["path"]).suffix, []).append((time.perf_counter() - t0) * 1000)
    print(f"first document (cold): {first:.1f} ms")
    every = [v for values in by_format.values() for v in values]
    for name, values in [*sorted(by_format.items()), ("all", every)]:
        cuts = statistics.quantiles(values, n=20, method="inclusive")  # cuts[9]: the median, cuts[18]: p95
        print(f"{name:6} n={len(values):4}  p50 {cuts[9]:6.1f} ms  p95 {cuts[18]:6.1f} ms  max {max(values):6.1f} ms")


if __name__ == "__main__":
    main()
