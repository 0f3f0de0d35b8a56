"""Assertions on HTTP answers."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body


#: the headers a Prometheus scraper sends: the suite's `metrics_token` (tests/conftest.py)
METRICS = {"Authorization": "Bearer test-metrics-token"}
