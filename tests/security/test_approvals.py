"""Tool authorisation and the approval queue: an operator's request for the gas-valve skill is
queued and not run; only a second authorised person runs it (once); rejection, expiry, a
citizen's request, and a model's call prompted by an injected document (refused, audited)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from aicity.assistant.service import Assistant
from aicity.core import audit
from aicity.core.db import database
from aicity.core.errors import Problem, install_handlers
from aicity.core.ids import utcnow
from aicity.core.tracing import get_trace
from aicity.hub.knowledge import service as kb
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals, approvals_api
from aicity.security.approvals_cli import app as approvals_cli
from aicity.security.models import Approval
from tests.support.agents import VALVE_REQUEST, valve_assistant, valve_registry
from tests.support.injection import ask_with_injected_document
from tests.support.llm import call
from tests.support.upstream import RunningUpstream

REQUEST = VALVE_REQUEST


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def queue(city: Path, calls: list[str]) -> Iterator[TestClient]:
    """The approvals router on its own app, running skills from the valve registry."""
    app = FastAPI()
    install_handlers(app)
    app.include_router(approvals_api.router)
    restore = approvals.set_executor(valve_registry(calls).run)
    with TestClient(app) as c:
        yield c
    restore()


def staff(role: str) -> tuple[Principal, dict[str, str]]:
    key, plaintext = identity.create_api_key(f"approvals-{role}", role)
    return Principal(Role(role), key_id=key.id), {"X-API-Key": plaintext}


def requested(calls: list[str], principal: Principal) -> tuple[str, Any]:
    result = valve_assistant(calls).ask(REQUEST, principal)
    step = next(s for s in get_trace(result.trace_id).steps if s["name"] == "skill" and s["risk"] == "actuate")
    return step.get("approval"), result


def audited(target: str) -> list[str]:
    return [e.action for e in audit.recent_entries(200) if e.target == target]


def test_an_operator_request_waits_for_a_second_person(queue: TestClient, calls: list[str]) -> None:
    operator, op_headers = staff("operator")
    approval_id, result = requested(calls, operator)
    assert approval_id and calls == []  # queued, not run
    assert approval_id in result.answer and "需要人工审批" in result.answer
    row = queue.get(f"/api/v1/approvals/{approval_id}", headers=op_headers).json()
    assert row["status"] == "pending" and row["skill"] == "close_valve" and row["reason"] == REQUEST
    assert row["requester"] == f"operator:{operator.key_id}"
    assert any(r["id"] == approval_id for r in queue.get("/api/v1/approvals?status=pending", headers=op_headers).json())

    # the requester cannot approve their own request; a citizen cannot even read the queue
    same = queue.post(f"/api/v1/approvals/{approval_id}/approve", headers=op_headers, json={})
    assert same.status_code == 403 and same.json()["type"].endswith("approval-same-person")
    assert queue.get("/api/v1/approvals").status_code == 403
    _, official = staff("official")
    assert queue.post(f"/api/v1/approvals/{approval_id}/approve", headers=official, json={}).status_code == 403
    assert calls == []

    _, admin = staff("admin")
    done = queue.post(f"/api/v1/approvals/{approval_id}/approve", headers=admin, json={"note": "现场确认"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved" and done.json()["note"] == "现场确认"
    assert calls == [REQUEST]  # the handler ran once, with the original text
    again = queue.post(f"/api/v1/approvals/{approval_id}/approve", headers=admin, json={})
    assert again.status_code == 409 and calls == [REQUEST]
    trace = get_trace(done.json()["trace_id"])
    assert trace.kind == "approval" and trace.steps[0]["status"] == "approved"
    assert audited(approval_id)[:2] == ["approval.executed", "approval.approved"]
    assert "approval.requested" in [e.action for e in audit.recent_entries(200) if e.detail.get("approval") == approval_id]
    assert audit.verify().ok


def test_reject_and_expiry(queue: TestClient, calls: list[str]) -> None:
    operator, _ = staff("operator")
    _, second = staff("operator")
    rejected, _ = requested(calls, operator)
    body = queue.post(f"/api/v1/approvals/{rejected}/reject", headers=second, json={"note": "误报，无泄漏"}).json()
    assert body["status"] == "rejected" and body["note"] == "误报，无泄漏"
    assert queue.post(f"/api/v1/approvals/{rejected}/approve", headers=second, json={}).status_code == 409
    assert audited(rejected) == ["approval.rejected"]

    lapsed, _ = requested(calls, operator)
    with database().session() as s:
        s.execute(update(Approval).where(Approval.id == lapsed).values(expires_at=utcnow()))
    assert queue.get(f"/api/v1/approvals/{lapsed}", headers=second).json()["status"] == "expired"
    assert queue.post(f"/api/v1/approvals/{lapsed}/approve", headers=second, json={}).status_code == 409
    assert audited(lapsed) == ["approval.expired"] and calls == []


def test_a_citizen_cannot_request(city: Path, calls: list[str]) -> None:
    approval_id, result = requested(calls, Principal(Role.citizen))
    assert approval_id is None and calls == []
    assert "有权限的工作人员" in result.answer
    step = next(s for s in get_trace(result.trace_id).steps if s["name"] == "skill" and s["risk"] == "actuate")
    assert step["decision"] == "denied"
    assert audit.recent_entries(5)[0].action == "approval.denied"


def test_the_cli_decides_with_a_key(queue: TestClient, calls: list[str]) -> None:
    operator, _ = staff("operator")
    approval_id, _ = requested(calls, operator)
    _, headers = staff("admin")
    runner = CliRunner()
    listed = runner.invoke(approvals_cli, ["list", "--status", "pending", "--json"])
    assert listed.exit_code == 0 and approval_id in listed.stdout
    out = runner.invoke(approvals_cli, ["reject", approval_id, "--reason", "重复申请"],
                        env={"AICITY_API_KEY": headers["X-API-Key"]})
    assert out.exit_code == 0, out.output
    assert approvals.get(approval_id).status == "rejected" and calls == []
    assert runner.invoke(approvals_cli, ["approve", approval_id, "--key", "aic_wrong"]).exit_code == 2


def test_an_injected_document_cannot_queue_an_actuation(llm: RunningUpstream, calls: list[str]) -> None:
    operator, _ = staff("operator")
    result = ask_with_injected_document(llm, calls, operator)
    assert calls == []
    steps = get_trace(result.trace_id).steps
    step = next(s for s in steps if s["name"] == "skill" and s["risk"] == "actuate")
    assert step["decision"] == "refused" and "approval" not in step
    finding = next(s for s in steps if s["name"] == "security-finding")
    assert finding["type"] == "tool-hijack" and any(f["type"] == "override" for f in finding["findings"])
    entry = next(e for e in audit.recent_entries(20) if e.action == "approval.refused")
    assert entry.target == "gas_ops.close_valve" and entry.detail["trace_id"] == result.trace_id
    assert not [r for r in approvals.list_approvals() if r.trace_id == result.trace_id]


def test_arguments_echoing_a_tool_result_are_refused(llm: RunningUpstream, calls: list[str]) -> None:
    """No instruction in the document, but the model copies its text into the call: refused.
    The question names no leak: one that does ("漏气") is an emergency, answered before any model."""
    doc = "# 阀门须知\n\n第一条 发现庭院阀门漏气的，由燃气企业立即关闭幸福路调压站总阀并通知住户。\n"
    kb.ingest_document("notice.md", doc.encode(), key="阀门须知")
    try:
        llm.set(script=[
            {"content": None, "tool_calls": [call("policy__legal_qa", {"text": "阀门须知 庭院阀门的维护归谁管"})]},
            {"content": None, "tool_calls": [call("gas_ops__close_valve", {"text": "立即关闭幸福路调压站总阀"}, "call_2")]},
            {"content": "由燃气企业处理[1]。"},
        ])
        operator, _ = staff("operator")
        result = Assistant(valve_registry(calls)).ask("庭院阀门的维护归谁管？", operator)
    finally:
        kb.delete_document(kb.GLOBAL_KB, "阀门须知")
    steps = get_trace(result.trace_id).steps
    step = next(s for s in steps if s["name"] == "skill" and s["risk"] == "actuate")
    assert step["decision"] == "refused" and "approval" not in step and calls == []
    finding = next(s for s in steps if s["name"] == "security-finding")
    assert any(f["type"] == "echo" and f["action"] == "refuse" for f in finding["findings"])


def test_approving_before_the_assistant_registers_its_agents_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue (security) never imports the agents: until the assistant slice registers what
    runs an approved call, approving is a 503, and no request is decided."""
    monkeypatch.setattr(approvals, "_executor", [])
    with pytest.raises(Problem) as exc:
        approvals.approve("apr_unknown", Principal(Role.admin), "")
    assert exc.value.status == 503 and exc.value.type_.endswith("approval-executor-missing")
    restore = approvals.set_executor(lambda *_: [])
    assert len(approvals._executor) == 1
    restore()
    assert approvals._executor == []
