"""The corridor signal-timing simulation (干道信号配时仿真) on Eclipse SUMO: a job kind (`hub/sim/jobs.py`).

`prepare(params)` checks the request (an unknown corridor → 422 listing the known ones), reads the
corridor's weekday hourly counts from the data hub (`hub/data/ask.run_sql`, the service agents read
the hub's data through: never its tables or files), picks the peak hour (早高峰 06–10, 晚高峰
16–20: the hour of that window with the most vehicles), builds the corridor from the gazetteer
(`traffic_corridor.py`) and the plans (`traffic_plan.py`):
- `before`: the plan running now (the signal devices' `normal` plan, 常规配时; demo-city assumption:
  Webster timings for the daytime off-peak flows, each crossing on its own cycle, not coordinated);
- `after` (with `optimize`): Webster for the peak hour's flows on the critical cycle, with a green
  wave in the peak direction.
`traffic_sumo.run` simulates the peak hour under each plan with the same vehicles in its own process.
`finish` returns both plans' figures (travel time along the corridor, delay, queue, throughput),
their change, the plan, and one recommendation per signal device of the corridor's district: sending
it the new timing (its `peak` plan) is an actuation request in the approval queue (`actions.py`,
`hub/iot/commands.request_command`), never a direct command.
"""

from __future__ import annotations

from typing import Any

from aicity.core.errors import Problem, bad_request
from aicity.hub.data.ask import run_sql
from aicity.hub.geo.gazetteer import gazetteer
from aicity.hub.iot import service as iot
from aicity.hub.sim import traffic_corridor, traffic_plan
from aicity.hub.twin.query import distance_m

DATASET = "traffic_flow_hourly"
#: 早高峰 / 晚高峰: the hours (starting) a peak is looked for in
PERIODS = {"am": ("早高峰", range(6, 10)), "pm": ("晚高峰", range(16, 20))}
MEASURED_S = (300, 7200)
WARMUP_S = (0, 1800)
LABELS = {"before": "现行配时", "after": "优化配时"}
METRICS = ("travel_time_s", "delay_s", "queue_m", "throughput_veh_h")


def corridors() -> list[str]:
    """The corridors that can be simulated: gazetteer roads the traffic dataset counts."""
    _, _, rows = run_sql(f"SELECT DISTINCT road_name FROM {DATASET} ORDER BY road_name")
    roads = gazetteer().roads
    return [r[0] for r in rows if r[0] in roads]


def _counts(name: str) -> dict[tuple[str, int], float]:
    """(direction, hour) → the mean weekday volume, veh/h."""
    quoted = name.replace("'", "''")
    _, _, rows = run_sql(f"SELECT direction, hour, AVG(vehicles) AS veh FROM {DATASET} WHERE road_name = '{quoted}' "
                         f"AND DAYOFWEEK(date) BETWEEN 1 AND 5 GROUP BY direction, hour")
    return {(str(d), int(h)): float(v) for d, h, v in rows}


def _int(params: dict[str, Any], key: str, default: int, bounds: tuple[int, int]) -> int:
    value = params.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not bounds[0] <= value <= bounds[1]:
        raise bad_request(f"{key} 须为 {bounds[0]}–{bounds[1]} 之间的整数秒", f"invalid-{key.replace('_', '-')}")
    return value


def check(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters, checked and completed; bad ones → 400/422 problems."""
    name = params.get("corridor")
    known = corridors()
    if not isinstance(name, str) or name.strip() not in known:
        raise Problem(422, "未知干道 Unknown corridor",
                      f"没有可仿真的干道“{name}”（可选：{'、'.join(known)}）", "unknown-corridor", known=known)
    period = params.get("period") or "am"
    if period not in PERIODS:
        raise bad_request("period 须为 am（早高峰）或 pm（晚高峰）", "invalid-period")
    sim = traffic_corridor.assumptions()["simulation"]
    return {"corridor": name.strip(), "period": period, "optimize": bool(params.get("optimize", True)),
            "measured_s": _int(params, "measured_s", int(sim["measured_s"]), MEASURED_S),
            "warmup_s": _int(params, "warmup_s", int(sim["warmup_s"]), WARMUP_S),
            "seed": _int(params, "seed", int(sim["seed"]), (0, 2**31 - 1))}


def demand(corridor: dict[str, Any], period: str) -> dict[str, Any]:
    """The peak hour and its volumes per direction, and the off-peak volumes the current plan is timed for."""
    counts = _counts(corridor["name"])
    dirs = {"forward": corridor["forward"], "backward": corridor["backward"]}
    label, hours = PERIODS[period]
    if not all((d, h) in counts for d in dirs.values() for h in hours):
        raise Problem(422, "缺少车流量数据 No counts", f"{DATASET} 没有{corridor['name']}{label}各方向的车流量",
                      "no-traffic-counts")
    peak_hour = max(hours, key=lambda h: sum(counts[(d, h)] for d in dirs.values()))
    off_hours = traffic_corridor.assumptions()["signals"]["current_plan_hours"]
    off = {k: sum(counts.get((d, h), 0.0) for h in off_hours) / len(off_hours) for k, d in dirs.items()}
    peak = {k: counts[(d, peak_hour)] for k, d in dirs.items()}
    heavier = max(peak, key=lambda k: peak[k])
    return {"period": period, "period_label": label, "hour": peak_hour, "source": DATASET,
            "days": "工作日 weekdays", "peak_veh_h": {dirs[k]: round(v) for k, v in peak.items()},
            "offpeak_veh_h": {dirs[k]: round(v) for k, v in off.items()}, "offpeak_hours": off_hours,
            "peak_direction": heavier, "_peak": peak, "_off": off}


def prepare(params: dict[str, Any]) -> dict[str, Any]:
    """The job's payload: the corridor, the peak-hour movements and the plans to simulate."""
    p = check(params)
    params.clear()
    params.update(p)
    conf = traffic_corridor.assumptions()
    corridor = traffic_corridor.build(p["corridor"])
    d = demand(corridor, p["period"])
    peak_total = sum(d["_peak"].values())
    moves = traffic_plan.movements(corridor, d["_peak"], conf)
    current = traffic_plan.plan(corridor, traffic_plan.movements(corridor, d["_off"], conf,
                                                                 sum(d["_off"].values()) / peak_total), conf, False)
    plans = {"before": current}
    if p["optimize"]:
        plans["after"] = traffic_plan.plan(corridor, moves, conf, True, d["peak_direction"])
    sim = {**conf["simulation"], "measured_s": p["measured_s"], "warmup_s": p["warmup_s"], "seed": p["seed"],
           "drain_s": min(int(conf["simulation"]["drain_s"]), max(p["measured_s"], 600))}
    public = {k: v for k, v in d.items() if not k.startswith("_")}
    return {"corridor": corridor, "moves": moves, "plans": plans, "simulation": sim, "demand": public,
            "labels": LABELS}


def _change(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for k in METRICS:
        b, a = before.get(k), after.get(k)
        out[k] = round((a - b) / b * 100, 1) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None
    return out


def recommendations(corridor: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One per signal device of the corridor's district: the timing of the crossing nearest to it, as the
    device's `peak` plan (demo devices stand at random points of the district, not at the crossings)."""
    district = gazetteer().districts[corridor["district"]]
    rows = {r["id"]: r for r in plan["crossings"]}
    out = []
    for device in iot.list_devices("TrafficSignal", district.name):
        if device.lat is None or device.lon is None:
            continue
        c = min(corridor["crossings"], key=lambda x: distance_m((device.lon, device.lat), (x["lon"], x["lat"])))
        r = rows[c["id"]]
        greens = "、".join(f"{traffic_plan.PHASE_LABELS[p]} {r['greens_s'][p]} s" for p in traffic_plan.PHASES)
        out.append({
            "id": f"signal_plan:{device.id}", "kind": "signal_plan", "district": district.id, "device_id": device.id,
            "places": [c["name"]], "actuation": True,
            "label": f"向信号机 {device.name or device.id} 下发{c['name']}优化配时",
            "reason": f"周期 {r['cycle_s']} s，相位差 {r['offset_s']} s，绿灯 {greens}（韦伯斯特法 + 绿波协调）",
            "params": {"plan": "peak", "corridor": corridor["name"], "crossing": c["id"], "crossing_name": c["name"],
                       "cycle_s": r["cycle_s"], "offset_s": r["offset_s"], "greens_s": r["greens_s"]}})
    if not out:
        out.append({"id": "signal_plan:none", "kind": "signal_plan", "district": district.id, "device_id": None,
                    "places": [c["name"] for c in corridor["crossings"]], "actuation": False, "params": {},
                    "label": f"{corridor['name']}优化配时", "reason": f"{district.name}没有登记的信号机（TrafficSignal），"
                                                                    "新配时无法下发，请交警部门人工调整"})
    return out


def finish(job_id: str, params: dict[str, Any], payload: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    corridor = payload["corridor"]
    runs = raw["runs"]
    after = runs.get("after")
    plan = payload["plans"].get("after")
    sim = payload["simulation"]
    return {
        "engine": "sumo", "job_id": job_id, "corridor": corridor["name"], "district": corridor["district"],
        "demand": payload["demand"], "before": runs["before"], "after": after,
        "change_pct": _change(runs["before"], after) if after else None,
        "plan": plan, "current_plan": payload["plans"]["before"],
        "network": {"length_m": corridor["length_m"], "lanes": corridor["lanes"], "speed_kmh": corridor["speed_kmh"],
                    "forward": corridor["forward"], "backward": corridor["backward"],
                    "crossings": [{k: c[k] for k in ("id", "name", "kind", "pos_m", "lat", "lon", "lanes")}
                                  for c in corridor["crossings"]]},
        "simulation": {"warmup_s": sim["warmup_s"], "measured_s": sim["measured_s"], "drain_s": sim["drain_s"],
                       "seed": sim["seed"], "vehicles": raw["vehicles"], "routes": raw["routes"]},
        "recommendations": recommendations(corridor, plan) if plan else [],
    }
