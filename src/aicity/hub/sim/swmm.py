"""One SWMM run, in the job's own process (`hub/sim/jobs.py` starts it): SWMM keeps its state in
the library's globals, so a run never shares a process with another.

`run(payload, progress)` writes the input file to a temporary directory, steps the simulation a
minute at a time through pyswmm, and returns what each node and outfall did: the water above the
ground (ponded depth = node depth − its full depth), when it first stood deeper than the flood
depth and for how long, the overflow volume (the flooding rate integrated), the outfalls' peak
flow and volume. SWMM's own errors (a model it rejects) end the run with its messages.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyswmm import Nodes, Simulation

Progress = Callable[[float, str], None]
_ERROR = re.compile(r"ERROR\s+\d+:.*")


class SwmmRejected(RuntimeError):
    """SWMM refused the model or failed while running it; the message is SWMM's."""


def _errors(report: Path) -> str:
    if not report.exists():
        return ""
    found = _ERROR.findall(report.read_text(encoding="utf-8", errors="replace"))
    return "; ".join(dict.fromkeys(e.strip() for e in found))[:1000]


def run(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run the model in `payload["inp"]`; `payload["flood_depth_m"]` is the depth that counts as
    flooded, `payload["sample_s"]` how often the nodes are read (default 60 s)."""
    threshold = float(payload["flood_depth_m"])
    sample_s = int(payload.get("sample_s", 60))
    with tempfile.TemporaryDirectory(prefix="aicity-swmm-") as tmp:
        path = Path(tmp) / "model.inp"
        path.write_text(payload["inp"], encoding="utf-8")
        try:
            return _simulate(path, threshold, sample_s, progress)
        except SwmmRejected:
            raise
        except Exception as exc:  # pyswmm's SWMMException and friends: the report says why
            detail = _errors(path.with_suffix(".rpt")) or str(exc)
            raise SwmmRejected(f"SWMM 拒绝了模型或运行失败 SWMM rejected the model: {detail}") from exc


def _simulate(path: Path, threshold: float, sample_s: int, progress: Progress) -> dict[str, Any]:
    nodes: dict[str, dict[str, Any]] = {}
    outfalls: dict[str, dict[str, Any]] = {}
    with Simulation(str(path)) as sim:
        sim.step_advance(sample_s)
        handles = {n.nodeid: n for n in Nodes(sim)}
        for nid, n in handles.items():
            (outfalls if n.is_outfall() else nodes)[nid] = {"full": None, "max_depth_m": 0.0, "max_at_min": None,
                                                            "start_min": None, "over_min": 0.0, "overflow_m3": 0.0,
                                                            "peak_flow_m3_s": 0.0, "volume_m3": 0.0,
                                                            "max_stage_m": 0.0}
        start = sim.start_time
        last = 0.0
        reported = -1.0
        for _ in sim:
            now = (sim.current_time - start).total_seconds()
            dt = now - last
            last = now
            minute = now / 60
            for nid, r in nodes.items():
                n = handles[nid]
                if r["full"] is None:
                    r["full"] = n.full_depth
                surface = max(0.0, n.depth - r["full"])
                r["overflow_m3"] += max(n.flooding, 0.0) * dt
                if surface > r["max_depth_m"]:
                    r["max_depth_m"], r["max_at_min"] = surface, minute
                if surface >= threshold:
                    if r["start_min"] is None:
                        r["start_min"] = minute - dt / 60
                    r["over_min"] += dt / 60
            for oid, r in outfalls.items():
                flow = handles[oid].total_inflow
                r["peak_flow_m3_s"] = max(r["peak_flow_m3_s"], flow)
                r["volume_m3"] += max(flow, 0.0) * dt
                r["max_stage_m"] = max(r["max_stage_m"], handles[oid].head)
            done = sim.percent_complete
            if done - reported >= 0.02:
                reported = done
                progress(done, f"模拟进行中 {done:.0%}")
        routing_error = sim.flow_routing_error
        runoff_error = sim.runoff_error
    progress(1.0, "模拟完成")
    return {
        "nodes": {nid: {"max_depth_m": round(r["max_depth_m"], 3),
                        "max_at_min": None if r["max_at_min"] is None else round(r["max_at_min"], 1),
                        "start_min": None if r["start_min"] is None else round(r["start_min"], 1),
                        "duration_min": round(r["over_min"], 1), "overflow_m3": round(r["overflow_m3"], 1)}
                  for nid, r in nodes.items()},
        "outfalls": {oid: {"peak_flow_m3_s": round(r["peak_flow_m3_s"], 3), "volume_m3": round(r["volume_m3"], 1),
                           "max_stage_m": round(r["max_stage_m"], 3)} for oid, r in outfalls.items()},
        "continuity_error_pct": {"routing": round(routing_error, 3), "runoff": round(runoff_error, 3)},
    }
