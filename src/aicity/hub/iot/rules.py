"""Rules and alarms: threshold, rate-of-change and no-data rules per device type or device;
alarms with a lifecycle (active → acknowledged → cleared), one open alarm per rule and device.

A repeated condition only bumps the open alarm's `count` and `last_seen`. A threshold or rate
alarm clears itself when a later reading is back within the limit; a no-data alarm when data
comes again. A new alarm of severity high or critical is published as `iot.alarm.raised` and
filed as a city event (`aicity.hub.events.service.report`), whose id is kept on the alarm.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.db import PerDatabase, database
from aicity.core.errors import Problem, bad_request, not_found
from aicity.core.ids import new_id, utcnow
from aicity.hub.events.classify import categories
from aicity.hub.events.lifecycle import as_utc
from aicity.hub.events.service import Reporter, report
from aicity.hub.iot.models import Alarm, Device, Reading, Rule
from aicity.hub.iot.types import DEVICE_TYPES, check_device_type

log = logging.getLogger(__name__)

Kind = Literal["threshold", "rate", "no_data"]
KINDS = ("threshold", "rate", "no_data")
SEVERITIES = ("low", "medium", "high", "critical")
#: alarms at or above this severity become city events
EVENT_SEVERITY = "high"
OPEN = ("active", "acknowledged")


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the API and the CLI give it."""

    name: str
    kind: Kind
    severity: str = "medium"
    device_type: str | None = None
    device_id: str | None = None
    attribute: str | None = None
    direction: Literal["above", "below"] = "above"
    limit: float | None = None
    seconds: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class Hit:
    """A rule's condition seen on a device (or, `ok=True`, seen to hold no more)."""

    rule: Rule
    device: Device
    ok: bool
    value: float | None = None
    message: str = ""


# --- rules -------------------------------------------------------------------------------------

def _validate(spec: RuleSpec) -> None:
    def invalid(detail: str) -> Problem:
        return Problem(422, "规则无效 Invalid rule", detail, "invalid-rule")

    if spec.kind not in KINDS:
        raise invalid(f"未知规则类型 unknown kind '{spec.kind}'; kinds: {', '.join(KINDS)}")
    if spec.severity not in SEVERITIES:
        raise invalid(f"未知级别 unknown severity '{spec.severity}'; severities: {', '.join(SEVERITIES)}")
    if (spec.device_type is None) == (spec.device_id is None):
        raise invalid("规则须且只能指定 device_type 或 device_id 之一 give exactly one of device_type, device_id")
    if spec.device_type is not None:
        check_device_type(spec.device_type)
    if spec.kind != "no_data" and (spec.attribute is None or spec.limit is None):
        raise invalid("阈值和变化率规则须有 attribute 和 limit / threshold and rate rules need attribute and limit")
    if spec.kind == "no_data" and (spec.seconds is None or spec.seconds < 1):
        raise invalid("无数据规则须有 seconds ≥ 1 / a no_data rule needs seconds ≥ 1")
    if spec.category is not None and spec.category not in categories():
        raise invalid(f"未知事件类别 unknown event category '{spec.category}'")


def create_rule(spec: RuleSpec, actor: str) -> Rule:
    _validate(spec)
    with database().session() as s:
        if spec.device_id is not None and s.get(Device, spec.device_id) is None:
            raise not_found(f"设备不存在 no device '{spec.device_id}'", "unknown-device")
        rule = Rule(id=new_id("rule"), created_at=utcnow(), enabled=True, **spec.__dict__)
        s.add(rule)
    _rules.invalidate()
    audit.record(actor, "iot.rule.create", rule.id, {"kind": rule.kind, "severity": rule.severity})
    return rule


def delete_rule(rule_id: str, actor: str) -> None:
    with database().session() as s:
        rule = s.get(Rule, rule_id)
        if rule is None:
            raise not_found(f"规则不存在 no rule '{rule_id}'", "unknown-rule")
        s.delete(rule)
    _rules.invalidate()
    audit.record(actor, "iot.rule.delete", rule_id)


def list_rules() -> list[Rule]:
    with database().session() as s:
        return list(s.scalars(select(Rule).order_by(Rule.created_at)))


def _load_rules() -> list[Rule]:
    return [r for r in list_rules() if r.enabled]


#: enabled rules, read once and again after every change
_rules: PerDatabase[list[Rule]] = PerDatabase(_load_rules)


def active_rules() -> list[Rule]:
    return _rules.get()


def _applies(rule: Rule, device: Device) -> bool:
    return rule.device_id == device.id if rule.device_id else rule.device_type == device.type


# --- evaluation --------------------------------------------------------------------------------

def _crossed(direction: str, value: float, limit: float) -> bool:
    return value > limit if direction == "above" else value < limit


#: the last value per (device, attribute) this process stored, for rate rules
_last: dict[tuple[str, str, str], tuple[float, datetime]] = {}


def _previous(s: Session, device_id: str, attribute: str) -> tuple[float, datetime] | None:
    key = (database().url, device_id, attribute)
    if key in _last:
        return _last[key]
    row = s.execute(select(Reading.value, Reading.observed_at)
                    .where(Reading.device_id == device_id, Reading.attribute == attribute)
                    .order_by(Reading.observed_at.desc()).limit(1)).first()
    return (row[0], as_utc(row[1])) if row else None


def evaluate(s: Session, device: Device, readings: Iterable[tuple[str, float, str, datetime]]) -> list[Hit]:
    """The rules' verdicts on a device's new readings (attribute, value, unit, observed_at),
    in order. Call before the readings are flushed (rate rules compare with the one before)."""
    rules = [r for r in _rules.get() if _applies(r, device)]
    hits: list[Hit] = []
    url = database().url
    for attribute, value, unit, at in readings:
        for rule in rules:
            if rule.kind == "no_data":
                continue
            if rule.attribute != attribute:
                continue
            elif rule.kind == "threshold":
                bad = _crossed(rule.direction, value, rule.limit or 0.0)
                hits.append(Hit(rule, device, ok=not bad, value=value, message=(
                    f"{attribute} = {value:g} {unit}，{'高于' if rule.direction == 'above' else '低于'}"
                    f"阈值 {rule.limit:g}")))
            elif (before := _previous(s, device.id, attribute)) is not None and at > before[1]:
                per_minute = (value - before[0]) / ((at - before[1]).total_seconds() / 60)
                bad = _crossed(rule.direction, per_minute, rule.limit or 0.0)
                hits.append(Hit(rule, device, ok=not bad, value=value, message=(
                    f"{attribute} 每分钟变化 {per_minute:+.3g} {unit}，超过 {rule.limit:g}/分钟")))
        if rules:
            _last[(url, device.id, attribute)] = (value, at)
    # data came: a no-data alarm holds no more
    hits.extend(Hit(rule, device, ok=True) for rule in rules if rule.kind == "no_data")
    return hits


def apply_hits(s: Session, hits: list[Hit], now: datetime) -> list[Alarm]:
    """Open, refresh or clear alarms for `hits`, in order; returns the alarms opened now."""
    keys = {f"{h.rule.id}:{h.device.id}" for h in hits}
    # locked (PostgreSQL): processes storing readings of one device at once refresh an alarm in turn
    found = s.scalars(select(Alarm).where(Alarm.open_key.in_(keys)).with_for_update()) if keys else []
    open_alarms: dict[str, Alarm] = {a.open_key: a for a in found if a.open_key}
    raised: list[Alarm] = []
    for hit in hits:
        key = f"{hit.rule.id}:{hit.device.id}"
        alarm = open_alarms.get(key)
        if hit.ok:
            if alarm is not None:
                _clear(alarm, "system:rule", now)
                s.flush()  # the open key is free again before a new alarm may take it
                del open_alarms[key]
        elif alarm is not None:
            alarm.count += 1
            alarm.last_seen = now
            alarm.value = hit.value
        else:
            alarm = Alarm(id=new_id("alm"), rule_id=hit.rule.id, device_id=hit.device.id, severity=hit.rule.severity,
                          status="active", open_key=key, message=f"{hit.rule.name}：{hit.message}"[:500],
                          value=hit.value, first_seen=now, last_seen=now, count=1)
            s.add(alarm)
            open_alarms[key] = alarm
            raised.append(alarm)
    return raised


def builtin_rule(rule_id: str, name: str, severity: str = "medium") -> Rule:
    """A rule that lives in code, not in the rules table (e.g. a camera's video health check).
    Its alarms open, de-duplicate per rule and device, clear and become events like any other."""
    return Rule(id=rule_id, name=name, kind="builtin", severity=severity, enabled=True)


def record_hits(hits: list[Hit], now: datetime | None = None) -> list[Alarm]:
    """Apply `hits` in their own transaction, then announce the alarms opened; returns them."""
    with database().session() as s:
        raised = apply_hits(s, hits, now or utcnow())
    announce(raised)
    return raised


def check_no_data(now: datetime | None = None) -> list[Alarm]:
    """Raise an alarm for every device silent longer than a no-data rule allows."""
    now = now or utcnow()
    rules = [r for r in _rules.get() if r.kind == "no_data"]
    if not rules:
        return []
    with database().session() as s:
        devices = list(s.scalars(select(Device)))
        hits = [Hit(rule, d, ok=False, message=f"{rule.seconds} 秒内无数据 silent for {rule.seconds}s")
                for rule in rules for d in devices
                if _applies(rule, d) and (now - as_utc(d.last_seen or d.created_at)).total_seconds() > (rule.seconds or 0)]
        raised = apply_hits(s, hits, now)
    announce(raised)
    return raised


# --- alarms into events -----------------------------------------------------------------------

def _needs_event(alarm: Alarm) -> bool:
    return SEVERITIES.index(alarm.severity) >= SEVERITIES.index(EVENT_SEVERITY)


def announce(raised: list[Alarm]) -> None:
    """After the alarms' transaction committed: publish them, and file the severe ones as events."""
    for alarm in raised:
        bus.publish("iot.alarm.raised" if _needs_event(alarm) else "iot.alarm.opened", alarm_json(alarm))
        if _needs_event(alarm):
            try:
                _file_event(alarm)
            except Exception:  # the alarm stands; the event can be filed by hand
                log.exception("alarm %s could not be filed as an event", alarm.id)


def _file_event(alarm: Alarm) -> None:
    with database().session() as s:
        device = s.get(Device, alarm.device_id)
        rule = s.get(Rule, alarm.rule_id)
    if device is None:
        return
    category = (rule.category if rule else None) or DEVICE_TYPES[device.type].category
    text = f"{DEVICE_TYPES[device.type].label}{device.name or device.id}报警：{alarm.message}"
    result = report(text, source="sensor", reporter=Reporter(ref=f"device:{device.id}"[:80]), lat=device.lat,
                    lon=device.lon, category=category, idempotency_key=f"iot-alarm:{alarm.id}")
    alarm.event_id = result.event.id
    with database().session() as s:
        s.execute(update(Alarm).where(Alarm.id == alarm.id).values(event_id=result.event.id))


# --- lifecycle ---------------------------------------------------------------------------------

def _clear(alarm: Alarm, actor: str, now: datetime) -> None:
    alarm.status, alarm.open_key, alarm.cleared_at, alarm.cleared_by = "cleared", None, now, actor


def transition(alarm_id: str, action: Literal["acknowledge", "clear"], actor: str) -> Alarm:
    with database().session() as s:
        alarm = s.get(Alarm, alarm_id)
        if alarm is None:
            raise not_found(f"告警不存在 no alarm '{alarm_id}'", "unknown-alarm")
        if alarm.status == "cleared" or (action == "acknowledge" and alarm.status != "active"):
            raise Problem(409, "状态冲突 Conflict", f"告警已是 {alarm.status}，不能 {action} / alarm is {alarm.status}",
                          "invalid-transition")
        if action == "acknowledge":
            alarm.status, alarm.acknowledged_by = "acknowledged", actor
        else:
            _clear(alarm, actor, utcnow())
    audit.record(actor, f"iot.alarm.{action}", alarm_id)
    bus.publish(f"iot.alarm.{'acknowledged' if action == 'acknowledge' else 'cleared'}", alarm_json(alarm))
    return alarm


def list_alarms(status: str | None = None, device_id: str | None = None, limit: int = 200) -> list[Alarm]:
    if status is not None and status not in (*OPEN, "cleared"):
        raise bad_request(f"未知状态 unknown status '{status}'", "unknown-status")
    query = select(Alarm).order_by(Alarm.last_seen.desc()).limit(limit)
    if status:
        query = query.where(Alarm.status == status)
    if device_id:
        query = query.where(Alarm.device_id == device_id)
    with database().session() as s:
        return list(s.scalars(query))


def _iso(t: datetime | None) -> str | None:
    return as_utc(t).isoformat() if t else None


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    return {"id": alarm.id, "rule_id": alarm.rule_id, "device_id": alarm.device_id, "severity": alarm.severity,
            "status": alarm.status, "message": alarm.message, "value": alarm.value, "count": alarm.count,
            "first_seen": _iso(alarm.first_seen), "last_seen": _iso(alarm.last_seen), "event_id": alarm.event_id,
            "acknowledged_by": alarm.acknowledged_by, "cleared_at": _iso(alarm.cleared_at)}


def rule_json(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "kind": rule.kind, "device_type": rule.device_type,
            "device_id": rule.device_id, "attribute": rule.attribute, "direction": rule.direction,
            "limit": rule.limit, "seconds": rule.seconds, "severity": rule.severity, "category": rule.category,
            "enabled": rule.enabled, "created_at": _iso(rule.created_at)}


def watch_interval(rules: list[Rule]) -> timedelta:
    """How often the no-data watcher looks: a quarter of the shortest silence, 1–30 s."""
    shortest = min((r.seconds or 60 for r in rules if r.kind == "no_data"), default=60)
    return timedelta(seconds=max(1.0, min(30.0, shortest / 4)))
