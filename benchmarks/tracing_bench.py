"""Tracing overhead: the assistant's `ask` with and without OTLP export, in the same run.

    .venv/bin/python benchmarks/tracing_bench.py [--rounds 6]

A demo city in a temp dir; a local OTLP/HTTP receiver on loopback (it reads and discards the
protobuf bodies, like a collector would accept them). The built-in evaluation questions are asked
twice each, back to back, with and without export (alternating which goes first), while the exporter
and its batch thread stay up, so that both arms see the same warm caches and the same machine load. Prints the
p50 and p95 of each, the difference of the p50s, the median paired difference and its standard error,
the time spent building the spans (in the exporter's thread, off the request path; sending happens in
the SDK's batch thread), the process CPU time
per ask with and without export (all threads, exporting included; less sensitive to a loaded machine than
wall time), the OTLP protobuf encoding time per ask (the batch thread's share, measured apart), and the
load average.
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

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
    load_before = os.getloadavg()
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
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    assert tracing.configure_export()
    exporting = tracing._exporter._tracer
    paired: list[float] = []
    for n in range(args.rounds):
        for i, c in enumerate(cases):
            p = Principal(parse_role(c.get("role", "citizen")))
            took = {}
            for export in ((False, True) if (n + i) % 2 == 0 else (True, False)):
                # the batch thread keeps running between the two: only whether this run's spans are built differs
                tracing._exporter._tracer = exporting if export else None
                t0 = time.perf_counter()
                bot.ask(c["q"], p)
                took[export] = (time.perf_counter() - t0) * 1000
                timings[export].append(took[export])
            paired.append(took[True] - took[False])
    tracing._exporter._tracer = exporting
    tracing.flush_export()
    # CPU time (all threads: the batch exporter's encoding and sending included), which the machine's load
    # does not inflate as it does wall time: a block of asks without export, then one with export and its flush
    cpu_ms: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(2):
        for export in (False, True):
            tracing._exporter._tracer = exporting if export else None
            t0 = time.process_time()
            for c in cases:
                bot.ask(c["q"], Principal(parse_role(c.get("role", "citizen"))))
            tracing.flush_export()
            cpu_ms[export].append((time.process_time() - t0) * 1000 / len(cases))
    tracing._exporter._tracer = exporting
    # the background half, on its own: OTLP protobuf encoding of the spans of one ask
    kept = InMemorySpanExporter()
    tracing._exporter._provider.add_span_processor(SimpleSpanProcessor(kept))  # type: ignore[union-attr]
    sample = cases[:40]
    for c in sample:
        bot.ask(c["q"], Principal(parse_role(c.get("role", "citizen"))))
    spans = kept.get_finished_spans()
    t0 = time.process_time()
    for _ in range(10):
        encode_spans(spans).SerializeToString()
    encode_ms = (time.process_time() - t0) * 1000 / 10 / len(sample)
    off, on = timings[False], timings[True]
    report = {
        "asks_per_arm": len(off),
        "p50_ms_without_export": round(statistics.median(off), 3),
        "p50_ms_with_export": round(statistics.median(on), 3),
        "p50_overhead_ms": round(statistics.median(on) - statistics.median(off), 3),
        "paired_difference_ms_median": round(statistics.median(paired), 3),
        # how far that median moves by chance: 1.2533 σ/√n (the median's standard error for a normal sample)
        "paired_difference_ms_median_standard_error": round(1.2533 * statistics.stdev(paired) / len(paired) ** 0.5, 3),
        "p95_ms_without_export": round(pct(off, 0.95), 3),
        "p95_ms_with_export": round(pct(on, 0.95), 3),
        "cpu_ms_per_ask_without_export": round(statistics.median(cpu_ms[False]), 3),
        "cpu_ms_per_ask_with_export": round(statistics.median(cpu_ms[True]), 3),
        "cpu_overhead_ms_per_ask": round(statistics.median(cpu_ms[True]) - statistics.median(cpu_ms[False]), 3),
        "span_building_ms_p50": round(statistics.median(build_ms), 3),
        "span_building_ms_p95": round(pct(build_ms, 0.95), 3),
        "spans_per_ask": round(len(spans) / len(sample), 2),
        "otlp_encoding_cpu_ms_per_ask": round(encode_ms, 3),
        "otlp_bytes_received": _Sink.spans_bytes,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    tracing.configure_export()
    server.shutdown()


if __name__ == "__main__":
    main()
