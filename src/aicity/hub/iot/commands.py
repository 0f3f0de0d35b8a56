"""Commands to actuators (Valve: close/open; SluiceGate: open/close; Streetlight: on/off;
TrafficSignal: set_plan with `plan` one of `SIGNAL_PLANS`).

`send` stores a command as `pending` and delivers it: published on `aicity/{device_id}/commands`
(QoS 1) when an MQTT publisher is attached (`attach_publisher`), otherwise kept for the device
to fetch over HTTP (`GET /api/v1/iot/devices/{id}/commands/pending`, which marks it `sent`).
The device acknowledges (`POST /api/v1/iot/commands/{id}/ack`, or a message on
`aicity/{device_id}/ack` handed to `acknowledge`). `expire_commands` retries a command not
acknowledged within `ACK_TIMEOUT` up to `MAX_ATTEMPTS` deliveries, then marks it `failed`.

Who may send directly is the command policy (`mode`): `[aicity.iot] command_policy` in
aicity.toml maps `"Type.command"` or `"Type.*"` to `"direct"` or `"approval"`, over
`DEFAULT_POLICY` (gas valves, sluice gates and traffic signals need a second person's approval;
street lights do not); a command named nowhere needs approval. Callers: an `actuate` skill's
handler once its approval is granted; an admin through the API (always direct); an operator
through the API, directly when the policy says `direct`, else queued for approval
(`request_command`; once approved, the city-safety agent's `device_command` skill sends it).
Every step is recorded in the audit ledger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.core.tracing import Tracer
from aicity.hub.events.lifecycle import as_utc
from aicity.hub.iot.models import Command, Device
from aicity.hub.iot.settings import IotSettings
from aicity.hub.iot.types import DEVICE_TYPES
from aicity.identity.service import Principal
from aicity.security import approvals

log = logging.getLogger(__name__)

#: device type → the commands it accepts
COMMANDS: dict[str, frozenset[str]] = {
    "Valve": frozenset({"close", "open"}),
    "SluiceGate": frozenset({"open", "close"}),
    "Streetlight": frozenset({"on", "off"}),
    "TrafficSignal": frozenset({"set_plan"}),
}
#: a traffic signal's timing plans (配时方案)
SIGNAL_PLANS: dict[str, str] = {
    "normal": "常规配时 normal timing",
    "peak": "高峰配时 peak-hour timing",
    "flood_diversion": "内涝绕行配时 flood diversion (longer green away from flooded roads)",
    "all_red": "全红 all red (every approach stops)",
}
#: (device type, command) → its required parameters → their allowed values
REQUIRED_PARAMS: dict[tuple[str, str], dict[str, frozenset[str]]] = {
    ("TrafficSignal", "set_plan"): {"plan": frozenset(SIGNAL_PLANS)},
}
Mode = Literal["direct", "approval"]
MODES: tuple[str, ...] = ("direct", "approval")
#: who may send what directly; `[aicity.iot] command_policy` overrides it key by key
DEFAULT_POLICY: dict[str, Mode] = {
    "Valve.*": "approval",
    "SluiceGate.*": "approval",
    "TrafficSignal.*": "approval",
    "Streetlight.*": "direct",
}
#: a delivery not acknowledged within this is retried
ACK_TIMEOUT = timedelta(seconds=30)
#: deliveries before a command fails
MAX_ATTEMPTS = 3
OPEN = ("pending", "sent")
TOPIC = "aicity/{device_id}/commands"
ACK_TOPIC = "aicity/+/ack"
#: the skill an approved device command runs with: (agent, skill, its name); the agent registers
#: its skills with the approval queue, so this names it by id and never imports it
APPROVED_BY = ("city_safety", "device_command", "下发设备指令")

#: publishes (topic, payload) at QoS 1; None: devices fetch their commands over HTTP
Publisher = Callable[[str, bytes], None]
_publisher: Publisher | None = None


def attach_publisher(publisher: Publisher | None) -> None:
    """The MQTT client attaches its publish function here (None detaches it)."""
    global _publisher
    _publisher = publisher


def _deliver(command: Command) -> bool:
    """Publish over MQTT if a client is attached; False: it waits for the device to fetch it."""
    if _publisher is None:
        return False
    try:
        _publisher(TOPIC.format(device_id=command.device_id), json.dumps(command_message(command)).encode())
    except Exception:  # the broker is away: the retry watcher delivers it again
        log.exception("publishing command %s failed", command.id)
        return False
    return True


def command_policy() -> dict[str, Mode]:
    """`DEFAULT_POLICY` with the configured entries over it (an entry with another value is
    ignored, with a warning, so a typo never opens a command up)."""
    configured: dict[str, Any] = dict(settings().section(IotSettings).command_policy)
    for key, value in list(configured.items()):
        if value not in MODES:
            log.warning("command_policy %s = %r ignored: expected one of %s", key, value, MODES)
            del configured[key]
    return {**DEFAULT_POLICY, **configured}


def mode(device_type: str, command: str) -> Mode:
    """Whether an operator may send `command` to a `device_type` directly or needs an approval."""
    policy = command_policy()
    return policy.get(f"{device_type}.{command}") or policy.get(f"{device_type}.*") or "approval"


def check(device_id: str, command: str, params: dict[str, Any] | None) -> Device:
    """The device, if it exists and accepts `command` with these parameters (else 404 / 422)."""
    with database().session() as s:
        device = s.get(Device, device_id)
    if device is None:
        raise not_found(f"设备不存在 no device '{device_id}'", "unknown-device")
    accepted = COMMANDS.get(device.type)
    if not accepted or command not in accepted:
        raise Problem(422, "指令无效 Invalid command",
                      f"{device.type} 不接受指令 '{command}' / accepts: {', '.join(sorted(accepted or ())) or '无 none'}",
                      "invalid-command")
    for name, allowed in REQUIRED_PARAMS.get((device.type, command), {}).items():
        if (params or {}).get(name) not in allowed:
            raise Problem(422, "指令参数无效 Invalid command parameter",
                          f"{device.type}.{command} 需要参数 {name}，取值 / requires {name}, one of: "
                          f"{', '.join(sorted(allowed))}", "invalid-command-params")
    return device


def send(device_id: str, command: str, params: dict[str, Any] | None, actor: str) -> Command:
    """Store a command for an actuator and deliver it; returns it (status pending or sent)."""
    check(device_id, command, params)
    now = utcnow()
    with database().session() as s:
        row = Command(id=new_id("cmd"), device_id=device_id, command=command, params=dict(params or {}),
                      status="pending", actor=actor, attempts=1, created_at=now, attempted_at=now)
        s.add(row)
    audit.record(actor, "iot.command.send", row.id, {"device": device_id, "command": command, "params": row.params})
    if _deliver(row):
        _set(row.id, status="sent")
        row.status = "sent"
        audit.record("system:iot", "iot.command.delivered", row.id, {"device": device_id, "channel": "mqtt"})
    bus.publish("iot.command.sent", command_json(row))
    return row


def _set(command_id: str, **values: Any) -> None:
    with database().session() as s:
        row = s.get(Command, command_id)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)


def get(command_id: str) -> Command:
    with database().session() as s:
        row = s.get(Command, command_id)
    if row is None:
        raise not_found(f"指令不存在 no command '{command_id}'", "unknown-command")
    return row


def list_commands(device_id: str | None = None, status: str | None = None, limit: int = 200) -> list[Command]:
    query = select(Command).order_by(Command.created_at.desc()).limit(limit)
    if device_id:
        query = query.where(Command.device_id == device_id)
    if status:
        query = query.where(Command.status == status)
    with database().session() as s:
        return list(s.scalars(query))


def fetch_pending(device: Device) -> list[Command]:
    """A device's open commands, oldest first; those not yet delivered are marked sent."""
    with database().session() as s:
        rows = list(s.scalars(select(Command).where(Command.device_id == device.id, Command.status.in_(OPEN))
                              .order_by(Command.created_at)))
        fresh = [r.id for r in rows if r.status == "pending"]
        for r in rows:
            r.status = "sent"
    for command_id in fresh:
        audit.record(f"device:{device.id}", "iot.command.delivered", command_id, {"device": device.id,
                                                                                 "channel": "http"})
    return rows


def acknowledge(command_id: str, device_id: str, result: dict[str, Any] | None = None) -> Command:
    """The device confirms it carried the command out (HTTP or MQTT `aicity/{id}/ack`)."""
    with database().session() as s:
        row = s.get(Command, command_id)
        if row is None:
            raise not_found(f"指令不存在 no command '{command_id}'", "unknown-command")
        if row.device_id != device_id:
            raise forbidden("设备只能确认自己的指令 a device acknowledges only its own commands")
        if row.status not in OPEN:
            raise Problem(409, "状态冲突 Conflict", f"指令已是 {row.status} / command is {row.status}",
                          "command-not-open", status_now=row.status)
        row.status, row.acked_at, row.result = "acknowledged", utcnow(), dict(result or {})
    audit.record(f"device:{device_id}", "iot.command.acknowledged", command_id, {"result": row.result})
    bus.publish("iot.command.acknowledged", command_json(row))
    return row


def on_mqtt_ack(topic: str, payload: bytes) -> None:
    """An MQTT message on `aicity/{device_id}/ack`: `{"id": "cmd_…", "result"?: {...}}`."""
    parts = topic.split("/")
    try:
        body = json.loads(payload)
        if len(parts) != 3 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ValueError("bad ack")
        acknowledge(body["id"], parts[1], body.get("result") if isinstance(body.get("result"), dict) else None)
    except (ValueError, Problem) as exc:
        log.info("rejected command ack on %s: %s", topic, exc)


def expire_commands(now: datetime | None = None) -> list[Command]:
    """Retry open commands whose delivery timed out; fail those out of attempts. Returns the
    commands changed."""
    now = now or utcnow()
    with database().session() as s:
        due = [r for r in s.scalars(select(Command).where(Command.status.in_(OPEN)))
               if now - as_utc(r.attempted_at) >= ACK_TIMEOUT]
        for r in due:
            if r.attempts >= MAX_ATTEMPTS:
                r.status = "failed"
                r.result = {"error": f"{r.attempts} 次投递均未确认 not acknowledged after {r.attempts} deliveries"}
            else:
                r.attempts, r.attempted_at, r.status = r.attempts + 1, now, "pending"
    for r in due:
        if r.status == "failed":
            audit.record("system:iot", "iot.command.failed", r.id, {"device": r.device_id, "attempts": r.attempts})
            bus.publish("iot.command.failed", command_json(r))
            continue
        audit.record("system:iot", "iot.command.retry", r.id, {"device": r.device_id, "attempt": r.attempts})
        if _deliver(r):
            _set(r.id, status="sent")
            r.status = "sent"
    return due


def _iso(t: datetime | None) -> str | None:
    return as_utc(t).isoformat() if t else None


def command_message(row: Command) -> dict[str, Any]:
    """What the device receives."""
    return {"id": row.id, "command": row.command, "params": row.params, "attempt": row.attempts}


def command_json(row: Command) -> dict[str, Any]:
    return {**command_message(row), "device_id": row.device_id, "status": row.status, "actor": row.actor,
            "attempts": row.attempts, "created_at": _iso(row.created_at), "attempted_at": _iso(row.attempted_at),
            "acked_at": _iso(row.acked_at), "result": row.result}


def request_command(device: Device, command: str, params: dict[str, Any], reason: str,
                    principal: Principal) -> approvals.Outcome:
    """Queue a device command for a second person's approval, the way the assistant queues an
    `actuate` skill (`approvals.submit`, audited)."""
    label = DEVICE_TYPES.get(device.type)
    text = reason or f"向{label.label if label else '设备'} {device.name or device.id}（{device.id}）下发指令 {command}"
    agent, skill, skill_name = APPROVED_BY
    tracer = Tracer("iot.command", principal.role.value, {"device": device.id, "command": command})
    outcome = approvals.submit(agent, skill, {"device": device.id, "command": command,
                                              "params": json.dumps(params, ensure_ascii=False)},
                               text, skill_name, principal, tracer, devices=1)
    tracer.save({"approval": outcome.approval_id, "decision": outcome.decision})
    return outcome
