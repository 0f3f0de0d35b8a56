"""NGSI-LD conformance work: user @contexts by URL (fetched over real HTTP from a loopback server,
cached, limited, allow-listed), compaction of answers, LanguageProperty and `lang`, GeoJSON,
temporal creation, pick/omit, the spec's status codes for bad input."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from aicity.core.config import configure, settings
from aicity.hub.twin import context, service
from tests.hub.twin.test_ngsi_ld import _app, key_headers

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
VOCAB = "https://example.org/city#"
CTX = {"@context": {"Vehicle": VOCAB + "Vehicle", "speed": VOCAB + "speed", "street": VOCAB + "street",
                    "driver": VOCAB + "driver"}}


class _Contexts(BaseHTTPRequestHandler):
    """path → (status, content type, body, delay in seconds); every GET is counted."""

    routes: ClassVar[dict[str, tuple[int, str, bytes, float]]] = {}
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        status, kind, body, delay = self.routes.get(self.path, (404, "text/plain", b"no", 0.0))
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="module")
def ctx_server() -> Iterator[str]:
    _Contexts.routes = {
        "/ctx.jsonld": (200, "application/ld+json", json.dumps(CTX).encode(), 0.0),
        "/big.jsonld": (200, "application/ld+json", json.dumps({"@context": {f"t{i}": VOCAB + "x" * 40 + str(i)
                                                                            for i in range(200)}}).encode(), 0.0),
        "/text.jsonld": (200, "text/plain", b"this is not JSON", 0.0),
        "/nocontext.jsonld": (200, "application/json", b'{"note": "no @context member"}', 0.0),
        "/slow.jsonld": (200, "application/ld+json", json.dumps(CTX).encode(), 2.0),
        "/broken.jsonld": (500, "text/plain", b"down", 0.0),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Contexts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def ngsi(city: Path) -> Iterator[TestClient]:
    previous = settings()
    configure(**{**previous.model_dump(), "twin": {"context_hosts": ["127.0.0.1"], "context_max_bytes": 4096,
                                                   "context_timeout_s": 1.0, "context_ttl_s": 0}})
    with TestClient(_app(), headers=key_headers("operator")) as c:
        yield c
    configure(**previous.model_dump())


def uid(kind: str) -> str:
    return f"urn:ngsi-ld:{kind}:{uuid.uuid4().hex[:10]}"


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'}


def test_a_context_by_url_expands_on_input_and_compacts_answers(ngsi: TestClient, ctx_server: str) -> None:
    url = f"{ctx_server}/ctx.jsonld"
    e = uid("Vehicle")
    r = ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Vehicle", "speed": {"type": "Property", "value": 42}},
                  headers=link(url))
    assert r.status_code == 201, r.text
    mine = ngsi.get(f"{BASE}/entities/{e}", headers=link(url)).json()
    assert mine["type"] == "Vehicle" and mine["speed"]["value"] == 42
    core = ngsi.get(f"{BASE}/entities/{e}").json()  # the core context alone: full IRIs
    assert core["type"] == VOCAB + "Vehicle" and core[VOCAB + "speed"]["value"] == 42
    # the same short name under the default vocabulary is another type
    assert ngsi.get(f"{BASE}/entities", params={"type": "Vehicle", "id": e}).json() == []
    assert [x["id"] for x in ngsi.get(f"{BASE}/entities", params={"type": "Vehicle", "id": e},
                                      headers=link(url)).json()] == [e]
    # the context by value in an ld+json body, and as a full IRI: the same attribute
    body = {"speed": {"type": "Property", "value": 50}, "@context": CTX["@context"]}
    r = ngsi.post(f"{BASE}/entities/{e}/attrs", content=json.dumps(body), headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 204, r.text
    assert ngsi.get(f"{BASE}/entities/{e}", headers=link(url)).json()["speed"]["value"] == 50
    ld = ngsi.get(f"{BASE}/entities/{e}", headers={**link(url), "Accept": "application/ld+json"}).json()
    assert ld["@context"] == url and ld["speed"]["value"] == 50


def test_fetched_contexts_are_cached_for_their_ttl(ngsi: TestClient, ctx_server: str) -> None:
    url = f"{ctx_server}/ctx.jsonld"
    previous = settings()
    configure(**{**previous.model_dump(), "twin": {**previous.model_dump()["twin"], "context_ttl_s": 60}})
    try:
        before = _Contexts.hits.get("/ctx.jsonld", 0)
        for _ in range(3):
            assert ngsi.get(f"{BASE}/entities", params={"type": "Vehicle"}, headers=link(url)).status_code == 200
        assert _Contexts.hits["/ctx.jsonld"] - before <= 1
    finally:
        configure(**previous.model_dump())
        context._fetched.clear()
        context._active.clear()


def test_the_core_context_is_never_fetched(ngsi: TestClient) -> None:
    e = uid("Camera")
    core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"  # unreachable here: resolved offline
    r = ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Camera", "status": "on"}, headers=link(core))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(("path", "status", "kind"), [
    ("/missing.jsonld", 504, "LdContextNotAvailable"),
    ("/broken.jsonld", 504, "LdContextNotAvailable"),
    ("/big.jsonld", 504, "LdContextNotAvailable"),  # larger than context_max_bytes
    ("/slow.jsonld", 504, "LdContextNotAvailable"),  # slower than context_timeout_s
    ("/text.jsonld", 400, "BadRequestData"),
    ("/nocontext.jsonld", 400, "BadRequestData"),
])
def test_a_context_that_cannot_be_had_writes_nothing(ngsi: TestClient, ctx_server: str, path: str, status: int,
                                                     kind: str) -> None:
    e = uid("Vehicle")
    r = ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Vehicle", "speed": 1}, headers=link(ctx_server + path))
    assert r.status_code == status and r.json()["type"] == ERR + kind, r.text
    assert ngsi.get(f"{BASE}/entities/{e}").status_code == 404


def test_a_host_off_the_allow_list_and_an_unreachable_one_are_not_available(ngsi: TestClient,
                                                                           ctx_server: str) -> None:
    port = ctx_server.rsplit(":", 1)[1]
    for url in (f"http://localhost:{port}/ctx.jsonld", "http://127.0.0.1:9/ctx.jsonld"):
        e = uid("Vehicle")
        r = ngsi.post(f"{BASE}/entities", content=json.dumps({"id": e, "type": "Vehicle", "@context": url}),
                      headers={"Content-Type": "application/ld+json"})
        assert r.status_code == 504 and r.json()["type"] == ERR + "LdContextNotAvailable", r.text
        assert ngsi.get(f"{BASE}/entities/{e}").status_code == 404


def test_language_property_and_the_lang_option(ngsi: TestClient) -> None:
    e = uid("Street")
    street = {"type": "LanguageProperty", "languageMap": {"zh": "光谷大道", "en": "Optics Valley Avenue"}}
    assert ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Street", "name": street}).status_code == 201
    assert ngsi.get(f"{BASE}/entities/{e}").json()["name"]["languageMap"]["zh"] == "光谷大道"
    en = ngsi.get(f"{BASE}/entities/{e}", params={"lang": "en"}).json()["name"]
    assert en == {"type": "Property", "value": "Optics Valley Avenue", "lang": "en"}
    assert ngsi.get(f"{BASE}/entities/{e}", params={"lang": "zh", "options": "keyValues"}).json()["name"] == "光谷大道"
    for bad in ({"type": "LanguageProperty", "value": "x"}, {"type": "LanguageProperty", "languageMap": {"en": 3}},
                {"type": "LanguageProperty", "languageMap": {"": "x"}}):
        r = ngsi.post(f"{BASE}/entities", json={"id": uid("Street"), "type": "Street", "name": bad})
        assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", bad
    # deleting it through a merge: languageMap {"@none": null}
    r = ngsi.patch(f"{BASE}/entities/{e}", json={"name": {"languageMap": {"@none": "urn:ngsi-ld:null"}}})
    assert r.status_code == 204 and "name" not in ngsi.get(f"{BASE}/entities/{e}").json()


def test_geojson_representation(ngsi: TestClient) -> None:
    e = uid("Hydrant")
    point = {"type": "Point", "coordinates": [114.4, 30.5]}
    ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Hydrant", "location": point,
                                        "serviceArea": {"type": "GeoProperty", "value": {
                                            "type": "Point", "coordinates": [114.41, 30.51]}}})
    geo = {"Accept": "application/geo+json"}
    one = ngsi.get(f"{BASE}/entities/{e}", headers=geo)
    assert one.headers["content-type"].startswith("application/geo+json")
    body = one.json()
    assert body["type"] == "Feature" and body["geometry"] == point and body["properties"]["type"] == "Hydrant"
    other = ngsi.get(f"{BASE}/entities/{e}", params={"geometryProperty": "serviceArea"}, headers=geo).json()
    assert other["geometry"]["coordinates"] == [114.41, 30.51]
    many = ngsi.get(f"{BASE}/entities", params={"type": "Hydrant", "id": e}, headers=geo).json()
    assert many["type"] == "FeatureCollection" and [f["id"] for f in many["features"]] == [e]


def test_temporal_representation_is_created(ngsi: TestClient) -> None:
    e = uid("Bus")
    body = {"id": e, "type": "Bus", "speed": [
        {"type": "Property", "value": 45, "observedAt": "2020-08-01T12:03:00Z"},
        {"type": "Property", "value": 67, "observedAt": "2020-08-01T12:07:00Z"}]}
    r = ngsi.post(f"{BASE}/temporal/entities", json=body)
    assert r.status_code == 201 and r.headers["location"].endswith(e)
    assert ngsi.get(f"{BASE}/entities/{e}").json()["speed"]["value"] == 67  # the latest is the current value
    more = {"id": e, "type": "Bus", "speed": [{"type": "Property", "value": 30, "observedAt": "2020-08-01T12:05:00Z"}]}
    assert ngsi.post(f"{BASE}/temporal/entities", json=more).status_code == 204
    history = ngsi.get(f"{BASE}/temporal/entities/{e}").json()["speed"]
    assert sorted(i["value"] for i in history) == [30, 45, 67]
    assert ngsi.get(f"{BASE}/entities/{e}").json()["speed"]["value"] == 67
    assert ngsi.delete(f"{BASE}/temporal/entities/{e}").status_code == 204
    assert ngsi.get(f"{BASE}/temporal/entities/{e}").status_code == 404


def test_pick_omit_and_unknown_parameters(ngsi: TestClient) -> None:
    e = uid("Valve")
    ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Valve", "state": "open", "pressure": 3.2})
    assert set(ngsi.get(f"{BASE}/entities/{e}", params={"pick": "id,state"}).json()) == {"id", "state"}
    assert "pressure" not in ngsi.get(f"{BASE}/entities/{e}", params={"omit": "pressure"}).json()
    for params in ({"pick": "state", "omit": "state"}, {"pick": "state", "attrs": "state"}, {"pick": "a{b"},
                   {"pick": "a,,b"}):
        r = ngsi.get(f"{BASE}/entities/{e}", params=params)
        assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", params
    for params in ({"bogus": "1"}, {"options": "keyValues,nonsense"}, {"format": "fancy"}):
        r = ngsi.get(f"{BASE}/entities/{e}", params=params)
        assert r.status_code == 400 and r.json()["type"] == ERR + "InvalidRequest", params


@pytest.mark.parametrize("body", [
    {"id": "urn:ngsi-ld:Valve:A\u202eB", "type": "Valve"},  # a right-to-left override in the id
    {"id": "urn:ngsi-ld:Valve:A\u200bB", "type": "Valve"},  # a zero-width space
    {"id": "urn:ngsi-ld:Valve:x", "type": "1Valve"},  # a type starting with a digit
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "p": {"type": "Property", "value": 1,
                                                         "observedAt": "2026-08-10T12:00:00+02:00"}},
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "p": {"type": "Property", "value": None}},
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "p": {"type": "Property", "value": {"a": None}}},
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "p": {"type": "Relationship", "object": "urn:a:b", "unitCode": "M"}},
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "p": {"type": "Property", "value": 1, "object": "urn:a:b"}},
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "observedAt": {"type": "Property", "value": 1}},
    {"id": "urn:ngsi-ld:Valve:x", "type": "Valve", "scope": "urn:ngsi-ld:null"},
])
def test_bad_entities_are_bad_request_data(ngsi: TestClient, body: dict[str, Any]) -> None:
    r = ngsi.post(f"{BASE}/entities", json=body)
    assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", r.text


def test_json_property_and_keywords_as_aliases(ngsi: TestClient) -> None:
    e = uid("Ticket")
    raw = {"speed": 3, "type": "raw"}
    r = ngsi.post(f"{BASE}/entities", json={"@id": e, "@type": "Ticket", "data": {"json": raw}})
    assert r.status_code == 201, r.text
    got = ngsi.get(f"{BASE}/entities/{e}").json()
    assert got["id"] == e and "@id" not in got and got["data"] == {"type": "JsonProperty", "json": raw}
    assert ngsi.post(f"{BASE}/entities", json={}).json()["type"] == ERR + "InvalidRequest"
    assert ngsi.patch(f"{BASE}/entities/", json={"a": 1}).json()["type"] == ERR + "BadRequestData"


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], dict[str, Any]]]] = []

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers["Content-Length"])
        _Receiver.received.append((dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def test_notifications_speak_the_subscriptions_context(ngsi: TestClient, ctx_server: str) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"{ctx_server}/ctx.jsonld"
    e = uid("Vehicle")
    assert ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Vehicle", "speed": 10},
                     headers=link(url)).status_code == 201
    sub = {"type": "Subscription", "entities": [{"type": "Vehicle", "id": e}], "q": "speed>60",
           "notification": {"endpoint": {"uri": f"http://127.0.0.1:{receiver.server_port}/notify"}},
           "unknownMember": 1}
    r = ngsi.post(f"{BASE}/subscriptions", json=sub, headers=link(url))
    assert r.status_code == 201, r.text
    stored = ngsi.get(r.headers["location"], headers=link(url)).json()
    assert stored["jsonldContext"] == url and stored["entities"] == [{"type": "Vehicle", "id": e}]
    assert "unknownMember" not in stored and "watchedAttributes" not in stored
    ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"speed": 30}, headers=link(url))  # q does not hold
    ngsi.patch(f"{BASE}/entities/{e}/attrs", json={"speed": 70}, headers=link(url))
    deadline = time.time() + 5
    while not _Receiver.received and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    receiver.shutdown()
    assert len(_Receiver.received) == 1
    headers, note = _Receiver.received[0]
    assert note["data"][0]["type"] == "Vehicle" and note["data"][0]["speed"]["value"] == 70
    assert url in headers["Link"]


@pytest.mark.parametrize("notification", [
    {"attributes": []}, {"pick": ["a"], "omit": ["a"]}, {"attributes": ["a"], "pick": ["b"]},
    {"format": "keyValues", "showChanges": True},
    {"endpoint": {"uri": "http://127.0.0.1:9/n", "receiverInfo": [{"key": "K", "value": 42}]}},
])
def test_bad_notification_parameters_are_refused(ngsi: TestClient, notification: dict[str, Any]) -> None:
    sub = {"type": "Subscription", "entities": [{"type": "Vehicle"}],
           "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}, **notification}}
    r = ngsi.post(f"{BASE}/subscriptions", json=sub)
    assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", r.text


def test_a_past_expiry_and_an_unknown_trigger_are_refused(ngsi: TestClient) -> None:
    base = {"type": "Subscription", "entities": [{"type": "Vehicle"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}}
    for extra in ({"expiresAt": "2000-01-01T00:00:00Z"}, {"notificationTrigger": ["whenever"]},
                  {"jsonldContext": "not a uri"}):
        r = ngsi.post(f"{BASE}/subscriptions", json={**base, **extra})
        assert r.status_code == 400 and r.json()["type"] == ERR + "BadRequestData", extra


def test_purge_entities_and_a_q_value_list(ngsi: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = f"Bin{uuid.uuid4().hex[:6]}"
    ids = [uid(kind) for _ in range(3)]
    for n, e in enumerate(ids):
        ngsi.post(f"{BASE}/entities", json={"id": e, "type": kind, "name": ["Big Ben", "Pisa", "Eiffel"][n],
                                            "fill": n})
    found = ngsi.get(f"{BASE}/entities", params={"type": kind, "q": 'name=="Big Ben","Pisa"'}).json()
    assert sorted(x["id"] for x in found) == sorted(ids[:2])
    assert ngsi.delete(f"{BASE}/entities").status_code == 400  # no selection: not every entity
    with monkeypatch.context() as patched:  # more matches than one purge deletes: refused whole, nothing deleted
        patched.setattr(service, "MAX_LIMIT", 2)
        assert ngsi.delete(f"{BASE}/entities", params={"type": kind}).status_code == 400
    assert all(ngsi.get(f"{BASE}/entities/{e}").status_code == 200 for e in ids)
    assert ngsi.delete(f"{BASE}/entities", params={"type": kind, "drop": "fill"}).status_code == 204
    assert all("fill" not in ngsi.get(f"{BASE}/entities/{e}").json() for e in ids)
    assert ngsi.delete(f"{BASE}/entities", params={"type": kind, "q": 'name=="Pisa"'}).status_code == 204
    assert ngsi.get(f"{BASE}/entities/{ids[1]}").status_code == 404
    # a batch delete in application/ld+json is an array of ids: no @context to carry
    r = ngsi.post(f"{BASE}/entityOperations/delete", content=json.dumps([ids[0], ids[2]]),
                  headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 204 and ngsi.get(f"{BASE}/entities/{ids[0]}").status_code == 404


def test_batch_merge(ngsi: TestClient) -> None:
    e = uid("Pump")
    ngsi.post(f"{BASE}/entities", json={"id": e, "type": "Pump", "flow": {"type": "Property", "value": 1,
                                                                          "unitCode": "G51"}})
    r = ngsi.post(f"{BASE}/entityOperations/merge", json=[{"id": e, "type": "Pump", "flow": {"value": 2}},
                                                          {"id": uid("Pump"), "flow": 3}])
    assert r.status_code == 207 and r.json()["success"] == [e] and r.json()["errors"][0]["error"]["status"] == 404
    assert ngsi.get(f"{BASE}/entities/{e}").json()["flow"] == {"type": "Property", "value": 2, "unitCode": "G51"}
    assert ngsi.post(f"{BASE}/entityOperations/merge", json=[]).status_code == 400
