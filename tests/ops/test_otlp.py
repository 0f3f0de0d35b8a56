"""Traces that other tools read: one `ask` arrives at a real OTLP/HTTP receiver (a small HTTP
server decoding the protobuf `ExportTraceServiceRequest`) as GenAI-convention spans, with no raw PII."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from aicity.assistant.service import assistant
from aicity.core import tracing
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.llm import call
from tests.support.net import free_port
from tests.support.upstream import RunningUpstream

PHONE = "13912345678"
ID_NUMBER = "110101199003074258"


class Receiver:
    """An OTLP/HTTP trace receiver on loopback that keeps every span it is sent, and the raw bodies."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.bodies.append(body)
                received.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[dict[str, Any]]:
        found = []
        for body in self.bodies:
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}.get("service.name")
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        found.append({"name": span.name, "trace": span.trace_id.hex(), "id": span.span_id.hex(),
                                      "parent": span.parent_span_id.hex(), "service": service,
                                      "status": span.status.code, "attributes": {
                                          a.key: _value(a.value) for a in span.attributes}})
        return found


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind)


@pytest.fixture
def receiver(city: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    found = Receiver()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", found.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-token=t0ken")
    assert tracing.configure_export()
    yield found
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert not tracing.configure_export()  # back to local traces only
    found.server.shutdown()


def test_one_ask_arrives_as_genai_spans_without_pii(receiver: Receiver) -> None:
    text = f"我想开个小卖部，个体户执照怎么办？电话{PHONE}，身份证{ID_NUMBER}"
    result = assistant().ask(text, Principal(Role.citizen))
    assert tracing.flush_export()
    spans = [s for s in receiver.spans() if s["trace"] == next(
        r["trace"] for r in receiver.spans() if r["attributes"].get("aicity.trace_id") == result.trace_id)]
    root = next(s for s in spans if not s["parent"])
    assert root["service"] == "aicity" and root["name"] == "invoke_agent aicity.assistant"
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert root["attributes"]["gen_ai.conversation.id"] == result.session_id
    tools = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "execute_tool"]
    assert {s["attributes"]["gen_ai.tool.name"] for s in tools} == {f"{r.agent}.{r.skill}" for r in result.skills}
    assert all(s["parent"] == root["id"] and s["attributes"]["gen_ai.tool.type"] == "function" for s in tools)
    assert {"plan", "compose"} <= {s["name"] for s in spans}
    assert receiver.headers[0]["x-collector-token"] == "t0ken"  # OTEL_EXPORTER_OTLP_HEADERS, as in any SDK
    raw = b"".join(receiver.bodies)
    assert PHONE.encode() not in raw and ID_NUMBER.encode() not in raw


def test_model_calls_and_retrievals_are_children_of_their_step(receiver: Receiver, llm: RunningUpstream) -> None:
    llm.set(script=[
        {"content": None, "tool_calls": [call("policy__legal_qa", {"text": "个体工商户登记需要什么材料"})]},
        {"content": "个体工商户登记应当向登记机关申请[1]。"},
    ])
    result = assistant().ask(f"个体户登记要什么材料？我的手机{PHONE}", Principal(Role.citizen))
    assert result.planner == "llm:chat-large"
    assert tracing.flush_export()
    spans = [s for s in receiver.spans() if s["attributes"].get("aicity.trace_id") == result.trace_id]
    trace_id = spans[0]["trace"]
    spans = [s for s in receiver.spans() if s["trace"] == trace_id]
    by_id = {s["id"]: s for s in spans}
    chats = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    assert len(chats) == 2
    for chat in chats:
        assert chat["name"] == "chat chat-large"
        assert chat["attributes"]["gen_ai.request.model"] == "chat-large"
        assert chat["attributes"]["gen_ai.response.model"] == "llm"
        assert chat["attributes"]["gen_ai.usage.input_tokens"] == 11
        assert chat["attributes"]["gen_ai.usage.output_tokens"] == 7
        assert by_id[chat["parent"]]["name"] == "plan"  # the model's turns belong to the planning step
    tool = next(s for s in spans if s["attributes"].get("gen_ai.operation.name") == "execute_tool")
    assert tool["attributes"]["gen_ai.tool.name"] == "policy.legal_qa"
    assert by_id[tool["parent"]]["name"] == "plan"
    retrieval = next(s for s in spans if s["attributes"].get("gen_ai.operation.name") == "retrieval")
    assert retrieval["parent"] == tool["id"] and retrieval["attributes"]["gen_ai.data_source.id"] == "knowledge"
    assert PHONE.encode() not in b"".join(receiver.bodies)


def test_without_an_endpoint_nothing_is_exported_and_the_trace_is_kept(city: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert not tracing.configure_export()
    result = assistant().ask("个体户执照怎么办", Principal(Role.citizen))
    assert tracing.get_trace(result.trace_id) is not None
