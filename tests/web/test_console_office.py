"""The console's 公文办理 page in a real browser (headless Chromium, Playwright) against the live app:
an official registers an incoming document by pasting and by uploading (the elements and the
suggested handler are shown), finds it in the 收文 register, changes its status, and drafts a
document (text, number, DOCX link, page previews); without a key nothing is shown; pasted text
never becomes markup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.agents.office import documents
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser
DEV = Path(__file__).parents[1] / "agents" / "office" / "registration_dev"


@pytest.fixture(scope="module")
def official_key(city: Path) -> str:
    return identity.create_api_key("console-office-official", "official", department="gov_office")[1]


@pytest.fixture
def ui(browser, live_server: str) -> Iterator[ConsolePage]:
    page = ConsolePage(browser)
    page.page.goto(live_server + "/#/office")
    page.tid("office-request").wait_for()
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def test_register_paste_and_upload_then_find_and_assign(ui: ConsolePage, official_key: str) -> None:
    ui.enter_key(official_key)
    ui.page.reload()
    ui.tid("office-register-text").fill((DEV / "d06.txt").read_text(encoding="utf-8"))
    ui.tid("office-register-submit").click()
    ui.tid("office-register-id").wait_for()
    assert ui.tid("office-field-kind").inner_text() == "通知"
    assert ui.tid("office-field-deadline").inner_text() == "2026-04-15"
    assert "人力资源和社会保障局" in ui.tid("office-suggested").inner_text()
    ui.tid("office-register-file").set_input_files(str(DEV / "d19.pdf"))
    ui.tid("office-register-submit").click()
    ui.page.wait_for_function("() => document.querySelector('[data-testid=office-field-doc_number]')"
                              "?.textContent === '江汛〔2026〕1号'")
    assert ui.tid("office-field-classification").inner_text() == "绝密★长期"
    assert "水务局" in ui.tid("office-suggested").inner_text()
    ui.tid("office-search").fill("Ⅳ级应急响应")
    ui.page.wait_for_function("() => document.querySelectorAll('[data-testid=office-row]').length === 1")
    row = ui.tid("office-row")
    assert "江汛〔2026〕1号" in row.inner_text()
    row.get_by_test_id("office-row-status").select_option("assigned")
    for _ in range(50):  # the PATCH goes out on change
        found = documents.list_documents("in", "Ⅳ级应急响应", principal=Principal(Role.admin))
        if found[0].status == "assigned":
            break
        ui.page.wait_for_timeout(200)
    assert found[0].status == "assigned"


def test_a_bad_file_is_a_clear_error_and_pasted_markup_stays_text(ui: ConsolePage, official_key: str,
                                                                  tmp_path: Path) -> None:
    ui.enter_key(official_key)
    ui.page.reload()
    fake = tmp_path / "table.docx"
    fake.write_text("序号,名称\n1,沙袋\n", encoding="utf-8")
    ui.tid("office-register-file").set_input_files(str(fake))
    ui.tid("office-register-submit").click()
    assert "不是有效的 DOCX" in ui.tid("office-register-error").inner_text() or \
        "不是 DOCX" in ui.tid("office-register-error").inner_text()
    ui.tid("office-register-file").set_input_files([])
    ui.tid("office-register-text").fill('<img src=x onerror="window.__pwned=1">江城市水务局关于做好巡查的通知\n'
                                        "各区水务局：\n请做好巡查。\n江城市水务局\n2026年4月1日\n")
    ui.tid("office-register-submit").click()
    ui.tid("office-register-id").wait_for()
    assert ui.page.evaluate("() => window.__pwned") is None
    assert ui.page.locator("[data-testid=office-register-result] img").count() == 0


def test_a_draft_shows_text_number_download_and_pages(ui: ConsolePage, official_key: str) -> None:
    ui.enter_key(official_key)
    ui.page.reload()
    ui.tid("office-request").fill("起草一份关于开展燃气安全隐患排查整治的通知")
    ui.tid("office-draft-submit").click()
    ui.tid("office-draft-title").wait_for(timeout=60_000)
    assert "通知" in ui.tid("office-draft-title").inner_text() and "〔20" in ui.tid("office-draft-title").inner_text()
    assert "燃气" in ui.tid("office-draft-text").inner_text()
    assert ui.tid("office-download").count() == 1
    ui.tid("office-page").first.wait_for(timeout=90_000)
    assert ui.page.evaluate("() => document.querySelector('[data-testid=office-page]').naturalWidth") > 0
    ui.tid("office-tab-out").click()
    ui.page.wait_for_function("() => document.querySelectorAll('[data-testid=office-row]').length >= 1")


def test_without_a_key_the_register_is_not_shown(ui: ConsolePage) -> None:
    ui.tid("office-list-error").wait_for()
    assert ui.tid("office-row").count() == 0
