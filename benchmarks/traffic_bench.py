"""Corridor signal-timing benchmark (Eclipse SUMO, `hub/sim/traffic*.py`).

    .venv/bin/python benchmarks/traffic_bench.py [--corridor 解放大道 …] [--period am|pm] [--measured-s 3600]

For each corridor: the peak hour (weekday mean counts of the data pack's `traffic_flow_hourly`, read
through the data hub) is simulated twice with the same vehicles — under the plan running now
(demo-city assumption: Webster timings for the off-peak flows, not coordinated) and under the
optimised plan (Webster for the peak flows on the critical cycle, green wave in the peak direction)
— in one `traffic_sumo.run` (the two SUMO processes side by side), as a job runs it but in this
process (no job machinery, no time limit). Prints travel time along the corridor, delay, queue and
throughput before and after, the wall time of network building + both simulations and the CPU time
the SUMO processes used (what the wall time would be, per process, on an idle core). `--json`
prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from aicity.hub.sim import traffic, traffic_sumo


def bench(corridor: str, period: str, measured_s: int) -> dict:
    params = {"corridor": corridor, "period": period, "optimize": True, "measured_s": measured_s}
    started = time.perf_counter()
    payload = traffic.prepare(params)
    prepared = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    raw = traffic_sumo.run(payload, lambda fraction, message: None)
    done = time.perf_counter()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"corridor": corridor, "demand": payload["demand"], "cycle_s": payload["plans"]["after"]["cycle_s"],
            "crossings": len(payload["corridor"]["crossings"]), "length_m": payload["corridor"]["length_m"],
            "vehicles": raw["vehicles"], "before": raw["runs"]["before"], "after": raw["runs"]["after"],
            "prepare_s": round(prepared - started, 2), "simulate_s": round(done - prepared, 1),
            "sumo_cpu_s": round(used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corridor", action="append", help="干道（可重复；默认 解放大道）")
    ap.add_argument("--period", default="am", choices=("am", "pm"))
    ap.add_argument("--measured-s", type=int, default=3600)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [bench(c, args.period, args.measured_s) for c in args.corridor or ["解放大道"]]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    print(f"cpus: {os.cpu_count()}  load: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for r in rows:
        d = r["demand"]
        print(f"\n{r['corridor']} {d['period_label']} {d['hour']:02d}:00 {d['peak_veh_h']}  {r['length_m'] / 1000:.1f} km, "
              f"{r['crossings']} signals, {r['vehicles']} vehicles, optimised cycle {r['cycle_s']} s")
        print(f"{'':24}{'before':>12}{'after':>12}")
        for key, label, scale in (("travel_time_s", "travel time (min)", 60), ("corridor_delay_s", "corridor delay (s)", 1),
                                  ("delay_s", "delay, all (s)", 1), ("queue_m", "queue (m)", 1),
                                  ("corridor_queue_m", "corridor queue (m)", 1),
                                  ("max_queue_m", "longest queue (m)", 1), ("throughput_veh_h", "throughput (veh/h)", 1),
                                  ("unfinished", "unfinished", 1), ("undeparted", "not entered", 1),
                                  ("teleports", "teleports", 1)):
            b, a = r["before"][key], r["after"][key]
            print(f"{label:24}{b / scale:>12.1f}{a / scale:>12.1f}")
        for name in ("forward", "backward"):
            b, a = (r[k]["travel_time_by_direction_s"][name] for k in ("before", "after"))
            print(f"{'  ' + name + ' (min)':24}{b / 60:>12.1f}{a / 60:>12.1f}")
        print(f"wall time: prepare {r['prepare_s']} s, netconvert + both simulations {r['simulate_s']} s "
              f"(CPU time of netconvert + the two SUMO processes: {r['sumo_cpu_s']} s)")


if __name__ == "__main__":
    main()
