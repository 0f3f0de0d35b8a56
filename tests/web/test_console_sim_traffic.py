"""The 推演模拟 page's signal-timing panel in a real browser (headless Chromium, Playwright) against the
live app: an official picks 解放大道, runs a five-minute preview of the morning peak, follows it to the
end and sees the before/after comparison (travel time, delay, queue, throughput) and the plan per
crossing; the corridors offered are the ones the data hub counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def official_key(city: Path) -> str:
    return identity.create_api_key("console-traffic-official", "official")[1]


@pytest.fixture
def ui(browser, live_server: str, official_key: str) -> Iterator[ConsolePage]:
    page = ConsolePage(browser)
    page.page.goto(live_server + "/#/sim")
    page.tid("traffic-form").wait_for()
    page.enter_key(official_key)
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def test_an_official_compares_the_plans_of_a_corridor(ui: ConsolePage) -> None:
    ui.page.wait_for_function("() => [...document.querySelectorAll('[data-testid=traffic-corridor] option')]"
                              ".some((o) => o.value === '解放大道')")
    options = ui.tid("traffic-corridor").locator("option").all_inner_texts()
    assert len(options) == 8 and any(o.startswith("光谷大道") for o in options)
    ui.tid("traffic-corridor").select_option("解放大道")
    ui.tid("traffic-measured").select_option("300")
    ui.tid("traffic-run").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=sim-status]').dataset.status === 'succeeded'",
                              timeout=300_000)
    ui.tid("traffic-compare").wait_for()
    assert ui.tid("traffic-row").count() == 7
    travel = ui.page.locator("[data-testid=traffic-row][data-metric=travel_time_s]").inner_text()
    assert "分钟" in travel and "%" in travel
    assert "解放大道" in ui.tid("traffic-summary").inner_text() and "早高峰" in ui.tid("traffic-summary").inner_text()
    assert ui.tid("traffic-plan").locator("tbody tr").count() == 11
    assert "胜利街" in ui.tid("traffic-plan").inner_text()
    assert "信号配时" in ui.tid("sim-history").inner_text()
