"""IoT fixtures: a private Mosquitto for the session, and the simulator's default rules removed after
a module that installs them (so other modules' devices raise only their own rules' alarms)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.hub.iot import rules
from tests.support.iot import MOSQUITTO, Broker, private_broker
from tests.support.net import IN_CI


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    if not MOSQUITTO.exists():
        if IN_CI:
            pytest.fail("/usr/sbin/mosquitto is missing; .ci/run must install mosquitto")
        pytest.skip("Mosquitto not installed (apt-get install mosquitto)")
    b = private_broker(tmp_path_factory.mktemp("mosquitto"))
    yield b
    b.stop()


@pytest.fixture(scope="module")
def default_rules_removed(city: Path) -> Iterator[None]:
    """The simulator's default rules hold for every device of their types: afterwards they are
    removed, so that other modules' devices raise only their own rules' alarms."""
    before = {r.id for r in rules.list_rules()}
    yield
    for rule in rules.list_rules():
        if rule.id not in before:
            rules.delete_rule(rule.id, "test")
