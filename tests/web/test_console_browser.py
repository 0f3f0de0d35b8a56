"""The web console in a real browser: headless Debian Chromium driven by Playwright against the
live app (demo city). Covers the shell, the chat page's SSE flow, citations, trace, errors,
clarifications and Markdown safety."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.browser

STORE_Q = "我想在自家小区楼下开个小便利店，需要办哪些手续？"
LAW_Q = "食品安全法第三十五条怎么规定的？"
TIMEOUT_MS = 20_000



class Page:
    """A fresh browser context on the console, recording console errors, page errors,
    dialogs and the bodies sent to the ask stream."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.asked: list[dict] = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/assistant/ask/stream"):
            self.asked.append(json.loads(request.post_data or "{}"))

    def open(self) -> None:
        self.page.goto(self.base + "/")
        self.page.get_by_test_id("chat-input").wait_for()

    def tid(self, testid: str):
        return self.page.get_by_test_id(testid)

    def last_turn(self):
        return self.tid("assistant-turn").last

    def ask(self, text: str, *, press_enter: bool = True) -> None:
        turns = self.tid("assistant-turn").count()
        self.tid("chat-input").fill(text)
        if press_enter:
            self.tid("chat-input").press("Enter")
        else:
            self.tid("chat-send").click()
        self.page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=assistant-turn]').length > n", arg=turns)

    def wait_answer(self):
        """Wait until the last turn has its answer (or failed) and the page is idle again."""
        turn = self.last_turn()
        turn.locator("[data-testid=answer], [data-testid=turn-error]").first.wait_for()
        self.page.wait_for_function("() => !document.querySelector('[data-testid=chat-send]').disabled")
        assert turn.get_by_test_id("turn-error").count() == 0, turn.get_by_test_id("turn-error").inner_text()
        return turn

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[Page]:
    page = Page(browser, live_server)
    page.open()
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
        assert page.dialogs == [], f"unexpected dialogs (script injection?): {page.dialogs}"
    finally:
        page.close()


def server_problem(base: str, body: dict) -> dict:
    """What the server answers to `body` on the stream endpoint (a problem+json error)."""
    req = urllib.request.Request(base + "/api/v1/assistant/ask/stream", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.headers.get("content-type", "").startswith("application/problem+json")
    return json.loads(info.value.read())


def sse(*events: tuple[str, dict]) -> str:
    return "".join(f"event: {name}\r\ndata: {json.dumps(data, ensure_ascii=False)}\r\n\r\n" for name, data in events)


def answer_body(**overrides) -> dict:
    base = {"answer": "", "skills": [{"agent": "gov_service", "skill": "guide", "score": 0.9}], "departments": [],
            "citations": [], "event": None, "trace_id": "tr_mock", "session_id": "ses_mock_1", "planner": "embedded",
            "sections": [], "next_actions": [], "clarification": None}
    return {**base, **overrides}


def plan_body(session: str = "ses_mock_1") -> dict:
    return {"trace_id": "tr_mock", "session_id": session, "planner": "embedded",
            "subtasks": [{"agent": "gov_service", "skill": "guide", "params": {}, "text": "x", "score": 1.0,
                          "confidence": 0.9}]}


# --- 1. the shell -------------------------------------------------------------------------


def test_shell_loads_with_nav_from_pages_api(ui: Page, live_server: str) -> None:
    pages = json.loads(urllib.request.urlopen(live_server + "/api/v1/console/pages", timeout=10).read())
    nav = ui.tid("nav-link")
    nav.first.wait_for()
    assert nav.count() == len(pages)
    titles = [nav.nth(i).inner_text() for i in range(nav.count())]
    assert any("超级助理" in t for t in titles), titles
    assert ui.page.url.endswith("#/chat")  # default route: the first page
    assert nav.first.get_attribute("aria-current") == "page"
    assert "城市超级助理" in ui.page.locator("header").inner_text()
    assert ui.tid("role-select").input_value() == "citizen"
    for testid in ("chat-input", "chat-send", "role-select"):
        assert ui.tid(testid).is_visible(), testid
    assert ui.tid("example-chip").count() >= 3
    ui.page.wait_for_load_state("networkidle")
    assert ui.console_errors == [], ui.console_errors
    assert ui.page_errors == []


def test_unknown_route_falls_back_to_first_page(ui: Page) -> None:
    ui.page.goto(ui.base + "/#/no-such-page")
    ui.tid("chat-input").wait_for()
    ui.page.wait_for_function("() => location.hash === '#/chat'")


# --- 2. asking: plan, steps, clarification, answer, citations, departments -----------------


def test_ask_convenience_store(ui: Page) -> None:
    departments = json.loads(urllib.request.urlopen(ui.base + "/api/v1/departments", timeout=10).read())
    names = {d["id"]: d["name"] for d in departments}

    ui.ask(STORE_Q)
    turn = ui.last_turn()
    steps = turn.get_by_test_id("plan-step")
    steps.first.wait_for(state="attached")
    turn = ui.wait_answer()
    assert steps.count() >= 1
    assert turn.get_by_test_id("plan-panel").is_visible() and steps.first.is_visible()
    assert steps.first.get_attribute("data-state") == "done"
    assert re.search(r"\d+(\.\d+)? ms", steps.first.get_by_test_id("plan-step-ms").inner_text())
    assert ui.asked[0] == {"text": STORE_Q, "role": "citizen"}

    session = ui.tid("session-id").get_attribute("data-session")
    assert session and session.startswith("ses_")
    for _ in range(3):  # answer any clarifying questions (same session)
        options = turn.get_by_test_id("clarify-option")
        if options.count() == 0:
            break
        turns, asked = ui.tid("assistant-turn").count(), len(ui.asked)
        groups = turn.get_by_test_id("clarify-group")
        # one question (click sends) or several (one choice per group; sent when all are chosen)
        rows = [groups.nth(i) for i in range(groups.count())] or [turn.get_by_test_id("clarification")]
        picked = []
        for row in rows:
            opts = row.get_by_test_id("clarify-option")
            wanted = opts.filter(has_text="预包装")
            choice = wanted.first if wanted.count() else opts.first
            picked.append(choice.inner_text())
            choice.click()
        ui.page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=assistant-turn]').length > n", arg=turns)
        turn = ui.wait_answer()
        assert len(ui.asked) == asked + 1
        assert ui.asked[-1].get("session_id") == session, "a clarification answer must continue the session"
        assert all(label in ui.asked[-1]["text"] for label in picked), (picked, ui.asked[-1])
    assert turn.get_by_test_id("clarify-option").count() == 0, "still asking after 3 answers"

    answer = turn.get_by_test_id("answer")
    assert answer.inner_text().strip()
    citations = turn.get_by_test_id("citation")
    assert citations.count() >= 1
    texts = [citations.nth(i).get_by_test_id("citation-text").text_content() for i in range(citations.count())]
    assert any(re.search(r"第.+条", t) for t in texts), texts
    assert turn.get_by_test_id("citation-marker").count() >= 1

    tags = turn.get_by_test_id("department-tag")
    assert tags.count() >= 1
    ui.page.wait_for_function(  # ids are replaced by names once /api/v1/departments answers
        "() => [...document.querySelectorAll('[data-testid=department-tag]')]"
        ".every(t => t.textContent !== t.dataset.id)")
    tag_texts = [tags.nth(i).inner_text() for i in range(tags.count())]
    ids = [tags.nth(i).get_attribute("data-id") for i in range(tags.count())]
    for dept_id, text in zip(ids, tag_texts, strict=True):
        assert names[dept_id] in text
    assert any("市场监督管理局" in t for t in tag_texts), tag_texts

    ui.page.screenshot(path="/tmp/console.png", full_page=False)


# --- 3. citation markers ------------------------------------------------------------------


def test_citation_marker_reveals_citation(ui: Page) -> None:
    ui.ask(LAW_Q)
    turn = ui.wait_answer()
    markers = turn.get_by_test_id("citation-marker")
    assert markers.count() >= 1
    panel = turn.get_by_test_id("citations")
    assert panel.get_attribute("open") is None  # collapsed until a marker is clicked
    for i in (0, markers.count() - 1):
        n = markers.nth(i).get_attribute("data-cite")
        markers.nth(i).click()
        target = turn.locator(f"[data-testid=citation][data-n='{n}']")
        target.wait_for(state="visible")
        assert panel.get_attribute("open") is not None
        assert "is-target" in (target.get_attribute("class") or "")
        assert turn.locator(".citation.is-target").count() == 1
        assert target.get_by_test_id("citation-text").inner_text().strip()
        ui.page.wait_for_function(
            "el => { const r = el.getBoundingClientRect(); const m = document.querySelector('.messages')"
            ".getBoundingClientRect(); return r.top >= m.top - 1 && r.top < m.bottom; }",
            arg=target.element_handle())


# --- 4. trace -----------------------------------------------------------------------------


def test_trace_button_shows_steps(ui: Page) -> None:
    ui.ask(STORE_Q, press_enter=False)
    turn = ui.wait_answer()
    turn.get_by_test_id("trace-button").click()
    steps = turn.get_by_test_id("trace-step")
    steps.first.wait_for()
    names = [steps.nth(i).get_attribute("data-name") for i in range(steps.count())]
    assert {"plan", "skill", "compose"} <= set(names), names
    assert all(re.search(r"\d ms$", steps.nth(i).locator(".trace-ms").inner_text()) for i in range(steps.count()))
    turn.get_by_test_id("trace-button").click()  # toggles closed
    assert not turn.get_by_test_id("trace-panel").is_visible()


# --- 5. errors ----------------------------------------------------------------------------


def test_empty_input_sends_nothing(ui: Page) -> None:
    ui.tid("chat-send").click()
    ui.tid("chat-input").fill("   \n  ")
    ui.tid("chat-input").press("Enter")
    ui.page.wait_for_timeout(300)
    assert ui.asked == []
    assert ui.tid("user-message").count() == 0
    assert ui.tid("error-toast").count() == 0


def test_too_long_text_shows_problem_toast(ui: Page, live_server: str) -> None:
    text = "测" * 8001
    problem = server_problem(live_server, {"text": text, "role": "citizen"})
    assert problem["status"] == 413
    ui.tid("chat-input").fill(text)
    ui.tid("chat-send").click()
    toast = ui.tid("error-toast").last
    toast.wait_for()
    assert problem["title"] in toast.inner_text()
    assert problem["detail"] in toast.inner_text()
    assert toast.get_attribute("data-status") == "413"
    assert ui.tid("user-message").count() == 0  # nothing was asked
    assert ui.tid("chat-input").input_value() == text  # the text is kept for editing
    assert len(ui.asked) == 1


def test_official_without_key_shows_403_problem(ui: Page, live_server: str) -> None:
    problem = server_problem(live_server, {"text": STORE_Q, "role": "official"})
    assert problem["status"] == 403
    ui.tid("role-select").select_option("official")
    ui.tid("chat-input").fill(STORE_Q)
    ui.tid("chat-input").press("Enter")
    toast = ui.tid("error-toast").last
    toast.wait_for()
    assert problem["title"] in toast.inner_text()
    assert problem["detail"] in toast.inner_text()
    assert toast.get_attribute("data-status") == "403"
    assert ui.asked[-1]["role"] == "official"
    # the role is remembered across reloads
    ui.page.reload()
    ui.tid("chat-input").wait_for()
    assert ui.tid("role-select").input_value() == "official"


# --- 6. Markdown safety -------------------------------------------------------------------


def test_html_in_question_is_not_injected(ui: Page) -> None:
    text = "<img src=x onerror=alert(1)>营业执照怎么办"
    ui.ask(text)
    ui.wait_answer()
    messages = ui.tid("message-list")
    assert messages.locator("img").count() == 0
    assert text in ui.tid("user-message").last.inner_text()
    assert ui.page.evaluate("() => document.querySelectorAll('img').length") == 0


def test_markdown_renderer_escapes_server_html(ui: Page) -> None:
    """A hostile answer (as if the server echoed markup) renders as text; Markdown still works."""
    body = "\n".join([
        "**粗体** 与 <img src=x onerror=alert(1)> 以及 <script>alert(2)</script>[^1]",
        "",
        "- 项目一 [点我](javascript:alert(3))",
        "- 项目二 <b onclick=alert(4)>b</b>",
        "  1. 子项",
        "",
        "1. 第一步",
        "2. 第二步",
        "",
        "| 材料 | 份数 |",
        "|---|---:|",
        "| <i>身份证</i> | 1 |",
        "",
        "### 小标题",
    ])
    answer = answer_body(sections=[{"title": "<img src=y onerror=alert(5)>标题", "body": body, "kind": "info"}],
                         citations=[{"doc": "<b>法</b>", "doc_key": "k", "locator": "第一条", "text": "<img src=z>条文",
                                     "status": "in_force"}])
    ui.page.route("**/api/v1/assistant/ask/stream", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"},
        body=sse(("plan", plan_body()), ("step", {"agent": "gov_service", "skill": "guide", "ms": 1.5, "status": "ok"}),
                 ("answer", answer))))
    ui.ask("测试")
    turn = ui.wait_answer()
    messages = ui.tid("message-list")
    for sel in ("img", "script", "b", "i", "a[href^='javascript']", "[onclick]", "[onerror]"):
        assert messages.locator(sel).count() == 0, sel
    md = turn.get_by_test_id("answer")
    assert "<img src=x onerror=alert(1)>" in md.inner_text()
    assert md.locator("strong", has_text="粗体").count() == 1
    assert md.locator("ul > li").count() == 2
    assert md.locator("ul > li ol > li", has_text="子项").count() == 1
    assert md.locator("ol > li", has_text="第二步").count() == 1
    assert md.locator("table th", has_text="材料").count() == 1
    assert md.locator("table td", has_text="<i>身份证</i>").count() == 1
    assert md.locator("h4", has_text="小标题").count() == 1
    assert md.locator("h3", has_text="<img src=y").count() == 1
    assert turn.get_by_test_id("citation-marker").count() == 1
    assert "<img src=z>条文" in turn.get_by_test_id("citation-text").text_content()
    assert ui.page.evaluate("() => document.querySelectorAll('img, script:not([type=module])').length") == 0


# --- clarifications, next actions, new conversation (scripted stream) ----------------------


def test_clarification_continues_session_and_new_chat_resets(ui: Page) -> None:
    clarify = {"slot": "food", "question": "您卖哪些食品？",
               "options": [{"value": "food=prepackaged", "label": "仅预包装食品"},
                           {"value": "food=bulk", "label": "也卖散装食品"}]}
    replies = [
        sse(("plan", plan_body()), ("step", {"agent": "gov_service", "skill": "bundle", "ms": 2.0, "status": "ok"}),
            ("answer", answer_body(sections=[{"title": "开便利店", "body": "先确认一件事。", "kind": "overview"}],
                                   clarification=clarify, departments=["market"]))),
        sse(("plan", plan_body()), ("answer", answer_body(
            sections=[{"title": "办理步骤", "body": "1. 营业执照[^1]", "kind": "steps"}],
            citations=[{"doc": "中华人民共和国食品安全法", "doc_key": "食品安全法", "locator": "第三十五条",
                        "text": "第三十五条 ……", "status": "in_force"}],
            next_actions=[{"label": "营业执照怎么办", "kind": "ask", "value": "营业执照怎么办？"}]))),
        sse(("plan", plan_body()), ("error", {"type": "about:blank", "title": "技能失败 Skill failed",
                                               "status": 500, "detail": "boom"})),
        sse(("plan", plan_body("ses_mock_2")), ("answer", answer_body(session_id="ses_mock_2"))),
    ]
    ui.page.route("**/api/v1/assistant/ask/stream", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"}, body=replies.pop(0)))

    ui.ask(STORE_Q)
    turn = ui.wait_answer()
    assert "您卖哪些食品？" in turn.get_by_test_id("clarification").inner_text()
    options = turn.get_by_test_id("clarify-option")
    assert options.count() == 2
    tag = turn.get_by_test_id("department-tag")
    ui.page.wait_for_function("() => document.querySelector('[data-testid=department-tag]').textContent.includes('局')")
    assert "市场监督管理局" in tag.inner_text()

    options.filter(has_text="预包装").click()
    ui.page.wait_for_function("() => document.querySelectorAll('[data-testid=assistant-turn]').length == 2")
    turn = ui.wait_answer()
    assert ui.asked[1] == {"text": "仅预包装食品", "role": "citizen", "session_id": "ses_mock_1"}
    assert ui.tid("clarify-option").first.is_disabled()  # the answered question is closed
    assert turn.get_by_test_id("citation-marker").count() == 1

    turn.get_by_test_id("next-action").click()  # sends its value in the same session
    ui.page.wait_for_function("() => document.querySelectorAll('[data-testid=assistant-turn]').length == 3")
    ui.last_turn().get_by_test_id("turn-error").wait_for()
    assert ui.asked[2] == {"text": "营业执照怎么办？", "role": "citizen", "session_id": "ses_mock_1"}
    toast = ui.tid("error-toast").last
    toast.wait_for()
    assert "技能失败" in toast.inner_text() and "boom" in toast.inner_text()

    ui.tid("new-chat").click()
    assert ui.tid("assistant-turn").count() == 0
    assert ui.tid("example-chip").count() >= 3
    ui.tid("example-chip").first.click()
    ui.wait_answer()
    assert "session_id" not in ui.asked[3]
    assert ui.asked[3]["text"] == ui.tid("user-message").last.inner_text()


def test_multi_slot_clarification_sends_one_choice_per_slot(ui: Page) -> None:
    clarify = {"slot": "food,tobacco", "question": "请先确认：1. 店里卖不卖食品？ 2. 是否销售卷烟？",
               "options": [{"value": "food=none", "label": "不卖食品"},
                           {"value": "food=prepackaged", "label": "只卖预包装食品"},
                           {"value": "tobacco=yes", "label": "卖烟"}, {"value": "tobacco=no", "label": "不卖烟"}]}
    replies = [sse(("plan", plan_body()), ("answer", answer_body(clarification=clarify))),
               sse(("plan", plan_body()), ("answer", answer_body(
                   sections=[{"title": "清单", "body": "- 营业执照", "kind": "steps"}])))]
    ui.page.route("**/api/v1/assistant/ask/stream", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"}, body=replies.pop(0)))
    ui.ask("开便利店")
    turn = ui.wait_answer()
    groups = turn.get_by_test_id("clarify-group")
    assert groups.count() == 2
    assert "店里卖不卖食品" in groups.nth(0).inner_text() and "卷烟" in groups.nth(1).inner_text()
    groups.nth(0).get_by_test_id("clarify-option").filter(has_text="预包装").click()
    ui.page.wait_for_timeout(200)
    assert len(ui.asked) == 1  # waits for the second slot
    assert turn.get_by_test_id("clarify-send").is_enabled()
    groups.nth(1).get_by_test_id("clarify-option").filter(has_text="不卖烟").click()
    ui.page.wait_for_function("() => document.querySelectorAll('[data-testid=assistant-turn]').length == 2")
    ui.wait_answer()
    assert ui.asked[1] == {"text": "只卖预包装食品，不卖烟", "role": "citizen", "session_id": "ses_mock_1"}
    first = ui.tid("assistant-turn").first
    assert all(first.get_by_test_id("clarify-option").nth(i).is_disabled() for i in range(4))


def test_role_change_starts_a_new_session(ui: Page) -> None:
    actions = [{"label": "预审我的材料", "kind": "ask", "value": "我要办备案，我已经准备了……，还缺什么？"},
               {"label": "打开知识库", "kind": "link", "value": "#/chat"}]
    replies = [sse(("plan", plan_body()), ("answer", answer_body(
                   sections=[{"title": "答复", "body": "好的。", "kind": "info"}], next_actions=actions))),
               sse(("plan", plan_body("ses_mock_2")), ("answer", answer_body(session_id="ses_mock_2")))]
    ui.page.route("**/api/v1/assistant/ask/stream", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"}, body=replies.pop(0)))
    ui.ask("你好")
    turn = ui.wait_answer()
    assert ui.tid("session-id").get_attribute("data-session") == "ses_mock_1"
    # a template action is put in the input box for the user to complete, not sent
    turn.get_by_test_id("next-action").filter(has_text="预审").click()
    assert ui.tid("chat-input").input_value() == actions[0]["value"]
    assert len(ui.asked) == 1
    assert turn.get_by_test_id("next-action").filter(has_text="知识库").get_attribute("href") == "#/chat"

    ui.tid("role-select").select_option("enterprise")
    ui.tid("session-divider").wait_for()
    assert ui.tid("session-id").get_attribute("data-session") is None
    assert ui.tid("assistant-turn").count() == 1  # the history stays on screen
    ui.ask("再问一次")
    ui.wait_answer()
    assert ui.asked[1] == {"text": "再问一次", "role": "enterprise"}
    assert ui.tid("session-id").get_attribute("data-session") == "ses_mock_2"


def test_api_key_is_sent_as_bearer(ui: Page) -> None:
    seen: list[str | None] = []
    ui.page.on("request", lambda r: "/api/v1/me" in r.url and seen.append(r.headers.get("authorization")))
    ui.page.locator("#api-key").fill("not-a-real-key")
    ui.page.locator("#api-key").press("Enter")
    ui.page.wait_for_function("() => localStorage.getItem('aicity.apiKey') === 'not-a-real-key'")
    ui.page.wait_for_timeout(300)
    assert "Bearer not-a-real-key" in seen
