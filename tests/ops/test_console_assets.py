"""The 数字资产 page in headless Chromium: a keyless visitor sees nothing; a department's official finds
an asset, reads its lineage and applies; the owning department approves from its inbox; the applicant
takes the key once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aicity.identity import service as identity
from aicity.ops import infra
from tests.support.console import ConsolePage, console_page

pytestmark = pytest.mark.browser


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[ConsolePage]:
    with console_page(browser) as page:
        yield page


def test_apply_approve_and_take_the_key_in_the_console(ui: ConsolePage, live_server: str) -> None:
    ui.page.goto(live_server + "/#/assets")
    ui.tid("assets-locked").wait_for()
    ui.enter_key(identity.create_api_key("console-assets-health", "official", "health")[1])
    ui.tid("assets-kind").select_option("service")
    row = ui.page.locator('[data-testid=asset-row][data-id="service:industry"]')
    row.get_by_role("link").click()
    card = ui.tid("asset-card")
    card.wait_for()
    assert "application:investment-map" in ui.tid("asset-lineage").inner_text()
    ui.tid("asset-purpose").fill("卫健委接入产业链查询")
    ui.tid("asset-apply").click()
    mine = ui.page.locator("[data-testid=assets-mine] [data-testid=application-row]")
    mine.first.wait_for()
    assert "卫健委接入产业链查询" in mine.first.inner_text()

    ui.enter_key(identity.create_api_key("console-assets-owner", "official", "data_bureau")[1])
    pending = ui.page.locator("[data-testid=assets-inbox] [data-testid=application-row][data-status=pending]")
    pending.first.wait_for()
    pending.first.get_by_test_id("application-approve").click()
    ui.page.locator("[data-testid=assets-inbox] [data-testid=application-row][data-status=approved]").first.wait_for()

    ui.enter_key(identity.create_api_key("console-assets-health-2", "official", "health")[1])
    approved = ui.page.locator("[data-testid=assets-mine] [data-testid=application-row][data-status=approved]")
    approved.first.wait_for()
    approved.first.get_by_test_id("application-credential").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=asset-credential]').textContent.includes('aic_')")
    # taken once: the button is gone once the list reloads, the row shows the key's prefix
    ui.page.wait_for_function("() => !document.querySelector('[data-testid=assets-mine] "
                              "[data-testid=application-credential]')")
    ui.tid("chargeback-total").wait_for()
    assert "元" in ui.tid("chargeback-total").inner_text()
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors


def test_the_infrastructure_page_shows_each_part_to_staff_only(ui: ConsolePage, live_server: str) -> None:
    ui.page.goto(live_server + "/#/infra")
    ui.tid("infra-locked").wait_for()
    assert "需要工作人员身份" in ui.tid("infra-locked").inner_text()
    ui.enter_key(identity.create_api_key("console-infra-operator", "operator")[1])
    ui.tid("infra-database").wait_for()
    expected = infra.snapshot()  # the same city the server reads
    assert ui.tid("infra-queues").is_visible() and ui.tid("infra-bus-table").is_visible()
    for testid, part in (("infra-queue", "queues"), ("infra-broker", "brokers"), ("infra-district", "devices"),
                         ("infra-model", "models")):
        assert ui.page.locator(f"[data-testid={testid}]").count() == len(expected[part]), part
    if not expected["brokers"]:
        assert "未配置消息代理" in ui.tid("infra-no-brokers").inner_text()
    database = ui.tid("infra-database").inner_text()
    assert "MiB" in database and expected["database"]["dialect"] in database
    ui.tid("infra-refresh").click()
    ui.tid("infra-database").wait_for()
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors
