"""The console's 智能体共创 page in a real browser (headless Chromium, Playwright) against the live app:
an agent built from a template (knowledge bases and examples picked), a bad definition refused with
the field named, saved, tried in the side chat with the trace shown, its routing checked, published,
and liked, favourited and rated in the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.agents.studio import service
from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def official_key(city: Path) -> str:
    return identity.create_api_key("console-studio-official", "official", "civil_affairs")[1]


@pytest.fixture
def ui(browser, live_server: str, official_key: str) -> Iterator[ConsolePage]:
    page = ConsolePage(browser)
    page.page.goto(live_server + "/#/studio")
    page.enter_key(official_key)
    page.page.reload()
    page.tid("studio-template").wait_for()
    page.page.wait_for_function("() => document.querySelectorAll('[data-testid=studio-kbs] input').length > 0")
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def test_build_try_route_publish_and_rate(ui: ConsolePage, official_key: str) -> None:
    ui.tid("studio-template").select_option("knowledge")
    ui.tid("studio-new").click()
    ui.tid("studio-id").fill("ui_accessibility")
    ui.tid("studio-name").fill("无障碍问答")
    ui.tid("studio-docs").fill("无障碍环境建设法")
    ui.tid("studio-examples").fill("盲道被占用违法吗\n新建公共建筑必须配无障碍设施吗\n无障碍停车位被占用怎么处理")
    # a bad definition: the error names the field, nothing is saved
    ui.tid("studio-examples").fill("只有一个例子")
    ui.tid("studio-save").click()
    ui.tid("studio-error").wait_for()
    assert "examples" in ui.tid("studio-error").inner_text()
    with pytest.raises(Exception):  # noqa: B017 - a Problem: not found
        service.detail("ui_accessibility", identity.authenticate(official_key))
    ui.tid("studio-examples").fill("盲道被占用违法吗\n新建公共建筑必须配无障碍设施吗\n无障碍停车位被占用怎么处理")
    ui.tid("studio-save").click()
    ui.tid("studio-version").first.wait_for()
    assert "v1" in ui.tid("studio-version").first.inner_text()
    # the side chat: a cited answer and its trace
    ui.tid("studio-chat-input").fill("盲道被占了怎么办")
    ui.tid("studio-chat-send").click()
    ui.tid("studio-answer").first.wait_for()
    assert "无障碍环境建设法" in ui.tid("studio-answer").first.inner_text()
    trace = ui.tid("studio-trace").first.text_content()
    assert "ui_accessibility.ask" in trace and "plan" in trace
    # where its examples go now (not published: elsewhere)
    ui.tid("studio-route-check").click()
    ui.tid("studio-route").first.wait_for()
    assert ui.tid("studio-route").count() == 3
    # publish for the department, then like, favourite and rate it in the catalogue
    ui.tid("studio-visibility").select_option("department")
    ui.tid("studio-publish").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=studio-status]').textContent.includes('已发布')")
    card = ui.page.locator("[data-testid=studio-card][data-id=ui_accessibility]")
    card.wait_for()
    card.get_by_test_id("studio-like").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=studio-card][data-id=ui_accessibility] "
                              "[data-testid=studio-stats]').textContent.includes('赞 1')")
    ui.page.locator("[data-testid=studio-card][data-id=ui_accessibility] [data-testid=studio-rate]").nth(4).click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=studio-card][data-id=ui_accessibility] "
                              "[data-testid=studio-stats]').textContent.includes('评分 5')")
