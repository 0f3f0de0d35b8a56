"""Security-relevant actions that reach the audit ledger: API keys created and revoked (over the
API by an admin, and from the CLI), and a `write` skill's call from the assistant (no raw text);
the ledger still verifies afterwards (`aicity audit verify`)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core import audit
from aicity.core.audit_models import AuditEntry
from aicity.identity import service as identity

PHONE = "13812345678"
REPORT = f"帮我报修一下，幸福路12号的路灯不亮了，我的电话{PHONE}"


def entries(action: str, target: str | None = None) -> list[AuditEntry]:
    return [e for e in audit.recent_entries(500) if e.action == action and (target is None or e.target == target)]


def test_keys_created_and_revoked_over_the_api_name_the_admin(client: TestClient, city: Path) -> None:
    admin, plaintext = identity.create_api_key("coverage-admin", "admin")
    headers = {"Authorization": f"Bearer {plaintext}"}
    made = client.post("/api/v1/keys", headers=headers, json={"name": "coverage-official", "role": "official"})
    assert made.status_code == 201, made.text
    key_id, secret = made.json()["id"], made.json()["key"]
    [created] = entries("identity.key.created", key_id)
    assert created.actor == f"admin:{admin.id}"
    assert created.detail["role"] == "official" and created.detail["name"] == "coverage-official"
    assert secret not in json.dumps(created.detail)  # the plaintext never reaches the ledger

    assert client.delete(f"/api/v1/keys/{key_id}", headers=headers).status_code == 204
    [revoked] = entries("identity.key.revoked", key_id)
    assert revoked.actor == f"admin:{admin.id}" and revoked.detail == {"role": "official"}


def test_keys_from_the_cli_are_audited_as_cli(city: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["keys", "create", "--name", "coverage-cli", "--role", "operator", "--json"])
    assert out.exit_code == 0, out.output
    key_id = json.loads(out.output)["id"]
    assert [e.actor for e in entries("identity.key.created", key_id)] == ["cli"]
    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert [e.actor for e in entries("identity.key.revoked", key_id)] == ["cli"]


def test_a_write_skill_call_is_audited_without_the_text(client: TestClient, city: Path) -> None:
    key, plaintext = identity.create_api_key("coverage-citizen", "citizen")
    body = client.post("/api/v1/assistant/ask", json={"text": REPORT},
                       headers={"Authorization": f"Bearer {plaintext}"}).json()
    assert [(s["agent"], s["skill"]) for s in body["skills"]] == [("governance", "report_event")]
    [call] = [e for e in entries("tool.call", "governance.report_event") if e.detail["trace_id"] == body["trace_id"]]
    assert call.actor == f"citizen:{key.id}"
    stored = json.dumps(call.detail, ensure_ascii=False)
    assert PHONE not in stored and "路灯不亮" not in stored  # params masked, the request's words absent

    # a read-only skill is not a tool call worth a ledger entry
    asked = client.post("/api/v1/assistant/ask", json={"text": "新生儿落户需要什么材料"}).json()
    assert not [e for e in entries("tool.call") if e.detail.get("trace_id") == asked["trace_id"]]


def test_the_ledger_still_verifies(city: Path) -> None:
    identity.revoke_api_key(identity.create_api_key("coverage-last", "citizen")[0].id, actor="test")
    out = CliRunner().invoke(cli, ["audit", "verify"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "ledger intact" in out.output, out.output
