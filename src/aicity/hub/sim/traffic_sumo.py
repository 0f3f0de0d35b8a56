"""One corridor simulation on Eclipse SUMO, in the job's own process (`hub/sim/jobs.py` starts it).

`run(payload, progress)` writes the corridor as plain XML nodes, edges and connections and builds the
network with `netconvert` (a traffic light at each crossing); writes the same vehicles for both runs
(Poisson arrivals per route, seeded, from the movements of `traffic_plan.py`); runs `sumo` once per
signal plan (`before`: the plan running now; `after`: the optimised one) with its phases written as a
static `tlLogic`; and reads the runs' trip and queue outputs over the measured hour (after a warm-up):

- `travel_time_s`: the mean time from one end of the corridor to the other (both directions, and
  per direction), the wait to enter the network included;
- `delay_s`: the mean delay of every vehicle (SUMO's time loss against driving at the desired speed,
  plus the wait to enter);
- `queue_m`: the mean over the signalised approaches of each one's longest queue in the hour
  (`corridor_queue_m`: over the corridor's own approaches; `max_queue_m`: the longest anywhere);
- `throughput_veh_h`: vehicles that finished their trip in the measured hour.

The network is in corridor coordinates: x along the corridor from its start, the cross roads along
y (`a` on the left of the forward direction, `b` on the right). SUMO runs as a child process that the
kernel kills when this process dies (a cancelled or timed-out job leaves no SUMO behind).
"""

from __future__ import annotations

import random
import re
import subprocess
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import sumo

from aicity.hub.sim.runner import die_with_parent

Progress = Callable[[float, str], None]
BIN = Path(sumo.SUMO_HOME) / "bin"
_STEP = re.compile(rb"Step #(\d+)")


class SumoFailed(RuntimeError):
    """netconvert or sumo refused the model or failed; the message is theirs."""


# --- the network ----------------------------------------------------------------------------------

def _nodes(corridor: dict[str, Any]) -> list[str]:
    return ["S", *(c["id"] for c in corridor["crossings"]), "E"]


def network_xml(corridor: dict[str, Any]) -> tuple[str, str, str]:
    """(nodes, edges, connections) as netconvert's plain XML."""
    ids = _nodes(corridor)
    xs = [0.0, *(c["pos_m"] for c in corridor["crossings"]), corridor["length_m"]]
    lanes, speed = corridor["lanes"], corridor["speed_kmh"] / 3.6
    nodes = ['<node id="S" x="0" y="0" type="priority"/>', f'<node id="E" x="{xs[-1]}" y="0" type="priority"/>']
    edges = []
    for i in range(len(ids) - 1):
        edges.append(f'<edge id="F{i}" from="{ids[i]}" to="{ids[i + 1]}" numLanes="{lanes}" speed="{speed:.2f}"/>')
        edges.append(f'<edge id="B{i}" from="{ids[i + 1]}" to="{ids[i]}" numLanes="{lanes}" speed="{speed:.2f}"/>')
    cons = []
    inner = lanes - 2
    for k, c in enumerate(corridor["crossings"], 1):
        j, m, x, d = c["id"], c["lanes"], c["pos_m"], c["approach_m"]
        v = c["speed_kmh"] / 3.6
        nodes.append(f'<node id="{j}" x="{x}" y="0" type="traffic_light" tl="{j}"/>')
        nodes.append(f'<node id="{j}a" x="{x}" y="{d}" type="priority"/>')
        nodes.append(f'<node id="{j}b" x="{x}" y="{-d}" type="priority"/>')
        for s in ("a", "b"):
            edges.append(f'<edge id="{j}{s}i" from="{j}{s}" to="{j}" numLanes="{m}" speed="{v:.2f}"/>')
            edges.append(f'<edge id="{j}{s}o" from="{j}" to="{j}{s}" numLanes="{m}" speed="{v:.2f}"/>')
        f_in, f_out, b_in, b_out = f"F{k - 1}", f"F{k}", f"B{k}", f"B{k - 1}"
        for src, dst, right, left in ((f_in, f_out, f"{j}bo", f"{j}ao"), (b_in, b_out, f"{j}ao", f"{j}bo")):
            cons += [f'<connection from="{src}" to="{dst}" fromLane="{n}" toLane="{n}"/>' for n in range(lanes - 1)]
            cons.append(f'<connection from="{src}" to="{right}" fromLane="0" toLane="0"/>')
            cons.append(f'<connection from="{src}" to="{left}" fromLane="{lanes - 1}" toLane="{m - 1}"/>')
        # a: left onto forward, right onto backward; b: left onto backward, right onto forward
        for src, through, left, right in ((f"{j}ai", f"{j}bo", f_out, b_out), (f"{j}bi", f"{j}ao", b_out, f_out)):
            cons += [f'<connection from="{src}" to="{through}" fromLane="{n}" toLane="{n}"/>' for n in range(m)]
            cons.append(f'<connection from="{src}" to="{left}" fromLane="{m - 1}" toLane="{inner}"/>')
            cons.append(f'<connection from="{src}" to="{right}" fromLane="0" toLane="0"/>')
    return (f"<nodes>{''.join(nodes)}</nodes>", f"<edges>{''.join(edges)}</edges>",
            f"<connections>{''.join(cons)}</connections>")


def _run(args: list[str], cwd: Path, progress: Callable[[int], None] | None = None) -> str:
    """Run a SUMO tool; its stdout and stderr (the error's text when it fails)."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_parent)  # noqa: PLW1509 — only prctl, before exec
    assert proc.stdout is not None
    out = bytearray()
    while chunk := proc.stdout.read1(4096):
        out += chunk
        if progress and (steps := _STEP.findall(chunk)):
            progress(int(steps[-1]))
    if proc.wait() != 0:
        text = out.decode("utf-8", errors="replace")
        errors = [line for line in text.splitlines() if "Error" in line] or text.splitlines()[-5:]
        raise SumoFailed(f"{Path(args[0]).name} 失败 failed: {'; '.join(errors)[:1000]}")
    return out.decode("utf-8", errors="replace")


def build_network(corridor: dict[str, Any], folder: Path) -> Path:
    nod, edg, con = network_xml(corridor)
    for name, text in (("corridor.nod.xml", nod), ("corridor.edg.xml", edg), ("corridor.con.xml", con)):
        (folder / name).write_text(text, encoding="utf-8")
    _run([str(BIN / "netconvert"), "-n", "corridor.nod.xml", "-e", "corridor.edg.xml", "-x", "corridor.con.xml",
          "-o", "corridor.net.xml", "--no-turnarounds", "--tls.default-type", "static", "--no-warnings",
          "--offset.disable-normalization"], folder)
    return folder / "corridor.net.xml"


# --- the signal programs ----------------------------------------------------------------------------

def links(net: Path) -> dict[str, list[str]]:
    """Per traffic light, each link's phase by its link index: through, left, cross (cross_left: the
    cross road's left turn, permitted in its phase, yielding to the oncoming through traffic)."""
    out: dict[str, dict[int, str]] = {}
    for con in ET.parse(net).getroot().iter("connection"):
        tl = con.get("tl")
        if tl is None:
            continue
        side = not con.get("from", "").startswith(("F", "B"))
        left = con.get("dir") in ("l", "L")
        phase = ("cross_left" if left else "cross") if side else ("left" if left else "through")
        out.setdefault(tl, {})[int(con.get("linkIndex", "0"))] = phase
    return {tl: [by[i] for i in range(len(by))] for tl, by in out.items()}


def program(link_phases: list[str], greens: dict[str, int], yellow: int, all_red: int) -> list[tuple[int, str]]:
    """The phases as (duration, state): each phase's green, its yellow, an all-red."""
    phases = []
    for p in ("through", "left", "cross"):
        green = "".join("G" if lp == p else "g" if lp == f"{p}_left" else "r" for lp in link_phases)
        phases.append((greens[p], green))
        phases.append((yellow, "".join("y" if lp.startswith(p) else "r" for lp in link_phases)))
        phases.append((all_red, "r" * len(link_phases)))
    return phases


def tls_xml(plan: dict[str, Any], link_phases: dict[str, list[str]], program_id: str) -> str:
    parts = []
    for r in plan["crossings"]:
        phases = program(link_phases[r["id"]], r["greens_s"], int(plan["yellow_s"]), int(plan["all_red_s"]))
        body = "".join(f'<phase duration="{d}" state="{s}"/>' for d, s in phases)
        parts.append(f'<tlLogic id="{r["id"]}" type="static" programID="{program_id}" offset="{r["offset_s"]}">'
                     f"{body}</tlLogic>")
    return f"<additional>{''.join(parts)}</additional>"


# --- the demand -------------------------------------------------------------------------------------

def routes(corridor: dict[str, Any], moves: list[dict[str, Any]]) -> list[tuple[str, list[str], float, str]]:
    """(id, edges, veh/h, kind) of every route: `through` end to end, `corridor` on and off it, `cross`."""
    n = len(corridor["crossings"])
    ids = [c["id"] for c in corridor["crossings"]]
    out: list[tuple[str, list[str], float, str]] = []

    def along(direction: str, enter: int, rate: float, first: str, kind: str) -> None:
        """Vehicles on the corridor after crossing `enter` (0: the start/end) leaving at a later crossing
        (turning off left or right) or at the far end."""
        order = list(range(enter + 1, n + 1)) if direction == "forward" else list(range(n - enter, 0, -1))
        path = [first]
        stay = rate
        for k in order:
            m = moves[k - 1][direction]
            p_left, p_right = m["left"] / m["volume"], m["right"] / m["volume"]
            j = ids[k - 1]
            left, right = (f"{j}ao", f"{j}bo") if direction == "forward" else (f"{j}bo", f"{j}ao")
            for turn, p, out_edge in (("L", p_left, left), ("R", p_right, right)):
                if stay * p > 0:
                    out.append((f"{first}_{j}{turn}", [*path, out_edge], stay * p, kind))
            stay *= 1 - p_left - p_right
            path.append(f"F{k}" if direction == "forward" else f"B{k - 1}")
        out.append((f"{first}_end", path, stay, "through" if kind == "entry" else kind))

    along("forward", 0, moves[0]["forward"]["volume"], "F0", "entry")
    along("backward", 0, moves[-1]["backward"]["volume"], f"B{n}", "entry")
    for k, (j, m) in enumerate(zip(ids, moves, strict=True), 1):
        out.append((f"{j}a_x", [f"{j}ai", f"{j}bo"], m["a"]["through"], "cross"))
        out.append((f"{j}b_x", [f"{j}bi", f"{j}ao"], m["b"]["through"], "cross"))
        # onto the corridor: the vehicle's first corridor edge is the one leaving this crossing
        fwd = [(f"{j}ai", m["a"]["left"]), (f"{j}bi", m["b"]["right"])]
        bwd = [(f"{j}ai", m["a"]["right"]), (f"{j}bi", m["b"]["left"])]
        for side, rate in fwd:
            _onto(out, along, "forward", k, n, side, rate)
        for side, rate in bwd:
            _onto(out, along, "backward", k, n, side, rate)
    return [r for r in out if r[2] > 0]


def _onto(out: list[tuple[str, list[str], float, str]], along: Callable[..., None], direction: str, k: int, n: int,
          side: str, rate: float) -> None:
    """Routes of vehicles turning from a cross road onto the corridor at crossing k."""
    start = len(out)
    first = f"F{k}" if direction == "forward" else f"B{k - 1}"
    along(direction, k if direction == "forward" else n - k + 1, rate, first, "corridor")
    for i in range(start, len(out)):
        rid, edges, vph, kind = out[i]
        out[i] = (f"{side}_{rid}", [side, *edges], vph, "corridor")


def vehicles(route_list: list[tuple[str, list[str], float, str]], until_s: float, seed: int) -> list[tuple[float, str]]:
    """(depart, route id) of every vehicle: Poisson arrivals per route, seeded (the same for both plans)."""
    rng = random.Random(seed)
    out = []
    for rid, _, vph, _ in route_list:
        t = rng.expovariate(vph / 3600.0)
        while t < until_s:
            out.append((round(t, 1), rid))
            t += rng.expovariate(vph / 3600.0)
    return sorted(out)


def _tag(rid: str, kind: str) -> str:
    """The vehicle id's prefix: `fwd` / `bwd` for end-to-end trips (the corridor's travel time), else `v`."""
    if kind != "through":
        return "v"
    return "fwd" if rid.startswith("F") else "bwd"


def routes_xml(route_list: list[tuple[str, list[str], float, str]], departures: list[tuple[float, str]]) -> str:
    head = ['<routes><vType id="car" vClass="passenger"/>']
    head += [f'<route id="{rid}" edges="{" ".join(edges)}"/>' for rid, edges, _, _ in route_list]
    tag = {rid: _tag(rid, kind) for rid, _, _, kind in route_list}
    body = [f'<vehicle id="{tag[rid]}.{i}" type="car" route="{rid}" depart="{t}" departLane="best" '
            f'departSpeed="max"/>' for i, (t, rid) in enumerate(departures)]
    return "".join(head + body) + "</routes>"


# --- running and reading ------------------------------------------------------------------------------

def _simulate(folder: Path, name: str, sim: dict[str, Any], progress: Callable[[int], None]) -> None:
    end = sim["warmup_s"] + sim["measured_s"] + sim["drain_s"]
    _run([str(BIN / "sumo"), "-n", "corridor.net.xml", "-r", "routes.rou.xml", "-a", f"{name}.tll.xml",
          "--begin", "0", "--end", str(end), "--seed", str(sim["seed"]), "--no-warnings",
          "--time-to-teleport", str(sim["time_to_teleport_s"]), "--step-log.period", "60",
          "--tripinfo-output", f"{name}.trips.xml", "--tripinfo-output.write-unfinished",
          "--tripinfo-output.write-undeparted",
          "--queue-output", f"{name}.queue.xml", "--queue-output.aggregation", "60",
          "--statistic-output", f"{name}.stats.xml"], folder, progress)


def measure(folder: Path, name: str, sim: dict[str, Any], approaches: set[str], departs: list[float]
            ) -> dict[str, Any]:
    """The run's figures over the measured hour (vehicles due to depart in it; queues during it).
    `departs`: each vehicle's intended departure (by the number in its id)."""
    lo, hi = sim["warmup_s"], sim["warmup_s"] + sim["measured_s"]
    end = hi + sim["drain_s"]
    through: dict[str, list[float]] = {"forward": [], "backward": []}
    delays, corridor_delays, unfinished, undeparted, finished_in_hour = [], [], 0, 0, 0
    for trip in ET.parse(folder / f"{name}.trips.xml").getroot().iter("tripinfo"):
        arrival = float(trip.get("arrival", "-1"))
        if lo <= arrival < hi:
            finished_in_hour += 1
        tag, _, number = trip.get("id", "").partition(".")
        start = departs[int(number)]
        if not lo <= start < hi:
            continue
        depart = float(trip.get("depart", "-1"))
        unfinished += arrival < 0 and depart >= 0
        undeparted += depart < 0
        # a vehicle still waiting to enter at the end has waited until then (a lower bound, as for unfinished ones)
        wait = float(trip.get("departDelay", "0")) if depart >= 0 else end - start
        delay = float(trip.get("timeLoss", "0")) + wait
        delays.append(delay)
        if tag in ("fwd", "bwd"):
            corridor_delays.append(delay)
            through["forward" if tag == "fwd" else "backward"].append(float(trip.get("duration", "0")) + wait)
    queues: dict[str, float] = {}
    for interval in ET.parse(folder / f"{name}.queue.xml").getroot().iter("interval"):
        begin = float(interval.get("begin", "0"))
        if not lo <= begin < hi:
            continue
        for edge in interval.iter("edge"):
            edge_id = edge.get("id", "")
            if edge_id in approaches:
                queues[edge_id] = max(queues.get(edge_id, 0.0), float(edge.get("maxQueueLengthInMeters", "0")))
    on_corridor = [e for e in approaches if e.startswith(("F", "B"))]
    both = through["forward"] + through["backward"]
    stats = ET.parse(folder / f"{name}.stats.xml").getroot()
    teleports = stats.find("teleports")
    return {
        "travel_time_s": round(sum(both) / len(both), 1) if both else None,
        "travel_time_by_direction_s": {d: round(sum(v) / len(v), 1) if v else None for d, v in through.items()},
        "delay_s": round(sum(delays) / len(delays), 1) if delays else None,
        "corridor_delay_s": round(sum(corridor_delays) / len(corridor_delays), 1) if corridor_delays else None,
        "queue_m": round(sum(queues.values()) / len(approaches), 1) if approaches else 0.0,
        "corridor_queue_m": round(sum(queues.get(e, 0.0) for e in on_corridor) / len(on_corridor), 1) if on_corridor else 0.0,
        "max_queue_m": round(max(queues.values(), default=0.0), 1),
        "throughput_veh_h": round(finished_in_hour * 3600 / sim["measured_s"]),
        "vehicles": len(delays), "unfinished": unfinished, "undeparted": undeparted,
        "teleports": int(teleports.get("total", "0")) if teleports is not None else 0,
    }



def approaches(corridor: dict[str, Any]) -> set[str]:
    """The signalised approaches' edges: the corridor's into each crossing, and the cross roads'."""
    out = set()
    for k, c in enumerate(corridor["crossings"], 1):
        out |= {f"F{k - 1}", f"B{k}", f"{c['id']}ai", f"{c['id']}bi"}
    return out


def run(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Build the corridor, simulate it under each plan in `payload["plans"]` (in order) with the same
    vehicles, and return each plan's figures."""
    corridor, moves, sim = payload["corridor"], payload["moves"], payload["simulation"]
    plans: dict[str, Any] = payload["plans"]
    end = sim["warmup_s"] + sim["measured_s"] + sim["drain_s"]
    with tempfile.TemporaryDirectory(prefix="aicity-sumo-") as tmp:
        folder = Path(tmp)
        progress(0.02, "生成路网（netconvert）")
        net = build_network(corridor, folder)
        link_phases = links(net)
        route_list = routes(corridor, moves)
        departures = vehicles(route_list, sim["warmup_s"] + sim["measured_s"], int(sim["seed"]))
        (folder / "routes.rou.xml").write_text(routes_xml(route_list, departures), encoding="utf-8")
        progress(0.05, f"生成需求：{len(departures)} 辆车，{len(route_list)} 条路径")
        out: dict[str, Any] = {"vehicles": len(departures), "routes": len(route_list), "runs": {}}
        done = dict.fromkeys(plans, 0)
        lock = threading.Lock()
        labels = "、".join(payload.get("labels", {}).get(name, name) for name in plans)

        def step(name: str, t: int) -> None:
            with lock:
                done[name] = t
                share = sum(min(v / end, 1.0) for v in done.values()) / len(done)
                progress(0.05 + 0.9 * share, f"仿真：{labels}（{min(done.values()) // 60} / {end // 60} 分钟）")

        for name, plan in plans.items():
            (folder / f"{name}.tll.xml").write_text(tls_xml(plan, link_phases, name), encoding="utf-8")
        # the plans run side by side, one SUMO process each
        with ThreadPoolExecutor(max_workers=len(plans)) as pool:
            for future in [pool.submit(_simulate, folder, name, sim, partial(step, name)) for name in plans]:
                future.result()
        for name in plans:
            out["runs"][name] = measure(folder, name, sim, approaches(corridor), [t for t, _ in departures])
        progress(0.97, "读取结果")
        return out
