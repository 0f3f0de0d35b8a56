"""The demo city's drainage network for EPA SWMM, generated from the city's own data.

Per district (each drains on its own, to its own outfall):
- an outfall (`demo/data/sim/drainage_network.yaml`) to its river or lake, and a trunk junction;
- each road of the gazetteer in the district: `road_nodes` junctions along it (far end → near
  end, as seen from the outfall), each draining a stretch of a corridor `corridor_width_m` wide;
  the road sewer runs along them and on to the trunk junction;
- each waterlogging watch point (易涝点, `waterlogging.yaml`): a junction at the low point with its
  own catchment (area, runoff coefficient ψ) and ponding area, connected to the nearest junction
  of its road by a lateral sized for its design return period — the same capacity the watch's
  mass balance assumes (`capacity_mm_h`).

Every pipe is sized by the rational method (Q = ψ·q·F with the storm formula at the inlet time
plus the travel time at `design_velocity_m_s`) for its district's design return period (the
highest of its watch points'), Manning full-pipe flow at its slope. Inverts rise from the outfall
at the pipes' slopes; ground lies `cover_m` above the pipe crown. Junctions allow ponding: water
above the ground spreads over the ponding area, so its depth there is the road's water depth.
Every parameter not in the city's data is a DEMO-CITY ASSUMPTION (see the YAML file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from aicity.hub.geo.drainage import drainage
from aicity.hub.geo.gazetteer import District, districts, gazetteer
from aicity.hub.twin.query import distance_m

KIND_LABELS = {"underpass": "下穿通道", "bridge": "桥下", "low_road": "低洼路段", "road": "道路", "trunk": "干管"}
STRETCH_LABELS = ("远端", "中段", "近端")


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # underpass | bridge | low_road (watch points), road, trunk, outfall
    district: str
    place: str
    road: str | None
    lat: float
    lon: float
    invert_m: float
    max_depth_m: float
    ponded_area_m2: float
    #: the watch point it stands for, if any
    watch_point: str | None = None

    @property
    def ground_m(self) -> float:
        return self.invert_m + self.max_depth_m


@dataclass(frozen=True)
class Conduit:
    id: str
    upstream: str
    downstream: str
    length_m: float
    diameter_m: float
    design_flow_m3_s: float


@dataclass(frozen=True)
class Catchment:
    id: str
    outlet: str
    area_ha: float
    imperv_pct: float
    lat: float
    lon: float


@dataclass(frozen=True)
class Outfall:
    id: str
    district: str
    water: str
    lat: float
    lon: float
    invert_m: float
    #: the crown of the outfall pipe: above it the outfall is submerged
    crown_m: float
    normal_level_m: float | None


@dataclass
class Network:
    nodes: dict[str, Node] = field(default_factory=dict)
    conduits: list[Conduit] = field(default_factory=list)
    catchments: list[Catchment] = field(default_factory=list)
    outfalls: dict[str, Outfall] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {"junctions": len(self.nodes), "conduits": len(self.conduits), "subcatchments": len(self.catchments),
                "outfalls": len(self.outfalls),
                "watch_points": sum(1 for n in self.nodes.values() if n.watch_point)}


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    """The model's assumptions (`demo/data/sim/drainage_network.yaml`), read once per process."""
    path = resources.files("aicity") / "demo" / "data" / "sim" / "drainage_network.yaml"
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _diameter(flow_m3_s: float, slope: float, n: float) -> float:
    """The circular pipe that carries `flow_m3_s` full (Manning): Q = (1/n)·(π/4)·D²·(D/4)^(2/3)·√S."""
    k = math.pi / 4 * 4 ** (-2 / 3) / n * math.sqrt(slope)
    return round(max((flow_m3_s / k) ** (3 / 8), 0.3), 3)


def _design_flow(psi_area_ha: float, period: float, minutes: float) -> float:
    """Σψ·F (ha) · q(P, t) → m³/s."""
    q = drainage().formula.intensity_mm_h(period, minutes) / 0.36  # L/(s·ha)
    return psi_area_ha * q / 1000


def _imperv_pct(psi: float, p: dict[str, Any]) -> float:
    share = (psi - p["psi_perv"]) / (p["psi_imperv"] - p["psi_perv"])
    return round(min(max(share, 0.0), 1.0) * 100, 1)


@dataclass
class _Reach:
    """A node's drainage while the tree is sized: ψ·F upstream, the longest inlet + travel time."""

    psi_area_ha: float = 0.0
    minutes: float = 0.0


def build(district_ids: tuple[str, ...] | None = None) -> Network:
    """The network of the districts named (default: the whole city)."""
    p = parameters()
    net = Network()
    for d in districts():
        if district_ids is None or d.id in district_ids:
            _district(net, d, p)
    return net


def _district(net: Network, d: District, p: dict[str, Any]) -> None:
    spec = p["outfalls"][d.id]
    points = [w for w in drainage().points if w.district == d.id]
    period = max((w.design_period_years for w in points), default=2.0)
    here = (spec["lon"], spec["lat"])
    roads = [r for r in gazetteer().roads.values() if r.district == d.id]
    v, n_man = p["design_velocity_m_s"], p["manning_n"]
    s_sewer, s_lat = p["slope"]["sewer"], p["slope"]["lateral"]

    # 1. the tree: junction positions, which drains to which, lengths; catchments per junction
    position: dict[str, tuple[float, float]] = {}
    downstream: dict[str, str] = {}
    meta: dict[str, dict[str, Any]] = {}
    local: dict[str, tuple[float, float, float]] = {}  # node → (area ha, ψ, inlet minutes)
    trunk = f"T-{d.id}"
    position[trunk] = here
    meta[trunk] = {"kind": "trunk", "place": f"{d.name}排水干管", "road": None, "area": 0.0, "wp": None}
    stretches = p["road_nodes"]
    for ri, road in enumerate(roads, 1):
        ends = [(road.start[1], road.start[0]), (road.end[1], road.end[0])]  # (lon, lat)
        if distance_m(ends[0], here) < distance_m(ends[1], here):
            ends.reverse()  # far end first
        length = distance_m(ends[0], ends[1])
        previous = None
        for k in range(stretches):
            t = k / max(stretches - 1, 1)
            lon = ends[0][0] + t * (ends[1][0] - ends[0][0])
            lat = ends[0][1] + t * (ends[1][1] - ends[0][1])
            node = f"R-{d.id}-{ri}-{k + 1}"
            position[node] = (lon, lat)
            label = STRETCH_LABELS[k] if stretches == len(STRETCH_LABELS) else f"第{k + 1}段"
            stretch_m = length / stretches
            meta[node] = {"kind": "road", "place": f"{road.name}（{label}）", "road": road.name,
                          "area": stretch_m * p["street_ponding_width_m"], "wp": None}
            local[node] = (stretch_m * p["corridor_width_m"] / 10_000, p["road_runoff"], p["road_concentration_min"])
            if previous:
                downstream[previous] = node
            previous = node
        if previous:
            downstream[previous] = trunk
    for w in points:
        candidates = [n for n, m in meta.items() if m["road"] == w.road] or [n for n in meta if n != trunk]
        nearest = min(candidates, key=lambda n: distance_m((w.lon, w.lat), position[n])) if candidates else trunk
        position[w.id] = (w.lon, w.lat)
        downstream[w.id] = nearest
        meta[w.id] = {"kind": w.kind, "place": w.label, "road": w.road, "area": w.ponding_area_m2, "wp": w.id}
        local[w.id] = (w.catchment_ha, w.runoff, w.concentration_min)
    length = {n: max(distance_m(position[n], position[downstream[n]]), 30.0) for n in downstream}

    # 2. design flows, upstream first (a node's reach: its own catchment and everything draining to it)
    reach: dict[str, _Reach] = {n: _Reach() for n in position}

    def depth_of(n: str) -> int:
        steps = 0
        while n in downstream:
            n, steps = downstream[n], steps + 1
        return steps

    order = sorted(downstream, key=depth_of, reverse=True)
    for n in position:
        if n in local:
            area, psi, inlet = local[n]
            reach[n].psi_area_ha += psi * area
            reach[n].minutes = max(reach[n].minutes, inlet)
    diameters: dict[str, float] = {}
    flows: dict[str, float] = {}
    for n in order:
        r = reach[n]
        wp = meta[n]["wp"]
        node_period = next(w.design_period_years for w in points if w.id == wp) if wp else period
        flows[n] = _design_flow(r.psi_area_ha, node_period, r.minutes)
        diameters[n] = _diameter(flows[n], s_lat if wp else s_sewer, n_man)
        down = reach[downstream[n]]
        down.psi_area_ha += r.psi_area_ha
        down.minutes = max(down.minutes, r.minutes + length[n] / v / 60)
    trunk_q = _design_flow(reach[trunk].psi_area_ha, period, reach[trunk].minutes)
    trunk_d = _diameter(trunk_q, s_sewer, n_man)

    # 3. levels: the outfall's crown at the lowest outfall level of the district's watch points
    # (the river level that submerges it), else below the ground at the outfall
    levels = [w.outfall_level_m for w in points if w.outfall_level_m is not None]
    crown = min(levels) if levels else spec["ground_m"] - p["cover_m"]["road"]
    outfall_id = f"O-{d.id}"
    out_invert = round(crown - trunk_d, 3)
    net.outfalls[outfall_id] = Outfall(outfall_id, d.id, spec["water"], spec["lat"], spec["lon"], out_invert,
                                       round(crown, 3), spec.get("normal_level_m"))
    trunk_length = 150.0
    invert = {trunk: out_invert + s_sewer * trunk_length}
    for n in reversed(order):  # downstream first
        slope = s_lat if meta[n]["wp"] else s_sewer
        invert[n] = invert[downstream[n]] + slope * length[n]
    # 4. the nodes, conduits and catchments
    for n, (lon, lat) in position.items():
        m = meta[n]
        pipe = max([diameters.get(n, 0.0)] + [diameters[u] for u, dn in downstream.items() if dn == n]
                   + ([trunk_d] if n == trunk else []))
        cover = p["cover_m"].get(m["kind"], p["cover_m"]["road"])
        net.nodes[n] = Node(n, m["kind"], d.id, m["place"], m["road"], round(lat, 6), round(lon, 6),
                            round(invert[n], 3), round(pipe + cover, 3), round(m["area"], 1), m["wp"])
    for n in order:
        net.conduits.append(Conduit(f"C-{n}", n, downstream[n], round(length[n], 1), diameters[n], round(flows[n], 3)))
    net.conduits.append(Conduit(f"C-{trunk}", trunk, outfall_id, trunk_length, trunk_d, round(trunk_q, 3)))
    for n, (area, psi, _inlet) in local.items():
        lon, lat = position[n]
        net.catchments.append(Catchment(f"S-{n}", n, round(area, 3), _imperv_pct(psi, p), lat, lon))


# --- the input file ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Gauge:
    """A rain gauge of the model: its intensity series (time, mm/h) and position."""

    id: str
    lat: float
    lon: float
    series: tuple[tuple[datetime, float], ...]
    #: how long each value of the series holds (SWMM's recording interval)
    interval_min: int = 5


def _stamp(at: datetime) -> tuple[str, str]:
    return at.strftime("%m/%d/%Y"), at.strftime("%H:%M:%S")


def inp(net: Network, gauges: list[Gauge], river_levels: dict[str, float | None], start: datetime,
        minutes: int, title: str, routing_step_s: float = 5.0) -> str:
    """The SWMM 5 input file: the network, the gauges (each catchment takes the nearest), the
    outfalls' water levels (a river or lake level fixes the outfall's stage; None: free outfall)."""
    if not gauges:
        raise ValueError("no rain gauge")
    p = parameters()
    sc = p["subcatchment"]
    horton = sc["horton"]
    end = start + timedelta(minutes=minutes)
    sd, st = _stamp(start)
    ed, et = _stamp(end)
    out: list[str] = ["[TITLE]", title.replace("\n", " "), "",
                      "[OPTIONS]", "FLOW_UNITS CMS", "INFILTRATION HORTON", "FLOW_ROUTING DYNWAVE", "LINK_OFFSETS DEPTH",
                      "ALLOW_PONDING YES", "SKIP_STEADY_STATE NO", f"START_DATE {sd}", f"START_TIME {st}",
                      f"REPORT_START_DATE {sd}", f"REPORT_START_TIME {st}", f"END_DATE {ed}", f"END_TIME {et}",
                      "DRY_DAYS 7", "REPORT_STEP 00:05:00", "WET_STEP 00:01:00", "DRY_STEP 01:00:00",
                      f"ROUTING_STEP {routing_step_s:g}", "INERTIAL_DAMPING PARTIAL", "NORMAL_FLOW_LIMITED BOTH",
                      "FORCE_MAIN_EQUATION H-W", "VARIABLE_STEP 0.75", "LENGTHENING_STEP 0", "MIN_SURFAREA 1.167",
                      "MAX_TRIALS 8", "HEAD_TOLERANCE 0.0015", "SYS_FLOW_TOL 5", "LAT_FLOW_TOL 5",
                      "MINIMUM_STEP 0.5", "THREADS 1", ""]
    out += ["[RAINGAGES]", ";;Name Format Interval SCF Source"]
    for g in gauges:
        out.append(f"{g.id} INTENSITY {g.interval_min // 60}:{g.interval_min % 60:02d} 1.0 TIMESERIES TS-{g.id}")
    out += ["", "[SUBCATCHMENTS]", ";;Name RainGage Outlet Area %Imperv Width %Slope CurbLen"]
    for c in net.catchments:
        gauge = min(gauges, key=lambda g: distance_m((g.lon, g.lat), (c.lon, c.lat)))
        width = max(c.area_ha * 10_000 / sc["flow_length_m"], 1.0)
        out.append(f"{c.id} {gauge.id} {c.outlet} {c.area_ha:g} {c.imperv_pct:g} {width:.1f} {sc['slope_pct']:g} 0")
    out += ["", "[SUBAREAS]", ";;Subcatchment N-Imperv N-Perv S-Imperv S-Perv PctZero RouteTo"]
    for c in net.catchments:
        out.append(f"{c.id} {sc['n_imperv']:g} {sc['n_perv']:g} {sc['store_imperv_mm']:g} {sc['store_perv_mm']:g} "
                   f"{sc['zero_imperv_pct']:g} OUTLET")
    out += ["", "[INFILTRATION]", ";;Subcatchment MaxRate MinRate Decay DryTime MaxInfil"]
    for c in net.catchments:
        out.append(f"{c.id} {horton['max_mm_h']:g} {horton['min_mm_h']:g} {horton['decay_per_h']:g} "
                   f"{horton['dry_days']:g} 0")
    out += ["", "[JUNCTIONS]", ";;Name Elevation MaxDepth InitDepth SurDepth Aponded"]
    for n in net.nodes.values():
        out.append(f"{n.id} {n.invert_m:.3f} {n.max_depth_m:.3f} 0 0 {n.ponded_area_m2:.1f}")
    out += ["", "[OUTFALLS]", ";;Name Elevation Type StageData Gated"]
    for o in net.outfalls.values():
        level = river_levels.get(o.id)
        kind = f"FIXED {level:.3f}" if level is not None and level > o.invert_m else "FREE"
        out.append(f"{o.id} {o.invert_m:.3f} {kind} NO")
    out += ["", "[CONDUITS]", ";;Name From To Length Roughness InOffset OutOffset InitFlow MaxFlow"]
    for c in net.conduits:
        out.append(f"{c.id} {c.upstream} {c.downstream} {c.length_m:.1f} {p['manning_n']:g} 0 0 0 0")
    out += ["", "[XSECTIONS]", ";;Link Shape Geom1 Geom2 Geom3 Geom4 Barrels"]
    for c in net.conduits:
        out.append(f"{c.id} CIRCULAR {c.diameter_m:.3f} 0 0 0 1")
    out += ["", "[TIMESERIES]", ";;Name Date Time Value"]
    for g in gauges:
        for at, value in g.series:
            day, clock = _stamp(at)
            out.append(f"TS-{g.id} {day} {clock} {value:.3f}")
    out += ["", "[REPORT]", "INPUT NO", "CONTROLS NO", "SUBCATCHMENTS NONE", "NODES NONE", "LINKS NONE", ""]
    out += ["[COORDINATES]", ";;Node X Y"]
    for n in net.nodes.values():
        out.append(f"{n.id} {n.lon:.6f} {n.lat:.6f}")
    for o in net.outfalls.values():
        out.append(f"{o.id} {o.lon:.6f} {o.lat:.6f}")
    return "\n".join(out) + "\n"

