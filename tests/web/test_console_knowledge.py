"""The console's knowledge-center page in a real browser: headless Debian Chromium driven by
Playwright against the live app (demo city). Covers the knowledge-base list, search with exact
quotes, answers with citations, browsing a law by its structure, and — for an operator of a
department — upload with a progress bar, problem toasts, and delete; for an anonymous caller,
that nothing non-public is listed and nothing can be managed."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
QUERY = "仅销售预包装食品 备案"
LAW = "中华人民共和国食品安全法"
DEPT_KB = "market_docs"
UPLOAD_TITLE = "控制台上传测试通知"
UPLOAD_PHRASE = "代号雪绒花的专项巡查安排在周四上午"
UPLOAD_MD = f"# {UPLOAD_TITLE}\n\n## 一、安排\n\n{UPLOAD_PHRASE}。\n\n## 二、要求\n\n请各所做好准备。\n"



@pytest.fixture(scope="module")
def market_operator(live_server: str) -> str:
    """An operator key of the market department (plaintext), and that department's KB."""
    from aicity.hub.knowledge import service as kb
    from aicity.identity import service as identity

    _, plaintext = identity.create_api_key("console-kb-operator", "operator", "market")
    kb.ensure_kb(DEPT_KB, "市场监管库", "department", "market")
    return plaintext


def api_get(base: str, path: str, **params) -> dict | list:
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    return json.loads(urllib.request.urlopen(url, timeout=10).read())


class KbPage:
    """A fresh browser context on the knowledge page, recording console errors, page errors,
    dialogs and requests."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.accept_dialogs = False
        self.requests: list = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: "/api/v1/kb/" in r.url and self.requests.append(r))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        if self.accept_dialogs and dialog.type == "confirm":
            dialog.accept()
        else:
            dialog.dismiss()

    def open(self) -> None:
        self.page.goto(self.base + "/#/knowledge")
        self.tid("kb-list").wait_for()
        self.kb_item("global").wait_for()
        self.tid("doc-item").first.wait_for()

    def tid(self, testid: str):
        return self.page.get_by_test_id(testid)

    def kb_item(self, kb: str):
        return self.page.locator(f"[data-testid=kb-item][data-kb='{kb}']")

    def doc_item(self, key: str):
        return self.page.locator(f"[data-testid=doc-item][data-key='{key}']")

    def search(self, text: str) -> None:
        self.tid("kb-search-input").fill(text)
        self.tid("kb-search-button").click()
        self.page.locator("[data-testid=kb-results][data-mode=search]").wait_for()
        self.page.wait_for_function("() => !document.querySelector('[data-testid=kb-search-button]').disabled")

    def set_key(self, key: str) -> None:
        self.page.locator("#api-key").fill(key)
        self.page.locator("#api-key").press("Enter")
        self.page.wait_for_function("() => document.getElementById('whoami').classList.contains('is-auth')")

    def dismiss_toasts(self) -> None:
        """Close the toasts (they float over the top right, where the search buttons are)."""
        self.page.evaluate("() => document.querySelectorAll('#toasts .toast').forEach((t) => t.remove())")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def kb_ui(browser, live_server: str) -> Iterator[KbPage]:
    page = KbPage(browser, live_server)
    page.open()
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.close()


# --- 1. list, search, ask -----------------------------------------------------------------


def test_search_and_ask_global_kb(kb_ui: KbPage, live_server: str) -> None:
    ui = kb_ui
    nav = ui.tid("nav-link")
    titles = [nav.nth(i).inner_text() for i in range(nav.count())]
    assert any("知识中心" in t for t in titles), titles
    assert ui.page.locator("[data-testid=nav-link][data-page=knowledge]").get_attribute("aria-current") == "page"

    glob = ui.kb_item("global")
    assert "全局" in glob.inner_text()
    assert glob.get_attribute("aria-current") == "true"  # selected by default
    docs = api_get(live_server, "/api/v1/kb/bases/global/documents")
    assert ui.tid("doc-item").count() == len(docs)

    expected = api_get(live_server, "/api/v1/kb/search", q=QUERY, top_k=10)["hits"]
    wanted = next(h for h in expected if h["doc"] == LAW and h["locator"] == "第三十五条")
    ui.search(QUERY)
    hits = ui.tid("kb-hit")
    assert hits.count() == len(expected)
    hit = hits.filter(has=ui.page.locator("[data-testid=kb-hit-locator]", has_text="第三十五条")).first
    assert LAW in hit.get_by_test_id("kb-hit-title").inner_text()
    assert hit.get_by_test_id("kb-hit-text").text_content() == wanted["text"]  # the exact text
    assert hit.locator("mark", has_text="预包装食品").count() >= 1  # terms highlighted

    ui.tid("kb-ask-button").click()
    answer = ui.tid("kb-answer")
    answer.wait_for()
    assert "第三十五条" in answer.inner_text()
    citations = ui.tid("kb-citation")
    assert citations.count() >= 1
    assert any("第三十五条" in citations.nth(i).inner_text() for i in range(citations.count()))
    # a marker in the answer points at its citation; a citation opens the document there
    answer.get_by_test_id("citation-marker").first.click()
    ui.page.locator("[data-testid=kb-citation].is-target").wait_for()
    citations.first.get_by_test_id("kb-citation-open").click()
    chunk = ui.tid("doc-viewer").locator("[data-testid=doc-chunk].is-target")
    chunk.wait_for()
    assert chunk.get_attribute("data-locator") == "第三十五条"
    assert ui.doc_item("食品安全法").get_attribute("class").split().count("is-open") == 1

    ui.page.wait_for_load_state("networkidle")
    ui.page.screenshot(path="/tmp/kb.png", full_page=False)
    assert ui.console_errors == [], ui.console_errors
    assert ui.dialogs == []


# --- 2. browsing a law by its structure ---------------------------------------------------


def test_browse_document_structure(kb_ui: KbPage, live_server: str) -> None:
    ui = kb_ui
    ui.tid("doc-filter").fill("食品安全法")
    assert ui.tid("doc-item").count() >= 2  # 食品安全法, 食品安全法实施条例
    ui.doc_item("食品安全法").locator(".kb-doc-open").click()
    viewer = ui.tid("doc-viewer")
    viewer.get_by_test_id("doc-chunk").first.wait_for()
    doc = api_get(live_server, "/api/v1/kb/bases/global/documents/" + urllib.parse.quote("食品安全法"))
    assert LAW in viewer.locator(".kb-doc-name").inner_text()
    assert viewer.get_by_test_id("doc-chunk").count() == len(doc["chunks"])

    chapter = viewer.locator("[data-testid=doc-section]", has=ui.page.locator(
        "xpath=./*[@data-testid='doc-heading' and normalize-space(.)='第四章 食品生产经营']"))
    assert chapter.count() == 1
    assert chapter.is_visible()
    # 第三十五条 sits under 第四章 → 第二节 …, with its locator and exact text
    article = chapter.locator("[data-testid=doc-chunk][data-locator='第三十五条']")
    assert article.count() >= 1
    assert article.first.get_by_test_id("doc-chunk-locator").inner_text() == "第三十五条"
    expected = next(c for c in doc["chunks"] if c["locator"] == "第三十五条")
    assert article.first.locator(".kb-chunk-text").text_content() == expected["text"]
    assert expected["headings"][0] == "第四章 食品生产经营" and len(expected["headings"]) == 2
    section = chapter.locator("[data-testid=doc-section]").filter(
        has=ui.page.locator("[data-testid=doc-chunk][data-locator='第三十五条']"))
    assert section.count() == 1  # the 节 inside the 章
    assert section.get_by_test_id("doc-heading").first.inner_text() == expected["headings"][1]

    outline = viewer.get_by_test_id("doc-outline")
    assert outline.get_by_test_id("doc-outline-item").filter(has_text="第四章 食品生产经营").count() == 1
    headings = {ui.tid("doc-heading").nth(i).inner_text() for i in range(ui.tid("doc-heading").count())}
    assert {h for c in doc["chunks"] for h in c["headings"]} == headings
    if doc["preamble"]:
        assert doc["preamble"][0] in viewer.get_by_test_id("doc-preamble").inner_text()
    assert ui.console_errors == [], ui.console_errors


# --- 3. an operator manages its department's knowledge base -------------------------------


def test_operator_uploads_searches_and_deletes(kb_ui: KbPage, live_server: str, market_operator: str) -> None:
    ui = kb_ui
    assert ui.kb_item(DEPT_KB).count() == 0  # anonymous: not even listed
    ui.set_key(market_operator)
    item = ui.kb_item(DEPT_KB)
    item.wait_for()  # the list reloads when the identity changes
    assert "部门" in item.inner_text() and item.get_attribute("data-manage") == "true"
    assert ui.tid("upload-input").count() == 0  # nobody manages the global KB but admins
    item.click()
    ui.tid("upload-input").wait_for()
    ui.page.locator("[data-testid=doc-list] .kb-empty").wait_for()
    assert ui.tid("doc-item").count() == 0
    assert not ui.tid("upload-progress").is_visible()

    ui.tid("upload-input").set_input_files(
        {"name": "notice.md", "mimeType": "text/markdown", "buffer": UPLOAD_MD.encode()})
    ui.tid("upload-button").click()
    progress = ui.tid("upload-progress")
    progress.wait_for(state="visible")
    ui.page.wait_for_function("() => document.querySelector('[data-testid=upload-progress]').dataset.state === 'done'")
    assert progress.evaluate("p => p.value") == 100
    posts = [r for r in ui.requests if r.method == "POST" and r.url.endswith(f"/bases/{DEPT_KB}/documents")]
    assert len(posts) == 1 and posts[0].resource_type == "xhr"
    assert posts[0].headers.get("authorization") == f"Bearer {market_operator}"
    info = ui.tid("info-toast").last
    info.wait_for()
    assert "已入库" in info.inner_text() and UPLOAD_TITLE in info.inner_text()
    doc = ui.doc_item(UPLOAD_TITLE)
    doc.wait_for()
    assert ui.tid("doc-item").count() == 1
    ui.tid("doc-viewer").locator("[data-testid=doc-chunk]", has_text=UPLOAD_PHRASE).wait_for()  # opened
    ui.dismiss_toasts()

    ui.search(UPLOAD_PHRASE)
    hit = ui.tid("kb-hit").first
    assert UPLOAD_TITLE in hit.get_by_test_id("kb-hit-title").inner_text()
    assert hit.get_attribute("data-kb") == DEPT_KB
    assert UPLOAD_PHRASE in hit.get_by_test_id("kb-hit-text").text_content()

    # the same bytes again: unchanged
    ui.tid("upload-input").set_input_files(
        {"name": "notice.md", "mimeType": "text/markdown", "buffer": UPLOAD_MD.encode()})
    ui.tid("upload-button").click()
    ui.page.locator("[data-testid=info-toast]", has_text="未变化").wait_for()

    # an unsupported format: the server's 415 problem in the error toast
    ui.tid("upload-input").set_input_files(
        {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00\x03"})
    ui.tid("upload-button").click()
    toast = ui.tid("error-toast").last
    toast.wait_for()
    assert toast.get_attribute("data-status") == "415"
    assert "不支持的文件格式" in toast.inner_text()
    assert "tool.exe" in toast.inner_text()  # the problem's detail
    assert progress.get_attribute("data-state") == "error"
    assert ui.tid("doc-item").count() == 1

    # delete (after a confirm): gone from the list and from search
    ui.accept_dialogs = True
    doc.get_by_test_id("doc-delete").click()
    doc.wait_for(state="detached")
    assert any(UPLOAD_TITLE in d for d in ui.dialogs)
    assert ui.tid("doc-item").count() == 0
    assert ui.tid("doc-viewer").get_by_test_id("doc-chunk").count() == 0
    assert "已删除" in ui.tid("info-toast").last.inner_text()
    ui.dismiss_toasts()
    ui.search(UPLOAD_PHRASE)
    assert all(ui.tid("kb-hit").nth(i).get_attribute("data-kb") != DEPT_KB for i in range(ui.tid("kb-hit").count()))

    # the only console errors are the browser's own notes on the intended 415 response
    unexpected = [m for m in ui.console_errors if not re.search(r"status of 415", m)]
    assert unexpected == [], unexpected


# --- 4. anonymous: nothing non-public, nothing to manage ----------------------------------


def test_anonymous_sees_no_department_kb_and_no_upload(kb_ui: KbPage, live_server: str,
                                                       market_operator: str) -> None:
    ui = kb_ui
    listed = [ui.tid("kb-item").nth(i).get_attribute("data-kb") for i in range(ui.tid("kb-item").count())]
    assert listed == [b["id"] for b in api_get(live_server, "/api/v1/kb/bases")]
    assert "global" in listed and DEPT_KB not in listed
    assert ui.kb_item("global").get_attribute("data-manage") == "false"
    assert ui.tid("upload-input").count() == 0
    assert ui.tid("upload-button").count() == 0
    assert ui.tid("doc-delete").count() == 0
    ui.search("代号雪绒花")
    assert all(ui.tid("kb-hit").nth(i).get_attribute("data-kb") == "global" for i in range(ui.tid("kb-hit").count()))
    ui.page.wait_for_load_state("networkidle")
    assert ui.console_errors == [], ui.console_errors


def test_server_text_is_never_markup(kb_ui: KbPage) -> None:
    """Hostile text from the server (as if a document contained markup) renders as text."""
    ui = kb_ui
    evil = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    hits = {"q": "x", "hits": [{"kb": "global", "doc": f"{evil}法", "doc_key": "evil", "locator": f"{evil}第一条",
                                "text": f"{evil}条文", "status": "superseded", "score": 1.0}]}
    answer = {"answer": f"- 《{evil}》第一条[^1]：{evil}", "citations": [
        {"kb": "global", "doc": evil, "doc_key": "evil", "locator": "第一条", "text": evil, "status": "in_force",
         "score": 1.0}]}
    ui.page.route(re.compile(r"/api/v1/kb/search\?"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(hits)))
    ui.page.route(re.compile(r"/api/v1/kb/ask$"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(answer)))
    ui.search("x")
    hit = ui.tid("kb-hit")
    assert hit.count() == 1
    assert evil in hit.get_by_test_id("kb-hit-text").text_content()
    assert hit.get_attribute("data-status") == "superseded" and "已被替代" in hit.inner_text()
    ui.tid("kb-ask-button").click()
    ui.tid("kb-answer").wait_for()
    assert evil in ui.tid("kb-answer").inner_text()
    assert ui.page.evaluate("() => document.querySelectorAll('img, script:not([type=module])').length") == 0
    assert ui.dialogs == []
