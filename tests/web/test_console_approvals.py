"""The approval queue (审批) in a real browser (headless Debian Chromium, Playwright) against the
live app: an operator's request to close a gas valve is pending; the operator's own approve is
refused with the 403 problem toast; an admin approves it with a note through the page, the
status changes and the handler runs once; a rejection shows its reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from aicity.assistant import service as assistant_service
from aicity.assistant.service import Assistant
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals
from tests.support.agents import VALVE_REQUEST as REQUEST
from tests.support.agents import valve_registry
from tests.support.console import Console


@pytest.fixture()
def calls(live_server: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The handler's runs; the live app's approvals run skills from the valve registry."""
    ran: list[str] = []
    registry = valve_registry(ran)
    monkeypatch.setattr(assistant_service, "assistant", lambda: SimpleNamespace(registry=registry))
    return ran


@pytest.fixture()
def operator(city: Path) -> tuple[Principal, str]:
    key, plaintext = identity.create_api_key("console-approvals-operator", "operator")
    return Principal(Role.operator, key_id=key.id), plaintext


@pytest.fixture(scope="module")
def admin_key(city: Path) -> str:
    return identity.create_api_key("console-approvals-admin", "admin")[1]


@pytest.fixture()
def queue_for(browser, live_server: str) -> Iterator:
    opened: list[Console] = []

    def open_(key: str, role: str) -> Console:
        ui = Console(browser, live_server, key, role)
        opened.append(ui)
        ui.page.goto(f"{live_server}/#/approvals")
        ui.tid("approvals").wait_for()
        return ui

    yield open_
    for ui in opened:
        assert not ui.errors, ui.errors
        ui.context.close()


def requested(calls: list[str], principal: Principal) -> str:
    """The operator asks the assistant to close the valve; the id of the approval it queued."""
    bot = Assistant(valve_registry(calls))
    bot.router.wait_dense(120)  # routing must not depend on whether the new routes' vectors are done
    trace_id = bot.ask(REQUEST, principal).trace_id
    [row] = [r for r in approvals.list_approvals("pending") if r.trace_id == trace_id]
    return row.id


def card(ui: Console, approval_id: str, status: str):
    found = ui.page.locator(f"[data-testid=approval][data-id='{approval_id}'][data-status={status}]")
    found.wait_for()
    return found


@pytest.mark.browser
def test_a_second_person_approves_in_the_console(queue_for, calls: list[str], operator, admin_key: str) -> None:
    principal, op_key = operator
    approval_id = requested(calls, principal)
    assert calls == []

    # the requester sees the request (skill, reason, requester) and cannot approve it
    mine = queue_for(op_key, "operator")
    pending = card(mine, approval_id, "pending")
    assert "gas_ops.close_valve" in pending.inner_text()
    assert pending.get_by_test_id("approval-reason").inner_text() == REQUEST
    assert pending.get_by_test_id("approval-requester").inner_text().startswith(f"operator:{principal.key_id}")
    assert pending.get_by_test_id("approval-status").inner_text() == "待审批"
    pending.get_by_test_id("approval-approve").click()
    refused = mine.page.locator("[data-testid=error-toast][data-status='403']")
    refused.wait_for()
    assert "申请人不能审批" in refused.inner_text()
    assert approvals.get(approval_id).status == "pending" and calls == []

    # an admin approves with a note: the request moves to the decided list, with its result
    ui = queue_for(admin_key, "admin")
    row = card(ui, approval_id, "pending")
    row.get_by_test_id("approval-note").fill("现场确认有泄漏")
    row.get_by_test_id("approval-approve").click()
    done = ui.page.get_by_test_id("approvals-recent").locator(
        f"[data-testid=approval][data-id='{approval_id}'][data-status=approved]")
    done.wait_for()
    assert done.get_by_test_id("approval-status").inner_text() == "已批准并执行"
    assert done.get_by_test_id("approval-note-text").inner_text() == "现场确认有泄漏"
    assert done.get_by_test_id("approval-decided-by").inner_text().startswith("admin:")
    done.get_by_test_id("approval-result").wait_for()
    assert calls == [REQUEST]  # the handler ran once, with the original request
    assert approvals.get(approval_id).status == "approved"
    assert ui.page.locator(f"[data-testid=approval][data-id='{approval_id}'] [data-testid=approval-approve]").count() == 0


@pytest.mark.browser
def test_a_rejection_shows_its_reason(queue_for, calls: list[str], operator, admin_key: str) -> None:
    approval_id = requested(calls, operator[0])
    ui = queue_for(admin_key, "admin")
    row = card(ui, approval_id, "pending")
    row.get_by_test_id("approval-note").fill("误报，无泄漏")
    row.get_by_test_id("approval-reject").click()
    done = card(ui, approval_id, "rejected")
    assert done.get_by_test_id("approval-status").inner_text() == "已驳回"
    assert done.get_by_test_id("approval-note-text").inner_text() == "误报，无泄漏"
    assert calls == [] and approvals.get(approval_id).status == "rejected"
