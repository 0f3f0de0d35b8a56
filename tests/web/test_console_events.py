"""The console's events page in a real browser: headless Debian Chromium driven by Playwright
against the live app (demo city). Covers the staff-only notice, the board and its filters, the
district map (polygons, labels, open counts, a dot per located event), the timeline, lifecycle
actions as a department operator (and the problem toasts of refused ones), and that HTML in
an event never becomes markup."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from aicity.hub.events import service
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser

EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>粗体</b>'
OPEN = {"reported", "dispatched", "accepted", "in_progress"}
_points = itertools.count()


def point(district: str = "guanggu") -> dict[str, float]:
    """A fresh point about 400 m from every other one (so reports never merge)."""
    n = next(_points)
    lat0, lon0 = {"guanggu": (30.42, 114.46), "donghu": (30.42, 114.33)}[district]
    return {"lat": round(lat0 + (n // 20) * 0.004, 6), "lon": round(lon0 + (n % 20) * 0.004, 6)}


def seed(text: str, category: str, *, located: bool = True, district: str = "guanggu", **extra) -> dict:
    """Report an event through the service (a category given: dispatched at once)."""
    where = point(district) if located else {}
    result = service.report(text, "operator", service.Reporter("console-events-test", {}), category=category,
                            **where, **extra)
    assert result.created and not result.merged
    return service.event_json(result.event)


@pytest.fixture(scope="module")
def keys(live_server: str) -> dict[str, str]:
    made = {"admin": ("admin", None), "sanitation": ("operator", "sanitation")}
    return {name: identity.create_api_key(f"console-events-{name}", role, dept)[1] for name, (role, dept) in made.items()}


@pytest.fixture(scope="module")
def seeded(keys: dict[str, str]) -> dict[str, dict]:
    return {
        "garbage": seed("小区门口垃圾桶满了好几天没人清运", "garbage_overflow"),
        "ads": seed("单元楼道里贴满了开锁小广告", "illegal_ads", district="donghu"),
        "evil": seed(f"路面脏乱 {EVIL}", "road_dirty", title=f"标题{EVIL}"),
        "nowhere": seed("楼上半夜一直很吵影响休息", "neighborhood_noise", located=False),
    }


@pytest.fixture(scope="module")
def http(live_server: str, keys: dict[str, str]) -> Iterator[httpx.Client]:
    """The API as the admin sees it, to compare the page with."""
    with httpx.Client(base_url=live_server, timeout=30, headers={"Authorization": f"Bearer {keys['admin']}"}) as c:
        yield c


def listed(http: httpx.Client, **filters) -> list[dict]:
    resp = http.get("/api/v1/events", params={"limit": 500, **filters})
    assert resp.status_code == 200, resp.text
    return resp.json()["events"]


class EventsPage(ConsolePage):
    """A fresh browser context on the events page, recording errors and dialogs."""

    def __init__(self, browser, base: str):
        super().__init__(browser)
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.goto(base + "/#/events")
        self.tid("events-table").wait_for()
        self.tid("map-district").first.wait_for()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def row(self, event_id: str):
        return self.page.locator(f"[data-testid=event-row][data-id='{event_id}']")

    def dot(self, event_id: str):
        return self.page.locator(f"[data-testid=map-dot][data-id='{event_id}']")

    def action(self, name: str):
        return self.page.locator(f"[data-testid=event-action][data-action='{name}']")

    def set_key(self, key: str) -> None:
        self.enter_key(key)
        self.tid("event-row").first.wait_for()

    def wait_rows(self, predicate: str, arg=None) -> None:
        """Wait until the table's rows (as a list of their datasets) satisfy `predicate`."""
        self.page.wait_for_function(
            f"(arg) => {{ const rows = [...document.querySelectorAll('[data-testid=event-row]')].map((r) => r.dataset);"
            f" return rows.length > 0 && ({predicate}); }}", arg=arg)

    def opened(self, event_id: str):
        detail = self.page.locator(f"[data-testid=event-detail][data-id='{event_id}']")
        detail.get_by_test_id("event-timeline").wait_for()
        return detail

    def wait_status(self, status: str) -> None:
        self.page.locator(f"[data-testid=detail-status][data-status='{status}']").wait_for()



@pytest.fixture
def ui(browser, live_server: str, seeded: dict) -> Iterator[EventsPage]:
    page = EventsPage(browser, live_server)
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
        assert page.dialogs == []
    finally:
        page.context.close()


def test_without_a_staff_key_the_page_says_staff_only(ui: EventsPage, http: httpx.Client) -> None:
    notice = ui.tid("events-forbidden")
    notice.wait_for()
    assert "403" in notice.inner_text() and "工作人员" in notice.inner_text()
    assert ui.tid("event-row").count() == 0
    # the map of the city is public: the districts are drawn, with no events on them
    assert ui.tid("map-district").count() == len(http.get("/api/v1/events/districts").json()["features"])
    assert ui.tid("map-dot").count() == 0
    nav = ui.page.locator("[data-testid=nav-link][data-page=events]")
    assert "事件中心" in nav.inner_text() and nav.get_attribute("aria-current") == "page"
    assert ui.unexpected_errors(403) == [], ui.console_errors


def test_board_filters_and_map(ui: EventsPage, http: httpx.Client, keys: dict, seeded: dict) -> None:
    ui.set_key(keys["admin"])
    assert ui.tid("events-forbidden").is_hidden()
    assert "工作人员" not in ui.tid("event-detail").inner_text()  # the staff-only note is gone
    everything = listed(http)
    ui.wait_rows("rows.length === arg", len(everything))
    for name in ("garbage", "ads", "evil", "nowhere"):
        assert ui.row(seeded[name]["id"]).count() == 1, name
    row = ui.row(seeded["garbage"]["id"])
    assert "垃圾满溢" in row.inner_text() and "光谷区" in row.inner_text()
    assert row.get_attribute("data-status") == "dispatched" and "已派发" in row.inner_text()
    assert seeded["garbage"]["department_name"] in row.inner_text()

    categories = http.get("/api/v1/events/categories").json()
    options = ui.tid("filter-category").locator("option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == ["", *(c["id"] for c in categories)]
    assert {"id": "garbage_overflow", "name": "垃圾满溢/暴露垃圾", "department": "sanitation"} in categories

    # the map: every district polygon, labelled; a dot per located event, none for the rest
    districts = http.get("/api/v1/events/districts").json()["features"]
    assert ui.tid("map-district").count() == len(districts) == 6
    labels = [ui.tid("map-label").nth(i).text_content() for i in range(ui.tid("map-label").count())]
    assert labels == [f["properties"]["name"] for f in districts]
    assert ui.tid("map-dot").count() == sum(1 for e in everything if e["lat"] is not None)
    assert ui.dot(seeded["garbage"]["id"]).count() == 1 and ui.dot(seeded["nowhere"]["id"]).count() == 0
    for i in range(ui.tid("map-district").count()):  # a real shape inside the drawing
        box = ui.tid("map-district").nth(i).bounding_box()
        assert box and box["width"] > 40 and box["height"] > 40

    # hover: the district's open events
    guanggu = ui.page.locator("[data-testid=map-district][data-district=guanggu]")
    guanggu.hover(position={"x": 20, "y": 20})
    tooltip = ui.tid("map-tooltip")
    tooltip.wait_for()
    expected = sum(1 for e in listed(http, district="guanggu") if e["status"] in OPEN)
    assert tooltip.inner_text() == f"光谷区 · 未办结 {expected} 件 open"

    # filters narrow the table (and the dots), as the API does
    ui.tid("filter-category").select_option("illegal_ads")
    want = listed(http, category="illegal_ads")
    ui.wait_rows("rows.length === arg && rows.every((r) => r.category === 'illegal_ads')", len(want))
    assert ui.row(seeded["ads"]["id"]).count() == 1 and ui.row(seeded["garbage"]["id"]).count() == 0
    assert ui.tid("map-dot").count() == sum(1 for e in want if e["lat"] is not None)
    ui.tid("filter-district").select_option("guanggu")
    want = listed(http, category="illegal_ads", district="guanggu")
    if want:
        ui.wait_rows("rows.every((r) => r.district === 'guanggu')")
    else:
        ui.page.locator("[data-testid=events-table] .ev-empty").wait_for()
    assert ui.row(seeded["ads"]["id"]).count() == 0  # it is in 东湖区

    ui.tid("filter-reset").click()
    ui.tid("filter-status").select_option("dispatched")
    ui.tid("filter-department").select_option("sanitation")
    want = listed(http, status="dispatched", department="sanitation")
    ui.wait_rows("rows.length === arg && rows.every((r) => r.status === 'dispatched' && r.department === 'sanitation')",
                 len(want))
    assert ui.row(seeded["garbage"]["id"]).count() == 1
    # a click on a district filters by it
    ui.tid("filter-reset").click()
    ui.wait_rows("rows.length === arg", len(everything))
    ui.page.locator("[data-testid=map-district][data-district=donghu]").click(position={"x": 15, "y": 15})
    ui.wait_rows("rows.every((r) => r.district === 'donghu')")
    assert ui.tid("filter-district").input_value() == "donghu"
    assert ui.row(seeded["ads"]["id"]).count() == 1
    ui.tid("filter-reset").click()  # the filters are remembered across page visits
    ui.wait_rows("rows.length === arg", len(everything))
    ui.page.screenshot(path="/tmp/events.png")
    assert ui.unexpected_errors(403) == [], ui.console_errors  # the page opened without a key


def test_a_dot_opens_the_event_and_its_timeline(ui: EventsPage, http: httpx.Client, keys: dict, seeded: dict) -> None:
    ui.set_key(keys["admin"])
    eid = seeded["garbage"]["id"]
    ui.dot(eid).click()
    detail = ui.opened(eid)
    history = http.get(f"/api/v1/events/{eid}/history").json()["history"]
    items = detail.get_by_test_id("timeline-item")
    assert items.count() == len(history) >= 2
    assert [items.nth(i).get_attribute("data-action") for i in range(items.count())] == [r["action"] for r in history]
    assert "上报" in items.first.inner_text() and "派发" in items.nth(1).inner_text()
    assert "待派发 → 已派发" in items.nth(1).inner_text() and "system:dispatch" in items.nth(1).inner_text()
    assert detail.get_by_test_id("event-description").text_content() == seeded["garbage"]["description"]
    assert "null" not in detail.inner_text() and "undefined" not in detail.inner_text()
    assert ui.row(eid).get_attribute("aria-selected") == "true"
    assert "is-selected" in (ui.dot(eid).get_attribute("class") or "")
    assert ui.page.url.endswith(f"#/events/{eid}")
    ui.page.screenshot(path="/tmp/events-detail.png")
    # a row opens an event too
    other = seeded["ads"]["id"]
    ui.row(other).click()
    ui.opened(other)
    assert ui.page.url.endswith(f"#/events/{other}")


def test_operator_accepts_then_rejects_with_a_reason(ui: EventsPage, http: httpx.Client, keys: dict) -> None:
    event = seed("垃圾站旁边堆了很多建筑垃圾没人清", "garbage_overflow")
    ui.set_key(keys["sanitation"])
    ui.row(event["id"]).click()
    detail = ui.opened(event["id"])
    assert detail.get_by_test_id("timeline-item").count() == 2
    shown = [ui.tid("event-action").nth(i).get_attribute("data-action") for i in range(ui.tid("event-action").count())]
    assert shown == event["allowed_actions"] == ["accept", "reject"]

    ui.action("accept").click()
    ui.wait_status("accepted")
    detail = ui.opened(event["id"])
    assert detail.get_by_test_id("timeline-item").count() == 3
    assert detail.get_by_test_id("timeline-item").last.get_attribute("data-action") == "accept"
    assert "operator:" in detail.get_by_test_id("timeline-item").last.inner_text()
    ui.page.locator(f"[data-testid=event-row][data-id='{event['id']}'][data-status=accepted]").wait_for()
    assert http.get(f"/api/v1/events/{event['id']}").json()["status"] == "accepted"

    # reject asks for a reason first, and sends nothing without one
    ui.action("reject").click()
    ui.tid("note-required").wait_for()
    assert http.get(f"/api/v1/events/{event['id']}").json()["status"] == "accepted"
    ui.tid("action-note").fill("不属于本部门，应由城管处理")
    assert ui.tid("note-required").is_hidden()
    ui.action("reject").click()
    ui.wait_status("reported")
    last = ui.opened(event["id"]).get_by_test_id("timeline-item").last
    assert last.get_attribute("data-action") == "reject"
    assert last.get_by_test_id("timeline-note").text_content() == "不属于本部门，应由城管处理"
    assert "已受理 → 待派发" in last.inner_text()
    # the buttons follow the state (back in the dispatch queue); the server decides who may take them
    shown = [ui.tid("event-action").nth(i).get_attribute("data-action") for i in range(ui.tid("event-action").count())]
    assert shown == ["dispatch", "close"]
    assert ui.unexpected_errors(403) == [], ui.console_errors


def test_refused_actions_show_the_problem(ui: EventsPage, keys: dict, seeded: dict) -> None:
    ui.set_key(keys["sanitation"])
    # another department's event: 403
    ui.row(seeded["ads"]["id"]).click()
    ui.opened(seeded["ads"]["id"])
    ui.action("accept").click()
    toast = ui.page.locator("[data-testid=error-toast][data-status='403']")
    toast.wait_for()
    assert "urban" in toast.inner_text()
    ui.page.evaluate("() => document.querySelectorAll('#toasts .toast').forEach((t) => t.remove())")

    # a stale button (the event moved on meanwhile): 409 with the allowed actions, then the fresh state
    event = seed("路边垃圾桶倒了垃圾撒了一地", "garbage_overflow")
    ui.tid("events-refresh").click()
    ui.row(event["id"]).click()
    ui.opened(event["id"])
    service.transition(event["id"], "accept", Principal(role=Role.admin), "电话受理")
    ui.action("accept").click()
    toast = ui.page.locator("[data-testid=error-toast][data-status='409']")
    toast.wait_for()
    assert "accepted" in toast.inner_text() and "start" in toast.inner_text()
    ui.wait_status("accepted")
    ui.action("start").wait_for()
    assert ui.unexpected_errors(403, 409) == [], ui.console_errors


def test_html_in_an_event_is_text(ui: EventsPage, keys: dict, seeded: dict) -> None:
    ui.set_key(keys["admin"])
    eid = seeded["evil"]["id"]
    row = ui.row(eid)
    assert EVIL in row.locator(".ev-title").text_content()
    ui.dot(eid).click()
    detail = ui.opened(eid)
    assert detail.get_by_test_id("event-description").text_content() == f"路面脏乱 {EVIL}"
    assert detail.get_by_test_id("event-title").text_content() == f"标题{EVIL}"
    assert ui.page.evaluate("() => document.querySelectorAll('#content img, #content script, #content b').length") == 0
    assert ui.page.evaluate("() => window.__pwned === undefined")
