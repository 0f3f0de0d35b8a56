"""The flood simulation (内涝模拟) on EPA SWMM: a job kind (`hub/sim/jobs.py`).

`prepare(params)` checks the request and builds the model: the network of the districts asked for
(`network.py`), the rain — the design storm of return period P (2–100 years) as a Chicago
hyetograph (`storm.py`), or the live rain gauges' latest readings held for the duration — and the
river/lake level at each outfall (given, or the district's fresh water-level readings, or the
water's normal level). `swmm.run` runs it in its own process. `finish` turns the run into:
- `flooded`: every junction whose water stood ≥ 15 cm above the ground (GB 51222): place, road,
  peak depth, when it started (the storm starts at the job's `start`) and for how long, overflow;
- `outfalls`: peak flow, volume, the water level at the outfall and whether it was submerged;
- `comparison`: the waterlogging watch's mass balance (`agents/city_safety/flood.py`) integrated
  over the same storm at each watch point, beside SWMM's answer (`compare.py`);
- NGSI-LD entities in the twin (`FloodSimulation` for the run, `FloodForecast` per flooded place),
  all or none;
- `sim.flood.warning` on the bus for each flooded place, and, when asked (`warn`), an event for
  the water department per flooded place (the way the watch files its warnings);
- `recommendations`: open a district's flood gate or pre-deploy pumps; a person turns one into an
  actuation request through the approval queue (`actions.py`), never directly.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.errors import Problem, bad_request
from aicity.core.ids import utcnow
from aicity.hub.events.service import Reporter, report
from aicity.hub.geo.drainage import drainage
from aicity.hub.geo.gazetteer import District, district_by_name, districts
from aicity.hub.iot import service as iot
from aicity.hub.sim import compare, network, storm
from aicity.hub.sim.jobs import config
from aicity.hub.sim.network import KIND_LABELS, Network
from aicity.hub.twin import service as twin
from aicity.hub.twin.query import distance_m

log = logging.getLogger(__name__)

FRESH = timedelta(minutes=30)
DEFAULT_DURATION_MIN = 120
MIN_DURATION_MIN = 10
#: after the rain stops the network is followed this much longer (water drains, floods recede)
DRAIN_MIN = 60
RIVER_LEVELS_M = (-5.0, 30.0)
ACTOR = "system:sim"
TOPIC_WARNING = "sim.flood.warning"


# --- the request -------------------------------------------------------------------------------------

def _districts(name: str | None) -> list[District]:
    if not name:
        return districts()
    found = district_by_name(name)
    if found is None:
        known = "、".join(d.name for d in districts())
        raise Problem(422, "未知区域 Unknown district", f"示范城市没有“{name}”（可选：{known}）", "unknown-district")
    return [found]


def check(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters, checked and completed (defaults filled in); bad ones → 400/422 problems."""
    rain = params.get("rain") or "design"
    if rain not in ("design", "gauges"):
        raise bad_request("rain 须为 design（设计暴雨）或 gauges（实时雨量站）", "invalid-rain")
    period = params.get("return_period")
    if rain == "design":
        if period is None:
            raise bad_request("设计暴雨须给出重现期 return_period（2–100 年）", "invalid-return-period")
        low, high = storm.PERIODS
        if not isinstance(period, (int, float)) or isinstance(period, bool) or not low <= float(period) <= high:
            raise Problem(422, "重现期超出范围 Return period out of range",
                          f"重现期须在 {low:g}–{high:g} 年之间，收到 {period}", "invalid-return-period")
    duration = params.get("duration_min", DEFAULT_DURATION_MIN)
    limit = config().max_storm_min
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < MIN_DURATION_MIN:
        raise bad_request(f"降雨历时 duration_min 须为不少于 {MIN_DURATION_MIN} 的整数分钟", "invalid-duration")
    if duration > limit:
        raise Problem(422, "降雨历时过长 Storm too long",
                      f"降雨历时 {duration} 分钟超过上限 {limit} 分钟（[aicity.sim] max_storm_min）", "storm-too-long")
    river = params.get("river_level_m")
    if river is not None and (not isinstance(river, (int, float)) or isinstance(river, bool)
                              or not RIVER_LEVELS_M[0] <= float(river) <= RIVER_LEVELS_M[1]):
        raise bad_request(f"外江（湖）水位 river_level_m 须在 {RIVER_LEVELS_M[0]:g}–{RIVER_LEVELS_M[1]:g} m 之间",
                          "invalid-river-level")
    peak = params.get("peak_ratio", network.parameters()["peak_ratio"])
    if not isinstance(peak, (int, float)) or not 0.1 <= float(peak) <= 0.9:
        raise bad_request("雨峰系数 peak_ratio 须在 0.1–0.9 之间", "invalid-peak-ratio")
    chosen = _districts(params.get("district"))
    start = params.get("start")
    try:
        at = datetime.fromisoformat(start) if start else utcnow().replace(second=0, microsecond=0)
    except (TypeError, ValueError):
        raise bad_request("start 须为 ISO 8601 时间", "invalid-start") from None
    return {"rain": rain, "return_period": float(period) if period is not None else None, "duration_min": duration,
            "district": chosen[0].id if params.get("district") else None, "river_level_m": river,
            "peak_ratio": float(peak), "warn": bool(params.get("warn", False)),
            "start": (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()}


# --- the inputs from the city --------------------------------------------------------------------------

def _fresh(device_type: str, attribute: str, district_names: list[str] | None, now: datetime
           ) -> list[tuple[Any, float]]:
    """(device, latest value) of the devices of a type with a reading within `FRESH`."""
    devices = [d for d in iot.list_devices(device_type, limit=100_000)
               if d.lat is not None and d.lon is not None and (district_names is None or d.district in district_names)]
    series = iot.readings_between((d.id for d in devices), attribute, now - FRESH, now)
    return [(d, series[d.id][-1][1]) for d in devices if series.get(d.id)]


def _gauges(params: dict[str, Any], chosen: list[District], start: datetime) -> tuple[list[network.Gauge], str]:
    step = network.parameters()["rain_step_min"]
    if params["rain"] == "design":
        h = storm.chicago(params["return_period"], params["duration_min"], params["peak_ratio"], step)
        lat, lon = chosen[0].centre()
        return [network.Gauge("DESIGN", lat, lon, tuple(h.timeseries(start)), step)], h.label
    read = _fresh("WeatherObserved", "precipitation", None, utcnow())
    if not read:
        raise Problem(422, "没有实时雨量数据 No rain data",
                      f"近 {FRESH.seconds // 60} 分钟内没有雨量站读数，请改用设计暴雨（return_period）", "no-rain-data")
    gauges = []
    for i, (device, value) in enumerate(sorted(read, key=lambda r: r[0].id), 1):
        h = storm.steady(value, params["duration_min"], step, "")
        gauges.append(network.Gauge(f"G{i}", device.lat, device.lon, tuple(h.timeseries(start)), step))
    mean = sum(v for _, v in read) / len(read)
    return gauges, (f"实时雨量站 {len(read)} 个（平均 {mean:.1f} mm/h）的最新读数持续 {params['duration_min']} 分钟")


def _river_levels(params: dict[str, Any], net: Network, chosen: list[District]) -> dict[str, float | None]:
    """Each outfall's water level: as given, else the fresh water-level readings of its district
    (the highest), else the water's normal level; None for a free outfall."""
    names = {d.id: d.name for d in chosen}
    out: dict[str, float | None] = {}
    for o in net.outfalls.values():
        if o.normal_level_m is None:
            out[o.id] = None
            continue
        if params["river_level_m"] is not None:
            out[o.id] = float(params["river_level_m"])
            continue
        read = _fresh("WaterLevelObserved", "waterLevel", [names[o.district]], utcnow())
        out[o.id] = max(v for _, v in read) if read else o.normal_level_m
    return out


def prepare(params: dict[str, Any]) -> dict[str, Any]:
    """The job's payload: the SWMM input file and what `finish` needs to read the run."""
    p = check(params)
    params.clear()
    params.update(p)
    chosen = _districts(p["district"])
    start = datetime.fromisoformat(p["start"]).astimezone(UTC).replace(tzinfo=None)
    net = network.build(tuple(d.id for d in chosen))
    gauges, rain_label = _gauges(p, chosen, start)
    levels = _river_levels(p, net, chosen)
    minutes = p["duration_min"] + DRAIN_MIN
    text = network.inp(net, gauges, levels, start, minutes, f"aicity flood simulation: {rain_label}")
    first = gauges[0]
    return {"inp": text, "flood_depth_m": drainage().flood_depth_m, "sample_s": 60,
            "districts": [d.id for d in chosen], "rain_label": rain_label, "river_levels": levels,
            "hyetograph": {"step_min": first.interval_min, "mm_h": [v for _, v in first.series[:-1]]},
            "network": net.summary(), "simulated_min": minutes}


# --- the result ---------------------------------------------------------------------------------------

def _iso_at(start: str, minutes: float | None) -> str | None:
    return None if minutes is None else (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()


def _flooded(net: Network, raw: dict[str, Any], start: str, threshold: float) -> list[dict[str, Any]]:
    names = {d.id: d.name for d in districts()}
    out = []
    for node_id, r in raw["nodes"].items():
        n = net.nodes.get(node_id)
        if n is None or r["max_depth_m"] < threshold:
            continue
        out.append({"node": n.id, "place": n.place, "road": n.road, "district": n.district,
                    "district_name": names.get(n.district, n.district), "kind": n.kind,
                    "kind_label": KIND_LABELS.get(n.kind, n.kind), "watch_point": n.watch_point,
                    "lat": n.lat, "lon": n.lon, "max_depth_m": r["max_depth_m"],
                    "max_at": _iso_at(start, r["max_at_min"]), "start": _iso_at(start, r["start_min"]),
                    "start_min": r["start_min"], "duration_min": r["duration_min"], "overflow_m3": r["overflow_m3"]})
    return sorted(out, key=lambda f: (-f["max_depth_m"], f["node"]))


def _outfalls(net: Network, raw: dict[str, Any], levels: dict[str, float | None]) -> list[dict[str, Any]]:
    out = []
    for o in net.outfalls.values():
        r = raw["outfalls"].get(o.id, {})
        level = levels.get(o.id)
        out.append({"id": o.id, "district": o.district, "water": o.water, "lat": o.lat, "lon": o.lon,
                    "peak_flow_m3_s": r.get("peak_flow_m3_s", 0.0), "volume_m3": r.get("volume_m3", 0.0),
                    "water_level_m": level, "crown_m": o.crown_m,
                    "submerged": level is not None and level >= o.crown_m})
    return out


def _scenario(params: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    h = payload["hyetograph"]
    depth = sum(h["mm_h"]) * h["step_min"] / 60
    return {"rain": params["rain"], "return_period": params["return_period"], "duration_min": params["duration_min"],
            "district": params["district"], "peak_ratio": params["peak_ratio"], "start": params["start"],
            "label": payload["rain_label"], "rain_depth_mm": round(depth, 1),
            "peak_intensity_mm_h": round(max(h["mm_h"], default=0.0), 1), "hyetograph": h,
            "river_levels": payload["river_levels"], "network": payload["network"]}


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}}


def _without_nulls(value: Any) -> Any:
    """A Property's value as NGSI-LD takes it: no null anywhere inside (an absent member instead)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _entities(job_id: str, scenario: dict[str, Any], flooded: list[dict[str, Any]],
              outfalls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    issued = {"type": "Property", "value": {"@type": "DateTime", "@value": utcnow().isoformat()}}
    run_id = f"urn:ngsi-ld:FloodSimulation:{job_id}"
    entities = [{"id": run_id, "type": "FloodSimulation", "dateIssued": issued,
                 "engine": {"type": "Property", "value": "swmm"},
                 "scenario": {"type": "Property",
                              "value": _without_nulls({k: v for k, v in scenario.items() if k != "hyetograph"})},
                 "floodedCount": {"type": "Property", "value": len(flooded)},
                 "outfalls": {"type": "Property", "value": _without_nulls(outfalls)}}]
    for f in flooded:
        attrs: dict[str, Any] = {
            "id": f"urn:ngsi-ld:FloodForecast:{job_id}-{f['node']}", "type": "FloodForecast",
            "location": _point(f["lat"], f["lon"]), "dateIssued": issued,
            "name": {"type": "Property", "value": f["place"]},
            "address": {"type": "Property", "value": f"{f['district_name']}{f['road'] or ''}"},
            "maxDepth": {"type": "Property", "value": f["max_depth_m"], "unitCode": "MTR"},
            "floodDuration": {"type": "Property", "value": f["duration_min"], "unitCode": "MIN"},
            "overflowVolume": {"type": "Property", "value": f["overflow_m3"], "unitCode": "MTQ"},
            "refSimulation": {"type": "Relationship", "object": run_id}}
        if f["start"]:
            attrs["floodStart"] = {"type": "Property", "value": {"@type": "DateTime", "@value": f["start"]}}
        entities.append(attrs)
    return entities


def _clear_earlier_run(job_id: str) -> None:
    """Remove what an earlier run of this job wrote before its supervisor was killed mid-write (a
    job runs again after its worker died): the entities' ids carry the job's, so nothing else goes."""
    pattern = f"urn:ngsi-ld:Flood(Simulation|Forecast):{re.escape(job_id)}(-.*)?$"
    while found := twin.query(type=["FloodSimulation", "FloodForecast"], id_pattern=pattern, limit=100)[0]:
        for entity in found:
            twin.delete_entity(entity["id"])


def _write_twin(entities: list[dict[str, Any]]) -> list[str]:
    """Create every entity, or none: what was written is deleted again when one fails."""
    written: list[str] = []
    try:
        for e in entities:
            twin.create_entity(e)
            written.append(e["id"])
    except Exception as exc:
        for entity_id in reversed(written):
            try:
                twin.delete_entity(entity_id)
            except Exception:  # already gone: nothing to undo
                log.warning("could not remove forecast entity %s", entity_id, exc_info=True)
        raise Problem(500, "预报写入失败 Forecast not written", f"孪生体写入失败，已撤回：{exc}", "forecast-not-written") from exc
    return written


def _warn(job_id: str, scenario: dict[str, Any], flooded: list[dict[str, Any]], file_events: bool
          ) -> list[dict[str, Any]]:
    """`sim.flood.warning` per flooded place; with `file_events`, an event for the water department."""
    out = []
    for f in flooded:
        text = (f"内涝模拟预警：{f['place']}（{f['district_name']}）在{scenario['label']}下预计积水 {f['max_depth_m']:.2f} m，"
                f"{f['start_min'] or 0:.0f} 分钟后超过 15 cm，持续约 {f['duration_min']:.0f} 分钟（SWMM 模拟 {job_id}）")
        warning = {"job_id": job_id, "node": f["node"], "place": f["place"], "district": f["district"],
                   "max_depth_m": f["max_depth_m"], "start": f["start"], "duration_min": f["duration_min"], "text": text}
        if file_events:
            result = report(text, source="sensor", reporter=Reporter(ref="agent:simulation"), lat=f["lat"],
                            lon=f["lon"], category="waterlogging", title=f"内涝模拟预警：{f['place']}",
                            idempotency_key=f"sim-flood:{job_id}:{f['node']}")
            warning["event_id"] = result.event.id
        bus.publish(TOPIC_WARNING, warning)
        out.append(warning)
    return out


def _recommendations(flooded: list[dict[str, Any]], outfalls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per district with flooded places: open its flood gate nearest the outfall to drain ahead of
    the peak when the outfall is free; when the river stands above the outfall, keep the gates shut
    (against backflow) and pre-deploy mobile pumps at the deepest places."""
    out: list[dict[str, Any]] = []
    by_district: dict[str, list[dict[str, Any]]] = {}
    for f in flooded:
        by_district.setdefault(f["district"], []).append(f)
    for o in outfalls:
        places = by_district.get(o["district"])
        if not places:
            continue
        name = places[0]["district_name"]
        deepest = sorted(places, key=lambda f: -f["max_depth_m"])[:3]
        labels = "、".join(f["place"] for f in deepest)
        if not o["submerged"]:
            gates = iot.list_devices("SluiceGate", name)
            located = [g for g in gates if g.lat is not None and g.lon is not None]
            gate = min(located, key=lambda g: distance_m((o["lon"], o["lat"]), (g.lon, g.lat))) if located else None
            out.append({"id": f"open_gate:{o['district']}", "kind": "open_gate", "district": o["district"],
                        "device_id": gate.id if gate else None, "places": [f["node"] for f in deepest],
                        "label": f"开启{name}排水闸门" + (f" {gate.name or gate.id}" if gate else ""),
                        "reason": f"模拟显示{labels}将积水超过 15 cm，排口（{o['water']}）未被顶托，"
                                  "建议在雨峰前开闸预排" + ("" if gate else "（该区未登记排水闸门设备，需人工处置）"),
                        "actuation": gate is not None})
        out.append({"id": f"deploy_pumps:{o['district']}", "kind": "deploy_pumps", "district": o["district"],
                    "device_id": None, "places": [f["node"] for f in deepest],
                    "label": f"向{name}{labels}预置移动泵车",
                    "reason": f"模拟显示{labels}积水最深（{deepest[0]['max_depth_m']:.2f} m）"
                              + ("，外江（湖）水位高于排口，闸门应保持关闭防倒灌，需泵车强排" if o["submerged"] else ""),
                    "actuation": True})
    return out


def finish(job_id: str, params: dict[str, Any], payload: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The run's result, written to the twin (all or none), warned about, compared with the watch."""
    net = network.build(tuple(payload["districts"]))
    threshold = payload["flood_depth_m"]
    flooded = _flooded(net, raw, params["start"], threshold)
    outfalls = _outfalls(net, raw, payload["river_levels"])
    scenario = _scenario(params, payload)
    h = payload["hyetograph"]
    hyetograph = storm.Hyetograph(h["step_min"], tuple(h["mm_h"]), scenario["label"])
    comparison = compare.against_watch(net, raw, hyetograph, outfalls, payload["simulated_min"], threshold)
    _clear_earlier_run(job_id)
    written = _write_twin(_entities(job_id, scenario, flooded, outfalls))
    warnings = _warn(job_id, scenario, flooded, params["warn"])
    audit.record(ACTOR, "sim.flood.forecast", job_id, {"flooded": len(flooded), "entities": len(written)})
    return {"engine": "swmm", "job_id": job_id, "scenario": scenario,
            "flooded": [{k: v for k, v in f.items() if k != "start_min"} for f in flooded],
            "outfalls": outfalls, "comparison": comparison, "recommendations": _recommendations(flooded, outfalls),
            "forecast_entities": written, "warnings": len(warnings),
            "events": [w["event_id"] for w in warnings if "event_id" in w],
            "continuity_error_pct": raw.get("continuity_error_pct", {}),
            "max_depth_m": max((f["max_depth_m"] for f in flooded), default=0.0),
            "total_overflow_m3": round(math.fsum(r["overflow_m3"] for r in raw["nodes"].values()), 1)}
