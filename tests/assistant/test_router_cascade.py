"""The router's cascade: the dense signal (a query embedding) only where it could change the decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aicity.assistant.service import assistant
from aicity.core.embeddings import query_cache
from aicity.identity.models import Role
from aicity.identity.service import Principal

OFFICIAL = Principal(Role.official)


def test_a_skill_chosen_only_by_its_cues_does_not_make_the_skill_unsure(city: Path) -> None:
    router = assistant().router
    nothing = np.zeros(len(router.entries), dtype=np.float32)
    # event_action is chosen by its cues alone: scores choose among event_status only, and it takes no target
    status = frozenset({("governance", "event_status"), ("governance", "event_action")})
    assert router.sure(nothing, OFFICIAL, status, "event_status")
    # two skills that scores choose between: no score at all decides nothing
    legal = frozenset({("policy", "legal_qa"), ("fire_safety", "consult")})
    assert not router.sure(nothing, OFFICIAL, legal, "legal")


def test_a_device_named_outright_is_routed_without_a_query_vector(city: Path) -> None:
    router = assistant().router
    assert router.vectors is not None  # the dense signal is ready: it is not used because it is not needed
    city_action = frozenset({("city_safety", "close_gas_valve"), ("city_safety", "device_command")})
    query_cache.clear()
    found = router.route("关掉南湖区路灯5号", Principal(Role.operator), city_action, "city_action")
    assert found is not None and found.by == "named" and found.params.get("device") == "sim-nanhu-light-05"
    assert query_cache.misses == 0
