"""The OpenAPI document describes every answer: each operation declares a 2xx response with a schema
(or a declared non-JSON media type, or no body), and its errors are RFC 9457 problems — except
NGSI-LD and Open311, which answer their specifications' own error shapes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from aicity.server import create_app

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
#: error schemas by path prefix: the standards that bring their own error bodies
OWN_ERRORS = {"/ngsi-ld/": "NgsiProblem", "/open311/": "Open311Error"}


def _is_json(media: str) -> bool:
    return media.split(";")[0].strip().endswith("json")


def _described(schema: dict[str, Any]) -> bool:
    """A schema that says what the answer holds: not `{}` and not a bare `object` with any members."""
    if not schema:
        return False
    if "$ref" in schema or schema.get("properties"):
        return True
    if schema.get("type") == "array":
        return _described(schema.get("items") or {})
    if any(k in schema for k in ("anyOf", "oneOf", "allOf")):
        return all(_described(s) for s in schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf"))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        return _described(extra)
    return schema.get("type") in {"string", "integer", "number", "boolean"}


def undocumented(spec: dict[str, Any]) -> list[str]:
    """Operations without a documented 2xx answer."""
    missing = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            ok = []
            for code, response in op["responses"].items():
                if not str(code).startswith("2"):
                    continue
                content = response.get("content")
                if content is None:  # declared without a body (204, or 201 with Location)
                    ok.append(True)
                    continue
                ok.append(bool(content) and all(not _is_json(media) or _described(body.get("schema") or {})
                                                for media, body in content.items()))
            if not ok or not all(ok):
                missing.append(f"{method.upper()} {path}")
    return missing


def wrong_errors(spec: dict[str, Any]) -> list[str]:
    """Error responses whose body is not the problem schema the path answers with."""
    found = []
    for path, item in spec["paths"].items():
        expected = next((name for prefix, name in OWN_ERRORS.items() if path.startswith(prefix)), "ProblemBody")
        for method, op in item.items():
            if method not in METHODS:
                continue
            errors = {c: r for c, r in op["responses"].items() if str(c)[0] in "45"}
            if not errors:
                found.append(f"{method.upper()} {path}: no error response documented")
            for code, response in errors.items():
                for media, body in (response.get("content") or {}).items():
                    if not _is_json(media):  # Open311's XML form of the same list
                        continue
                    schema = body.get("schema") or {}
                    schema = schema.get("items", schema)  # Open311 answers a list of errors
                    name = schema.get("title") or schema.get("$ref", "").rsplit("/", 1)[-1]
                    if name != expected:
                        found.append(f"{method.upper()} {path} {code} {media}: {name or schema}, not {expected}")
                if not response.get("content"):
                    found.append(f"{method.upper()} {path} {code}: no body schema")
    return found


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(load_city=False).openapi()


def test_every_operation_documents_its_answer(spec: dict[str, Any]) -> None:
    operations = [(p, m) for p, item in spec["paths"].items() for m in item if m in METHODS]
    # the slices are installed: the document is not empty because nothing was mounted
    for path in ("/api/v1/assistant/ask", "/api/v1/events", "/open311/v2/requests.{fmt}", "/ngsi-ld/v1/entities",
                 "/v1/chat/completions", "/metrics"):
        assert path in spec["paths"], path
    assert len(operations) >= 100
    assert undocumented(spec) == []


def test_errors_are_problem_details(spec: dict[str, Any]) -> None:
    assert wrong_errors(spec) == []
    problem = spec["paths"]["/api/v1/events"]["post"]["responses"]["422"]["content"]["application/problem+json"]
    assert {"type", "title", "status", "detail"} <= set(problem["schema"]["required"])


def test_non_json_answers_declare_their_media_type(spec: dict[str, Any]) -> None:
    def media(path: str, method: str = "get") -> set[str]:
        return {m for r in spec["paths"][path][method]["responses"].values() if r for m in r.get("content", {})}

    assert "text/event-stream" in media("/api/v1/assistant/ask/stream", "post")
    assert "text/event-stream" in media("/v1/chat/completions", "post")
    assert any(m.startswith("text/plain") for m in media("/metrics"))
    assert {"text/markdown", "text/html"} <= media("/api/v1/events/briefing")
    assert "text/xml" in media("/open311/v2/services.{fmt}")
    assert "application/ld+json" in media("/ngsi-ld/v1/entities")


def test_the_checks_catch_an_undescribed_answer() -> None:
    """A bare dict answer and FastAPI's own 422 body are what the checks exist to catch."""
    app = FastAPI()

    @app.get("/bare")
    def bare(q: int) -> dict[str, Any]:
        return {"q": q}

    @app.get("/untyped")
    def untyped():  # noqa: ANN202
        return {}

    spec = app.openapi()
    assert undocumented(spec) == ["GET /bare", "GET /untyped"]
    assert wrong_errors(spec) == ["GET /bare 422 application/json: HTTPValidationError, not ProblemBody",
                                  "GET /untyped: no error response documented"]
