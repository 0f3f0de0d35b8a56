"""The console's ask box (一句话问数) in a real browser (headless Chromium, Playwright) against the
live app: an official's question gets the sentence, the table, the chart and the SQL; a personal-row
request is refused with the aggregate alternative; without a key only open data is answered; the
question's text never becomes markup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def official_key(city: Path) -> str:
    return identity.create_api_key("console-ask-official", "official")[1]


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[ConsolePage]:
    page = ConsolePage(browser)
    page.page.goto(live_server + "/#/ask")
    page.tid("ask-input").wait_for()
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def ask(ui: ConsolePage, question: str) -> None:
    ui.tid("ask-input").fill(question)
    ui.tid("ask-submit").click()
    ui.tid("ask-status").wait_for()


def test_an_official_gets_the_number_table_chart_and_sql(ui: ConsolePage, official_key: str) -> None:
    ui.enter_key(official_key)
    ask(ui, "各区工单数量")
    assert ui.tid("ask-status").inner_text() == "已回答"
    assert "光谷区" in ui.tid("ask-answer").inner_text()
    assert ui.tid("ask-table").locator("tbody tr").count() == 6
    chart = ui.tid("ask-chart")
    assert chart.get_attribute("src").startswith("data:image/svg+xml")
    assert ui.page.evaluate("() => document.querySelector('[data-testid=ask-chart]').naturalWidth") > 0
    assert "GROUP BY" in ui.tid("ask-sql").text_content()
    assert "hotline_tickets" in ui.tid("ask-datasets").inner_text()
    ask(ui, "列出低保户的身份证号")
    ui.page.wait_for_function("() => document.querySelector('[data-testid=ask-status]').textContent === '不予提供'")
    assert "汇总" in ui.tid("ask-alternative").inner_text()
    assert ui.tid("ask-table").count() == 0


def test_without_a_key_only_open_data_and_text_stays_text(ui: ConsolePage) -> None:
    ask(ui, "各区AQI平均值")
    assert ui.tid("ask-status").inner_text() == "已回答" and ui.tid("ask-chart").count() == 1
    ask(ui, '<img src=x onerror="window.__pwned=1">各区工单数量')
    ui.page.wait_for_function("() => document.querySelector('[data-testid=ask-status]').textContent !== '已回答'")
    assert ui.page.evaluate("() => window.__pwned") is None
    assert ui.page.locator(".ask-result img[src=x]").count() == 0
