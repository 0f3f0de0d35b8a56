"""A traffic corridor (干道) from the gazetteer's road lines: its signalised crossings, their spacing
and the lanes and speeds of every road, as a plain JSON-able value the simulation's own process
builds its SUMO network from (`traffic_sumo.py`).

The corridor is a gazetteer road counted by the `traffic_flow_hourly` dataset. It runs from its
`from` point ("start") to its `to` point ("end"): the forward direction. Its crossings are the
gazetteer roads whose line crosses it inside both lines (one that meets it at an end is a T where
the corridor begins or ends: the boundary, not simulated); between them, and between them and the
ends, unnamed minor roads (支路) are placed evenly at about `minor_spacing_m`. Lanes, speeds and
spacing are the demo-city assumptions of `demo/data/sim/traffic.yaml`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from aicity.hub.geo.gazetteer import gazetteer

#: metres per degree of latitude; of longitude it is this times cos(latitude)
M_PER_DEG = 111_320.0
#: a crossing this close to an end (as a share of the corridor) is at that end
END_SHARE = 0.02


def _data() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "sim"))


@lru_cache(maxsize=1)
def assumptions() -> dict[str, Any]:
    """`demo/data/sim/traffic.yaml`: lanes, speeds, spacing, cross-road volumes, signal parameters."""
    return dict(yaml.safe_load((_data() / "traffic.yaml").read_text(encoding="utf-8")))


def direction_name(dlat: float, dlon: float) -> str:
    """The dataset's direction for travel along (dlat, dlon): 西向东 / 东向西 / 南向北 / 北向南."""
    if abs(dlon) * math.cos(math.radians(30)) >= abs(dlat):
        return "西向东" if dlon > 0 else "东向西"
    return "南向北" if dlat > 0 else "北向南"


def _crossing(a: tuple[tuple[float, float], tuple[float, float]],
              b: tuple[tuple[float, float], tuple[float, float]]) -> tuple[float, float] | None:
    """(t along a, u along b) where the segments cross, or None."""
    (a1, b1), (a2, b2) = a
    (c1, d1), (c2, d2) = b
    den = (a2 - a1) * (d2 - d1) - (b2 - b1) * (c2 - c1)
    if abs(den) < 1e-12:
        return None
    t = ((c1 - a1) * (d2 - d1) - (d1 - b1) * (c2 - c1)) / den
    u = ((c1 - a1) * (b2 - b1) - (d1 - b1) * (a2 - a1)) / den
    eps = 1e-9
    return (t, u) if -eps <= t <= 1 + eps and -eps <= u <= 1 + eps else None


def build(name: str) -> dict[str, Any]:
    """The corridor `name` (a gazetteer road): its length, directions and signalised crossings."""
    roads = gazetteer().roads
    road = roads[name]
    conf = assumptions()
    (lat0, lon0), (lat1, lon1) = road.start, road.end
    kx = M_PER_DEG * math.cos(math.radians((lat0 + lat1) / 2))
    length = math.hypot((lon1 - lon0) * kx, (lat1 - lat0) * M_PER_DEG)
    named: list[tuple[float, str]] = []
    for other in roads.values():
        if other.name == name:
            continue
        hit = _crossing((road.start, road.end), (other.start, other.end))
        if hit is None or not END_SHARE < hit[0] < 1 - END_SHARE:
            continue
        named.append((hit[0] * length, other.name))
    named.sort()
    spacing = float(conf["corridor"]["minor_spacing_m"])
    crossings: list[dict[str, Any]] = []
    anchors = [0.0, *(p for p, _ in named), length]
    minor = 0
    for i, (lo, hi) in enumerate(zip(anchors, anchors[1:], strict=False)):
        parts = max(1, round((hi - lo) / spacing))
        for k in range(1, parts):
            minor += 1
            crossings.append({"pos_m": lo + (hi - lo) * k / parts, "cross": None, "kind": "minor",
                              "name": f"{name}-支路{minor}"})
        if i < len(named):
            crossings.append({"pos_m": hi, "cross": named[i][1], "kind": "named", "name": f"{name}-{named[i][1]}"})
    crossings.sort(key=lambda c: c["pos_m"])
    for i, c in enumerate(crossings, 1):
        t = c["pos_m"] / length
        c["id"] = f"J{i}"
        c["pos_m"] = round(c["pos_m"], 1)
        c["lat"] = round(lat0 + t * (lat1 - lat0), 6)
        c["lon"] = round(lon0 + t * (lon1 - lon0), 6)
        c.update({k: conf["cross_roads"][c["kind"]][k] for k in ("lanes", "speed_kmh", "approach_m")})
    return {"name": name, "district": road.district, "length_m": round(length, 1),
            "start": list(road.start), "end": list(road.end),
            "forward": direction_name(lat1 - lat0, lon1 - lon0), "backward": direction_name(lat0 - lat1, lon0 - lon1),
            "lanes": conf["corridor"]["lanes"], "speed_kmh": conf["corridor"]["speed_kmh"], "crossings": crossings}
