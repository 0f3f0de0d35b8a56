"""IoT test helpers: waiting for a condition, provisioning a device, a private Mosquitto on loopback
(also used by benchmarks/iot_bench.py) and an MQTT publisher."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.net import free_port

MOSQUITTO = Path("/usr/sbin/mosquitto")
_ids = itertools.count()


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def provision(iot: TestClient, pkey: str, type_: str, **extra: Any) -> tuple[str, dict[str, str]]:
    device_id = f"t{next(_ids)}-{type_}"
    resp = iot.post("/api/v1/iot/provision", json={"id": device_id, "type": type_, **extra},
                    headers={"X-Provisioning-Key": pkey})
    assert resp.status_code == 201, resp.text
    return device_id, {"X-Device-Key": resp.json()["credential"]}


@dataclass
class Broker:
    port: int
    conf: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([str(MOSQUITTO), "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, 10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def private_broker(root: Path) -> Broker:
    """A Mosquitto listening on a free loopback port, its files under `root` (also used by the benchmark)."""
    port = free_port()
    conf = root / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    "max_queued_messages 0\nmax_inflight_messages 1000\n"
                    f"persistence_location {root}/\n")
    if os.geteuid() == 0:  # run as root, mosquitto drops to its own user, which writes the persistence file
        shutil.chown(root, "mosquitto")
    b = Broker(port, conf)
    b.start()
    return b


def publisher(broker: Broker) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{next(_ids)}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client
