"""The gas-leak loop: a critical alarm on a gas sensor (`iot.alarm.raised`) → once its event is
filed (`events.reported`) → a proposal to close the nearest Valve in the sensor's district,
queued for a person's approval (`approvals.submit`) by the system requester below. Nothing is
actuated here: the valve closes only when another, authorised person approves."""

from __future__ import annotations

import logging
import threading
from typing import Any

from aicity.agents.city_safety import AGENT_ID
from aicity.agents.city_safety.valves import nearest_valve
from aicity.core import audit
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.core.tracing import Tracer
from aicity.hub.events.models import Event
from aicity.hub.iot import service
from aicity.hub.iot.models import Device
from aicity.identity.models import Role
from aicity.identity.service import Principal
from aicity.security import approvals

log = logging.getLogger(__name__)

#: the requester of automatic proposals: an operator-role system principal ("operator:system:city_safety")
SYSTEM = Principal(Role.operator, department="gas", key_id="system:city_safety")
_ALARM_KEY = "iot-alarm:"
#: the agent's skill that an approved proposal runs (`agent.close_gas_valve`), and its name
VALVE_SKILL, VALVE_LABEL = "close_gas_valve", "关闭燃气阀门"
#: critical gas alarms raised whose event is not filed yet: alarm id → alarm
_waiting: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def on_alarm(_topic: str, alarm: dict[str, Any]) -> None:
    if alarm.get("severity") != "critical":
        return
    with database().session() as s:
        device = s.get(Device, alarm["device_id"])
    if device is not None and device.type == "GasSensor":
        with _lock:
            _waiting[alarm["id"]] = alarm


def on_event(_topic: str, payload: dict[str, Any]) -> None:
    with database().session() as s:
        event = s.get(Event, payload["id"])
    key = (event.idempotency_key or "") if event is not None else ""
    if not key.startswith(_ALARM_KEY):
        return
    with _lock:
        alarm = _waiting.pop(key.removeprefix(_ALARM_KEY), None)
    if alarm is not None and event is not None:
        propose(alarm, event.merged_into or event.id)


def propose(alarm: dict[str, Any], event_id: str) -> str | None:
    """Queue closing the valve nearest the alarm's sensor; returns the approval id."""
    try:
        valve = nearest_valve(service.get_device(alarm["device_id"]))
    except Problem as exc:
        audit.record("system:city_safety", "city_safety.no_valve", alarm["id"], {"event": event_id,
                                                                                 "error": exc.detail})
        return None
    reason = (f"燃气告警 {alarm['id']}（{alarm['message']}）已转事件 {event_id}，"
              f"建议关闭同区最近的阀门 {valve.name or valve.id}（{valve.id}）以隔离泄漏")
    params = {"valve": valve.id, "sensor": alarm["device_id"], "alarm": alarm["id"], "event": event_id}
    tracer = Tracer("city_safety", SYSTEM.role.value, {"alarm": alarm["id"], "event": event_id})
    outcome = approvals.submit(AGENT_ID, VALVE_SKILL, params, reason, VALVE_LABEL, SYSTEM, tracer, devices=1)
    tracer.save({"approval": outcome.approval_id, "decision": outcome.decision})
    audit.record("system:city_safety", "city_safety.valve_proposed", alarm["id"],
                 {"event": event_id, "valve": valve.id, "approval": outcome.approval_id})
    return outcome.approval_id

