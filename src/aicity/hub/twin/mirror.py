"""The twin follows the devices: every batch of readings the IoT hub stores
(`iot.reading.stored` on the bus) updates the device's entity, creating it on first sight."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aicity.core.bus import bus
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
        for reading in payload["readings"]:
            observed = datetime.fromisoformat(reading["observed_at"]) if reading.get("observed_at") else None
            value: dict[str, Any] = {"type": "Property", "value": reading["value"]}
            if reading.get("unit"):
                value["unitCode"] = reading["unit"]
            service.update_attrs(ident, {reading["attribute"]: value}, observed_at=observed, create_missing=True)
    except Exception:  # the readings are stored already; a twin failure must not undo or block them
        log.exception("mirroring %s into the twin failed", ident)


bus.subscribe("iot.reading.stored", mirror_readings)
