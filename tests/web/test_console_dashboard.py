"""The console's 一屏统览 dashboard in headless Chromium against the live app: the staff-only
notice, KPI tiles equal to the APIs' numbers, device and alarm markers on the district map, the
active alarms list, and a click on an alarm drawing the device's readings with the threshold."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from aicity.core.ids import utcnow
from aicity.hub.iot import rules, service
from aicity.identity import service as identity
from tests.support.console import ConsolePage

pytestmark = pytest.mark.browser

OPEN = {"reported", "dispatched", "accepted", "in_progress"}
_ids = itertools.count()
READINGS = 12


@pytest.fixture(scope="module")
def keys(live_server: str) -> dict[str, str]:
    return {"admin": identity.create_api_key("console-dashboard-admin", "admin", None)[1]}


@pytest.fixture(scope="module")
def seeded(keys: dict[str, str]) -> dict[str, str]:
    """Three located devices (one silent, so offline), one unlocated; readings; one threshold alarm."""
    pkey = service.new_provisioning_key("console-dashboard-test")
    tag = f"dash{next(_ids)}"

    def device(type_: str, **extra) -> str:
        dev, _ = service.provision(pkey, service.DeviceSpec(type=type_, id=f"{tag}-{type_}-{next(_ids)}", **extra))
        return dev.id

    level = device("WaterLevelObserved", name="光谷大道积水监测点", district="guanggu", lat=30.43, lon=114.47)
    weather = device("WeatherObserved", name="东湖气象站", district="donghu", lat=30.43, lon=114.35)
    device("WaterLevelObserved", name="未上线", district="guanggu", lat=30.44, lon=114.48)
    device("WeatherObserved", name="无坐标")
    rules.create_rule(rules.RuleSpec(name="积水超限", kind="threshold", device_id=level, attribute="waterLevel",
                                     limit=2.0, severity="high"), "test")
    now = utcnow()
    batch = [service.ReadingIn(level, "waterLevel", 1.0 + i * 0.15, "m", now - timedelta(minutes=READINGS - i))
             for i in range(READINGS)]
    batch.append(service.ReadingIn(weather, "temperature", 21.5, "°C", now - timedelta(minutes=1)))
    result = service.ingest(batch)
    assert result.alarms, "the threshold rule raised no alarm"
    return {"level": level, "weather": weather, "alarm": result.alarms[0].id}


@pytest.fixture(scope="module")
def http(live_server: str, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30, headers={"Authorization": f"Bearer {keys['admin']}"}) as c:
        yield c


class Page(ConsolePage):
    def __init__(self, browser, base: str):
        super().__init__(browser)
        self.page.goto(base + "/#/dashboard")
        self.tid("map-district").first.wait_for()

    def kpi(self, key: str) -> int:
        return int(self.page.locator(f"[data-testid=kpi][data-kpi={key}] [data-testid=kpi-value]").text_content())

    def set_key(self, key: str) -> None:
        self.enter_key(key)
        self.tid("alarm-item").first.wait_for()


@pytest.fixture
def ui(browser, live_server: str, seeded: dict) -> Iterator[Page]:
    page = Page(browser, live_server)
    yield page
    try:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"
    finally:
        page.context.close()


def test_without_a_staff_key_the_dashboard_says_staff_only(ui: Page) -> None:
    notice = ui.tid("dashboard-forbidden")
    notice.wait_for()
    assert "403" in notice.inner_text() and "工作人员" in notice.inner_text()
    assert ui.tid("kpi").count() == 0 and ui.tid("device-marker").count() == 0
    nav = ui.page.locator("[data-testid=nav-link][data-page=dashboard]")
    assert "一屏统览" in nav.inner_text()
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors


def test_kpis_map_alarms_and_readings_chart(ui: Page, http: httpx.Client, keys: dict, seeded: dict) -> None:
    ui.set_key(keys["admin"])
    assert ui.tid("dashboard-forbidden").is_hidden()
    devices = http.get("/api/v1/iot/devices", params={"limit": 5000}).json()
    alarms = http.get("/api/v1/iot/alarms", params={"status": "active", "limit": 1000}).json()
    events = http.get("/api/v1/events", params={"limit": 500}).json()["events"]
    pending = http.get("/api/v1/approvals", params={"status": "pending", "limit": 500}).json()

    online = sum(1 for d in devices if d["online"])
    assert online >= 2 and len(devices) - online >= 2
    assert ui.kpi("online") == online
    assert ui.kpi("offline") == len(devices) - online
    assert ui.kpi("alarms") == len(alarms) >= 1
    high = ui.page.locator("[data-testid=kpi-severity][data-severity=high]").text_content()
    assert high.endswith(f" {sum(1 for a in alarms if a['severity'] == 'high')}")
    assert ui.kpi("events") == sum(1 for e in events if e["status"] in OPEN)
    assert ui.kpi("approvals") == len(pending)
    assert ui.tid("approvals-link").get_attribute("href") == "#/approvals"

    # the map: a marker per located device, a ring per located alarm, a dot per located open event
    assert ui.tid("device-marker").count() == sum(1 for d in devices if d["lat"] is not None)
    assert ui.page.locator(f"[data-testid=device-marker][data-id='{seeded['level']}']").count() == 1
    assert ui.page.locator(f"[data-testid=alarm-marker][data-id='{seeded['alarm']}']").count() == 1
    assert ui.tid("map-dot").count() == sum(1 for e in events if e["status"] in OPEN and e["lat"] is not None)

    # the alarm is listed; a click draws the device's readings with the rule's threshold
    item = ui.page.locator(f"[data-testid=alarm-item][data-id='{seeded['alarm']}']")
    assert "光谷大道积水监测点" in item.inner_text()
    item.click()
    chart = ui.page.locator(f"[data-testid=readings-chart][data-device='{seeded['level']}']")
    chart.get_by_test_id("chart-line").wait_for()
    history = http.get(f"/api/v1/iot/devices/{seeded['level']}/readings", params={"attribute": "waterLevel"}).json()
    assert len(history) == READINGS
    assert chart.get_by_test_id("chart-point").count() == READINGS
    assert chart.get_by_test_id("chart-line").get_attribute("data-points") == str(READINGS)
    assert chart.get_by_test_id("chart-threshold").get_attribute("data-limit") == "2"
    ui.page.screenshot(path="/tmp/dashboard.png")

    # refresh picks up a new reading without leaving the page
    service.ingest([service.ReadingIn(seeded["level"], "waterLevel", 2.9, "m", utcnow())])
    ui.tid("dashboard-refresh").click()
    ui.page.wait_for_function("(n) => document.querySelectorAll('[data-testid=chart-point]').length === n", arg=READINGS + 1)
    assert chart.get_by_test_id("chart-point").count() == READINGS + 1
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors



def test_waterlogging_watch_on_the_map_and_list(ui: Page, http: httpx.Client, keys: dict) -> None:
    # a downpour over 幸福桥下 (drains built for a 3-year storm, ≈ 89 mm/h): it will flood within the hour
    pkey = service.new_provisioning_key("console-dashboard-flood")
    gauge, _ = service.provision(pkey, service.DeviceSpec(type="WeatherObserved", id=f"dash-rain-{next(_ids)}",
                                                          district="donghu", lat=30.4720, lon=114.4050))
    service.ingest([service.ReadingIn(gauge.id, "precipitation", 200.0, "mm/h", utcnow())])
    ui.set_key(keys["admin"])
    item = ui.page.locator("[data-testid=flood-item][data-id='dh-xingfu-bridge']")
    item.wait_for()
    assert item.get_attribute("data-level") in ("warning", "flooded") and "幸福路幸福桥下" in item.inner_text()
    outlook = http.get("/api/v1/safety/waterlogging").json()
    at_risk = [o["id"] for o in outlook if o["level"] in ("flooded", "warning", "watch")]
    assert ui.tid("flood-item").count() == len(at_risk)
    assert ui.page.locator("[data-testid=flood-marker][data-id='dh-xingfu-bridge']").count() == 1
    assert ui.unexpected_errors(401, 403) == [], ui.console_errors
