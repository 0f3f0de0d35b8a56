"""The 语料与模型 page in headless Chromium: locked for visitors; an operator collects a 👎, labels and
accepts it, freezes a corpus version, sees the router's versions (a rollback with nothing promoted is
refused with a message) and the knowledge bases' usage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aicity.assistant.service import assistant
from aicity.hub.events import service as events
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.ops import agents, corpus
from tests.support.console import ConsolePage, console_page

pytestmark = pytest.mark.browser

QUESTION = "我家门口的消防栓漏水好几天了，地上全是水"


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[ConsolePage]:
    with console_page(browser) as page:
        yield page


def test_an_operator_reviews_feedback_and_sees_models_and_knowledge(ui: ConsolePage, live_server: str) -> None:
    answer = assistant().ask(QUESTION, Principal(role=Role.citizen))
    agents.give_feedback(answer.trace_id, "down", "我是要报修", Principal(role=Role.admin))
    ui.page.goto(live_server + "/#/ops_centre")
    ui.tid("centre-locked").first.wait_for()  # a keyless visitor sees nothing
    ui.enter_key(identity.create_api_key("console-centre-operator", "operator")[1])
    ui.tid("corpus-summary").wait_for()
    ui.tid("corpus-collect").click()
    row = ui.page.locator(f"[data-testid=corpus-item]:has-text('{QUESTION[:8]}')").first
    row.wait_for()
    item_id = row.get_attribute("data-id")
    row.get_by_test_id("corpus-mode").select_option("report")
    row.get_by_test_id("corpus-accept").click()
    ui.page.locator(f"[data-testid=corpus-item][data-id='{item_id}']").wait_for(state="detached")
    accepted = next(i for i in corpus.items("accepted") if i["id"] == item_id)
    assert accepted["mode"] == "report" and accepted["reviewed_by"].startswith("operator:")
    ui.tid("corpus-freeze").click()
    ui.page.wait_for_function("() => /语料版本 \\d/.test(document.querySelector('[data-testid=models-corpus]')"
                              ".textContent)")
    ui.tid("knowledge-kb").first.wait_for()
    assert "global" in [ui.tid("knowledge-kb").nth(i).get_attribute("data-kb")
                        for i in range(ui.tid("knowledge-kb").count())]
    ui.tid("models-rollback").click()  # nothing promoted: refused (409), said in a toast
    ui.page.locator(".toast").filter(has_text="回滚").first.wait_for()
    assert ui.unexpected_errors(401, 403, 409) == [], ui.console_errors


REPORT = "楼下饭店把后厨的油污水直接倒进雨水口"


def test_an_operator_reviews_an_event_correction(ui: ConsolePage, live_server: str) -> None:
    """The events kind: a dispatcher's correction waits in the queue with both categories; accepted."""
    filed = events.report(REPORT, "citizen", events.Reporter("console-centre-events"), category="road_dirty")
    events.record_correction(filed.event.id, "sewer_blockage", Principal(role=Role.official, key_id="console"))
    ui.page.goto(live_server + "/#/ops_centre")
    ui.enter_key(identity.create_api_key("console-centre-events-operator", "operator")[1])
    ui.tid("corpus-summary").wait_for()
    ui.tid("centre-kind").select_option("events")
    row = ui.page.locator(f"[data-testid=corpus-item]:has-text('{REPORT[:8]}')").first
    row.wait_for()
    assert "road_dirty" in row.inner_text()
    assert row.get_by_test_id("corpus-mode").input_value() == "sewer_blockage"
    item_id = row.get_attribute("data-id")
    row.get_by_test_id("corpus-accept").click()
    ui.page.locator(f"[data-testid=corpus-item][data-id='{item_id}']").wait_for(state="detached")
    accepted = next(i for i in corpus.items("accepted", kind="events") if i["id"] == item_id)
    assert accepted["category"] == "sewer_blockage"
    ui.page.wait_for_function("() => /事件分类/.test(document.querySelector('[data-testid=centre-models] h2')"
                              ".textContent)")
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors
