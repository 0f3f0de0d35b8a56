"""NGSI-LD twin API: entities, queries, attributes, replace, scopes, multi-attributes (datasetId),
batch, subscriptions, temporal retrieval and queries, @context, errors; SQLite and PostgreSQL;
who may read and write, devices sending readings over NGSI-LD, errors counted in Prometheus."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from typing import ClassVar

import httpx
import paho.mqtt.client as paho
import pytest
import uvicorn
from alembic import command
from alembic.config import Config
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from aicity.core.bus import bus
from aicity.core.config import configure, settings
from aicity.core.db import Database, database, use_database
from aicity.hub.iot import rules
from aicity.hub.iot import service as iot
from aicity.hub.twin import api as twin_api
from aicity.hub.twin import notify, service
from aicity.hub.twin.filters import (
    EntityQuery,
    GeoQuery,
    Selector,
    compile_query,
    literal_prefix,
)
from aicity.hub.twin.models import TwinEntity
from aicity.identity import service as identity
from aicity.server import create_app
from tests.support.http import METRICS
from tests.support.iot import private_broker
from tests.support.net import free_port

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
LD = {"Content-Type": "application/ld+json"}
UNAUTHORIZED, FORBIDDEN = "urn:aicity:problem:unauthorized", "urn:aicity:problem:forbidden"


def _app():
    app = create_app(load_city=False)
    if not any(getattr(r, "path", "").startswith(BASE) for r in app.routes):  # until server.py mounts it
        app.include_router(twin_api.router)
    return app


def key_headers(role: str) -> dict[str, str]:
    _, key = identity.create_api_key(f"ngsi-ld-{role}", role)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def operator(city: Path) -> dict[str, str]:
    return key_headers("operator")


@pytest.fixture(scope="module")
def official(city: Path) -> dict[str, str]:
    return key_headers("official")


@pytest.fixture(scope="module")
def anonymous(city: Path) -> Iterator[TestClient]:
    with TestClient(_app()) as c:
        yield c


@pytest.fixture(scope="module")
def ngsi(city: Path, operator: dict[str, str]) -> Iterator[TestClient]:
    """A client with an operator's key: reads and writes the twin."""
    with TestClient(_app(), headers=operator) as c:
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
    assert "ngsi-ld-core-context-v1.9.jsonld" in r.headers["link"]
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


def test_subscription_notifies_on_watched_attribute_over_http(ngsi_live: str, operator: dict[str, str]) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Receiver.received.clear()
    e = uid("WaterLevelObserved")
    with httpx.Client(base_url=ngsi_live, headers=operator) as c:
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
    # read with the core context alone, the term the writer's context defined is its full IRI again
    iri = "https://smartdatamodels.org/dataModel.Streetlighting/illuminanceLevel"
    assert got.json()[iri]["value"] == 7
    assert got.json()["@context"] == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
    # no @context in an ld+json body, @context in a plain JSON body: both are BadRequestData
    assert ngsi.post(f"{BASE}/entities", content=json.dumps({"id": uid("X"), "type": "X"}),
                     headers=LD).json()["type"] == ERR + "BadRequestData"
    assert ngsi.post(f"{BASE}/entities", json=body).status_code == 400
    link = '<http://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    camera = uid("Camera")
    r = ngsi.post(f"{BASE}/entities", json={"id": camera, "type": "Camera",
                                            "status": {"type": "Property", "value": "on"}}, headers={"Link": link})
    # a context on a host the broker may not fetch from is not available; nothing is written
    assert r.status_code == 504 and r.json()["type"] == ERR + "LdContextNotAvailable"
    assert ngsi.get(f"{BASE}/entities/{camera}").status_code == 404
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
    # replace
    ("put", "/entities/urn:ngsi-ld:Nothing:here", {"json": {"type": "T"}}, 404, "ResourceNotFound"),
    ("put", "/entities/urn:ngsi-ld:Nothing:here/attrs/a", {"json": {"value": 1}}, 404, "ResourceNotFound"),
    ("put", "/entities/not-a-uri", {"json": {"type": "T"}}, 400, "BadRequestData"),
    # scope
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:s1", "type": "T", "scope": "Wuhan"}}, 400, "BadRequestData"),
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:s2", "type": "T", "scope": ["/Wuhan", 5]}}, 400,
     "BadRequestData"),
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:s3", "type": "T", "scope": "/Wu han"}}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "T", "scopeQ": "Wuhan"}}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "T", "scopeQ": "/Wuhan/#/Donghu"}}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "T", "scopeQ": "(/Wuhan;/Donghu"}}, 400, "BadRequestData"),
    ("get", "/entities", {"params": {"type": "T", "scopeQ": "/Wuhan//Donghu"}}, 400, "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "scopeQ": "/Wuhan,"}}, 400, "BadRequestData"),
    # datasetId
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:d1", "type": "T", "name": [
        {"type": "Property", "value": "a"}, {"type": "Property", "value": "b"}]}}, 400, "BadRequestData"),
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:d2", "type": "T", "name": [
        {"type": "Property", "value": "a", "datasetId": "urn:ngsi-ld:Dataset:x"},
        {"type": "Property", "value": "b", "datasetId": "urn:ngsi-ld:Dataset:x"}]}}, 400, "BadRequestData"),
    ("post", "/entities", {"json": {"id": "urn:ngsi-ld:T:d3", "type": "T", "name": {
        "type": "Property", "value": "a", "datasetId": "not a uri"}}}, 400, "BadRequestData"),
    ("post", "/entities/urn:ngsi-ld:Nothing:here/attrs", {"json": {"name": [
        {"type": "Property", "value": 1}, {"type": "Property", "value": 2}]}}, 400, "BadRequestData"),
    ("delete", "/entities/urn:ngsi-ld:Nothing:here/attrs/a", {"params": {"datasetId": "not a uri"}}, 400,
     "BadRequestData"),
    ("delete", "/entities/urn:ngsi-ld:Nothing:here/attrs/a", {"params": {"deleteAll": "maybe"}}, 400,
     "BadRequestData"),
    # temporal queries
    ("get", "/temporal/entities", {"params": {"type": "T", "timerel": "between",
                                              "timeAt": "2026-01-01T00:00:00Z"}}, 400, "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "timerel": "during",
                                              "timeAt": "2026-01-01T00:00:00Z"}}, 400, "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "timerel": "before"}}, 400, "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "timeAt": "2026-01-01T00:00:00Z"}}, 400,
     "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "timerel": "after", "timeAt": "yesterday"}}, 400,
     "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "timerel": "between", "timeAt": "2026-01-02T00:00:00Z",
                                              "endTimeAt": "2026-01-01T00:00:00Z"}}, 400, "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"type": "T", "lastN": "0"}}, 400, "BadRequestData"),
    ("get", "/temporal/entities", {"params": {"timerel": "after", "timeAt": "2026-01-01T00:00:00Z"}}, 400,
     "BadRequestData"),
    ("post", "/temporal/entityOperations/query", {"json": {"type": "Query", "entities": [{"type": "T"}],
                                                           "temporalQ": {"timerel": "before"}}}, 400,
     "BadRequestData"),
    # query by POST
    ("post", "/entityOperations/query", {"json": {"type": "Subscription", "entities": [{"type": "T"}]}}, 400,
     "BadRequestData"),
    ("post", "/entityOperations/query", {"json": {"type": "Query"}}, 400, "BadRequestData"),
    ("post", "/entityOperations/query", {"json": {"type": "Query", "entities": {"type": "T"}}}, 400,
     "BadRequestData"),
    ("post", "/entityOperations/query", {"json": {"type": "Query", "entities": [{}]}}, 400, "BadRequestData"),
    ("post", "/entityOperations/query", {"json": {"type": "Query", "geoQ": {"geometry": "Point"}}}, 400,
     "BadRequestData"),
    ("post", "/entityOperations/query", {"json": {"type": "Query", "q": 5}}, 400, "BadRequestData"),
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


# --- replace ----------------------------------------------------------------------------------

def test_replace_entity_and_attribute(ngsi: TestClient) -> None:
    e, root = uid("Valve"), f"/R{uuid.uuid4().hex[:8]}"
    create(ngsi, {"id": e, "type": "Valve", "scope": root,
                  "valveStatus": {"type": "Property", "value": "open", "observedAt": "2026-02-01T00:00:00Z"},
                  "pressure": {"type": "Property", "value": 2.5, "unitCode": "BAR"}})
    changes: list[dict] = []
    unsubscribe = bus.subscribe("twin.entity.changed", lambda _t, p: changes.append(p) if p["id"] == e else None)
    try:
        r = ngsi.put(f"{BASE}/entities/{e}", json={
            "id": e, "type": "Valve", "flow": {"type": "Property", "value": 0},
            "valveStatus": {"type": "Property", "value": "closed", "observedAt": "2026-02-01T01:00:00Z"}})
        assert r.status_code == 204, r.text
        got = ngsi.get(f"{BASE}/entities/{e}").json()
        assert set(got) == {"id", "type", "valveStatus", "flow"}  # pressure and the scope went with the old entity
        assert got["valveStatus"] == {"type": "Property", "value": "closed", "observedAt": "2026-02-01T01:00:00Z"}
        assert ngsi.get(f"{BASE}/entities", params={"type": "Valve", "scopeQ": root}).json() == []
        r = ngsi.put(f"{BASE}/entities/{e}/attrs/valveStatus", json={"type": "Property", "value": "half",
                                                                     "observedAt": "2026-02-01T02:00:00Z"})
        assert r.status_code == 204, r.text
        status = ngsi.get(f"{BASE}/entities/{e}", params={"options": "sysAttrs"}).json()["valveStatus"]
        assert status["value"] == "half" and status["createdAt"] < status["modifiedAt"]
    finally:
        unsubscribe()
    assert [sorted(c["attrs"]) for c in changes] == [["flow", "pressure", "valveStatus"], ["valveStatus"]]
    history = ngsi.get(f"{BASE}/temporal/entities/{e}").json()
    assert [i["value"] for i in history["valveStatus"]] == ["open", "closed", "half"]
    # a replacement may restate the type, never change it; the id in the body must be the entity's
    for body in ({"type": "Camera"}, {"id": uid("Valve"), "type": "Valve"}, [{"type": "Valve"}]):
        r = ngsi.put(f"{BASE}/entities/{e}", json=body)
        assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", body
    r = ngsi.put(f"{BASE}/entities/{e}/attrs/pressure", json={"type": "Property", "value": 1})
    assert r.status_code == 404 and r.json()["type"] == ERR + "ResourceNotFound"
    assert ngsi.get(f"{BASE}/entities/{e}").json()["valveStatus"]["value"] == "half"  # refusals changed nothing


def test_replace_notifies_subscribers(ngsi_live: str, operator: dict[str, str]) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    e = uid("Valve")
    with httpx.Client(base_url=ngsi_live, headers=operator) as c:
        assert c.post(f"{BASE}/entities", json={"id": e, "type": "Valve", "pressure": 2.5,
                                                "valveStatus": {"type": "Property", "value": "open"}}).status_code == 201
        r = c.post(f"{BASE}/subscriptions", json={
            "type": "Subscription", "entities": [{"type": "Valve", "id": e}], "watchedAttributes": ["valveStatus"],
            "notification": {"endpoint": {"uri": f"http://127.0.0.1:{receiver.server_port}/notify"}}})
        sub_path = r.headers["location"]
        sub_id = sub_path.rsplit("/", 1)[1]
        assert c.put(f"{BASE}/entities/{e}", json={"type": "Valve", "valveStatus": "closed"}).status_code == 204
        assert c.put(f"{BASE}/entities/{e}/attrs/valveStatus", json={"value": "half"}).status_code == 204

        def notes() -> list[dict]:
            return [n for n in list(_Receiver.received) if n["subscriptionId"] == sub_id]

        assert _wait_for(lambda: len(notes()) >= 2)
        data = [n["data"][0] for n in notes()]
        assert [d["valveStatus"]["value"] for d in data] == ["closed", "half"] and "pressure" not in data[0]
        c.delete(sub_path)
    receiver.shutdown()


# --- scope ------------------------------------------------------------------------------------

def test_scope_queries(ngsi: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    kind, root, org = f"Hydrant{tag}", f"/Wuhan{tag}", f"/Org{tag}"
    a, b, c, d = (uid(kind) for _ in range(4))
    create(ngsi, {"id": a, "type": kind, "scope": f"{root}/Donghu", "status": "ok"})
    create(ngsi, {"id": b, "type": kind, "scope": [f"{root}/Donghu/Moshan", f"{org}/Unit1"], "status": "ok"})
    create(ngsi, {"id": c, "type": kind, "scope": f"{root}/Hongshan", "status": "ok"})
    create(ngsi, {"id": d, "type": kind, "status": "ok"})

    def ids(scope_q: str, path: str = "/entities") -> set[str]:
        r = ngsi.get(BASE + path, params={"type": kind, "scopeQ": scope_q})
        assert r.status_code == 200, r.text
        return {e["id"] for e in r.json()}

    assert ids(f"{root}/Donghu") == {a}
    assert ids(f"{root}/Donghu/#") == {a, b}
    assert ids(f"{root}/#") == {a, b, c}
    assert ids(f"{root}/+") == {a, c}
    assert ids(f"{root}/+/Moshan") == {b}
    assert ids("/#") == {a, b, c}
    assert ids(f"{root}/Donghu,{root}/Hongshan") == ids(f"{root}/Donghu|{root}/Hongshan") == {a, c}
    assert ids(f"{root}/Donghu/Moshan;{org}/Unit1") == {b}
    assert ids(f"{root}/Hongshan;{org}/Unit1") == set()
    assert ids(f"({root}/Donghu/#;{org}/#)|{root}/Hongshan") == {b, c}
    assert ids(f"{root}/#", "/temporal/entities") == {a, b, c}
    assert ngsi.get(f"{BASE}/entities/{a}").json()["scope"] == f"{root}/Donghu"
    assert ngsi.get(f"{BASE}/entities/{b}", params={"options": "keyValues"}).json()["scope"] == [
        f"{root}/Donghu/Moshan", f"{org}/Unit1"]
    r = ngsi.get(f"{BASE}/entities", params={"type": kind, "scopeQ": f"{root}/#", "count": "true", "limit": "1"})
    assert len(r.json()) == 1 and r.headers["NGSILD-Results-Count"] == "3"
    # appending adds a scope, a merge replaces them, null removes them: queries follow
    assert ngsi.post(f"{BASE}/entities/{a}/attrs", json={"scope": f"{root}/Hongshan"}).status_code == 204
    assert ids(f"{root}/Hongshan") == {a, c}
    assert ngsi.patch(f"{BASE}/entities/{a}", json={"scope": f"{root}/Qingshan"}).status_code == 204
    assert ids(f"{root}/Hongshan") == {c} and ids(f"{root}/Qingshan") == {a}
    assert ngsi.patch(f"{BASE}/entities/{a}", json={"scope": "urn:ngsi-ld:null"}).status_code == 204
    assert ids("/#") == {b, c} and "scope" not in ngsi.get(f"{BASE}/entities/{a}").json()
    assert ngsi.delete(f"{BASE}/entities/{c}").status_code == 204
    assert ids(f"{root}/Hongshan") == set()
    # subscriptions take a scopeQ too
    sub = {"type": "Subscription", "entities": [{"type": kind}], "scopeQ": f"{org}/#",
           "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}}
    assert ngsi.post(f"{BASE}/subscriptions", json={**sub, "scopeQ": "Org"}).json()["type"] == ERR + "BadRequestData"
    path = ngsi.post(f"{BASE}/subscriptions", json={**sub, "isActive": False}).headers["location"]
    stored = notify.get_subscription(path.rsplit("/", 1)[1])
    assert notify.matches(stored, service.get_entity(b), ["status"])
    assert not notify.matches(stored, service.get_entity(d), ["status"])
    ngsi.delete(path)


# --- datasetId --------------------------------------------------------------------------------

EN, FR = "urn:ngsi-ld:Dataset:en", "urn:ngsi-ld:Dataset:fr"


def test_multi_attribute_instances(ngsi: TestClient) -> None:
    e = uid("Building")
    create(ngsi, {"id": e, "type": "Building", "name": [
        {"type": "Property", "value": "东湖大楼", "observedAt": "2026-03-01T00:00:00Z"},
        {"type": "Property", "value": "Donghu Tower", "datasetId": EN, "observedAt": "2026-03-01T00:00:00Z"}]})

    def name() -> list[tuple[str | None, str]]:
        found = ngsi.get(f"{BASE}/entities/{e}").json()["name"]
        return [(i.get("datasetId"), i["value"]) for i in (found if isinstance(found, list) else [found])]

    assert name() == [(None, "东湖大楼"), (EN, "Donghu Tower")]
    kv = ngsi.get(f"{BASE}/entities/{e}", params={"options": "keyValues"}).json()
    assert kv["name"] == {"dataset": {"@none": "东湖大楼", EN: "Donghu Tower"}}
    # append adds an instance, update and merge touch only the instance they name
    r = ngsi.post(f"{BASE}/entities/{e}/attrs", json={"name": {"type": "Property", "value": "Tour", "datasetId": FR,
                                                                "observedAt": "2026-03-02T00:00:00Z"}})
    assert r.status_code == 204
    r = ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"name": {"value": "x", "datasetId": "urn:ngsi-ld:Dataset:de"}})
    assert r.status_code == 207 and r.json()["notUpdated"][0]["attributeName"] == "name"
    assert ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"name": {
        "type": "Property", "value": "东湖大厦", "observedAt": "2026-03-03T00:00:00Z"}}).status_code == 204
    assert ngsi.patch(f"{BASE}/entities/{e}", json={"name": {
        "datasetId": EN, "value": "Donghu Mansion", "observedAt": "2026-03-04T00:00:00Z"}}).status_code == 204
    assert ngsi.patch(f"{BASE}/entities/{e}/attrs/name", json={
        "value": "Tour Donghu", "datasetId": FR, "observedAt": "2026-03-05T00:00:00Z"}).status_code == 204
    assert name() == [(None, "东湖大厦"), (EN, "Donghu Mansion"), (FR, "Tour Donghu")]
    r = ngsi.put(f"{BASE}/entities/{e}/attrs/name", json={"value": "X", "datasetId": "urn:ngsi-ld:Dataset:de"})
    assert r.status_code == 404 and r.json()["type"] == ERR + "ResourceNotFound"
    found = ngsi.get(f"{BASE}/entities", params={"type": "Building", "q": 'name=="Donghu Mansion"'}).json()
    assert e in {x["id"] for x in found}  # q matches any instance
    # history keeps every instance with its datasetId; lastN counts per instance
    history = ngsi.get(f"{BASE}/temporal/entities/{e}").json()["name"]
    assert [(i.get("datasetId"), i["value"]) for i in history] == [
        (None, "东湖大楼"), (EN, "Donghu Tower"), (FR, "Tour"), (None, "东湖大厦"), (EN, "Donghu Mansion"),
        (FR, "Tour Donghu")]
    series = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"options": "temporalValues", "lastN": "1"}).json()
    assert series["name"] == [
        {"type": "Property", "values": [["东湖大厦", "2026-03-03T00:00:00Z"]]},
        {"type": "Property", "datasetId": EN, "values": [["Donghu Mansion", "2026-03-04T00:00:00Z"]]},
        {"type": "Property", "datasetId": FR, "values": [["Tour Donghu", "2026-03-05T00:00:00Z"]]}]
    # delete one instance, the default one, then all of them
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/name", params={"datasetId": FR}).status_code == 204
    r = ngsi.delete(f"{BASE}/entities/{e}/attrs/name", params={"datasetId": FR})
    assert r.status_code == 404 and r.json()["type"] == ERR + "ResourceNotFound"
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/name").status_code == 204
    assert name() == [(EN, "Donghu Mansion")]
    assert ngsi.get(f"{BASE}/entities/{e}").json()["name"]["datasetId"] == EN  # one instance: an object
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/name").status_code == 404  # no default instance left
    ngsi.post(f"{BASE}/entities/{e}/attrs", json={"name": {"type": "Property", "value": "Tour", "datasetId": FR}})
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/name", params={"deleteAll": "true"}).status_code == 204
    assert "name" not in ngsi.get(f"{BASE}/entities/{e}").json()


# --- temporal queries over many entities --------------------------------------------------------

def _gauge(ngsi: TestClient, kind: str, levels: list[tuple[int, float]], **extra: object) -> str:
    """An entity of `kind` whose `level` had these values at these hours of 2026-04-01."""
    e = uid(kind)
    (hour, value), *rest = levels
    create(ngsi, {"id": e, "type": kind, **extra,
                  "level": {"type": "Property", "value": value, "observedAt": f"2026-04-01T{hour:02}:00:00Z"}})
    for hour, value in rest:
        r = ngsi.patch(f"{BASE}/entities/{e}/attrs", json={
            "level": {"type": "Property", "value": value, "observedAt": f"2026-04-01T{hour:02}:00:00Z"}})
        assert r.status_code == 204
    return e


def test_temporal_query_over_entities(ngsi: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    kind = f"Gauge{tag}"
    a = _gauge(ngsi, kind, [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8)], scope=f"/W{tag}/Donghu")
    b = _gauge(ngsi, kind, [(0, 1.0), (2, 1.5)])
    c = _gauge(ngsi, kind, [(0, 0.3)], scope=f"/W{tag}/Hongshan")
    create(ngsi, {"id": uid(kind), "type": kind, "colour": "red"})  # never had a level
    window = {"type": kind, "attrs": "level", "timerel": "between", "timeAt": "2026-04-01T01:00:00Z",
              "endTimeAt": "2026-04-01T03:00:00Z"}

    def levels(params: dict[str, str]) -> dict[str, list[float]]:
        r = ngsi.get(f"{BASE}/temporal/entities", params=params)
        assert r.status_code == 200, r.text
        return {e["id"]: [i["value"] for i in e.get("level", [])] for e in r.json()}

    assert levels(window) == {a: [0.2, 0.4], b: [1.5]}  # c has nothing in the window
    assert levels({"type": kind, "attrs": "level", "lastN": "1"}) == {a: [0.8], b: [1.5], c: [0.3]}
    assert levels({"type": kind, "attrs": "level", "timerel": "before", "timeAt": "2026-04-01T01:00:00Z"}) == {
        a: [0.1], b: [1.0], c: [0.3]}
    assert levels({**window, "id": f"{a},{c}"}) == {a: [0.2, 0.4]}
    assert levels({**window, "q": "level>1"}) == {b: [1.5]}  # q looks at the current state
    assert levels({"type": kind, "attrs": "level", "scopeQ": f"/W{tag}/#", "lastN": "2"}) == {a: [0.4, 0.8], c: [0.3]}
    assert levels({"idPattern": f"urn:ngsi-ld:{kind}:.*", "attrs": "level", "timerel": "after",
                   "timeAt": "2026-04-01T02:00:00Z"}) == {a: [0.4, 0.8], b: [1.5]}
    r = ngsi.get(f"{BASE}/temporal/entities", params={**window, "count": "true", "limit": "1", "offset": "1"})
    assert [e["id"] for e in r.json()] == [b] and r.headers["NGSILD-Results-Count"] == "2"
    simple = ngsi.get(f"{BASE}/temporal/entities", params={**window, "options": "temporalValues"}).json()
    assert simple[0] == {"id": a, "type": kind, "level": {"type": "Property", "values": [
        [0.2, "2026-04-01T01:00:00Z"], [0.4, "2026-04-01T02:00:00Z"]]}}
    r = ngsi.post(f"{BASE}/temporal/entityOperations/query", json={
        "type": "Query", "entities": [{"type": kind}], "attrs": ["level"],
        "temporalQ": {"timerel": "after", "timeAt": "2026-04-01T02:00:00Z", "lastN": 1}})
    assert r.status_code == 200, r.text
    assert {e["id"]: [i["value"] for i in e["level"]] for e in r.json()} == {a: [0.8], b: [1.5]}


# --- query by POST --------------------------------------------------------------------------

def test_query_entities_by_post(ngsi: TestClient) -> None:
    kind = f"Lamp{uuid.uuid4().hex[:8]}"
    a, b, far = uid(kind), uid(kind), uid(kind)
    create(ngsi, {**light(a, lumens=500), "type": kind})
    create(ngsi, {**light(b, lon=114.381, lumens=1200), "type": kind, "scope": "/Donghu"})
    create(ngsi, {**light(far, lon=114.5, lat=30.6, lumens=3000), "type": kind})

    def ids(body: dict, **params: str) -> list[str]:
        r = ngsi.post(f"{BASE}/entityOperations/query", json={"type": "Query", **body}, params=params)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()]

    assert ids({"entities": [{"type": kind}]}) == [a, b, far]
    assert ids({"entities": [{"type": kind, "id": a}, {"type": kind, "idPattern": far.replace(":", "\\:")}]}) == [
        a, far]
    assert ids({"entities": [{"type": kind}], "q": "illuminanceLevel>1000"}) == [b, far]
    assert ids({"entities": [{"type": kind}], "scopeQ": "/Donghu"}) == [b]
    assert ids({"entities": [{"type": kind}], "geoQ": {"georel": "near;maxDistance==500", "geometry": "Point",
                                                       "coordinates": [114.38, 30.47]}}) == [a, b]
    r = ngsi.post(f"{BASE}/entityOperations/query", params={"count": "true", "limit": "1", "options": "keyValues"},
                  json={"type": "Query", "entities": [{"type": kind}], "attrs": ["powerState"]})
    assert r.json() == [{"id": a, "type": kind, "powerState": "on"}] and r.headers["NGSILD-Results-Count"] == "3"
    body = {"@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld", "type": "Query",
            "entities": [{"type": kind, "id": b}]}
    r = ngsi.post(f"{BASE}/entityOperations/query", content=json.dumps(body), headers=LD)
    assert [e["id"] for e in r.json()] == [b]


# --- what SQL answers -------------------------------------------------------------------------

def _candidates(found: EntityQuery) -> set[str]:
    """The ids SQL hands to Python for a query (before any Python check)."""
    plan = compile_query(found)
    with database().session() as s:
        return set(s.scalars(select(TwinEntity.id).where(*plan.where)))


def test_filters_run_in_sql_and_pages_stay_right(ngsi: TestClient) -> None:
    kind = f"Pole{uuid.uuid4().hex[:8]}"
    north = [f"urn:ngsi-ld:{kind}:north-{i}" for i in range(4)]
    south = [f"urn:ngsi-ld:{kind}:south-{i}" for i in range(3)]
    for i, e in enumerate(north):
        create(ngsi, {**light(e, lon=114.38 + i * 0.001, lumens=100 * i), "type": kind})
    for i, e in enumerate(south):
        create(ngsi, {**light(e, lon=114.5, lat=30.6 + i * 0.001, lumens=100 * i), "type": kind})
    create(ngsi, {"id": uid(kind), "type": kind, "location": {"type": "LineString", "coordinates": [
        [114.2, 30.3], [114.3, 30.35]]}})
    selector = (Selector((kind,)),)
    # a geo-query's bounding box, an idPattern's literal prefix and the scope are SQL's
    assert _candidates(EntityQuery(selector, geo=GeoQuery("near;maxDistance==500", "Point", "[114.38,30.47]"))) \
        == set(north)
    square = [[[114.49, 30.59], [114.51, 30.59], [114.51, 30.61], [114.49, 30.61], [114.49, 30.59]]]
    assert _candidates(EntityQuery(selector, geo=GeoQuery("within", "Polygon", square))) == set(south)
    assert _candidates(EntityQuery((Selector((kind,), (), f"urn\\:ngsi-ld\\:{kind}\\:south-\\d"),))) == set(south)
    assert compile_query(EntityQuery(selector, scope_q="/Wuhan/#")).exact
    assert not compile_query(EntityQuery(selector, scope_q="/Wuhan/+")).exact
    # after Python's checks, pages still partition the answer and the count is the answer's size
    pages, total = [], None
    for offset in range(0, 8, 2):
        r = ngsi.get(f"{BASE}/entities", params={"type": kind, "q": "illuminanceLevel>0", "limit": "2",
                                                 "offset": str(offset), "count": "true"})
        pages += [e["id"] for e in r.json()]
        total = r.headers["NGSILD-Results-Count"]
    assert pages == north[1:] + south[1:] and total == "5"


@pytest.mark.parametrize(("pattern", "prefix"), [
    ("urn\\:ngsi-ld\\:X\\:a.*", "urn:ngsi-ld:X:a"), ("urn:ngsi-ld:X:1", "urn:ngsi-ld:X:1"), ("abc?d", "ab"),
    ("ab+c", "ab"), ("^x\\d", "x"), ("(a|b)c", ""), ("a|b", ""), ("(?i)abc", ""), ("[ab]c", ""), ("ab{2}", "a"),
])
def test_literal_prefix_of_id_patterns(pattern: str, prefix: str) -> None:
    assert literal_prefix(pattern) == prefix


# --- who may read and write -------------------------------------------------------------------

CONTEXT = f"{BASE}/jsonldContexts/ngsi-ld-core-context.jsonld"
#: reads that take a Query body
READ_BY_POST = {f"{BASE}/entityOperations/query", f"{BASE}/temporal/entityOperations/query"}
_SAMPLE = {"entity_id": "urn:ngsi-ld:Nothing:here", "attr": "a", "sub_id": "urn:ngsi-ld:Subscription:none",
           "type_name": "T", "rest": "", "instance_id": "urn:ngsi-ld:attribute:instance:1"}


def _routes() -> list[tuple[str, str]]:
    """Every NGSI-LD route, as (method, path with sample parameters)."""
    return sorted((method, route.path_format.format(**_SAMPLE)) for route in twin_api.router.routes
                  if isinstance(route, APIRoute) for method in route.methods)


def _refused(r: httpx.Response, status: int, kind: str) -> bool:
    body = r.json()
    return (r.status_code == status and r.headers["content-type"].startswith("application/json")
            and body["type"] == kind and body["status"] == status and body["title"] and body["detail"] != "")


@pytest.mark.parametrize(("method", "path"), _routes())
def test_every_route_but_the_context_checks_the_caller(anonymous: TestClient, official: dict[str, str],
                                                       method: str, path: str) -> None:
    r = anonymous.request(method, path, json={})
    if path == CONTEXT:  # clients resolve the core @context without a key
        assert r.status_code == 200 and r.json()["@context"]["Property"] == "https://uri.etsi.org/ngsi-ld/Property"
        return
    assert _refused(r, 401, UNAUTHORIZED), r.text
    assert r.headers["www-authenticate"] == "Bearer"
    writes = method != "GET" and path not in READ_BY_POST
    r = anonymous.request(method, path, json={}, headers=official)
    if writes:
        assert _refused(r, 403, FORBIDDEN), r.text
    else:
        assert r.status_code not in (401, 403), r.text


def test_staff_read_operators_and_admins_write(anonymous: TestClient, official: dict[str, str],
                                               operator: dict[str, str]) -> None:
    e = uid("Valve")
    body = {"id": e, "type": "Valve", "valveStatus": {"type": "Property", "value": "open"}}
    assert _refused(anonymous.post(f"{BASE}/entities", json=body, headers=official), 403, FORBIDDEN)
    assert anonymous.post(f"{BASE}/entities", json=body, headers=key_headers("admin")).status_code == 201
    assert anonymous.get(f"{BASE}/entities/{e}", headers=official).json()["valveStatus"]["value"] == "open"
    r = anonymous.post(f"{BASE}/entityOperations/query", headers=official,
                       json={"type": "Query", "entities": [{"type": "Valve", "id": e}]})
    assert [x["id"] for x in r.json()] == [e]
    # X-API-Key works as Bearer does; citizens and unknown keys are refused in NGSI-LD's shape
    assert anonymous.get(f"{BASE}/entities/{e}", headers={"X-API-Key": operator["Authorization"][7:]}).status_code == 200
    assert _refused(anonymous.get(f"{BASE}/entities/{e}", headers=key_headers("citizen")), 403, FORBIDDEN)
    assert _refused(anonymous.get(f"{BASE}/entities/{e}", headers={"Authorization": "Bearer aic_nope"}), 401,
                    UNAUTHORIZED)
    assert _refused(anonymous.patch(f"{BASE}/entities/{e}/attrs", headers=official, json={
        "valveStatus": {"type": "Property", "value": "closed"}}), 403, FORBIDDEN)
    assert anonymous.get(f"{BASE}/entities/{e}", headers=official).json()["valveStatus"]["value"] == "open"


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "ftp://127.0.0.1/notify", "gopher://127.0.0.1:70/x",
                                 "http://", "HTTP//127.0.0.1/notify", "/notify"])
def test_subscriptions_notify_http_urls_only(ngsi: TestClient, uri: str) -> None:
    sub = {"type": "Subscription", "entities": [{"type": "Valve"}],
           "notification": {"endpoint": {"uri": uri}}}
    assert _refused(ngsi.post(f"{BASE}/subscriptions", json=sub), 400, ERR + "BadRequestData")
    good = {**sub, "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}}
    path = ngsi.post(f"{BASE}/subscriptions", json={**good, "isActive": False}).headers["location"]
    r = ngsi.patch(path, json={"notification": {"endpoint": {"uri": uri}}})
    assert _refused(r, 400, ERR + "BadRequestData")
    assert ngsi.get(path).json()["notification"]["endpoint"]["uri"] == "http://127.0.0.1:9/notify"
    ngsi.delete(path)


# --- devices over NGSI-LD ---------------------------------------------------------------------

def _gas_sensor() -> tuple[str, str, dict[str, str]]:
    """A GasSensor device: its id, its entity's id (the mirror's), its credential header."""
    device, credential = iot.create_device(iot.DeviceSpec("GasSensor", id=f"gas-{uuid.uuid4().hex[:8]}",
                                                          lat=30.51, lon=114.35), "test")
    return device.id, f"urn:ngsi-ld:GasSensor:{device.id}", {"X-Device-Key": credential}


def test_a_device_updating_its_entity_sends_readings(anonymous: TestClient, ngsi: TestClient) -> None:
    device, entity, key = _gas_sensor()
    rule = rules.create_rule(rules.RuleSpec(name="燃气浓度超标", kind="threshold", severity="critical",
                                            device_id=device, attribute="gasConcentration", limit=500), "test")
    at = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    r = anonymous.patch(f"{BASE}/entities/{entity}/attrs", headers=key, json={"gasConcentration": {
        "type": "Property", "value": 1200, "unitCode": "59", "observedAt": at.isoformat()}})
    assert r.status_code == 204, r.text
    # a reading, stored by the IoT hub, with its unit and time
    assert [(x.value, x.unit, x.observed_at.replace(tzinfo=UTC)) for x in iot.readings(device)] == [(1200.0, "59", at)]
    # the rules ran: a critical alarm is open (other tests' rules for every GasSensor may add theirs)
    assert [(a.severity, a.status, a.value) for a in rules.list_alarms(device_id=device) if a.rule_id == rule.id] == [
        ("critical", "active", 1200.0)]
    # the mirror updated the twin, once
    got = ngsi.get(f"{BASE}/entities/{entity}").json()
    assert got["gasConcentration"]["value"] == 1200 and got["gasConcentration"]["unitCode"] == "59"
    assert got["location"]["value"]["coordinates"] == [114.35, 30.51]
    assert len(ngsi.get(f"{BASE}/temporal/entities/{entity}").json()["gasConcentration"]) == 1
    # one attribute by its path, and an append; concise values are numbers too
    assert anonymous.patch(f"{BASE}/entities/{entity}/attrs/gasConcentration", headers=key,
                           json={"value": 300}).status_code == 204
    assert anonymous.post(f"{BASE}/entities/{entity}/attrs", headers=key,
                          json={"gasConcentration": 250, "temperature": 21.5}).status_code == 204
    assert [x.value for x in iot.readings(device, "gasConcentration")] == [250.0, 300.0, 1200.0]
    assert ngsi.get(f"{BASE}/entities/{entity}", params={"options": "keyValues"}).json()["temperature"] == 21.5


@pytest.mark.parametrize(("body", "named"), [
    ({"gasConcentration": 200_000}, "gasConcentration"),  # outside the physical range
    ({"gasConcentration": 100, "temperature": -80}, "temperature"),  # one bad reading: nothing stored
    ({"gasConcentration": {"type": "Property", "value": 100, "observedAt": "2999-01-01T00:00:00Z"}},
     "gasConcentration"),  # in the future
    ({"status": "leaking"}, "status"),  # not a number
    ({"alarm": True}, "alarm"),
    ({"feeds": {"type": "Relationship", "object": "urn:ngsi-ld:Pipe:1"}}, "feeds"),
    ({"gasConcentration": {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:x"}},
     "gasConcentration"),
    ({"scope": "/Wuhan"}, "scope"),
])
def test_a_device_sends_valid_numeric_readings_only(anonymous: TestClient, ngsi: TestClient, body: dict,
                                                    named: str) -> None:
    device, entity, key = _gas_sensor()
    assert anonymous.patch(f"{BASE}/entities/{entity}/attrs", headers=key,
                           json={"gasConcentration": 10}).status_code == 204
    r = anonymous.patch(f"{BASE}/entities/{entity}/attrs", headers=key, json=body)
    assert _refused(r, 400, ERR + "BadRequestData") and named in r.json()["detail"], r.text
    assert [x.value for x in iot.readings(device)] == [10.0]
    assert ngsi.get(f"{BASE}/entities/{entity}", params={"options": "keyValues"}).json()["gasConcentration"] == 10


def test_a_device_writes_its_own_entity_only(anonymous: TestClient, ngsi: TestClient) -> None:
    device, entity, key = _gas_sensor()
    _, other, _ = _gas_sensor()
    reading = {"gasConcentration": 10}
    assert _refused(anonymous.patch(f"{BASE}/entities/{other}/attrs", headers=key, json=reading), 403, FORBIDDEN)
    assert _refused(anonymous.patch(f"{BASE}/entities/{other}/attrs/gasConcentration", headers=key,
                                    json={"value": 10}), 403, FORBIDDEN)
    assert _refused(anonymous.patch(f"{BASE}/entities/{entity}/attrs", json=reading,
                                    headers={"X-Device-Key": "dk_nope"}), 401, UNAUTHORIZED)
    # its credential opens nothing else: not reading, replacing or deleting its entity
    for method in ("GET", "PUT", "DELETE"):
        assert _refused(anonymous.request(method, f"{BASE}/entities/{entity}", headers=key, json={"type": "GasSensor"}),
                        401, UNAUTHORIZED)
    r = anonymous.post(f"{BASE}/entities/{entity}/attrs", headers=key, params={"options": "noOverwrite"}, json=reading)
    assert _refused(r, 400, ERR + "BadRequestData")
    assert iot.readings(device) == []


# --- errors in Prometheus ---------------------------------------------------------------------

def errors_in_metrics(c: TestClient, kind: str) -> float:
    """aicity_ngsi_ld_errors_total{type=kind} as /metrics exports it."""
    for family in text_string_to_metric_families(c.get("/metrics", headers=METRICS).text):
        for sample in family.samples:
            if sample.name == "aicity_ngsi_ld_errors_total" and sample.labels == {"type": kind}:
                return sample.value
    return 0.0


def test_errors_are_counted_in_prometheus(anonymous: TestClient, ngsi: TestClient, official: dict[str, str]) -> None:
    kinds = ("unauthorized", "forbidden", "BadRequestData", "ResourceNotFound")
    before = {k: errors_in_metrics(anonymous, k) for k in kinds}
    anonymous.get(f"{BASE}/types")
    anonymous.delete(f"{BASE}/entities/{uid('Valve')}", headers=official)
    ngsi.get(f"{BASE}/entities/not-a-uri")
    r = ngsi.post(f"{BASE}/entityOperations/delete", json=[uid("Gone"), uid("Gone")])  # in a batch's 207, each
    assert r.status_code == 207
    assert {k: errors_in_metrics(anonymous, k) - before[k] for k in kinds} == {
        "unauthorized": 1, "forbidden": 1, "BadRequestData": 1, "ResourceNotFound": 2}


# --- on SQLite and PostgreSQL -----------------------------------------------------------------

@pytest.fixture
def blank_url(blank_database: tuple[str, str]) -> str:
    """An empty database on each supported engine (conftest's `blank_database`)."""
    return blank_database[1]


def test_twin_on_each_database(blank_url: str) -> None:
    use_database(blank_url).migrate()
    with TestClient(_app(), headers=key_headers("operator")) as c:  # keys live in the database
        odd = ["urn:ngsi-ld:Pct:50%_off-1", "urn:ngsi-ld:Pct:50%_off-2", "urn:ngsi-ld:Pct:50xxoff-3"]
        for i, e in enumerate(odd):
            create(c, {**light(e, lon=114.38 + i * 0.01), "type": "Pct", "scope": ["/A_B/c", "/AxB/c"][i % 2]})
        # LIKE's wildcards in ids and scopes are literal text
        assert _candidates(EntityQuery((Selector(("Pct",), (), "urn:ngsi-ld:Pct:50%_off-.*"),))) == set(odd[:2])
        ids = [e["id"] for e in c.get(f"{BASE}/entities", params={"type": "Pct", "scopeQ": "/A_B/#"}).json()]
        assert ids == [odd[0], odd[2]]
        near = c.get(f"{BASE}/entities", params={"type": "Pct", "georel": "near;maxDistance==1500",
                                                 "geometry": "Point", "coordinates": "[114.38,30.47]"}).json()
        assert [e["id"] for e in near] == odd[:2]
        assert c.put(f"{BASE}/entities/{odd[0]}", json={"type": "Pct", "name": [
            {"type": "Property", "value": "a", "observedAt": "2026-05-01T00:00:00Z"},
            {"type": "Property", "value": "b", "datasetId": EN, "observedAt": "2026-05-01T00:00:00Z"}]}).status_code == 204
        for hour in (1, 2):
            c.patch(f"{BASE}/entities/{odd[0]}/attrs", json={"name": {
                "value": f"b{hour}", "datasetId": EN, "observedAt": f"2026-05-01T0{hour}:00:00Z"}})
        found = c.get(f"{BASE}/temporal/entities", params={"type": "Pct", "attrs": "name", "lastN": "1"}).json()
        assert [(i.get("datasetId"), i["value"]) for i in found[0]["name"]] == [(None, "a"), (EN, "b2")]
        r = c.get(f"{BASE}/entities", params={"type": "Pct", "q": "powerState==\"on\"", "count": "true",
                                              "limit": "1", "offset": "1"})  # the replacement took odd[0]'s
        assert [e["id"] for e in r.json()] == [odd[2]] and r.headers["NGSILD-Results-Count"] == "2"


def _alembic(url: str, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("aicity") / "migrations"))
    db = Database(url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
    db.dispose()


def test_migration_0011_fills_boxes_and_dataset_ids(blank_url: str) -> None:
    _alembic(blank_url, "upgrade", "0010")
    line = {"type": "LineString", "coordinates": [[114.3, 30.5], [114.2, 30.6]]}
    db = Database(blank_url)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO twin_entities (id, type, attrs, lat, lon, geometry, created_at, modified_at) "
                          "VALUES ('urn:ngsi-ld:Road:1', 'Road', :attrs, 30.5, 114.3, :geometry, :at, :at)"),
                     {"attrs": json.dumps({"location": {"type": "GeoProperty", "value": line}}),
                      "geometry": json.dumps(line), "at": "2026-01-01T00:00:00+00:00"})
        conn.execute(text("INSERT INTO twin_attribute_history (entity_id, attr, body, observed_at, recorded_at) "
                          "VALUES ('urn:ngsi-ld:Road:1', 'name', :body, :at, :at)"),
                     {"body": json.dumps({"type": "Property", "value": "x", "datasetId": EN}),
                      "at": "2026-01-01T00:00:00+00:00"})
    _alembic(blank_url, "upgrade", "0011")
    with db.engine.begin() as conn:
        box = conn.execute(text("SELECT min_lon, min_lat, max_lon, max_lat FROM twin_entities")).one()
        assert tuple(box) == (114.2, 30.5, 114.3, 30.6)
        assert conn.execute(text("SELECT dataset_id FROM twin_attribute_history")).scalar() == EN
    _alembic(blank_url, "downgrade", "0010")
    with db.engine.begin() as conn:
        assert tuple(conn.execute(text("SELECT lon, lat FROM twin_entities")).one()) == (114.3, 30.5)
    db.dispose()


# --- notification triggers, deletions and showChanges -----------------------------------------------

def test_notification_triggers_deletions_and_previous_values(ngsi_live: str, operator: dict[str, str]) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = {"uri": f"http://127.0.0.1:{receiver.server_port}/notify"}
    e = uid("Kiosk")
    with httpx.Client(base_url=ngsi_live, headers=operator) as c:
        assert c.post(f"{BASE}/entities", json={
            "id": e, "type": "Kiosk", "status": {"type": "Property", "value": "open"},
            "operator": {"type": "Relationship", "object": "urn:ngsi-ld:Org:a"}}).status_code == 201
        subs = {}
        for name, extra in (("changes", {"notificationTrigger": ["attributeUpdated", "attributeDeleted"],
                                         "notification": {"endpoint": endpoint, "showChanges": True}}),
                            ("default", {"notification": {"endpoint": endpoint}}),
                            ("gone", {"notificationTrigger": ["entityDeleted"], "watchedAttributes": ["status"],
                                      "notification": {"endpoint": endpoint, "format": "keyValues"}})):
            r = c.post(f"{BASE}/subscriptions", json={"type": "Subscription", "entities": [{"type": "Kiosk", "id": e}],
                                                      **extra})
            assert r.status_code == 201, r.text
            subs[name] = r.headers["location"].rsplit("/", 1)[1]
        assert c.post(f"{BASE}/subscriptions", json={
            "type": "Subscription", "entities": [{"type": "Kiosk"}], "notificationTrigger": ["attributeRenamed"],
            "notification": {"endpoint": endpoint}}).status_code == 400

        def notes(name: str) -> list[dict]:
            return [n["data"][0] for n in list(_Receiver.received) if n["subscriptionId"] == subs[name]]

        assert c.patch(f"{BASE}/entities/{e}/attrs", json={"status": {"type": "Property", "value": "closed"}}
                       ).status_code == 204
        assert _wait_for(lambda: len(notes("changes")) == 1 and len(notes("default")) == 1)
        assert notes("changes")[0]["status"] == {"type": "Property", "value": "closed", "previousValue": "open"}
        assert "previousValue" not in notes("default")[0]["status"]
        assert c.delete(f"{BASE}/entities/{e}/attrs/operator").status_code == 204
        assert _wait_for(lambda: len(notes("changes")) == 2)
        # a deletion: the attribute's value member is urn:ngsi-ld:null; showChanges gives the last value
        assert notes("changes")[1]["operator"] == {"type": "Relationship", "object": "urn:ngsi-ld:null",
                                                   "previousObject": "urn:ngsi-ld:Org:a"}
        assert c.delete(f"{BASE}/entities/{e}").status_code == 204
        assert _wait_for(lambda: len(notes("gone")) == 1)
        # entityDeleted alone: the entity's id, type and deletedAt (its attributes need attributeDeleted)
        assert set(notes("gone")[0]) == {"id", "type", "deletedAt"}
        time.sleep(0.3)  # attributeDeleted and entity deletion are not in the default triggers
        assert len(notes("default")) == 1
        for sub_id in subs.values():
            c.delete(f"{BASE}/subscriptions/{sub_id}")
    receiver.shutdown()


# --- temporal attribute operations ------------------------------------------------------------------

def test_temporal_attribute_operations(ngsi: TestClient) -> None:
    e = uid("Meter")
    readings = [{"type": "Property", "value": v, "observedAt": f"2026-02-01T0{h}:00:00Z"} for h, v in ((1, 5), (2, 7))]
    assert ngsi.post(f"{BASE}/temporal/entities", json={
        "id": e, "type": "Meter", "flow": readings,
        "pressure": [{"type": "Property", "value": 1.5, "observedAt": "2026-02-01T01:00:00Z"},
                     {"type": "Property", "value": 9.0, "observedAt": "2026-02-01T01:00:00Z",
                      "datasetId": "urn:ngsi-ld:Dataset:backup"}]}).status_code == 201
    r = ngsi.post(f"{BASE}/temporal/entities/{e}/attrs", json={
        "level": [{"type": "Property", "value": 3, "observedAt": "2026-02-01T03:00:00Z"}]})
    assert r.status_code == 204
    history = ngsi.get(f"{BASE}/temporal/entities/{e}").json()
    assert [i["value"] for i in history["level"]] == [3] and ngsi.get(f"{BASE}/entities/{e}").json()["level"][
        "value"] == 3
    first = history["flow"][0]["instanceId"]
    prefix = first.rstrip("0123456789")
    for odd in ("²", "9" * 30):  # not an instance number this twin ever gives: 404, not a 500
        assert ngsi.patch(f"{BASE}/temporal/entities/{e}/attrs/flow/{prefix}{odd}", json={"value": 6}).status_code == 404
    assert ngsi.patch(f"{BASE}/temporal/entities/{e}/attrs/flow/{first}", json={"value": 6}).status_code == 204
    assert [i["value"] for i in ngsi.get(f"{BASE}/temporal/entities/{e}").json()["flow"]] == [6, 7]
    assert ngsi.get(f"{BASE}/temporal/entities/{e}").json()["flow"][0]["instanceId"] == first
    assert ngsi.delete(f"{BASE}/temporal/entities/{e}/attrs/flow/{first}").status_code == 204
    assert [i["value"] for i in ngsi.get(f"{BASE}/temporal/entities/{e}").json()["flow"]] == [7]
    # the default instance's history goes, the datasetId instance's stays
    assert ngsi.delete(f"{BASE}/temporal/entities/{e}/attrs/pressure").status_code == 204
    assert ngsi.get(f"{BASE}/temporal/entities/{e}").json()["pressure"] == [
        {"type": "Property", "value": 9.0, "observedAt": "2026-02-01T01:00:00Z",
         "datasetId": "urn:ngsi-ld:Dataset:backup", "instanceId": ngsi.get(
             f"{BASE}/temporal/entities/{e}").json()["pressure"][0]["instanceId"]}]
    for method, path, kwargs, status in (
            ("post", f"/temporal/entities/{e}/attrs", {"json": {}}, 400),
            ("post", "/temporal/entities/not-a-uri/attrs", {"json": {"flow": 1}}, 400),
            ("post", f"/temporal/entities/{uid('Meter')}/attrs", {"json": {"flow": 1}}, 404),
            ("delete", f"/temporal/entities/{e}/attrs/%2e%2e", {}, 400),
            ("delete", f"/temporal/entities/{e}/attrs/bad(name", {}, 400),
            ("delete", f"/temporal/entities/{e}/attrs/missing", {}, 404),
            ("delete", "/temporal/entities//attrs/flow", {}, 400),
            ("delete", f"/temporal/entities/{e}/attrs/flow/not-an-instance", {}, 400),
            ("delete", f"/temporal/entities/{e}/attrs/flow/urn:ngsi-ld:attribute:instance:999999999", {}, 404),
            ("patch", f"/temporal/entities/{e}/attrs/flow/{first}", {"json": {"value": 1}}, 404),  # deleted
            ("patch", f"/temporal/entities/{e}/attrs//{first}", {"json": {"value": 1}}, 405)):
        r = ngsi.request(method, BASE + path, **kwargs)
        assert r.status_code == status, (method, path, r.text)
        if status in (400, 404):
            assert r.json()["type"] in (ERR + "BadRequestData", ERR + "ResourceNotFound", ERR + "InvalidRequest")


# --- temporal pagination ----------------------------------------------------------------------------

def test_temporal_answers_are_paged_at_the_instance_limit(ngsi: TestClient) -> None:
    previous = settings()
    configure(**{**previous.model_dump(), "twin": {**previous.model_dump()["twin"], "temporal_max_instances": 3}})
    try:
        e = uid("Gauge")
        level = [{"type": "Property", "value": m, "observedAt": f"2026-03-01T10:{m:02d}:00Z"} for m in range(5)]
        flow = [{"type": "Property", "value": m, "observedAt": f"2026-03-01T10:{m:02d}:30Z"} for m in range(2)]
        assert ngsi.post(f"{BASE}/temporal/entities", json={"id": e, "type": "Gauge", "level": level,
                                                             "flow": flow}).status_code == 201
        r = ngsi.get(f"{BASE}/temporal/entities/{e}")
        # level is cut after its third instance (10:02); flow is cut at the same time, so no series has a gap
        assert r.status_code == 206
        assert r.headers["content-range"] == "date-time 2026-03-01T10:00:00Z-2026-03-01T10:02:00Z/*"
        assert [i["value"] for i in r.json()["level"]] == [0, 1, 2] and len(r.json()["flow"]) == 2
        r = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"lastN": 4, "timerel": "before",
                                                             "timeAt": "2026-03-02T00:00:00Z"})
        assert r.status_code == 206
        assert r.headers["content-range"] == "date-time 2026-03-02T00:00:00Z-2026-03-01T10:02:00Z/4"
        assert [i["value"] for i in r.json()["level"]] == [2, 3, 4] and r.json()["flow"] == []
        r = ngsi.get(f"{BASE}/temporal/entities", params={"type": "Gauge", "lastN": 3, "attrs": "flow"})
        assert r.status_code == 200 and "content-range" not in r.headers  # within the limit: not paged
    finally:
        configure(**previous.model_dump())


# --- linked entities (join) and nested projections --------------------------------------------------

def test_linked_entities_inline_and_flat(ngsi: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    country, city, tower = (f"urn:ngsi-ld:Country:{tag}", f"urn:ngsi-ld:City:{tag}", f"urn:ngsi-ld:Tower:{tag}")
    create(ngsi, {"id": country, "type": "Country", "label": {"type": "Property", "value": "中国"}})
    create(ngsi, {"id": city, "type": "City", "label": {"type": "Property", "value": "武汉"},
                  "inCountry": {"type": "Relationship", "object": country}})
    create(ngsi, {"id": tower, "type": "Tower", "label": {"type": "Property", "value": "电视塔"},
                  "locatedIn": {"type": "Relationship", "object": city}})
    get = lambda **params: ngsi.get(f"{BASE}/entities/{tower}", params=params)  # noqa: E731
    inline = get(join="inline").json()
    assert inline["locatedIn"]["entity"]["id"] == city and "entity" not in inline["locatedIn"]["entity"]["inCountry"]
    two = get(join="inline", joinLevel=2).json()
    assert two["locatedIn"]["entity"]["inCountry"]["entity"]["label"]["value"] == "中国"
    assert get(join="inline", options="keyValues").json()["locatedIn"] == {
        "id": city, "type": "City", "label": "武汉", "inCountry": country}
    flat = get(join="flat", joinLevel=2).json()
    assert [e["id"] for e in flat] == [tower, city, country] and flat[0]["locatedIn"]["object"] == city
    picked = get(join="inline", joinLevel=2, pick="id,locatedIn{id,inCountry{label}}").json()
    assert picked == {"id": tower, "locatedIn": {"type": "Relationship", "object": city, "entity": {
        "id": city, "inCountry": {"type": "Relationship", "object": country,
                                  "entity": {"label": {"type": "Property", "value": "中国"}}}}}}
    omitted = get(join="inline", omit="type,locatedIn{label,inCountry}").json()
    assert "type" not in omitted and set(omitted["locatedIn"]["entity"]) == {"id", "type"}
    r = ngsi.get(f"{BASE}/entities", params={"type": "Tower", "q": 'label=="电视塔"', "join": "flat"})
    assert {e["id"] for e in r.json()} >= {tower, city}
    for params in ({"pick": "id,locatedIn{id}"}, {"join": "sideways"}, {"join": "inline", "joinLevel": "0"},
                   {"pick": "id,locatedIn{id"}, {"joinLevel": "1"}):
        r = get(**params)
        assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", params


# --- MQTT notifications -----------------------------------------------------------------------------

def test_notifications_over_mqtt(ngsi_live: str, operator: dict[str, str], tmp_path: Path) -> None:
    broker = private_broker(tmp_path)
    received: list[dict] = []
    listener = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"ngsi-listener-{uuid.uuid4().hex[:6]}")
    listener.on_message = lambda _c, _u, msg: received.append(json.loads(msg.payload))
    listener.connect("127.0.0.1", broker.port)
    listener.subscribe("city/twin/notify", qos=1)
    listener.loop_start()
    e = uid("Pump")
    try:
        with httpx.Client(base_url=ngsi_live, headers=operator) as c:
            assert c.post(f"{BASE}/entities", json={"id": e, "type": "Pump", "rate": 3}).status_code == 201
            endpoint = {"uri": f"mqtt://ops:s3cret@127.0.0.1:{broker.port}/city/twin/notify",
                        "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}, {"key": "MQTT-Version", "value": "mqtt5.0"}],
                        "receiverInfo": [{"key": "x-city", "value": "wuhan"}]}
            r = c.post(f"{BASE}/subscriptions", json={"type": "Subscription", "entities": [{"type": "Pump", "id": e}],
                                                      "notification": {"endpoint": endpoint}})
            assert r.status_code == 201, r.text
            for bad in ({**endpoint, "uri": "mqtt://127.0.0.1"},  # no topic
                        {**endpoint, "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}]},
                        {**endpoint, "uri": "mqtt://127.0.0.1:notaport/t"}):
                assert c.post(f"{BASE}/subscriptions", json={
                    "type": "Subscription", "entities": [{"type": "Pump"}], "notification": {"endpoint": bad}}
                ).status_code == 400, bad
            assert c.patch(f"{BASE}/entities/{e}/attrs", json={"rate": 4}).status_code == 204
            assert _wait_for(lambda: received, 10)
            message = received[0]
            assert message["metadata"]["x-city"] == "wuhan" and message["metadata"]["Content-Type"] == "application/json"
            assert "Link" in message["metadata"] and message["body"]["type"] == "Notification"
            assert message["body"]["data"][0]["rate"]["value"] == 4
            sub = c.get(r.headers["location"]).json()
            assert _wait_for(lambda: c.get(r.headers["location"]).json()["notification"].get("timesSent") == 1)
            broker.stop()  # the broker is gone: the next notification is counted as failed
            assert c.patch(f"{BASE}/entities/{e}/attrs", json={"rate": 5}).status_code == 204
            assert _wait_for(lambda: c.get(r.headers["location"]).json()["notification"].get("timesFailed") == 1, 10)
            assert sub["notification"]["endpoint"]["uri"].startswith("mqtt://")
            c.delete(r.headers["location"])
    finally:
        listener.loop_stop()
        broker.stop()


# --- temporal aggregation, projections and the simplified series ------------------------------------

def test_temporal_aggregation_and_projection(ngsi: TestClient) -> None:
    e = uid("Car")
    speed = [(120, "2020-08-01T12:03:00Z"), (80, "2020-08-01T12:05:00Z"), (100, "2020-08-01T12:07:00Z")]
    fuel = [(67, "2020-08-01T12:03:00Z"), (53, "2020-08-01T13:05:00Z"), (40, "2020-08-01T14:07:00Z")]
    assert ngsi.post(f"{BASE}/temporal/entities", json={
        "id": e, "type": "Car",
        "speed": [{"type": "Property", "value": v, "observedAt": t} for v, t in speed],
        "fuel": [{"type": "Property", "value": v, "observedAt": t} for v, t in fuel],
        "mode": [{"type": "VocabProperty", "vocab": "eco", "observedAt": "2020-08-01T12:03:00Z"}]}).status_code == 201
    r = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"options": "aggregatedValues", "aggrMethods": "avg,max",
                                                         "aggrPeriodDuration": "PT1H", "attrs": "speed,fuel"})
    assert r.status_code == 200, r.text
    assert r.json()["speed"] == {"type": "Property", "avg": [[100.0, "2020-08-01T12:03:00Z", "2020-08-01T13:03:00Z"]],
                                 "max": [[120.0, "2020-08-01T12:03:00Z", "2020-08-01T13:03:00Z"]]}
    assert [b[0] for b in r.json()["fuel"]["avg"]] == [67.0, 53.0, 40.0]  # one period per hour, empty ones left out
    whole = ngsi.post(f"{BASE}/temporal/entityOperations/query", json={
        "type": "Query", "entities": [{"type": "Car", "id": e}],
        "temporalQ": {"timerel": "after", "timeAt": "2020-08-01T12:00:00Z", "aggrMethods": ["totalCount", "min"]}})
    fuel_all = whole.json()[0]["fuel"]
    assert fuel_all["totalCount"] == [[3, "2020-08-01T12:00:00Z", "2020-08-01T14:07:00Z"]]
    assert fuel_all["min"][0][0] == 40.0
    for params in ({"options": "aggregatedValues", "aggrMethods": "median"},
                   {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "bogus"},
                   {"options": "aggregatedValues"}, {"timeproperty": "seenAt"},
                   {"pick": "speed", "attrs": "speed"}, {"pick": "speed", "omit": "speed"}, {"format": "fancy"}):
        r = ngsi.get(f"{BASE}/temporal/entities/{e}", params=params)
        assert r.status_code == 400, (params, r.text)
    picked = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"pick": "id,speed"}).json()
    assert set(picked) == {"id", "speed"} and len(picked["speed"]) == 3
    assert set(ngsi.get(f"{BASE}/temporal/entities/{e}", params={"omit": "type,speed"}).json()) == {"id", "fuel", "mode"}
    assert ngsi.get(f"{BASE}/temporal/entities/{e}", params={"pick": "nothing"}).status_code == 404
    assert ngsi.get(f"{BASE}/temporal/entities/{e}", params={"attrs": "nothing"}).status_code == 404
    series = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"options": "temporalValues"}).json()
    assert series["mode"] == {"type": "VocabProperty", "vocabs": [[{"vocab": "eco"}, "2020-08-01T12:03:00Z"]]}


# --- orderBy, page links, validation ----------------------------------------------------------------

def test_order_by_page_links_and_query_validation(ngsi: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    kind = f"Kiosk{tag}"
    for name, rank, lon, extra in (("b", 2, 114.30, {}), ("Á", 1, 114.40, {"address": {"city": "Wuhan"}}),
                                   ("c", None, 114.35, {})):
        body = {"id": f"urn:ngsi-ld:{kind}:{name.encode().hex()}", "type": kind, "label": {"type": "Property",
                                                                                           "value": name},
                "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, 30.5]}}}
        if rank is not None:
            body["rank"] = {"type": "Property", "value": rank}
        create(ngsi, {**body, **{k: {"type": "Property", "value": v} for k, v in extra.items()}})

    def labels(**params: str) -> list[str]:
        r = ngsi.get(f"{BASE}/entities", params={"type": kind, **params})
        assert r.status_code == 200, r.text
        return [e["label"]["value"] for e in r.json()]

    assert labels(orderBy="rank") == ["Á", "b", "c"]  # without the value: last
    assert labels(orderBy="rank;desc") == ["b", "Á", "c"]
    assert labels(orderBy="label") == ["b", "c", "Á"]  # code points
    assert labels(orderBy="label", collation="und") == ["Á", "b", "c"]  # base letters first
    assert labels(orderBy="location;dist-asc", orderFrom="[114.41,30.5]") == ["Á", "c", "b"]
    assert labels(orderBy="address[city];desc,label")[0] == "Á"
    r = ngsi.get(f"{BASE}/entities", params={"type": kind, "orderBy": "rank", "limit": 1, "offset": 1,
                                             "count": "true"})
    links = r.headers["link"]
    assert r.headers["NGSILD-Results-Count"] == "3" and 'rel="prev"' in links and 'rel="next"' in links
    assert "offset=0" in links and "offset=2" in links
    for params in ({"orderBy": "location;dist-asc"}, {"orderBy": "rank;sideways"}, {"orderBy": "rank",
                                                                                    "collation": "not a tag!!"},
                   {"attrs": "id,type"}, {"attrs": "createdAt"}, {"geometryProperty": "location"},
                   {"q": "rank>1..5"}, {"georel": "near;maxDistance==0", "geometry": "Point", "coordinates": "[1,2]"},
                   {"georel": "near;maxDistance==5;minDistance==1", "geometry": "Point", "coordinates": "[1,2]"},
                   {"csf": "))bad(("}, {"type": "*", "local": "false"}):
        r = ngsi.get(f"{BASE}/entities", params={"type": kind, **params})
        assert r.status_code == 400, (params, r.text)
    assert ngsi.get(f"{BASE}/entities", params={"id": f"urn:ngsi-ld:{kind}:x"}).status_code == 400  # ids alone
    r = ngsi.post(f"{BASE}/entityOperations/query", json={"type": "Query", "entities": [{"type": kind}],
                                                          "ordering": {"orderBy": ["rank;desc"]}})
    assert [e["label"]["value"] for e in r.json()] == ["b", "Á", "c"]
    for body in ({"entities": [{"id": f"urn:ngsi-ld:{kind}:x"}]}, {"entities": [{"type": kind}], "attrs": []},
                 {"entities": [{"type": kind}], "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}},
                 {"entities": [{"type": kind}], "ordering": {"orderBy": ["location;dist-asc"], "coordinates": "8,40"}},
                 {"entities": [{"type": kind}], "ordering": {"orderBy": ["rank"], "geometry": 5}}):
        r = ngsi.post(f"{BASE}/entityOperations/query", json={"type": "Query", **body})
        assert r.status_code == 400, (body, r.text)
    # a temporal query orders by id only
    assert ngsi.get(f"{BASE}/temporal/entities", params={"type": kind, "orderBy": "rank"}).status_code == 400


def test_version_preference_and_unmatched_projection(ngsi: TestClient) -> None:
    e = uid("Sign")
    create(ngsi, {"id": e, "type": "Sign", "shape": {"type": "VocabProperty", "vocab": "octagon"}})
    r = ngsi.get(f"{BASE}/entities/{e}", headers={"Prefer": "respond-async, NGSI-LD=\"1.5\";q=0.5"})
    assert r.status_code == 203 and r.headers["Preference-Applied"] == "ngsi-ld=1.5"
    assert r.json()["shape"] == {"type": "Property", "value": "octagon"}
    r = ngsi.get(f"{BASE}/entities/{e}", headers={"Prefer": "ngsi-ld=1.9"})
    assert r.status_code == 200 and r.json()["shape"]["type"] == "VocabProperty"
    assert "Preference-Applied" not in ngsi.get(f"{BASE}/entities/{e}", headers={"Prefer": "respond-async"}).headers
    assert ngsi.get(f"{BASE}/entities/{e}", params={"pick": "nothing"}).status_code == 404
    assert ngsi.get(f"{BASE}/entities/{e}", params={"omit": "id,type,shape"}).status_code == 404
    # raw JSON may hold nulls; a JsonProperty has no unitCode
    j = uid("Sign")
    create(ngsi, {"id": j, "type": "Sign", "config": {"type": "JsonProperty", "json": {"a": None, "b": [1, None]}}})
    assert ngsi.get(f"{BASE}/entities/{j}").json()["config"]["json"] == {"a": None, "b": [1, None]}
    r = ngsi.post(f"{BASE}/entities", json={"id": uid("Sign"), "type": "Sign",
                                            "config": {"type": "JsonProperty", "json": {"a": 1}, "unitCode": "C62"}})
    assert r.status_code == 400


def test_dataset_id_filter(ngsi: TestClient) -> None:
    e, fr = uid("Tower"), "urn:ngsi-ld:Dataset:fr"
    create(ngsi, {"id": e, "type": "Tower", "label": [{"type": "Property", "value": "Tower"},
                                                      {"type": "Property", "value": "Tour", "datasetId": fr}],
                  "height": {"type": "Property", "value": 300}})
    assert ngsi.get(f"{BASE}/entities/{e}", params={"datasetId": fr}).json() == {
        "id": e, "type": "Tower", "label": {"type": "Property", "value": "Tour", "datasetId": fr}}
    default = ngsi.get(f"{BASE}/entities/{e}", params={"datasetId": "@none"}).json()
    assert default["label"] == {"type": "Property", "value": "Tower"} and default["height"]["value"] == 300
    history = ngsi.get(f"{BASE}/temporal/entities/{e}", params={"datasetId": fr}).json()
    assert [i["value"] for i in history["label"]] == ["Tour"] and "height" not in history


def test_lang_ranges_and_language_filters_in_q(ngsi: TestClient) -> None:
    e = uid("Square")
    create(ngsi, {"id": e, "type": "Square", "label": {"type": "LanguageProperty",
                                                       "languageMap": {"fr": "Grand Place", "nl": "Grote Markt",
                                                                       "en-US": "Main Square"}}})

    def label(lang: str) -> tuple[str, str]:
        got = ngsi.get(f"{BASE}/entities/{e}", params={"lang": lang}).json()["label"]
        return got["lang"], got["value"]

    assert label("fr;q=0.2,nl;q=0.9") == ("nl", "Grote Markt")  # quality beats position
    assert label("NL-be") == ("nl", "Grote Markt")  # case-insensitive, a longer range falls back
    assert label("en") == ("en-US", "Main Square")  # a shorter range matches a longer tag
    assert label("*")[0] in ("fr", "nl", "en-US")
    found = lambda q: [x["id"] for x in ngsi.get(f"{BASE}/entities", params={"type": "Square", "q": q}).json()]  # noqa: E731
    assert e in found('label[nl]=="Grote Markt"') and e not in found('label[fr]=="Grote Markt"')
    assert e in found('label[*]=="Grand Place"')


# --- transient entities (expiresAt) -----------------------------------------------------------------

def test_transient_entities_and_attributes_expire(ngsi: TestClient) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = "2100-01-01T00:00:00Z"
    gone, kept = uid("Parcel"), uid("Parcel")
    create(ngsi, {"id": gone, "type": "Parcel", "expiresAt": soon, "weight": {"type": "Property", "value": 2}})
    create(ngsi, {"id": kept, "type": "Parcel", "expiresAt": later, "weight": {"type": "Property", "value": 3},
                  "note": {"type": "Property", "value": "fragile", "expiresAt": soon}})
    plain = ngsi.get(f"{BASE}/entities/{kept}").json()
    assert "expiresAt" not in plain and "expiresAt" not in plain["note"]  # system members: with sysAttrs only
    sys = ngsi.get(f"{BASE}/entities/{kept}", params={"options": "sysAttrs"}).json()
    assert sys["expiresAt"] == later and sys["note"]["expiresAt"] == soon
    assert ngsi.get(f"{BASE}/entities/{gone}").status_code == 200
    assert _wait_for(lambda: ngsi.get(f"{BASE}/entities/{gone}").status_code == 404, 8)  # expired: gone
    assert "note" not in ngsi.get(f"{BASE}/entities/{kept}").json()  # its expired attribute too
    assert gone not in [e["id"] for e in ngsi.get(f"{BASE}/entities", params={"type": "Parcel"}).json()]
    # a replacement clears the expiry; a merge sets it; a malformed one is refused
    assert ngsi.put(f"{BASE}/entities/{kept}", json={"weight": 4}).status_code == 204
    assert "expiresAt" not in ngsi.get(f"{BASE}/entities/{kept}", params={"options": "sysAttrs"}).json()
    assert ngsi.patch(f"{BASE}/entities/{kept}", json={"expiresAt": later}).status_code == 204
    assert ngsi.get(f"{BASE}/entities/{kept}", params={"options": "sysAttrs"}).json()["expiresAt"] == later
    for body in ({"id": uid("Parcel"), "type": "Parcel", "expiresAt": "tomorrow"},
                 {"id": uid("Parcel"), "type": "Parcel", "w": {"type": "Property", "value": 1, "expiresAt": 5}}):
        assert ngsi.post(f"{BASE}/entities", json=body).status_code == 400


def test_the_ngsi_ld_null_only_deletes(ngsi: TestClient) -> None:
    null = "urn:ngsi-ld:null"
    for attr in ({"type": "Property", "value": null}, {"type": "Relationship", "object": null},
                 {"type": "Property", "value": {"city": null}}, {"type": "LanguageProperty", "languageMap": {"@none": null}},
                 {"type": "Property", "value": 1, "sub": {"type": "Property", "value": null}}):
        r = ngsi.post(f"{BASE}/entities", json={"id": uid("Probe"), "type": "Probe", "probe": attr})
        assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", attr
    assert ngsi.post(f"{BASE}/entities", json={"id": uid("Probe"), "type": "type"}).status_code == 400
    r = ngsi.post(f"{BASE}/entities", json=[])
    assert r.status_code == 400 and r.json()["type"] == ERR + "InvalidRequest"
    e = uid("Probe")
    create(ngsi, {"id": e, "type": "Probe", "probe": {"type": "Property", "value": 1}, "keep": 2})
    assert ngsi.patch(f"{BASE}/entities/{e}", json={"probe": null}).status_code == 204  # a merge deletes with it
    assert "probe" not in ngsi.get(f"{BASE}/entities/{e}").json()
    r = ngsi.post(f"{BASE}/temporal/entities", json={"id": uid("Probe"), "type": "Probe", "expiresAt": null,
                                                      "v": [{"type": "Property", "value": 1,
                                                             "observedAt": "2026-01-01T00:00:00Z"}]})
    assert r.status_code == 400


def test_scope_through_attribute_operations_and_type_gates(ngsi: TestClient) -> None:
    e, plain = uid("Gate"), uid("Gate")
    create(ngsi, {"id": e, "type": "Gate", "scope": "/Wuhan/Donghu", "open": {"type": "Property", "value": True}})
    create(ngsi, {"id": plain, "type": "Gate", "open": {"type": "Property", "value": False}})
    r = ngsi.patch(f"{BASE}/entities/{plain}/attrs", json={"scope": "/Wuhan"})
    assert r.status_code == 207 and r.json()["notUpdated"][0]["attributeName"] == "scope"
    assert "scope" not in ngsi.get(f"{BASE}/entities/{plain}").json()
    assert ngsi.patch(f"{BASE}/entities/{e}/attrs/scope", json={"value": "/x"}).status_code == 400
    assert ngsi.put(f"{BASE}/entities/{e}/attrs/scope", json={"value": "/x"}).status_code == 400
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/scope", params={"type": "Door"}).status_code == 404
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/scope", params={"type": "Gate"}).status_code == 204
    assert "scope" not in ngsi.get(f"{BASE}/entities/{e}").json()
    assert ngsi.delete(f"{BASE}/entities/{e}/attrs/scope").status_code == 404
    assert ngsi.post(f"{BASE}/entities/{e}/attrs", params={"type": "Door"}, json={"x": 1}).status_code == 404
    assert ngsi.patch(f"{BASE}/entities/{e}/attrs/open", params={"type": "Door"}, json={"value": 1}).status_code == 404


def test_query_body_projection_and_aggregation_params(ngsi: TestClient) -> None:
    kind = f"Meter{uuid.uuid4().hex[:6]}"
    e = f"urn:ngsi-ld:{kind}:1"
    assert ngsi.post(f"{BASE}/temporal/entities", json={"id": e, "type": kind, "flow": [
        {"type": "Property", "value": v, "observedAt": f"2026-02-01T0{h}:00:00Z"} for h, v in ((1, 2), (2, 4))],
        "brand": [{"type": "Property", "value": "x", "observedAt": "2026-02-01T01:00:00Z"}]}).status_code == 201
    r = ngsi.post(f"{BASE}/entityOperations/query", json={"type": "Query", "entities": [{"type": kind}],
                                                          "pick": ["id", "flow"]})
    assert r.json() == [{"id": e, "flow": {"type": "Property", "value": 4, "observedAt": "2026-02-01T02:00:00Z"}}]
    r = ngsi.post(f"{BASE}/entityOperations/query", json={"type": "Query", "entities": [{"type": kind}],
                                                          "join": "inline", "joinLevel": 0})
    assert r.status_code == 400
    query = {"type": "Query", "entities": [{"type": kind}], "attrs": ["flow"],
             "temporalQ": {"timerel": "after", "timeAt": "2026-02-01T00:00:00Z"}}
    r = ngsi.post(f"{BASE}/temporal/entityOperations/query", json={**query, "aggrParams": {"aggrMethods": ["avg"]}})
    assert r.json()[0]["flow"]["avg"][0][0] == 3.0
    for params in ({"aggrMethods": ["bogus"]}, {"aggrMethods": ["avg"], "aggrPeriodDuration": "bogus"}):
        assert ngsi.post(f"{BASE}/temporal/entityOperations/query",
                         json={**query, "aggrParams": params}).status_code == 400
