"""Slot filling: read a slot's value out of what the user said, longest phrase first so that
"不卖烟" is not read as "卖烟"."""

from __future__ import annotations

from aicity.core.text import normalize
from aicity.hub.catalog.schemas import Slot


def detect(slot: Slot, text: str) -> str | None:
    lowered = normalize(text).lower()
    phrases = sorted(
        ((word.lower(), opt.value) for opt in slot.options for word in [opt.label, *opt.words]),
        key=lambda p: -len(p[0]),
    )
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str]] = []
    for phrase, value in phrases:
        start = lowered.find(phrase)
        while start != -1:
            end = start + len(phrase)
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                found.append((len(phrase), value))
            start = lowered.find(phrase, end)
    if not found:
        return None
    return max(found)[1]


def fill(slots: list[Slot], text: str, known: dict[str, str]) -> tuple[dict[str, str], list[Slot]]:
    """Values for every slot (known, said, or default) and the slots still unknown."""
    values = dict(known)
    missing = []
    for slot in slots:
        if slot.id in values:
            continue
        value = detect(slot, text) or slot.default
        if value is None:
            missing.append(slot)
        else:
            values[slot.id] = value
    return values, missing
