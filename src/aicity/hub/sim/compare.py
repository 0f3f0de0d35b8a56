"""SWMM beside the waterlogging watch on the same storm.

The watch (`agents/city_safety/flood.py`) raises the water on a watch point's road at
dh/dt = ψ·(i − b·i_cap)·F / S (rain i, the drains' capacity i_cap for the point's design return
period, b the backwater factor when the river stands above the point's outfall, catchment F,
ponding area S) — a rate from one rain reading. Here that same equation, with the same
parameters (`hub/geo/drainage.py`), is integrated minute by minute over the simulated storm (the
water never below 0), so both methods answer the same question: does the point flood (≥ 15 cm),
how deep, from when. SWMM adds what the mass balance leaves out: runoff delay and infiltration,
pipes surcharging and filling before water leaves them, the downstream network backing up."""

from __future__ import annotations

from typing import Any

from aicity.hub.geo.drainage import WatchPoint, drainage
from aicity.hub.sim.network import Network
from aicity.hub.sim.storm import Hyetograph


def mass_balance(point: WatchPoint, rain: Hyetograph, backwater: bool, minutes: int) -> tuple[float, float | None]:
    """The watch's equation integrated over `rain` for `minutes`: (peak depth m, first minute ≥ 15 cm)."""
    plan = drainage()
    capacity = plan.capacity_mm_h(point) * (plan.backwater_factor if backwater else 1.0)
    rise_per_mm_h = point.runoff / 1000 * point.catchment_ha * 10_000 / point.ponding_area_m2 / 60  # m/min
    depth, peak, first = 0.0, 0.0, None
    for minute in range(minutes):
        depth = max(0.0, depth + rise_per_mm_h * (rain.at(minute) - capacity))
        peak = max(peak, depth)
        if first is None and depth >= plan.flood_depth_m:
            first = float(minute + 1)
    return peak, first


def against_watch(net: Network, raw: dict[str, Any], rain: Hyetograph, outfalls: list[dict[str, Any]],
                  minutes: int, threshold: float) -> dict[str, Any]:
    """Per watch point in the run: SWMM's and the mass balance's peak depth and flag; the counts."""
    water = {o["district"]: o.get("water_level_m") for o in outfalls}
    rows = []
    for node in net.nodes.values():
        if not node.watch_point:
            continue
        point = next(p for p in drainage().points if p.id == node.watch_point)
        level = water.get(point.district)
        backwater = level is not None and point.outfall_level_m is not None and level >= point.outfall_level_m
        watch_depth, watch_first = mass_balance(point, rain, backwater, minutes)
        swmm = raw["nodes"].get(node.id, {})
        swmm_depth = float(swmm.get("max_depth_m", 0.0))
        rows.append({"watch_point": point.id, "place": point.label, "district": point.district,
                     "swmm_max_depth_m": round(swmm_depth, 3), "swmm_flooded": swmm_depth >= threshold,
                     "swmm_start_min": swmm.get("start_min"),
                     "watch_max_depth_m": round(watch_depth, 3), "watch_flooded": watch_depth >= threshold,
                     "watch_start_min": watch_first, "backwater": backwater})
    both = sum(r["swmm_flooded"] and r["watch_flooded"] for r in rows)
    swmm_only = sum(r["swmm_flooded"] and not r["watch_flooded"] for r in rows)
    watch_only = sum(r["watch_flooded"] and not r["swmm_flooded"] for r in rows)
    neither = len(rows) - both - swmm_only - watch_only
    return {"method": "waterlogging watch mass balance integrated over the same storm", "points": rows,
            "both": both, "swmm_only": swmm_only, "watch_only": watch_only, "neither": neither,
            "agreement": round((both + neither) / len(rows), 3) if rows else None}
