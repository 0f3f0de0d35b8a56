"""NGSI-LD twin API: entities, queries, attributes, batch, subscriptions, temporal, @context, errors."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from aicity.core.bus import bus
from aicity.hub.twin import api as twin_api
from aicity.hub.twin import service
from aicity.server import create_app
from tests.conftest import free_port

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
LD = {"Content-Type": "application/ld+json"}


def _app():
    app = create_app(load_city=False)
    if not any(getattr(r, "path", "").startswith(BASE) for r in app.routes):  # until server.py mounts it
        app.include_router(twin_api.router)
    return app


@pytest.fixture(scope="module")
def ngsi(city: Path) -> Iterator[TestClient]:
    with TestClient(_app()) as c:
        yield c


@pytest.fixture(scope="module")
def ngsi_live(city: Path) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def uid(kind: str) -> str:
    return f"urn:ngsi-ld:{kind}:{uuid.uuid4().hex[:10]}"


def light(entity_id: str, lon: float = 114.38, lat: float = 30.47, power: str = "on", lumens: float = 800) -> dict:
    return {"id": entity_id, "type": "Streetlight",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
            "powerState": {"type": "Property", "value": power},
            "illuminanceLevel": {"type": "Property", "value": lumens, "unitCode": "LUX",
                                 "observedAt": "2026-01-01T10:00:00Z"}}


def create(c: TestClient, body: dict) -> None:
    r = c.post(f"{BASE}/entities", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith(body["id"])


def test_create_retrieve_and_query(ngsi: TestClient) -> None:
    a, b, far = uid("Streetlight"), uid("Streetlight"), uid("Streetlight")
    create(ngsi, light(a, lumens=500))
    create(ngsi, light(b, lon=114.381, power="off", lumens=1200))
    create(ngsi, light(far, lon=114.50, lat=30.60, lumens=3000))
    r = ngsi.get(f"{BASE}/entities/{a}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "ngsi-ld-core-context.jsonld" in r.headers["link"]
    body = r.json()
    assert body["illuminanceLevel"]["unitCode"] == "LUX" and body["powerState"]["value"] == "on"
    kv = ngsi.get(f"{BASE}/entities/{a}", params={"options": "keyValues"}).json()
    assert kv["illuminanceLevel"] == 500 and kv["location"]["type"] == "Point"

    def ids(**params: str) -> set[str]:
        r = ngsi.get(f"{BASE}/entities", params={"limit": "1000", **params})
        assert r.status_code == 200, r.text
        return {e["id"] for e in r.json()}

    assert {a, b, far} <= ids(type="Streetlight")
    assert ids(idPattern=a.replace(":", "\\:")) == {a}
    assert {a, b, far} & ids(type="Streetlight", q="illuminanceLevel>=1000") == {b, far}
    assert {a, b, far} & ids(type="Streetlight", q="illuminanceLevel==400..900") == {a}
    assert {a, b, far} & ids(type="Streetlight", q='powerState=="off"|illuminanceLevel<600') == {a, b}
    assert {a, b, far} & ids(type="Streetlight", q='powerState!="off";illuminanceLevel>600') == {far}
    near = ids(type="Streetlight", georel="near;maxDistance==500", geometry="Point", coordinates="[114.38,30.47]")
    assert {a, b} <= near and far not in near
    square = "[[[114.37,30.46],[114.39,30.46],[114.39,30.48],[114.37,30.48],[114.37,30.46]]]"
    within = ids(type="Streetlight", georel="within", geometry="Polygon", coordinates=square)
    assert {a, b} <= within and far not in within
    assert far in ids(type="Streetlight", georel="intersects", geometry="Point", coordinates="[114.5,30.6]")
    projected = ngsi.get(f"{BASE}/entities", params={"id": a, "attrs": "powerState"}).json()
    assert projected == [{"id": a, "type": "Streetlight", "powerState": {"type": "Property", "value": "on"}}]
    r = ngsi.get(f"{BASE}/entities", params={"type": "Streetlight", "count": "true", "limit": "1"})
    assert len(r.json()) == 1 and int(r.headers["NGSILD-Results-Count"]) >= 3


def test_update_append_merge_delete_attribute(ngsi: TestClient) -> None:
    e = uid("Valve")
    create(ngsi, {"id": e, "type": "Valve", "valveStatus": {"type": "Property", "value": "open"}})
    changes: list[dict] = []
    unsubscribe = bus.subscribe("twin.entity.changed", lambda _t, p: changes.append(p))
    try:
        r = ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"valveStatus": {"type": "Property", "value": "closed"},
                                                          "nope": {"type": "Property", "value": 1}})
        assert r.status_code == 207 and r.json()["notUpdated"][0]["attributeName"] == "nope"
        assert ngsi.get(f"{BASE}/entities/{e}").json()["valveStatus"]["value"] == "closed"
        assert ngsi.post(f"{BASE}/entities/{e}/attrs", json={"pressure": {"type": "Property", "value": 2.5,
                                                                          "unitCode": "BAR"}}).status_code == 204
        assert ngsi.patch(f"{BASE}/entities/{e}", json={"pressure": {"value": 3.0}}).status_code == 204
        pressure = ngsi.get(f"{BASE}/entities/{e}").json()["pressure"]
        assert pressure["value"] == 3.0 and pressure["unitCode"] == "BAR"  # merge kept the unit
        assert ngsi.delete(f"{BASE}/entities/{e}/attrs/pressure").status_code == 204
        assert "pressure" not in ngsi.get(f"{BASE}/entities/{e}").json()
        assert ngsi.delete(f"{BASE}/entities/{e}/attrs/pressure").json()["type"] == ERR + "ResourceNotFound"
    finally:
        unsubscribe()
    assert [c["attrs"] for c in changes if c["id"] == e] == [["valveStatus"], ["pressure"], ["pressure"], ["pressure"]]
    assert ngsi.delete(f"{BASE}/entities/{e}").status_code == 204
    assert ngsi.get(f"{BASE}/entities/{e}").status_code == 404


def test_batch_operations_report_partial_failures(ngsi: TestClient) -> None:
    a, b = uid("Camera"), uid("Camera")
    cam = {"type": "Camera", "status": {"type": "Property", "value": "on"}}
    r = ngsi.post(f"{BASE}/entityOperations/create", json=[{"id": a, **cam}, {"id": b, **cam}])
    assert r.status_code == 201 and r.json() == [a, b]
    r = ngsi.post(f"{BASE}/entityOperations/create", json=[{"id": uid("Camera"), **cam}, {"id": a, **cam},
                                                           {"id": "not a uri", **cam}])
    assert r.status_code == 207
    assert [x["error"]["type"] for x in r.json()["errors"]] == [ERR + "AlreadyExists", ERR + "BadRequestData"]
    r = ngsi.post(f"{BASE}/entityOperations/update",
                  json=[{"id": a, "status": {"type": "Property", "value": "off"}},
                        {"id": uid("Camera"), "status": {"type": "Property", "value": "off"}}])
    assert r.status_code == 207 and r.json()["success"] == [a]
    c = uid("Camera")
    r = ngsi.post(f"{BASE}/entityOperations/upsert", json=[{"id": b, **cam}, {"id": c, **cam}])
    assert r.status_code == 201 and r.json() == [c]
    r = ngsi.post(f"{BASE}/entityOperations/delete", json=[a, b, uid("Camera")])
    assert r.status_code == 207 and r.json()["success"] == [a, b]
    assert r.json()["errors"][0]["error"]["status"] == 404


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Receiver.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def _wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_subscription_notifies_on_watched_attribute_over_http(ngsi_live: str) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Receiver.received.clear()
    e = uid("WaterLevelObserved")
    with httpx.Client(base_url=ngsi_live) as c:
        assert c.post(f"{BASE}/entities", json={"id": e, "type": "WaterLevelObserved",
                                                "waterLevel": {"type": "Property", "value": 0.3, "unitCode": "MTR"},
                                                "batteryLevel": {"type": "Property", "value": 0.9}}).status_code == 201
        sub = {"type": "Subscription", "entities": [{"type": "WaterLevelObserved", "id": e}],
               "watchedAttributes": ["waterLevel"], "q": "waterLevel>0.5",
               "notification": {"attributes": ["waterLevel"], "format": "normalized",
                                "endpoint": {"uri": f"http://127.0.0.1:{receiver.server_port}/notify",
                                             "accept": "application/json"}}}
        r = c.post(f"{BASE}/subscriptions", json=sub)
        assert r.status_code == 201
        sub_path = r.headers["location"]
        c.patch(f"{BASE}/entities/{e}/attrs", json={"batteryLevel": {"type": "Property", "value": 0.8}})
        c.patch(f"{BASE}/entities/{e}/attrs", json={"waterLevel": {"type": "Property", "value": 0.4}})  # q fails
        c.patch(f"{BASE}/entities/{e}/attrs", json={"waterLevel": {"type": "Property", "value": 0.7}})
        assert _wait_for(lambda: len(_Receiver.received) >= 1)
        time.sleep(0.3)
        assert len(_Receiver.received) == 1
        note = _Receiver.received[0]
        assert note["type"] == "Notification" and note["subscriptionId"] == sub_path.rsplit("/", 1)[1]
        assert note["data"] == [{"id": e, "type": "WaterLevelObserved",
                                 "waterLevel": {"type": "Property", "value": 0.7}}]  # update replaces the attribute
        assert _wait_for(lambda: c.get(sub_path).json()["notification"]["timesSent"] == 1)
        assert c.get(f"{BASE}/subscriptions").status_code == 200
        assert c.delete(sub_path).status_code == 204
        assert c.get(sub_path).status_code == 404
    receiver.shutdown()


def test_failed_notifications_are_counted(ngsi: TestClient) -> None:
    e = uid("Device")
    create(ngsi, {"id": e, "type": "Device", "value": {"type": "Property", "value": 1}})
    r = ngsi.post(f"{BASE}/subscriptions", json={
        "type": "Subscription", "entities": [{"type": "Device", "id": e}],
        "notification": {"endpoint": {"uri": f"http://127.0.0.1:{free_port()}/gone"}}})
    path = r.headers["location"]
    ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"value": {"type": "Property", "value": 2}})
    assert _wait_for(lambda: ngsi.get(path).json()["notification"].get("timesFailed") == 1)
    assert ngsi.get(path).json()["notification"]["status"] == "failed"
    ngsi.delete(path)


def test_temporal_retrieval(ngsi: TestClient) -> None:
    e = uid("FloodMonitoring")
    create(ngsi, {"id": e, "type": "FloodMonitoring",
                  "currentLevel": {"type": "Property", "value": 0.1, "observedAt": "2026-01-01T00:00:00Z"}})
    for hour, level in ((1, 0.2), (2, 0.4), (3, 0.8)):
        ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"currentLevel": {
            "type": "Property", "value": level, "observedAt": f"2026-01-01T0{hour}:00:00Z"}})
    found = ngsi.get(f"{BASE}/temporal/entities/{e}").json()
    assert [i["value"] for i in found["currentLevel"]] == [0.1, 0.2, 0.4, 0.8]
    between = ngsi.get(f"{BASE}/temporal/entities/{e}", params={
        "timerel": "between", "timeAt": "2026-01-01T01:00:00Z", "endTimeAt": "2026-01-01T03:00:00Z"}).json()
    assert [i["value"] for i in between["currentLevel"]] == [0.2, 0.4]
    before = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"timerel": "before",
                                                               "timeAt": "2026-01-01T01:00:00Z"}).json()
    assert [i["value"] for i in before["currentLevel"]] == [0.1]
    values = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"options": "temporalValues", "lastN": "2"}).json()
    assert values["currentLevel"]["values"] == [[0.4, "2026-01-01T02:00:00Z"], [0.8, "2026-01-01T03:00:00Z"]]
    assert ngsi.get(f"{BASE}/temporal/entities/{e}", params={"timerel": "between"}).status_code == 400


def test_json_ld_context_and_link_header(ngsi: TestClient) -> None:
    e = uid("Streetlight")
    ctx = [{"brightness": "https://smartdatamodels.org/dataModel.Streetlighting/illuminanceLevel"},
           "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]
    body = {"@context": ctx, "id": e, "type": "Streetlight",
            "https://smartdatamodels.org/dataModel.Streetlighting/illuminanceLevel": {"type": "Property", "value": 7}}
    assert ngsi.post(f"{BASE}/entities", content=json.dumps(body), headers=LD).status_code == 201
    got = ngsi.get(f"{BASE}/entities/{e}", headers={"Accept": "application/ld+json"})
    assert got.headers["content-type"].startswith("application/ld+json")
    assert got.json()["brightness"]["value"] == 7 and got.json()["@context"].endswith("ngsi-ld-core-context.jsonld")
    # no @context in an ld+json body, @context in a plain JSON body: both are BadRequestData
    assert ngsi.post(f"{BASE}/entities", content=json.dumps({"id": uid("X"), "type": "X"}),
                     headers=LD).json()["type"] == ERR + "BadRequestData"
    assert ngsi.post(f"{BASE}/entities", json=body).status_code == 400
    link = '<http://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    r = ngsi.post(f"{BASE}/entities", json={"id": uid("Camera"), "type": "Camera",
                                            "status": {"type": "Property", "value": "on"}}, headers={"Link": link})
    assert r.status_code == 201
    assert ngsi.get(r.headers["location"], headers={"Link": link}).headers["link"].startswith(
        "<http://example.org/ctx.jsonld>")
    core = ngsi.get(f"{BASE}/jsonldContexts/ngsi-ld-core-context.jsonld")
    assert core.status_code == 200 and core.headers["content-type"].startswith("application/ld+json")
    assert core.json()["@context"]["Property"] == "https://uri.etsi.org/ngsi-ld/Property"


def test_types_and_attributes(ngsi: TestClient) -> None:
    create(ngsi, light(uid("Streetlight")))
    assert "Streetlight" in ngsi.get(f"{BASE}/types").json()["typeList"]
    assert "illuminanceLevel" in ngsi.get(f"{BASE}/attributes").json()["attributeList"]
    info = ngsi.get(f"{BASE}/types/Streetlight").json()
    assert info["entityCount"] >= 1 and {"id": "powerState", "type": "Attribute",
                                         "attributeName": "powerState"} in info["attributeDetails"]
    assert "Streetlight" in ngsi.get(f"{BASE}/attributes/powerState").json()["typeNames"]
    assert ngsi.get(f"{BASE}/types/NoSuchType").status_code == 404


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "kind"), [
    ("post", "/entities", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400,
     "InvalidRequest"),
    ("post", "/entities", {"json": {"id": "no uri here", "type": "T"}}, 400, "BadRequestData"),
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:1"}}, 400, "BadRequestData"),
    ("post", "/entities", {"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415,
     "UnsupportedMediaType"),
    ("get", "/entities/urn:ngsi-ld:Nothing:here", {}, 404, "ResourceNotFound"),
    ("get", "/entities/not-a-uri", {}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "Streetlight", "q": "illuminanceLevel>>"}}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "Streetlight", "q": "(powerState==1"}}, 400, "BadRequestData"),
    ("get", "/entities", {}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "T", "georel": "near", "geometry": "Point",
                                     "coordinates": "[1,2]"}}, 400, "BadRequestData"),
    ("patch", "/entities/urn:ngsi-ld:Nothing:here/attrs", {"json": {"a": 1}}, 404, "ResourceNotFound"),
])
def test_spec_errors(ngsi: TestClient, method: str, path: str, kwargs: dict, status: int, kind: str) -> None:
    r = ngsi.request(method.upper(), BASE + path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["type"] == ERR + kind and r.json()["status"] == status


def test_duplicate_create_is_409(ngsi: TestClient) -> None:
    e = uid("Valve")
    create(ngsi, {"id": e, "type": "Valve"})
    r = ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Valve"})
    assert r.status_code == 409 and r.json()["type"] == ERR + "AlreadyExists"


def test_service_api_and_demo_seed(city: Path) -> None:
    from aicity.hub.twin.seed import seed_demo_twin

    # the demo loader seeded the twin already: seeding again creates nothing
    assert seed_demo_twin() == 0
    from aicity.hub.twin import service as twin

    assert twin.query(type="Valve")[1] >= 6 and twin.query(type="Streetlight")[1] > 0
    flood = service.get_entity("urn:ngsi-ld:FloodMonitoring:donghu-1")
    assert flood and flood["location"]["value"]["type"] == "Point"
    from datetime import UTC, datetime
    at = datetime(2026, 5, 1, 8, tzinfo=UTC)
    assert service.update_attrs(flood["id"], {"currentLevel": 0.9}, observed_at=at) == ["currentLevel"]
    flood = service.get_entity(flood["id"])
    assert flood["currentLevel"]["value"] == 0.9 and flood["currentLevel"]["observedAt"] == "2026-05-01T08:00:00Z"
    found, total = service.query(type="FloodMonitoring", id_pattern=".*:donghu-.*", q="currentLevel>0.5")
    assert [e["id"] for e in found] == [flood["id"]] and total == 1
