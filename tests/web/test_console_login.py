"""The console login in a real browser (headless Debian Chromium, Playwright) against the live
app: an admin key is exchanged for a session (HttpOnly cookie) and forgotten by the page, the
security center loads with it; logout ends it (403 again); a wrong key shows the problem toast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.identity import service as identity
from tests.support.console import Console


@pytest.fixture(scope="module")
def admin_key(city: Path) -> str:
    return identity.create_api_key("console-login-admin", "admin")[1]


@pytest.fixture()
def ui(browser, live_server: str) -> Iterator[Console]:
    console = Console(browser, live_server, None, "citizen")  # no key in the page
    console.tid("events-locked").wait_for()
    yield console
    assert not console.errors, console.errors
    console.context.close()


def log_in(ui: Console, key: str) -> None:
    ui.page.locator("#api-key").fill(key)
    ui.tid("login").click()


def events_status(ui: Console) -> int:
    return ui.page.evaluate("async () => (await fetch('/api/v1/security/events')).status")


@pytest.mark.browser
def test_login_opens_a_session_and_logout_ends_it(ui: Console, admin_key: str) -> None:
    assert events_status(ui) == 403
    with ui.page.expect_response("**/api/v1/auth/login") as login:
        log_in(ui, admin_key)
    assert login.value.status == 200
    ui.page.wait_for_function("() => document.getElementById('whoami').dataset.session === '1'")
    assert ui.tid("whoami").inner_text().startswith("已登录 admin")
    assert ui.tid("role-select").input_value() == "admin"
    # the key is gone from the page: not in the field, not in storage, not readable as a cookie
    assert ui.page.locator("#api-key").input_value() == ""
    assert ui.page.evaluate("() => localStorage.getItem('aicity.apiKey')") is None
    assert admin_key not in ui.page.evaluate("() => document.cookie")
    assert ui.page.evaluate("() => document.cookie") == ""  # the session cookie is HttpOnly
    # the security center loads with the session alone (its own login is an auth event)
    ui.page.locator("[data-testid=security-event][data-type='auth.login']").first.wait_for()
    ui.tid("policy-table").wait_for()
    assert events_status(ui) == 200

    ui.tid("logout").click()
    ui.page.wait_for_function("() => !document.getElementById('whoami').classList.contains('is-auth')")
    assert ui.tid("logout").is_hidden()
    ui.tid("events-locked").wait_for()
    ui.tid("policy-locked").wait_for()
    assert events_status(ui) == 403


@pytest.mark.browser
def test_a_wrong_key_shows_the_problem_toast(ui: Console) -> None:
    with ui.page.expect_response("**/api/v1/auth/login") as login:
        log_in(ui, "aic_not-a-real-key")
    assert login.value.status == 401
    toast = ui.page.locator("[data-testid=error-toast][data-status='401']").last
    toast.wait_for()
    assert "API key 无效" in toast.inner_text()
    assert ui.tid("logout").is_hidden() and events_status(ui) == 403
