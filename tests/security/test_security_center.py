"""The security center in a real browser (headless Debian Chromium, Playwright) against the live
app: security events for admins and operators, the guard policy edited and saved by an admin,
locked for everyone else; and the events API's shape and access."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aicity.identity import service as identity
from tests.support.console import Console
from tests.support.injection import ATTACK


def _http(method: str, url: str, key: str | None = None, body: dict | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, str]:
    return {role: identity.create_api_key(f"security-center-{role}", role)[1] for role in ("admin", "operator")}


@pytest.fixture(scope="module")
def blocked(live_server: str) -> None:
    """One attack blocked by the guard, so the ledger has a security event."""
    status, body = _http("POST", f"{live_server}/api/v1/assistant/ask", body={"text": ATTACK})
    assert status == 400 and body["type"].endswith("guard-blocked")


def test_events_api_needs_admin_or_operator(client: TestClient, keys: dict[str, str]) -> None:
    assert client.get("/api/v1/security/events").status_code == 403
    client.post("/api/v1/assistant/ask", json={"text": ATTACK})
    r = client.get("/api/v1/security/events", params={"type": "guard"},
                   headers={"Authorization": f"Bearer {keys['operator']}"})
    assert r.status_code == 200
    body = r.json()
    block = next(e for e in body["events"] if e["type"] == "guard.block")
    assert block["stage"] == "input" and "attack" in block["kinds"] and block["rules"]
    assert all(e["type"].startswith("guard.") for e in body["events"])
    assert body["summary"]["blocked_attacks"] >= 1 and body["summary"]["by_stage"]["input"] >= 1


@pytest.fixture()
def console_for(browser, live_server: str, blocked: None) -> Iterator:
    opened: list[Console] = []

    def open_(key: str | None, role: str) -> Console:
        opened.append(Console(browser, live_server, key, role))
        return opened[-1]

    yield open_
    for c in opened:
        assert not c.errors, c.errors
        c.context.close()


@pytest.mark.browser
def test_admin_sees_events_and_edits_the_policy(console_for, live_server: str, keys: dict[str, str]) -> None:
    admin = keys["admin"]
    status, original = _http("GET", f"{live_server}/api/v1/guard/policy", admin)
    assert status == 200
    original.pop("source")
    ui = console_for(admin, "admin")
    try:
        ui.tid("security-event").first.wait_for()
        assert ui.page.locator("[data-testid=security-event][data-type='guard.block']").count() >= 1
        assert "拦截攻击" in ui.tid("events-summary").inner_text()
        ui.tid("events-type").select_option("auth")
        ui.page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=security-event]')]"
            ".every(r => r.dataset.type.startsWith('auth.'))")
        # the base input-stage threshold, and an override for operators that turns attacks off
        base = ui.page.locator("[data-testid=policy-row][data-stage=input][data-role='']")
        base.get_by_test_id("policy-attack_threshold").fill("0.7")
        base.get_by_test_id("policy-attack_threshold").dispatch_event("change")
        ui.tid("override-stage").select_option("input")
        ui.tid("override-role").select_option("operator")
        ui.tid("override-add").click()
        override = ui.page.locator("[data-testid=policy-row][data-stage=input][data-role=operator]")
        override.get_by_test_id("policy-attacks").uncheck()
        ui.tid("policy-save").click()
        ui.page.wait_for_function("() => document.querySelector('[data-testid=policy-status]').textContent"
                                  ".includes('已保存')")
        status, saved = _http("GET", f"{live_server}/api/v1/guard/policy", admin)
        assert saved["source"] == "runtime" and saved["input"]["attack_threshold"] == 0.7
        assert saved["input"]["roles"]["operator"]["attacks"] is False
        assert "attack_threshold" not in saved["input"]["roles"]["operator"]  # inherited, not copied
        status, events = _http("GET", f"{live_server}/api/v1/security/events?type=guard", admin)
        assert any(e["type"] == "guard.policy.set" for e in events["events"])
    finally:
        assert _http("PUT", f"{live_server}/api/v1/guard/policy", admin, original)[0] == 200


@pytest.mark.browser
def test_operator_sees_events_but_not_the_policy(console_for, keys: dict[str, str]) -> None:
    ui = console_for(keys["operator"], "operator")
    ui.tid("security-event").first.wait_for()
    ui.tid("policy-locked").wait_for()
    assert ui.tid("policy-table").count() == 0


@pytest.mark.browser
def test_citizen_sees_neither(console_for) -> None:
    ui = console_for(None, "citizen")
    ui.tid("events-locked").wait_for()
    ui.tid("policy-locked").wait_for()
    assert ui.tid("security-event").count() == 0
