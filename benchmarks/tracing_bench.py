"""Tracing overhead: the assistant's `ask` with and without OTLP export, in the same run.

    .venv/bin/python benchmarks/tracing_bench.py [--rounds 6]

A demo city in a temp dir; a local OTLP/HTTP receiver on loopback (it reads and discards the
protobuf bodies, like a collector would accept them). The built-in evaluation questions are asked
in alternating blocks, export off then on (`OTEL_EXPORTER_OTLP_ENDPOINT` set or unset, re-read with
`configure_export`), so that both see the same warm caches and the same machine load. Prints the
p50 and p95 of each, the difference of the p50s, the time spent building the spans inside `save`
(the only part on the request path; sending happens in the SDK's batch thread), and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aicity.assistant.cli import ready_assistant
from aicity.core import tracing
from aicity.demo.loader import open_demo_city
from aicity.identity.service import Principal, parse_role
from aicity.ops.evaluation import default_set, load_cases


class _Sink(BaseHTTPRequestHandler):
    spans_bytes = 0

    def do_POST(self) -> None:  # noqa: N802
        _Sink.spans_bytes += len(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    open_demo_city(Path(tempfile.mkdtemp(prefix="aicity-bench-")))
    bot = ready_assistant()
    cases = load_cases(default_set())
    for c in cases[:10]:  # warm caches
        bot.ask(c["q"], Principal(parse_role(c.get("role", "citizen"))))
    timings: dict[bool, list[float]] = {False: [], True: []}
    build_ms: list[float] = []
    original = tracing.Tracer._export

    def timed_export(self: tracing.Tracer, *a: Any) -> None:
        t0 = time.perf_counter()
        original(self, *a)
        build_ms.append((time.perf_counter() - t0) * 1000)

    tracing.Tracer._export = timed_export  # type: ignore[method-assign]
    for _ in range(args.rounds):
        for export in (False, True):
            if export:
                os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            else:
                os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            assert tracing.configure_export() is export
            for c in cases:
                p = Principal(parse_role(c.get("role", "citizen")))
                t0 = time.perf_counter()
                bot.ask(c["q"], p)
                timings[export].append((time.perf_counter() - t0) * 1000)
            tracing.flush_export()
    off, on = timings[False], timings[True]
    report = {
        "asks_per_arm": len(off),
        "p50_ms_without_export": round(statistics.median(off), 3),
        "p50_ms_with_export": round(statistics.median(on), 3),
        "p50_overhead_ms": round(statistics.median(on) - statistics.median(off), 3),
        "p95_ms_without_export": round(pct(off, 0.95), 3),
        "p95_ms_with_export": round(pct(on, 0.95), 3),
        "span_building_ms_p50": round(statistics.median(build_ms), 3),
        "span_building_ms_p95": round(pct(build_ms, 0.95), 3),
        "otlp_bytes_received": _Sink.spans_bytes,
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    tracing.configure_export()
    server.shutdown()


if __name__ == "__main__":
    main()
