"""Infrastructure operations: the snapshot over REST and the CLI, slow statements, devices per
district, job queues and bus lag on a real Redis, the MQTT broker's clients from a real Mosquitto,
and the shipped Prometheus alert rules checked against the metrics the platform exports."""

from __future__ import annotations

import json
import re
import time
import uuid
from importlib import resources
from pathlib import Path

import prometheus_client
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core import jobs, scale
from aicity.core.config import configure, settings
from aicity.core.db import database
from aicity.core.ids import utcnow
from aicity.hub.iot import service as iot
from aicity.identity import service as identity
from aicity.ops import api, infra, slowlog  # noqa: F401  (api: the bus collector in the registry)
from tests.support.http import METRICS
from tests.support.iot import MOSQUITTO, Broker, publisher, wait_for
from tests.support.net import free_port
from tests.support.redis import redis_mode

#: PromQL words that are not metric names
_PROMQL = {"by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset",
           "le", "inf", "nan", "e"}


def key(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.create_api_key(f'infra-{role}', role)[1]}"}


def exported_metrics() -> set[str]:
    """Every series name the process's Prometheus registry can export (counters with `_total`,
    histograms with `_bucket`/`_sum`/`_count`)."""
    names: set[str] = set()
    for family in prometheus_client.REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions, keywords,
    label names (inside `{…}` or `by (…)`), durations or numbers."""
    bare = re.sub(r'"[^"]*"', "", expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    found = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", bare):
        if m.group(2) or m.group(1).lower() in _PROMQL:
            continue
        found.add(m.group(1))
    return found


def shipped_rules() -> list[dict]:
    doc = yaml.safe_load((resources.files("aicity.ops") / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_every_alert_rule_names_only_exported_metrics(client: TestClient) -> None:
    rules = shipped_rules()
    assert len(rules) >= 10
    exported = exported_metrics()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, f"{rule['alert']} names metrics nobody exports: {names - exported}"
    # what the rules watch is all there
    assert {"aicity_db_size_bytes", "aicity_db_slow_queries_total", "aicity_jobs_oldest_queued_seconds",
            "aicity_broker_up", "aicity_iot_devices_online", "aicity_gateway_request_seconds_bucket"} <= exported


def test_the_check_catches_a_metric_nobody_exports() -> None:
    assert metric_names('sum by (group) (rate(aicity_gateway_requests_total{outcome!="ok"}[5m])) > 0.05') \
        == {"aicity_gateway_requests_total"}
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(x_bucket[1m]))) > 1e3 and up == 0") \
        == {"x_bucket", "up"}
    assert "aicity_made_up_metric" not in exported_metrics()


def test_staff_read_the_snapshot_others_are_refused(client: TestClient) -> None:
    district = f"测试区{uuid.uuid4().hex[:4]}"
    up, _ = iot.create_device(iot.DeviceSpec(type="WeatherObserved", district=district), "test")
    iot.create_device(iot.DeviceSpec(type="WeatherObserved", district=district), "test")
    iot.update_device(up.id, "test", last_seen=utcnow())

    assert client.get("/api/v1/ops/infra").status_code == 403
    assert client.get("/api/v1/ops/infra", headers=key("citizen")).status_code == 403
    resp = client.get("/api/v1/ops/infra", headers=key("operator"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["database"]["dialect"] == "sqlite" and body["database"]["size_bytes"] > 100_000
    assert {q["queue"] for q in body["queues"]} == set(jobs.QUEUES)
    row = next(d for d in body["devices"] if d["district"] == district)
    assert (row["devices"], row["online"], row["online_rate"]) == (2, 1, 0.5)
    assert {m["group"] for m in body["models"]} >= {"embed"}

    scraped = client.get("/metrics", headers=METRICS).text
    assert f'aicity_iot_devices_online{{district="{district}"}} 1.0' in scraped
    assert 'aicity_db_size_bytes{store="relational"}' in scraped


def test_slow_statements_are_counted_without_their_values(city: Path) -> None:
    previous = settings()
    configure(**{**previous.model_dump(), "infra": {"slow_query_ms": 20}})
    try:
        before = slowlog.slow_queries()["count"]
        with database().engine.connect() as conn:  # 300 000 rows summed: well over 20 ms
            conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
                              "SELECT sum(i) FROM n WHERE i > :secret"), {"secret": 424242})
        found = slowlog.slow_queries()
    finally:
        configure(**previous.model_dump())
    assert found["count"] == before + 1 and found["threshold_ms"] == 20
    slowest = next(q for q in found["recent"] if "RECURSIVE" in q["statement"])
    assert slowest["ms"] >= 20 and "424242" not in slowest["statement"]


def test_the_cli_prints_the_snapshot(city: Path) -> None:
    result = CliRunner().invoke(cli, ["ops", "infra", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) >= {"database", "queues", "bus", "brokers", "devices", "models"}
    result = CliRunner().invoke(cli, ["ops", "infra"])
    assert result.exit_code == 0 and "任务队列" in result.output


def test_queue_depth_and_lag_from_redis(city: Path, redis_url: str) -> None:
    with redis_mode(redis_url):
        jobs.submit("reports", "tests.support.jobs:mark", "/nonexistent/never-run")  # no worker runs it
        scale.redis_client().xadd(scale.key("bus", "durable"), {"topic": "t"}, id=f"{int(time.time() * 1000) - 90_000}-0")
        time.sleep(0.05)
        found = infra.snapshot()
    reports = next(q for q in found["queues"] if q["queue"] == "reports")
    assert reports["mode"] == "redis" and reports["queued"] == 1 and reports["oldest_queued_s"] >= 0
    assert found["bus"]["mode"] == "redis" and found["bus"]["lag_s"] >= 89  # written 90 s ago, never taken
    redis_row = next(b for b in found["brokers"] if b["broker"] == "redis")
    assert redis_row["up"] and redis_row["clients"] >= 1


@pytest.mark.skipif(not MOSQUITTO.exists(), reason="Mosquitto not installed (apt-get install mosquitto)")
def test_broker_clients_from_mosquitto(city: Path, tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nsys_interval 1\n")
    broker = Broker(port, conf)
    broker.start()
    device = publisher(broker)  # one client besides the probe
    previous = settings()
    try:
        configure(**{**previous.model_dump(), "iot": {**previous.iot.model_dump(), "mqtt_url": broker.url},
                     "infra": {"broker_probe_timeout_s": 3, "broker_probe_cache_s": 0}})
        # Mosquitto republishes the retained count every sys_interval: the device shows up within a second
        found = wait_for(lambda: [b for b in infra.brokers() if b["clients"]], timeout=10)
        broker.stop()
        gone = infra.brokers()
    finally:
        configure(**previous.model_dump())
        device.loop_stop()
        broker.stop()
    mqtt = next(b for b in found if b["broker"] == "mqtt")
    assert mqtt["up"] and mqtt["clients"] >= 1 and mqtt["probe_ms"] < 3000
    assert gone == [{"broker": "mqtt", "up": False, "clients": None, "error": "ConnectionRefusedError"}]

