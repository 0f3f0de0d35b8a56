"""Chinese numerals shared by the question parser, the legal answerer, the office register and the simulation agent."""

import pytest

from aicity.core.text import cn_number


@pytest.mark.parametrize(("text", "value"), [
    ("十", 10), ("十二", 12), ("二十", 20), ("三十一", 31), ("两", 2), ("一百零五", 105), ("百", 100),
    ("一千二百", 1200), ("三万五千", 35000), ("五十万", 500000), ("3万", 30000), ("二〇二六", 2026),
    ("2026", 2026), (" 十 二 ", 12), ("万", 10000), ("１０", 10), ("３万", 30000),
])
def test_numbers(text: str, value: int) -> None:
    assert cn_number(text) == value


@pytest.mark.parametrize("text", ["", "半", "abc", "十二月", "3.5", "½"])
def test_not_numbers(text: str) -> None:
    assert cn_number(text) is None
