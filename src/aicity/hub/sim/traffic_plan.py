"""Signal plans for a corridor (干道信号配时): the movements at each crossing from the counted corridor
volumes, Webster's optimal cycle and green split per crossing, and a green wave along the corridor.

Movements (demo-city assumptions of `demo/data/sim/traffic.yaml`): a cross road's approach carries
its class's volume (scaled with the corridor's counts for other hours) and turns left, through and
right in the stated shares; the corridor's vehicles turn off at each crossing as many as turn on
(half left, half right), so the counted volume holds along the whole corridor.

Webster (Road Research Technical Paper 39, 1958): per phase the critical flow ratio y = q / s of its
most loaded lane group; Y = Σy; lost time L = n × (yellow + all-red); C0 = (1.5 L + 5) / (1 − Y),
kept within [min, max] (the longest cycle where Y ≥ y_max: Webster's formula does not hold for an
oversaturated crossing); the effective green C − L split in proportion to y, each phase at least its
minimum green.

Coordination: every crossing on the critical (longest) cycle, each its own split, and the start of
the corridor's green offset by the travel time from the first crossing at the progression speed, in
the peak direction (a one-way green wave: the heavier direction's platoons meet green after green).
"""

from __future__ import annotations

import math
from typing import Any

PHASES = ("through", "left", "cross")
PHASE_LABELS = {"through": "主路直行右转", "left": "主路左转", "cross": "横向道路"}


def movements(corridor: dict[str, Any], volumes: dict[str, float], conf: dict[str, Any],
              cross_scale: float = 1.0) -> list[dict[str, Any]]:
    """Per crossing, veh/h: the corridor's approach volume, its left and right turns in each direction
    (`forward`, `backward`), and each cross road approach (`a`: left of forward, `b`: right) with its
    left, through and right volumes."""
    turning = conf["cross_roads"]["turning"]
    out = []
    for c in corridor["crossings"]:
        side = conf["cross_roads"][c["kind"]]["peak_veh_h"] * cross_scale
        a = {m: side * turning[m] for m in ("left", "through", "right")}
        b = dict(a)
        # onto forward: a's left and b's right; onto backward: a's right and b's left
        on = {"forward": a["left"] + b["right"], "backward": a["right"] + b["left"]}
        dirs = {}
        for d in ("forward", "backward"):
            v = float(volumes[d])
            off = min(on[d], 0.5 * v)
            dirs[d] = {"volume": v, "left": off / 2, "right": off / 2, "through": v - off}
        out.append({"id": c["id"], "forward": dirs["forward"], "backward": dirs["backward"], "a": a, "b": b})
    return out


def flow_ratios(move: dict[str, Any], corridor: dict[str, Any], crossing: dict[str, Any],
                conf: dict[str, Any]) -> dict[str, float]:
    """The critical flow ratio y of each phase at a crossing."""
    sig = conf["signals"]
    s, s_left = float(sig["saturation_veh_h"]), float(sig["saturation_left_veh_h"])
    through_lanes = corridor["lanes"] - 1
    return {
        "through": max((move[d]["through"] + move[d]["right"]) / (through_lanes * s) for d in ("forward", "backward")),
        "left": max(move[d]["left"] for d in ("forward", "backward")) / s_left,
        "cross": max(sum(move[k].values()) for k in ("a", "b")) / (crossing["lanes"] * s),
    }


def lost_time(conf: dict[str, Any]) -> float:
    return len(PHASES) * float(conf["signals"]["lost_per_phase_s"])


def webster_cycle(y: dict[str, float], conf: dict[str, Any]) -> float:
    """C0 = (1.5 L + 5) / (1 − Y), within the configured bounds; the longest cycle when Y ≥ y_max."""
    sig = conf["signals"]
    lo, hi = float(sig["cycle_s"]["min"]), float(sig["cycle_s"]["max"])
    total = sum(y.values())
    if total >= float(sig["y_max"]):
        return hi
    return min(max((1.5 * lost_time(conf) + 5) / (1 - total), lo), hi)


def split(y: dict[str, float], cycle: float, conf: dict[str, Any]) -> dict[str, int]:
    """Whole-second greens: C − L in proportion to y, every phase at least its minimum."""
    minimum = {p: float(conf["signals"]["min_green_s"][p]) for p in PHASES}
    available = cycle - lost_time(conf)
    fixed: dict[str, float] = {}
    while True:
        free = [p for p in PHASES if p not in fixed]
        rest = available - sum(fixed.values())
        weight = sum(y[p] for p in free) or float(len(free))
        share = {p: rest * ((y[p] if sum(y[q] for q in free) else 1.0) / weight) for p in free}
        short = [p for p in free if share[p] < minimum[p]]
        if not short:
            break
        for p in short:
            fixed[p] = minimum[p]
    greens = {**fixed, **share}
    out = {p: int(math.floor(greens[p])) for p in PHASES}
    # the seconds lost to rounding go to the phases with the largest remainders
    for p in sorted(PHASES, key=lambda q: greens[q] - out[q], reverse=True)[:int(round(available)) - sum(out.values())]:
        out[p] += 1
    return out


def _round_up(value: float, step: int = 5) -> int:
    return int(math.ceil(value / step) * step)


def plan(corridor: dict[str, Any], moves: list[dict[str, Any]], conf: dict[str, Any], coordinate: bool,
         peak: str | None = None) -> dict[str, Any]:
    """A signal plan for every crossing: isolated Webster timings (each its own cycle, offset 0), or
    coordinated (the critical cycle for all, offsets for a green wave in the `peak` direction)."""
    sig = conf["signals"]
    rows = []
    for crossing, move in zip(corridor["crossings"], moves, strict=True):
        y = flow_ratios(move, corridor, crossing, conf)
        rows.append({"id": crossing["id"], "name": crossing["name"], "y": {p: round(v, 3) for p, v in y.items()},
                     "Y": round(sum(y.values()), 3), "c0_s": round(webster_cycle(y, conf), 1),
                     "oversaturated": sum(y.values()) >= float(sig["y_max"])})
    out: dict[str, Any] = {"method": "webster+green-wave" if coordinate else "webster-isolated",
                           "lost_time_s": lost_time(conf), "yellow_s": sig["yellow_s"], "all_red_s": sig["all_red_s"],
                           "saturation_veh_h": sig["saturation_veh_h"], "phases": list(PHASES)}
    if coordinate:
        cycle = min(_round_up(max(r["c0_s"] for r in rows)), int(sig["cycle_s"]["max"]))
        speed = float(sig["progression_kmh"]) / 3.6
        positions = [c["pos_m"] for c in corridor["crossings"]]
        origin = positions[0] if peak == "forward" else positions[-1]
        for r, pos in zip(rows, positions, strict=True):
            r["cycle_s"] = cycle
            r["offset_s"] = int(round(abs(pos - origin) / speed)) % cycle
        out.update({"cycle_s": cycle, "progression_kmh": sig["progression_kmh"], "peak_direction": peak,
                    "critical": max(rows, key=lambda r: r["c0_s"])["id"]})
    else:
        for r in rows:
            r["cycle_s"] = _round_up(r["c0_s"])
            r["offset_s"] = 0
    for r in rows:
        r["greens_s"] = split(r["y"], r["cycle_s"], conf)
    out["crossings"] = rows
    return out
