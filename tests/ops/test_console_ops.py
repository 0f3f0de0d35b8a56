"""The console in headless Chromium: 👍/👎 and a reason under an answer in the chat (a keyless
citizen, through its session token), and the 运营 page's agent table, clusters and assessment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aicity.identity import service as identity
from aicity.ops import agents
from tests.support.console import ConsolePage, console_page

pytestmark = pytest.mark.browser

QUESTION = "我想办一张宠物驾驶证，去哪里办"


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[ConsolePage]:
    with console_page(browser) as page:
        yield page


def test_a_thumbs_down_with_a_reason_reaches_the_operations_page(ui: ConsolePage, live_server: str) -> None:
    ui.page.goto(live_server + "/")
    ui.tid("chat-input").fill(QUESTION)
    ui.tid("chat-input").press("Enter")
    turn = ui.tid("assistant-turn").last
    turn.get_by_test_id("answer").wait_for()
    turn.get_by_test_id("feedback-down").click()
    turn.get_by_test_id("feedback-reason").fill("没有告诉我该找哪个部门")
    turn.get_by_test_id("feedback-send").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=feedback-status]').textContent.length > 0")
    assert "已记录" in turn.get_by_test_id("feedback-status").inner_text()
    saved = next(v for v in agents.feedback() if v["reason"] == "没有告诉我该找哪个部门")
    assert saved["rating"] == "down"

    ui.page.goto(live_server + "/#/ops")
    ui.tid("ops-locked").first.wait_for()  # a keyless visitor sees no operations data
    ui.enter_key(identity.create_api_key("console-ops-operator", "operator")[1])
    ui.tid("ops-skill").first.wait_for()
    ui.tid("ops-dimension").first.wait_for()
    assert ui.tid("ops-dimension").count() == 5
    assert int(ui.tid("ops-summary").inner_text().split("👎 ")[1]) >= 1
    clusters = ui.tid("ops-clusters").inner_text()
    assert "宠物" in clusters and "点踩" in clusters
    assert ui.tid("ops-weakest").count() >= 1
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors
