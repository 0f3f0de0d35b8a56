"""The console's clarifying question when the assistant is unsure of the kind of help (issue 13),
in a real browser against the live app: the likeliest readings are buttons, and the chosen one
answers the first request in that reading, in the same session."""

from __future__ import annotations

import pytest

from aicity.assistant import modes
from tests.web.test_console_browser import Page, ui  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def test_mode_buttons_answer_the_first_request_in_the_chosen_reading(ui: Page,  # noqa: F811
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modes, "ABSTAIN_BELOW", 1.01)  # the live app (same process) is unsure of everything
    ui.ask("营业执照怎么办理")
    turn = ui.wait_answer()
    assert "请选择最接近的一项" in turn.get_by_test_id("clarification").inner_text()
    options = turn.get_by_test_id("clarify-option")
    assert 2 <= options.count() <= 3
    options.filter(has_text="想了解某个事项怎么办理").click()
    ui.page.wait_for_function("() => document.querySelectorAll('[data-testid=assistant-turn]').length == 2")
    answer = ui.wait_answer().get_by_test_id("answer").inner_text()
    assert "营业执照" in answer and "请选择最接近的一项" not in answer
    assert ui.asked[1]["text"] == "想了解某个事项怎么办理" and ui.asked[1]["session_id"]
