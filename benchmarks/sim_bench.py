"""Flood simulation benchmark (EPA SWMM through pyswmm, `hub/sim`).

    .venv/bin/python benchmarks/sim_bench.py [--repeat 5] [--no-job]

Measures, on the demo city's generated drainage network:

1. wall time of a 2-hour design storm (P = 50, Chicago r = 0.4, 1 h drain-down): the SWMM run alone
   in this process (`swmm.run`), for the whole city and for 江滨区; and a whole job through the job
   machinery (spawned process, progress, twin entities) in a fresh demo city (`--no-job` skips it);
2. agreement with the waterlogging watch (`agents/city_safety/flood.py`'s mass balance, integrated
   over the same storm, `hub/sim/compare.py`) at the 15 watch points for P = 2 … 100: which points
   both flag (≥ 15 cm), which only one does;
3. lead time on the device simulator's rainstorm scenario (`aicity simulate --scenario rainstorm`,
   its default 60 simulated minutes): the scenario's rain (`simulator.storm`, gauges at 80 mm/h at
   full strength) and river level (1.25 m + 2.4 m × strength in the riverside districts) are
   replayed every 5 minutes; at each moment SWMM is run with the gauges' rain held for 60 minutes
   (the `rain: gauges` mode) and the river level then; the lead time of a watch point is how long
   before its ponding sensor reads 15 cm (the scenario's ponding curve) SWMM first predicts it
   floods within the hour. The same for the watch's own rain-only outlook (minutes to 15 cm ≤ 60).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from aicity.core import slices
from aicity.core.cli import open_city, set_city_loader
from aicity.demo.loader import ensure_city
from aicity.hub.geo.drainage import drainage
from aicity.hub.iot import simulator
from aicity.hub.sim import compare, jobs, network, storm, swmm

START = datetime(2026, 7, 1, 8, 0)
PERIODS = (2, 5, 10, 20, 50, 100)


def _run(net: network.Network, rain: storm.Hyetograph, levels: dict[str, float | None], minutes: int) -> dict:
    gauge = network.Gauge("DESIGN", 30.55, 114.38, tuple(rain.timeseries(START)), rain.step_min)
    text = network.inp(net, [gauge], levels, START, minutes, "bench")
    return swmm.run({"inp": text, "flood_depth_m": drainage().flood_depth_m}, lambda f, m: None)


def _normal(net: network.Network) -> dict[str, float | None]:
    return {o.id: o.normal_level_m for o in net.outfalls.values()}


def wall_times(repeat: int) -> None:
    rain = storm.chicago(50, 120, 0.4, 5)
    print("1. 2-hour design storm (P=50), SWMM run alone (s):")
    for label, ids in (("whole city", None), ("江滨区", ("jiangbin",))):
        net = network.build(ids)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            _run(net, rain, _normal(net), 180)
            times.append(time.perf_counter() - t)
        print(f"   {label:10s} {net.summary()}: median {statistics.median(times):.3f} s, "
              f"min {min(times):.3f}, max {max(times):.3f} (n={repeat})")


def agreement() -> None:
    print("2. SWMM vs the watch's mass balance at the 15 watch points (2-hour storms, normal river level):")
    print("   P    both  swmm_only  watch_only  neither  agreement   swmm-only / watch-only points")
    net = network.build(None)
    outfalls = [{"district": o.district, "water_level_m": o.normal_level_m} for o in net.outfalls.values()]
    for p in PERIODS:
        rain = storm.chicago(p, 120, 0.4, 5)
        raw = _run(net, rain, _normal(net), 180)
        c = compare.against_watch(net, raw, rain, outfalls, 180, drainage().flood_depth_m)
        only_s = [r["watch_point"] for r in c["points"] if r["swmm_flooded"] and not r["watch_flooded"]]
        only_w = [r["watch_point"] for r in c["points"] if r["watch_flooded"] and not r["swmm_flooded"]]
        print(f"   {p:<4} {c['both']:>4} {c['swmm_only']:>10} {c['watch_only']:>11} {c['neither']:>8} "
              f"{c['agreement']:>10}   {','.join(only_s) or '—'} / {','.join(only_w) or '—'}")


def lead_time() -> None:
    plan = simulator.Plan(scenario="rainstorm")
    total_min = plan.duration * plan.speed / 60
    print(f"3. Lead time on the simulator's rainstorm scenario ({total_min:.0f} simulated minutes, riverside districts):")

    def strength(minute: float) -> float:
        return simulator.storm(simulator.Moment(minute / total_min, 8.0, "rainstorm", None))

    # the ponding sensors at the low-lying districts' watch points read 0.55 m × strength
    observed = next(m for m in range(int(total_min) + 1) if 0.55 * strength(m) >= drainage().flood_depth_m)
    net = network.build(simulator.LOW_LYING)
    points = [n for n in net.nodes.values() if n.watch_point]
    first_swmm: dict[str, int] = {}
    first_watch: dict[str, int] = {}
    plan_d = drainage()
    for minute in range(0, int(total_min) + 1, 5):
        intensity = 80.0 * strength(minute)
        river = 1.25 + 2.4 * strength(minute)
        rain = storm.steady(intensity, 60, 5, "gauges")
        raw = _run(net, rain, {o.id: river for o in net.outfalls.values()}, 60)
        for n in points:
            if raw["nodes"][n.id]["max_depth_m"] >= plan_d.flood_depth_m:
                first_swmm.setdefault(n.watch_point, minute)
            point = next(p for p in plan_d.points if p.id == n.watch_point)
            backwater = point.outfall_level_m is not None and river >= point.outfall_level_m
            depth, _ = compare.mass_balance(point, rain, backwater, 60)
            if depth >= plan_d.flood_depth_m:
                first_watch.setdefault(n.watch_point, minute)
    print(f"   ponding sensors read 15 cm at minute {observed}")
    for n in points:
        s, w = first_swmm.get(n.watch_point), first_watch.get(n.watch_point)
        lead = "—" if s is None else f"{observed - s:+d} min"
        wlead = "—" if w is None else f"{observed - w:+d} min"
        print(f"   {n.place:14s} SWMM first flags at {s if s is not None else '—'} → lead {lead}; "
              f"watch (rain only) at {w if w is not None else '—'} → lead {wlead}")


def job_wall_time() -> None:
    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        deactivate = slices.activate()
        set_city_loader(ensure_city)
        t = time.perf_counter()
        open_city(Path(tmp))
        print(f"4. A whole job (demo city loaded in {time.perf_counter() - t:.0f} s):")
        for params in ({"return_period": 50, "duration_min": 120},
                       {"return_period": 50, "duration_min": 120, "district": "jiangbin"}):
            t = time.perf_counter()
            job = jobs.create("flood", dict(params), "bench")
            done = jobs.wait(job["id"], 300, poll_s=0.05)
            wall = time.perf_counter() - t
            r = done["result"] or {}
            print(f"   {params.get('district', 'whole city'):10s} {done['status']}: {wall:.2f} s from request to "
                  f"result ({len(r.get('flooded', []))} flooded places, {len(r.get('forecast_entities', []))} "
                  f"twin entities)")
        deactivate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-job", action="store_true", help="skip the whole-job timing (no demo city)")
    args = parser.parse_args()
    wall_times(args.repeat)
    agreement()
    lead_time()
    if not args.no_job:
        job_wall_time()
    return 0


if __name__ == "__main__":
    sys.exit(main())
