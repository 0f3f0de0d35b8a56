"""The MQTT client: subscribes to `aicity/{device_id}/telemetry` (QoS 1) on the configured broker
and stores what devices publish there, with the same validation as HTTP.

Payloads are JSON: one reading `{"attribute", "value", "unit"?, "observed_at"?}` or a batch
`{"readings": [...]}`; the device is the topic's. Devices authenticate to the broker (its
ACLs); this client accepts registered devices only. Messages are taken in batches of up to
`batch_max` and stored in one transaction; each is acknowledged (QoS 1 PUBACK) only after it
is stored or rejected, so a reading the broker saw acknowledged is in the database. Rejected
messages (bad JSON, invalid or out-of-range readings, unknown devices) are counted in
`service.counters["mqtt.rejected"]`. paho reconnects by itself with backoff (0.2–5 s).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError

from aicity.core import scale
from aicity.core.errors import Problem
from aicity.hub.iot import commands, rules, service
from aicity.hub.iot.schemas import BatchBody, Telemetry
from aicity.hub.iot.service import ReadingIn

log = logging.getLogger(__name__)

TOPIC = "aicity/+/telemetry"
#: the shared-subscription group of the city's ingest clients (MQTT v5 `$share/<group>/<filter>`)
SHARE_GROUP = "aicity"
#: a distributed ingest client's broker session outlives a short disconnect by this long
SESSION_EXPIRY_S = 300


def shared(topic: str) -> str:
    """`topic` as a shared subscription: the broker gives each message to one member of the group."""
    return f"$share/{SHARE_GROUP}/{topic}"


class MqttIngest:
    def __init__(self, url: str, client_id: str = "aicity-ingest", batch_max: int = 2000,
                 share: bool = False) -> None:
        """`share`: one of several ingest processes (the distributed mode): MQTT v5 with a shared
        subscription, so each message is taken by one of them; `client_id` must then be unique."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
            raise ValueError(f"mqtt_url must look like mqtt://host:1883, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.batch_max = batch_max
        self.connected = threading.Event()
        self._queue: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self.share = share
        if share:  # MQTT v5: the session's persistence is asked for at connect (clean_start, expiry)
            self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        else:  # a persistent session: QoS 1 messages published while we are away wait at the broker
            self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            self.client.tls_set()
        self.client.manual_ack_set(True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_message = self._on_message
        self._worker = threading.Thread(target=self._work, name="iot-mqtt-ingest", daemon=True)

    def _on_connect(self, client: paho.Client, _userdata: object, _flags: object, reason: object,
                    _props: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker refused the connection: %s", reason)
            return
        topics = [TOPIC, commands.ACK_TOPIC]
        client.subscribe([(shared(t) if self.share else t, 1) for t in topics])
        self.connected.set()

    def _on_message(self, client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        if msg.topic.endswith("/ack"):  # an actuator acknowledging a command: small, handled at once
            commands.on_mqtt_ack(msg.topic, msg.payload)
            client.ack(msg.mid, msg.qos)
        else:
            self._queue.put(msg)

    def start(self) -> MqttIngest:
        self._worker.start()
        # commands to actuators go out on this connection, at QoS 1
        commands.attach_publisher(self._publish)
        if self.share:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = SESSION_EXPIRY_S
            self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        else:
            self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        return self

    def _publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:  # not connected: the command waits for the retry watcher
            raise ConnectionError(f"MQTT publish to {topic} failed: {paho.error_string(info.rc)}")

    def stop(self) -> None:
        commands.attach_publisher(None)
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()
        self._worker.join(timeout=10)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            messages = [first]
            while len(messages) < self.batch_max:
                try:
                    messages.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._ingest(messages)
            except Exception:  # the database is away: leave them unacknowledged, the broker resends
                log.exception("storing %d MQTT messages failed", len(messages))
                continue
            for msg in messages:
                self.client.ack(msg.mid, msg.qos)

    def _ingest(self, messages: list[paho.MQTTMessage]) -> None:
        valid: list[list[ReadingIn]] = []
        for msg in messages:
            try:
                valid.append(service.validate(_parse(msg), "mqtt"))
            except (ValueError, ValidationError, Problem) as exc:  # validate counts its own rejections
                if not isinstance(exc, Problem):
                    service.count("mqtt.rejected")
                log.info("rejected MQTT message on %s: %s", msg.topic, exc)
        known = service.known_devices(r[0].device_id for r in valid)
        unknown = [r for r in valid if r[0].device_id not in known]
        service.count("mqtt.rejected", len(unknown))
        batch = [reading for rows in valid if rows[0].device_id in known for reading in rows]
        if batch:
            service.store(batch, "mqtt")


def _parse(msg: paho.MQTTMessage) -> list[ReadingIn]:
    parts = msg.topic.split("/")
    if len(parts) != 3:
        raise ValueError(f"bad topic {msg.topic}")
    body = Telemetry.validate_python(json.loads(msg.payload))
    rows = body.readings if isinstance(body, BatchBody) else [body]
    return [ReadingIn(parts[1], r.attribute, r.value, r.unit, r.observed_at) for r in rows]


def start() -> Callable[[], None] | None:
    """The server's MQTT client when `[aicity.iot] mqtt_url` is set. In the distributed mode
    every API process runs one, with a unique client id (`aicity-ingest-<host>-<pid>`) on a
    shared subscription, so the broker hands each message to one of them. Returns what stops it."""
    url = service.iot_config().mqtt_url
    if not url:
        return None
    if scale.distributed():
        ingest = MqttIngest(url, client_id=f"aicity-ingest-{scale.process_name()}", share=True).start()
    else:
        ingest = MqttIngest(url).start()
    return ingest.stop


def _watch() -> None:
    rules.check_no_data()
    commands.expire_commands()  # commands not acknowledged in time: retried, then failed


def start_watch() -> Callable[[], None]:
    """The no-data and command-retry watcher (scheduled: once per period in the city)."""
    return scale.every("iot-no-data", lambda: rules.watch_interval(rules.active_rules()).total_seconds(), _watch)
