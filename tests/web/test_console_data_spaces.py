"""The data-spaces page (数据空间) in a real browser (headless Debian Chromium, Playwright) against
the live app: the data administration requests civil affairs' aggregate-only offer with a
purpose; civil affairs agrees (signed); the data administration queries counts by district and
sees six noisy groups and the budget left; the next query is refused (budget spent) and both
uses show in the usage list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.hub.data import spaces
from aicity.hub.data.policy import aggregate_policy
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.console import Console
from tests.support.data_store import pack_dataset

PURPOSE = "低保覆盖情况分区统计"


@pytest.fixture()
def offer(city: Path) -> str:
    pack_dataset("low_income_households")
    civil = Principal(Role.official, department="civil_affairs", key_id="browser")
    space = spaces.create_space(civil, "浏览器测试空间", "city")
    spaces.join_space(Principal(Role.official, department="data_bureau", key_id="browser"), space.id)
    return spaces.make_offer(civil, space.id, "low_income_households", aggregate_policy(
        purposes=[PURPOSE], epsilon=0.3, min_group_size=10), "浏览器测试数据产品").id


@pytest.fixture()
def page_for(browser, live_server: str) -> Iterator:
    opened: list[Console] = []

    def open_(department: str) -> Console:
        key = identity.create_api_key(f"console-spaces-{department}", "official", department)[1]
        ui = Console(browser, live_server, key, "official")
        opened.append(ui)
        ui.page.goto(f"{live_server}/#/data-spaces")
        ui.tid("data-spaces").wait_for()
        return ui

    yield open_
    for ui in opened:
        assert not ui.errors, ui.errors
        ui.context.close()


@pytest.mark.browser
def test_request_agree_query_and_refusal_in_the_console(page_for, offer: str) -> None:
    consumer = page_for("data_bureau")
    card = consumer.page.locator(f"[data-testid=offer][data-id='{offer}']")
    card.wait_for()
    assert "ε 预算 0.3" in card.get_by_test_id("offer-policy").inner_text()
    card.get_by_test_id("offer-purpose").fill(PURPOSE)
    card.get_by_test_id("offer-request").click()
    requested = consumer.page.locator("[data-testid=agreement][data-status=requested]").filter(has_text=PURPOSE)
    requested.first.wait_for()
    agreement_id = requested.first.get_attribute("data-id")

    provider = page_for("civil_affairs")
    pending = provider.page.locator(f"[data-testid=agreement][data-id='{agreement_id}']")
    pending.get_by_test_id("agreement-agree").click()
    provider.page.locator(f"[data-testid=agreement][data-id='{agreement_id}'][data-status=agreed]").wait_for()

    consumer.tid("spaces-refresh").click()
    agreed = consumer.page.locator(f"[data-testid=agreement][data-id='{agreement_id}'][data-status=agreed]")
    agreed.get_by_test_id("query-epsilon").fill("0.2")
    agreed.get_by_test_id("query-run").click()
    agreed.get_by_test_id("release").wait_for()
    assert agreed.get_by_test_id("release-row").count() == 6
    assert "0.1" in agreed.get_by_test_id("query-left").inner_text()
    agreed.get_by_test_id("query-run").click()
    refused = agreed.get_by_test_id("query-refused")
    refused.wait_for()
    assert "隐私预算不足" in refused.inner_text()

    agreed.get_by_test_id("agreement-usage").click()
    agreed.get_by_test_id("usage").wait_for()
    outcomes = [r.get_attribute("data-outcome") for r in agreed.get_by_test_id("usage-row").all()]
    assert outcomes == ["released", "refused"]
