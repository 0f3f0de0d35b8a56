"""`related_laws`: the texts related to a law either way round, worked out once per `Relations` and again for a
new one (its files changed)."""

from __future__ import annotations

from aicity.hub.knowledge.relations import DocumentMeta, Relations, relations
from aicity.hub.knowledge.service import _related_pairs, related_laws


def _by_pairs(doc: str, rel: Relations) -> set[str]:
    return {b if a == doc else a for a, b in _related_pairs(rel) if doc in (a, b)}


def test_every_law_has_the_texts_its_pairs_name() -> None:
    rel = relations()
    keys = {key for pair in _related_pairs(rel) for key in pair} | {"没有关系的法"}
    assert all(related_laws(key, rel) == _by_pairs(key, rel) for key in keys)
    assert related_laws("没有关系的法", rel) == frozenset()


def test_a_new_relations_is_read_afresh() -> None:
    old = Relations(documents={"甲条例": DocumentMeta(level="地方性法规", implements="乙法")})
    assert related_laws("乙法", old) == {"甲条例"}
    new = Relations(documents={"甲条例": DocumentMeta(level="地方性法规", implements="丙法")})
    assert related_laws("乙法", new) == frozenset()
    assert related_laws("丙法", new) == {"甲条例"}
