"""The 推演模拟 page in a real browser (headless Chromium, Playwright) against the live app: an
official runs a short 50-year storm over 江滨区, follows it to the end, and sees the flooded places
on the map and in the table, with the comparison and the recommendations; without a staff key the
page says a staff key is needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def official_key(city: Path) -> str:
    return identity.create_api_key("console-sim-official", "official")[1]


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[ConsolePage]:
    page = ConsolePage(browser)
    page.page.goto(live_server + "/#/sim")
    page.tid("sim-form").wait_for()
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def test_an_official_runs_a_storm_and_sees_the_flooded_places(ui: ConsolePage, official_key: str) -> None:
    ui.enter_key(official_key)
    ui.tid("sim-period").select_option("50")
    ui.tid("sim-district").select_option("jiangbin")
    ui.tid("sim-duration").fill("30")
    ui.tid("sim-run").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=sim-status]').dataset.status === 'succeeded'",
                              timeout=60_000)
    ui.tid("sim-row").first.wait_for()
    rows = ui.tid("sim-row").count()
    assert rows > 0 and ui.tid("sim-marker").count() == rows
    assert "江滨区" in ui.tid("sim-flooded").inner_text()
    assert "50 年一遇" in ui.tid("sim-summary-text").inner_text()
    assert "一致率" in ui.tid("sim-compare").inner_text()
    assert ui.tid("sim-rec").count() >= 1
    assert ui.tid("sim-history-item").count() >= 1


def test_without_a_staff_key_the_page_says_so(ui: ConsolePage) -> None:
    ui.page.wait_for_function("() => document.querySelector('[data-testid=sim-status]').textContent.length > 0")
    assert "工作人员" in ui.tid("sim-status").inner_text()
