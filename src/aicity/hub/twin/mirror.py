"""The twin follows the devices: every batch of readings the IoT hub stores
(`iot.reading.stored` on the bus) updates the device's entity, creating it on first sight.

The twin is the city's current state: a batch writes each attribute's latest reading once
(with its observedAt), so the twin's temporal history has a point per batch; every reading
stays in the IoT hub's own history."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aicity.core.bus import delivery
from aicity.hub.twin import service

log = logging.getLogger(__name__)


def entity_id(device_id: str, kind: str) -> str:
    return f"urn:ngsi-ld:{kind}:{device_id}"


def mirror_readings(_topic: str, payload: dict[str, Any]) -> None:
    kind, device_id = payload["type"], payload["device_id"]
    ident = entity_id(device_id, kind)
    try:
        if service.get_entity(ident) is None:
            entity: dict[str, Any] = {"id": ident, "type": kind}
            if payload.get("lat") is not None and payload.get("lon") is not None:
                entity["location"] = {"type": "GeoProperty",
                                      "value": {"type": "Point", "coordinates": [payload["lon"], payload["lat"]]}}
            service.upsert_entity(entity)
        latest: dict[str, dict[str, Any]] = {}
        for reading in payload["readings"]:  # in the order stored: the last one wins
            value: dict[str, Any] = {"type": "Property", "value": reading["value"]}
            if reading.get("unit"):
                value["unitCode"] = reading["unit"]
            if reading.get("observed_at"):
                value["observedAt"] = reading["observed_at"]
            latest[reading["attribute"]] = value
        service.update_attrs(ident, latest, observed_at=datetime.now(UTC), create_missing=True,
                             once=delivery())
    except Exception:  # the readings are stored already; a twin failure must not undo or block them
        log.exception("mirroring %s into the twin failed", ident)

