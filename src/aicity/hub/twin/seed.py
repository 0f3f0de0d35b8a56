"""A small demo twin: Smart Data Models entities in the demo city's districts, placed on the
gazetteer's landmarks and district centres so the twin matches the events map. Idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aicity.core.slices import Progress
from aicity.hub.geo.gazetteer import districts, gazetteer
from aicity.hub.twin.service import upsert_entity


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}}


def demo_entities() -> list[dict[str, Any]]:
    """One of each demo device type per district (district centre), and a street light per landmark."""
    out: list[dict[str, Any]] = []
    for d in districts():
        lat, lon = d.centre()
        area = {"type": "Property", "value": d.name}
        out += [
            {"id": f"urn:ngsi-ld:FloodMonitoring:{d.id}-1", "type": "FloodMonitoring", "location": _point(lat, lon),
             "address": area, "currentLevel": {"type": "Property", "value": 0.2, "unitCode": "MTR"},
             "alertThreshold": {"type": "Property", "value": 0.5, "unitCode": "MTR"}},
            {"id": f"urn:ngsi-ld:WaterLevelObserved:{d.id}-1", "type": "WaterLevelObserved",
             "location": _point(lat + 0.004, lon), "address": area,
             "waterLevel": {"type": "Property", "value": 1.1, "unitCode": "MTR"}},
            {"id": f"urn:ngsi-ld:Valve:{d.id}-gas-1", "type": "Valve", "location": _point(lat, lon + 0.004),
             "address": area, "valveStatus": {"type": "Property", "value": "open"},
             "category": {"type": "Property", "value": "gas"}},
            {"id": f"urn:ngsi-ld:Camera:{d.id}-1", "type": "Camera", "location": _point(lat - 0.004, lon),
             "address": area, "status": {"type": "Property", "value": "on"}},
            {"id": f"urn:ngsi-ld:Device:{d.id}-gas-1", "type": "Device", "location": _point(lat, lon - 0.004),
             "address": area, "category": {"type": "Property", "value": ["sensor"]},
             "controlledProperty": {"type": "Property", "value": ["gasConcentration"]},
             "controlledAsset": {"type": "Relationship", "object": f"urn:ngsi-ld:Valve:{d.id}-gas-1"}},
        ]
    seen: set[str] = set()
    for place in gazetteer().places.values():
        if place.name in seen:
            continue
        seen.add(place.name)
        out.append({"id": f"urn:ngsi-ld:Streetlight:{place.district}-{len(seen)}", "type": "Streetlight",
                    "location": _point(place.lat, place.lon), "address": {"type": "Property", "value": place.name},
                    "powerState": {"type": "Property", "value": "on"}})
    return out


def seed_demo_twin() -> int:
    """Upsert the demo entities; returns how many were created."""
    return sum(upsert_entity(entity) for entity in demo_entities())


def load_demo(_root: Path, _progress: Progress) -> None:
    """The districts' sensors, valves, cameras and street lights (idempotent)."""
    seed_demo_twin()
