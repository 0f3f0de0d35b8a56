"""The console's data-catalog page in headless Chromium against the live app (demo pack loaded):
the catalog list and its search, a dataset page with columns, grade, quality and lineage, sample
rows shown for open data and refused for the sensitive households dataset, and personal
columns masked for a key outside the owner department."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser


class DataPage(ConsolePage):
    def __init__(self, browser, base: str):
        super().__init__(browser)
        self.page.goto(base + "/#/data")
        self.tid("data-card").first.wait_for()

    def open(self, dataset_id: str) -> None:
        self.tid(f"open-{dataset_id}").click()
        self.page.wait_for_function(
            "(id) => document.querySelector('[data-testid=data-title]')?.textContent.length > 0", arg=dataset_id)


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[DataPage]:
    page = DataPage(browser, live_server)
    yield page
    page.context.close()


def test_catalog_search_and_dataset_page(ui: DataPage) -> None:
    assert ui.tid("data-card").count() >= 8
    ui.tid("data-search").fill("低保 保障金")
    ui.page.wait_for_function("() => document.querySelector('[data-testid=data-card] strong')"
                              "?.textContent.includes('低保')")
    ui.open("low_income_households")
    assert "4 级" in ui.tid("grade").last.text_content()
    assert "敏感个人信息" in ui.tid("data-columns").text_content()
    assert ui.tid("data-quality").locator("tbody tr").count() >= 5
    assert "import" in ui.tid("data-lineage").text_content()
    assert "仅限聚合" in ui.tid("data-sample-refused").text_content()
    assert ui.tid("data-sample").count() == 0
    ui.tid("data-search").fill("")
    ui.tid("open-air_quality_daily").wait_for()
    ui.open("air_quality_daily")
    assert ui.tid("data-sample").locator("tbody tr").count() > 0
    assert not ui.page_errors and not ui.unexpected_errors()


def test_personal_columns_masked_outside_the_owner(ui: DataPage) -> None:
    _, plaintext = identity.create_api_key("console-data-official", "official", "tax")
    ui.enter_key(plaintext)
    ui.open("enterprises")
    sample = ui.tid("data-sample")
    sample.wait_for()
    headers = [t.strip() for t in sample.locator("thead th").all_text_contents()]
    mobiles = sample.locator(f"tbody tr td:nth-child({headers.index('contact_mobile') + 1})").all_text_contents()
    assert mobiles and all("****" in m for m in mobiles)
    assert not ui.page_errors
