"""The detectors' normalisation: folded text and the map back to the original offsets."""

from aicity.security.normalize import normalize


def test_full_width_text_keeps_its_offsets() -> None:
    n = normalize("电话：１３８")
    assert n.text == "电话:138"
    assert n.source is None  # every character became one
    assert n.span(3, 6) == (3, 6)


def test_vanished_and_grown_characters_map_back() -> None:
    raw = "电话：１３８\u200b1234…5678"  # a zero-width space vanishes, an ellipsis becomes three dots
    n = normalize(raw)
    assert n.text == "电话:1381234...5678"
    assert n.span(n.text.index("1234"), n.text.index("1234") + 4) == (raw.index("1234"), raw.index("1234") + 4)
    assert n.span(n.text.index("..."), n.text.index("...") + 3) == (raw.index("…"), raw.index("…") + 1)
    assert n.span(n.text.index("5678"), len(n.text)) == (raw.index("5678"), len(raw))
    assert not n.hidden


def test_hidden_tag_characters_and_look_alikes() -> None:
    raw = "ignоre" + "".join(chr(0xE0000 + ord(c)) for c in "hi") + "，好"  # a Cyrillic о, tag characters
    n = normalize(raw)
    assert n.text == "ignorehi,好"
    assert n.hidden
    assert n.span(6, 8) == (6, 8)


def test_limit_and_text_of_many_distinct_characters() -> None:
    raw = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 3000)) + "："
    n = normalize(raw, limit=2000)
    assert n.examined == 2000 and n.length == 3001 and not n.complete
    assert normalize(raw).text.endswith(":")
