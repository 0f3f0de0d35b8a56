"""Job kinds for the tests of the job machinery: a run SWMM rejects, and one that never ends."""

from __future__ import annotations

import time
from typing import Any

from aicity.hub.sim import flood

BROKEN_INP = "[TITLE]\nbroken\n\n[JUNCTIONS]\nJ1 abc 2 0 0 0\n\n[CONDUITS]\nC1 J1 NOWHERE 100 0.013 0 0 0 0\n"


def broken_prepare(params: dict[str, Any]) -> dict[str, Any]:
    """A real flood payload whose input file SWMM refuses."""
    payload = flood.prepare(params)
    return {**payload, "inp": BROKEN_INP}


def slow_prepare(params: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": float(params.get("seconds", 60))}


def slow_run(payload: dict[str, Any], progress: Any) -> dict[str, Any]:
    end = time.monotonic() + payload["seconds"]
    while time.monotonic() < end:
        progress(0.1, "slow")
        time.sleep(0.1)
    return {}


def never_finish(job_id: str, params: dict[str, Any], payload: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError("a killed run must not be finished")
