"""An English request is compared with the routes of each script apart (`Router._dense`)."""

from __future__ import annotations

import numpy as np

from aicity.assistant.router import Router


def test_routes_in_latin_letters_do_not_stand_out_by_language_alone() -> None:
    router = Router.__new__(Router)  # only the routes' scripts matter here
    router._latin = np.array([True] * 3 + [False] * 20)
    # every English route is near an English request; one Chinese route is near by what it is about
    cos = np.array([0.9] * 3 + [0.7] * 19 + [0.8], dtype=np.float32)
    vectors = np.eye(len(cos), dtype=np.float32)
    mixed = router._dense(vectors, cos)
    assert mixed[:3].min() > 0 and mixed[-1] == 0  # compared with every route, language decides
    apart = router._dense(vectors, cos, latin=True)
    assert apart[:3].max() == 0 and apart[-1] > 0
