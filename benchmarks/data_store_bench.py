"""The analytical store on both backends: the demo pack imported into the embedded DuckDB file and
into PostgreSQL, then the 一句话问数 development set asked over each.

    .venv/bin/python benchmarks/data_store_bench.py [--pg-url postgresql+psycopg://…] [--file cases.jsonl …]

Without --pg-url a throw-away PostgreSQL server is started on loopback (Debian's postgresql, as the
tests do). Each backend gets its own fresh metadata database, so both import the pack as version 1.
Prints per backend: the pack's import time, execution accuracy over the set (the gold from the
packaged CSVs, `ops/data_evaluation.py`), and p50 / p95 from question to answer. The default set is
the development set `tests/hub/data/ask_dev7.jsonl` (never the held-out `eval/data_questions.jsonl`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aicity.core.config import configure  # noqa: E402
from aicity.core.db import use_database  # noqa: E402
from aicity.hub.data import ask, demo, store  # noqa: E402
from aicity.hub.data.importer import import_path  # noqa: E402
from aicity.ops import data_evaluation  # noqa: E402
from tests.support.pg import PgServer, pg_bin  # noqa: E402

DEV_SET = ROOT / "tests" / "hub" / "data" / "ask_dev7.jsonl"


def run_backend(name: str, data_dir: Path, cases: list[dict[str, Any]], store_url: str | None) -> dict[str, Any]:
    if store_url:
        os.environ["AICITY_DATA_STORE_URL"] = store_url
    else:
        os.environ.pop("AICITY_DATA_STORE_URL", None)
    store.close()
    configure(data_dir=data_dir)
    use_database(f"sqlite:///{data_dir / f'meta-{name}.db'}").migrate()
    store.invalidate()
    ask.reset()
    started = time.perf_counter()
    for path, spec in demo.pack(ask.pack_dir().parent):
        import_path(path, spec=spec, actor=demo.DEMO_OFFICER, confirm=True)
    imported = time.perf_counter() - started
    ask.ask("各区工单数量")  # the layer and its values, once
    report = data_evaluation.evaluate(cases, data_evaluation.engine(), data_evaluation.csv_connection(), "csv")
    return {"backend": name, "import_s": round(imported, 2), "cases": report["cases"],
            "execution_accuracy": report["execution_accuracy"], "overall_accuracy": report["overall_accuracy"],
            "p50_ms": report["latency_ms_p50"], "p95_ms": report["latency_ms_p95"], "errors": report["errors"],
            "failed": sorted(f["id"] for f in report["failures"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-url", help="a PostgreSQL database for the store (default: a throw-away server)")
    parser.add_argument("--file", type=Path, action="append", help="JSONL cases (default: ask_dev7.jsonl)")
    args = parser.parse_args()
    os.environ.setdefault("AICITY_PLANNER", "embedded")
    os.environ["AICITY_DATA_STORE_SCHEMA"] = "hub_data_bench"
    cases = [json.loads(line) for f in (args.file or [DEV_SET])
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    server = None
    url = args.pg_url
    if url is None:
        bindir = pg_bin()
        if bindir is None:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql), or give --pg-url")
        server = PgServer(bindir).init().start()
        url = server.url
    data_dir = Path(tempfile.mkdtemp(prefix="aicity-store-bench-"))
    try:
        results = [run_backend("duckdb", data_dir, cases, None), run_backend("postgres", data_dir, cases, url)]
        with store.import_transaction() as imp:  # leave the given database as it was
            imp.conn.execute("DROP SCHEMA hub_data_bench CASCADE")
    finally:
        store.close()
        if server is not None:
            server.remove()
    print(f"{len(cases)} questions ({', '.join(str(f.name) for f in (args.file or [DEV_SET]))})")
    for r in results:
        print(f"{r['backend']:9} import {r['import_s']:6.2f} s   execution accuracy {r['execution_accuracy']}   "
              f"overall {r['overall_accuracy']}   p50 {r['p50_ms']} ms   p95 {r['p95_ms']} ms   errors {r['errors']}")
    only = set(results[0]["failed"]) ^ set(results[1]["failed"])
    print("cases failing on one backend only:", sorted(only) or "none")


if __name__ == "__main__":
    main()
