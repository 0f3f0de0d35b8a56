"""MQTT ingest in the distributed mode, against a real Mosquitto and a real redis-server: several
ingest clients with their own client ids share one MQTT v5 shared subscription, so each message is
stored once, and `/api/v1/iot/stats` counts what every process stored."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aicity.core.db import database
from aicity.hub.iot import service
from aicity.hub.iot.models import Reading
from aicity.hub.iot.mqtt import MqttIngest, shared
from aicity.identity import service as identity
from aicity.server import create_app
from tests.support.iot import Broker, provision, publisher, wait_for
from tests.support.redis import redis_mode

_ids = itertools.count()


@pytest.fixture(scope="module")
def iot(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


def stored(device_id: str) -> int:
    with database().session() as s:
        return s.scalar(select(func.count()).select_from(Reading).where(Reading.device_id == device_id)) or 0


def test_shared_subscription_stores_each_message_once(iot: TestClient, broker: Broker, redis_url: str) -> None:
    pkey = service.new_provisioning_key("test")
    device, _ = provision(iot, pkey, "WaterLevelObserved")
    _, key = identity.create_api_key("mqtt-scale-operator", "operator")
    taken: dict[int, int] = {}
    with redis_mode(redis_url):
        ingests = [MqttIngest(broker.url, client_id=f"aicity-ingest-test-{next(_ids)}", share=True)
                   for _ in range(2)]
        for i, ingest in enumerate(ingests):  # count what each client takes
            original = ingest._ingest

            def counting(messages: list[Any], i: int = i, original: Any = original) -> None:
                taken[i] = taken.get(i, 0) + len(messages)
                original(messages)

            ingest._ingest = counting  # type: ignore[method-assign]
            ingest.start()
        pub = publisher(broker)
        try:
            wait_for(lambda: all(i.connected.is_set() for i in ingests))
            time.sleep(0.5)  # both subscriptions granted
            for n in range(60):
                pub.publish(f"aicity/{device}/telemetry", json.dumps({"attribute": "waterLevel", "value": 1 + n / 100}),
                            qos=1).wait_for_publish(5)
                time.sleep(0.005)
            wait_for(lambda: stored(device) == 60, 20)
            time.sleep(1.0)
            assert stored(device) == 60  # none twice
            assert sum(taken.values()) == 60 and len(taken) == 2, taken  # each took a share
            stats = iot.get("/api/v1/iot/stats", headers={"Authorization": f"Bearer {key}"})
            assert stats.status_code == 200 and stats.json()["mqtt.stored"] == 60  # from Redis, every process's
        finally:
            pub.loop_stop()
            for ingest in ingests:
                ingest.stop()
    assert shared("aicity/+/telemetry") == "$share/aicity/aicity/+/telemetry"
