"""Traces: every assistant run leaves a record of its steps, timings and decisions.

The record is kept in the `traces` table (always). When an OTLP endpoint is configured, the same
record is also exported as OpenTelemetry spans with the GenAI semantic conventions, over OTLP/HTTP.
The spans are built after `save`, in the exporter's own thread, from the steps the tracer already
collected (one instrumentation), sent by the SDK's batch thread, and carry only what is stored:
PII masked by `redact`, never the request's text.
Steps started while another step of the same run is open in the same thread (a model call inside
a skill) become that step's children; code that has no tracer at hand (the gateway) adds a step
to the run in progress with `current_step`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from opentelemetry import trace as otel
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from aicity.core.db import Base, database
from aicity.core.ids import new_id, utcnow

log = logging.getLogger(__name__)

class TraceRecord(Base):
    __tablename__ = "traces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[str | None] = mapped_column(String(40), index=True)
    #: the API key that made the run (None: no key); only it, and admins and operators, read the trace
    owner: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime]
    duration_ms: Mapped[float]
    status: Mapped[str] = mapped_column(String(20))
    request: Mapped[dict[str, Any]]
    steps: Mapped[list[Any]]
    summary: Mapped[dict[str, Any]]


#: the step open in this thread/context: (its tracer, its record); `current_step` adds to it
_open: ContextVar[tuple[Tracer, dict[str, Any]] | None] = ContextVar("aicity_open_step", default=None)


class Tracer:
    """Collects the steps of one run; thread-safe enough for parallel skills (list.append).
    `redact` (e.g. the guard's PII masking) is applied to everything saved."""

    def __init__(self, kind: str, role: str, request: dict[str, Any], session_id: str | None = None,
                 redact: Callable[[Any], Any] | None = None, owner: str | None = None):
        self.id = new_id("tr")
        self.owner = owner
        self.kind = kind
        self.role = role
        self.session_id = session_id
        self.request = request
        self.steps: list[dict[str, Any]] = []
        self.created_at = utcnow()
        self._t0 = time.perf_counter()
        self._t0_ns = time.time_ns()
        #: id(step record) → (start, seconds after _t0; the enclosing step's record or None)
        self._timing: dict[int, tuple[float, dict[str, Any] | None]] = {}
        self.status = "ok"
        self._redact = redact or (lambda value: value)

    @contextmanager
    def step(self, name: str, **data: Any) -> Iterator[dict[str, Any]]:
        """Time a step; the yielded dict is recorded, so callers can add what they decided."""
        record: dict[str, Any] = {"name": name, **data}
        t0 = time.perf_counter()
        enclosing = _open.get()
        inside = enclosing[1] if enclosing and enclosing[0] is self else None
        if inside is not None:  # which step it ran in: a skill as agent.skill (what operations attribute costs to)
            record.setdefault("within", f"{inside['agent']}.{inside['skill']}" if inside.get("name") == "skill"
                              else inside.get("name"))
        self._timing[id(record)] = (t0 - self._t0, inside)
        token = _open.set((self, record))
        try:
            yield record
        except Exception as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            _open.reset(token)
            record["ms"] = round((time.perf_counter() - t0) * 1000, 3)
            self.steps.append(record)

    def note(self, name: str, **data: Any) -> None:
        record = {"name": name, "ms": 0.0, **data}
        enclosing = _open.get()
        self._timing[id(record)] = (time.perf_counter() - self._t0,
                                    enclosing[1] if enclosing and enclosing[0] is self else None)
        self.steps.append(record)

    def save(self, summary: dict[str, Any]) -> TraceRecord:
        duration_s = time.perf_counter() - self._t0
        record = TraceRecord(
            id=self.id,
            kind=self.kind,
            role=self.role,
            session_id=self.session_id,
            owner=self.owner,
            created_at=self.created_at,
            duration_ms=round(duration_s * 1000, 3),
            status=self.status,
            request=self._redact(self.request),
            steps=self._redact(self.steps),
            summary=self._redact(summary),
        )
        with database().session() as s:
            s.add(record)
        exporting = _exporter.tracer()
        if exporting is not None:  # the spans are built in the exporter's thread, off the request's path
            _exporter.submit(self._export_safely, exporting, record, duration_s)
        return record

    def _export_safely(self, exporting: otel.Tracer, record: TraceRecord, duration_s: float) -> None:
        try:
            self._export(exporting, record, duration_s)
        except Exception:  # the export is a copy: its failure never costs the run (the trace is saved)
            log.exception("trace %s not exported", self.id)

    def _export(self, exporting: otel.Tracer, record: TraceRecord, duration_s: float) -> None:
        """The run as spans: the run, then its steps (children of the step open when they began)."""
        root = exporting.start_span(f"invoke_agent aicity.{self.kind}", kind=SpanKind.INTERNAL,
                                    start_time=self._t0_ns, attributes=_run_attributes(record))
        if record.status not in ("ok", "blocked"):
            root.set_status(Status(StatusCode.ERROR, record.status))
        spans: dict[int, otel.Span] = {}
        ordered = sorted(zip(self.steps, record.steps, strict=True), key=lambda pair: self._timing.get(
            id(pair[0]), (0.0, None))[0])
        for original, saved in ordered:
            start, enclosing = self._timing.get(id(original), (0.0, None))
            parent = spans.get(id(enclosing), root) if enclosing is not None else root
            start_ns = self._t0_ns + int(start * 1e9)
            if saved.get("name") != "model" and not saved.get("ms") and saved.get("name") not in _SPAN_STEPS:
                parent.add_event(str(saved.get("name")), _flat(saved), timestamp=start_ns)  # a note
                continue
            name, attributes = _step_span(saved)
            kind = SpanKind.CLIENT if saved.get("name") == "model" else SpanKind.INTERNAL  # a call out to a model
            span = exporting.start_span(name, context=otel.set_span_in_context(parent), kind=kind,
                                        start_time=start_ns, attributes=attributes)
            if saved.get("error"):
                span.set_status(Status(StatusCode.ERROR, str(saved["error"])[:200]))
                span.set_attribute(ERROR_TYPE, str(saved["error"]).split(":", 1)[0])
            spans[id(original)] = span
        for original, saved in ordered:
            if (made := spans.get(id(original))) is not None:
                start = self._timing.get(id(original), (0.0, None))[0]
                made.end(end_time=self._t0_ns + int(start * 1e9) + int(float(saved.get("ms") or 0) * 1e6))
        root.end(end_time=self._t0_ns + int(duration_s * 1e9))


@contextmanager
def current_step(name: str, **data: Any) -> Iterator[dict[str, Any]]:
    """A step of the run in progress in this thread (inside one of its steps), or, outside any
    run, a dict that nobody keeps: for code called by a run that has no tracer at hand."""
    found = _open.get()
    if found is None:
        yield {"name": name, **data}
        return
    with found[0].step(name, **data) as record:
        yield record


# ---- OpenTelemetry export -----------------------------------------------------------------

#: steps that are spans even when instant (the others, instant, are notes: events on their span)
_SPAN_STEPS = frozenset({"plan", "skill", "model", "retrieval", "compose"})
_AGENT = "aicity.assistant"


def _run_attributes(record: TraceRecord) -> dict[str, Any]:
    summary = record.summary or {}
    attributes: dict[str, Any] = {
        gen_ai.GEN_AI_OPERATION_NAME: "invoke_agent",
        gen_ai.GEN_AI_AGENT_NAME: f"aicity.{record.kind}",
        "aicity.trace_id": record.id,
        "aicity.role": record.role,
        "aicity.status": record.status,
    }
    if record.session_id:
        attributes[gen_ai.GEN_AI_CONVERSATION_ID] = record.session_id
    for key in ("planner", "mode"):
        if isinstance(summary.get(key), str):
            attributes[f"aicity.{key}"] = summary[key]
    for key in ("skills", "departments"):
        if isinstance(summary.get(key), list):
            attributes[f"aicity.{key}"] = [str(v) for v in summary[key]]
    return attributes


def _step_span(step: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A step's span name and attributes: GenAI conventions for skills (tools), model calls and
    retrievals, `aicity.*` for the rest."""
    name = str(step.get("name"))
    attributes: dict[str, Any] = {"aicity.step": name, **_flat(step)}
    if name == "skill":
        tool = f"{step.get('agent')}.{step.get('skill')}"
        attributes.update({gen_ai.GEN_AI_OPERATION_NAME: "execute_tool", gen_ai.GEN_AI_TOOL_NAME: tool,
                           gen_ai.GEN_AI_TOOL_TYPE: "function", gen_ai.GEN_AI_AGENT_NAME: str(step.get("agent")),
                           gen_ai.GEN_AI_AGENT_ID: str(step.get("agent"))})
        if isinstance(step.get("params"), dict):
            attributes[gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS] = json.dumps(step["params"], ensure_ascii=False)
        return f"execute_tool {tool}", attributes
    if name == "model":
        attributes.update({gen_ai.GEN_AI_OPERATION_NAME: "chat", gen_ai.GEN_AI_REQUEST_MODEL: str(step.get("group"))})
        for key, attribute in (("deployment", gen_ai.GEN_AI_RESPONSE_MODEL), ("provider", gen_ai.GEN_AI_PROVIDER_NAME),
                               ("agent", gen_ai.GEN_AI_AGENT_NAME)):
            if step.get(key):
                attributes[attribute] = str(step[key])
        for key, attribute in (("input_tokens", gen_ai.GEN_AI_USAGE_INPUT_TOKENS),
                               ("output_tokens", gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS)):
            if isinstance(step.get(key), int):
                attributes[attribute] = step[key]
        return f"chat {step.get('group')}", attributes
    if name == "retrieval":
        attributes.update({gen_ai.GEN_AI_OPERATION_NAME: "retrieval",
                           gen_ai.GEN_AI_DATA_SOURCE_ID: str(step.get("source", "knowledge"))})
        return f"retrieval {step.get('source', 'knowledge')}", attributes
    attributes[gen_ai.GEN_AI_AGENT_NAME] = _AGENT
    return name, attributes


def _flat(step: dict[str, Any]) -> dict[str, Any]:
    """A step's scalar fields as `aicity.<key>` attributes; lists and objects as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in step.items():
        if key in ("name", "params"):
            continue
        if isinstance(value, str | bool | int | float):
            flat[f"aicity.{key}"] = value
        elif value is not None:
            flat[f"aicity.{key}"] = json.dumps(value, ensure_ascii=False, default=str)[:2000]
    return flat


class _Exporter:
    """The OTLP/HTTP exporter, when an endpoint is configured (else nothing: traces stay local)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decided = False
        self._provider: TracerProvider | None = None
        self._tracer: otel.Tracer | None = None
        #: builds the spans of saved traces, in order, off the request path (then the SDK's batch thread sends them)
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trace-export")

    def submit(self, build: Callable[..., None], *args: Any) -> None:
        self._builder.submit(build, *args)

    def _drain(self, timeout_s: float) -> None:
        """Wait until the spans of every trace saved so far are built."""
        self._builder.submit(lambda: None).result(timeout_s)

    def tracer(self) -> otel.Tracer | None:
        if not self._decided:
            self.configure()
        return self._tracer

    def configure(self) -> bool:
        """(Re)read the configuration; True when spans are exported. The standard OpenTelemetry
        variables are read from the environment here on purpose (the one place in aicity that reads
        them rather than a settings section): `OTEL_EXPORTER_OTLP_ENDPOINT` or
        `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`,
        `OTEL_SDK_DISABLED`, … behave as in any OpenTelemetry SDK, so collectors are set up as usual."""
        with self._lock:
            if self._provider is not None:
                self._drain(30.0)
                self._provider.shutdown()
            self._provider, self._tracer = None, None
            endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
                "OTEL_EXPORTER_OTLP_ENDPOINT")
            disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
            if endpoint and not disabled:
                # the exporter (an HTTP client stack) loads only where spans are exported: every CLI command's
                # start would pay its import (about 0.1 s) for nothing
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "aicity"}), shutdown_on_exit=True)
                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
                self._provider, self._tracer = provider, provider.get_tracer("aicity.core.tracing")
            self._decided = True
            return self._tracer is not None

    def flush(self, timeout_ms: int = 5000) -> bool:
        """Build and send what is queued now (tests, benchmarks, before exit)."""
        if self._provider is None:
            return True
        self._drain(timeout_ms / 1000)
        return self._provider.force_flush(timeout_ms)


_exporter = _Exporter()


def configure_export() -> bool:
    """Re-read the OTLP configuration from the environment; True when spans are exported."""
    return _exporter.configure()


def flush_export(timeout_ms: int = 5000) -> bool:
    return _exporter.flush(timeout_ms)


def get_trace(trace_id: str) -> TraceRecord | None:
    with database().session() as s:
        return s.get(TraceRecord, trace_id)


def recent_traces(limit: int = 50, kind: str | None = None, owner: str | None = None,
                  since: datetime | None = None) -> list[TraceRecord]:
    """The newest traces (of `kind`, only those `owner` made, and not before `since`, when given)."""
    with database().session() as s:
        q = select(TraceRecord).order_by(TraceRecord.created_at.desc()).limit(limit)
        if since is not None:
            q = q.where(TraceRecord.created_at >= since)
        if kind:
            q = q.where(TraceRecord.kind == kind)
        if owner is not None:
            q = q.where(TraceRecord.owner == owner)
        return list(s.scalars(q))
