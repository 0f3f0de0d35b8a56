"""The console's 产业招商 page in a real browser (headless Chromium, Playwright) against the live app:
the chain map coloured by strength upstream → downstream, a node's leads with their components,
a project created from a lead and advanced on the pipeline board, and the report in one click."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def official_key(city: Path) -> str:
    return identity.create_api_key("console-industry-official", "official", "commerce")[1]


@pytest.fixture
def ui(browser, live_server: str, official_key: str) -> Iterator[ConsolePage]:
    page = ConsolePage(browser)
    page.page.goto(live_server + "/#/industry")
    page.enter_key(official_key)
    page.page.reload()
    page.tid("industry-node").first.wait_for()
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def test_chain_map_leads_board_and_report(ui: ConsolePage) -> None:
    nodes = ui.tid("industry-node")
    assert nodes.count() == 10  # 新能源汽车
    assert nodes.first.get_attribute("data-level") == "missing" and "锂矿及锂盐" in nodes.first.inner_text()
    levels = {nodes.nth(i).get_attribute("data-level") for i in range(nodes.count())}
    assert {"missing", "thin", "strong"} <= levels
    assert "期望权重" in ui.tid("industry-rule").inner_text()
    nodes.filter(has_text="动力电池").first.click()
    ui.tid("industry-lead").first.wait_for()
    assert "补链契合" in ui.tid("industry-lead").first.inner_text()
    ui.tid("industry-lead-project").first.click()
    card = ui.tid("industry-stage-线索").get_by_test_id("industry-card").first
    card.wait_for()
    card.get_by_test_id("industry-advance").click()
    ui.tid("industry-stage-立项").get_by_test_id("industry-card").first.wait_for()
    ui.tid("industry-report").click()
    ui.tid("industry-report-link").wait_for()
    ui.tid("industry-district").select_option("光谷区")
    ui.page.wait_for_function("() => document.querySelector('[data-testid=industry-status]').textContent.startsWith('光谷区')")
    assert nodes.filter(has_text="整车制造").first.get_attribute("data-level") == "missing"


def test_the_assistant_answers_an_official_with_a_table_and_a_chart(browser, live_server: str,
                                                                   official_key: str) -> None:
    page = ConsolePage(browser)
    try:
        page.page.goto(live_server + "/#/chat")
        page.enter_key(official_key)
        page.tid("chat-input").fill("光谷区新能源汽车哪些环节薄弱")
        page.tid("chat-input").press("Enter")
        chart = page.tid("answer-chart").first
        chart.wait_for()
        assert chart.get_attribute("src").startswith("data:image/svg+xml")
        assert page.page.evaluate("() => document.querySelector('[data-testid=answer-chart]').naturalWidth") > 0
        assert page.tid("answer").last.locator("table").count() >= 1
        assert "锂矿及锂盐" in page.tid("answer").last.inner_text()
        assert page.page_errors == []
    finally:
        page.context.close()
