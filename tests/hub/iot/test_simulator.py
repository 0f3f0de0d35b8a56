"""The demo city simulator: idempotent fleet and rules, readings inside physical ranges and
repeatable by seed, the rainstorm and gas-leak scenarios ending in the right alarms and
events, a quiet normal run, and `aicity iot simulate --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aicity.agents.city_safety.flood import Level, outlook
from aicity.hub.geo.drainage import drainage
from aicity.hub.iot import simulator
from aicity.hub.iot.simulator import LocalCity, Plan, simulate
from aicity.hub.iot.types import DEVICE_TYPES, out_of_range

SEVERE = ("high", "critical")
pytestmark = pytest.mark.usefixtures("default_rules_removed")


def test_fleet_is_stable_and_readings_are_physical_and_repeatable() -> None:
    devices = simulator.fleet()
    assert 300 <= len(devices) <= 500 and len({d.id for d in devices}) == len(devices)
    assert [d.id for d in devices] == [d.id for d in simulator.fleet()]
    assert {d.kind.type for d in devices} <= set(DEVICE_TYPES)
    assert {d.district.id for d in devices} >= set(simulator.LOW_LYING)
    plan = Plan(scenario="rainstorm", duration=2, rate=600, seed=7)
    first = [r for batch in simulator.batches(devices, plan) for r in batch]
    assert first == [r for batch in simulator.batches(devices, plan) for r in batch]
    assert len(first) >= plan.total and not [r for r in first if out_of_range(r.attribute, r.value)]
    other = [r for batch in simulator.batches(devices, Plan(scenario="rainstorm", duration=2, rate=600, seed=8))
             for r in batch]
    assert first != other


def test_normal_run_raises_no_severe_alarm(city: Path) -> None:
    summary = simulate(LocalCity(), Plan(scenario="normal", duration=3, rate=600, seed=1), pace=False)
    assert summary.readings_sent >= 1800 and summary.rejected == 0
    assert not [a for a in summary.alarms if a["severity"] in SEVERE] and summary.events == []
    again = simulate(LocalCity(), Plan(duration=0.1, rate=100), pace=False)  # idempotent
    assert again.devices_created == 0 and again.rules_created == 0


def test_rainstorm_floods_the_low_lying_districts(city: Path) -> None:
    summary = simulate(LocalCity(), Plan(scenario="rainstorm", duration=4, rate=600, seed=1), pace=False)
    assert summary.rejected == 0 and summary.alarms
    assert all(a["severity"] == "high" for a in summary.alarms)
    flooded = {a["device_id"].split("-")[1] for a in summary.alarms}
    assert flooded == set(simulator.LOW_LYING)
    assert summary.events and {(e["category"], e["department"]) for e in summary.events} == {("waterlogging",
                                                                                              "water")}
    # the ponding sensors stand at the watch points: the low-lying ones are flooded, and the watch says so
    # (its warnings are one a point a day: an earlier rainstorm in this data dir may have filed them)
    low_points = {p.id for p in drainage().points if p.district in simulator.LOW_LYING}
    assert {o.point.id for o in outlook() if o.level is Level.flooded} >= low_points
    assert isinstance(summary.flood_warnings, list)
    assert all(w["level"] in ("flooded", "warning") and w["event_id"] for w in summary.flood_warnings)


def test_gas_leak_becomes_a_dispatched_gas_event(city: Path) -> None:
    summary = simulate(LocalCity(), Plan(scenario="gas-leak", duration=3, rate=600, seed=1), pace=False)
    leak = simulator.leak_device(simulator.fleet(), 1)
    assert summary.rejected == 0
    assert [(a["device_id"], a["severity"]) for a in summary.alarms] == [(leak, "critical")]
    [event] = summary.events
    assert (event["category"], event["department"], event["status"]) == ("gas_leak", "gas", "dispatched")


def test_cli_simulate_prints_the_summary(city: Path) -> None:
    from aicity.cli import app

    result = CliRunner().invoke(app, ["iot", "simulate", "--scenario", "gas-leak", "--duration", "2", "--rate", "600",
                                      "--seed", "1", "--fast", "--json", "--data-dir", str(city)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["scenario"] == "gas-leak" and out["readings_sent"] >= 1200 and out["rejected"] == 0
    assert out["alarms_raised"] == 1 and out["alarms"][0]["severity"] == "critical"
    assert [(e["category"], e["department"]) for e in out["events"]] == [("gas_leak", "gas")]
