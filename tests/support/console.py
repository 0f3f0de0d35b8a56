"""A console page in a fresh headless-Chromium context, for the browser tests: the page's
uncaught errors and console errors are recorded so tests can assert there were none."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

TIMEOUT_MS = 20_000


class ConsolePage:
    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def tid(self, testid: str):
        return self.page.get_by_test_id(testid)

    def enter_key(self, key: str) -> None:
        """Type an API key into the header and wait until the shell says who is logged in."""
        self.page.locator("#api-key").fill(key)
        self.page.locator("#api-key").press("Enter")
        # generous: on a loaded CI machine the first request of a fresh context can wait behind the server's
        # start-up work; this waits for a state, it does not time anything
        self.page.wait_for_function("() => document.getElementById('whoami').classList.contains('is-auth')",
                                    timeout=3 * TIMEOUT_MS)

    def unexpected_errors(self, *statuses: int) -> list[str]:
        """Console errors other than the browser's notes on the intended error responses."""
        allowed = "|".join(map(str, statuses)) or "x"
        return [m for m in self.console_errors if not re.search(rf"status of ({allowed})\b", m)]


@contextmanager
def console_page(browser) -> Iterator[ConsolePage]:
    """A ConsolePage for one test (a `ui` fixture's body): afterwards, no uncaught error in the page,
    and its context closed."""
    page = ConsolePage(browser)
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


TIMEOUT_MS = 20_000


class Console:
    def __init__(self, browser, base: str, key: str | None, role: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.context.add_init_script(
            f"localStorage.setItem('aicity.apiKey', {json.dumps(key or '')});"
            f"localStorage.setItem('aicity.role', {json.dumps(role)});")
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base}/#/security")
        self.page.get_by_test_id("security-center").wait_for()

    def tid(self, testid: str):
        return self.page.get_by_test_id(testid)
