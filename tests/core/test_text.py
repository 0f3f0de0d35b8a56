"""Chinese numerals shared by the question parser, the legal answerer, the office register and the simulation agent."""

import threading

import pytest

from aicity.core.text import cn_number, english_stem


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


def test_english_stems_are_right_when_threads_stem_at_once() -> None:
    """A request and a background job tokenise at once: each thread stems with its own stemmer (one shared stemmer
    mixed their words, and once raised IndexError while the assistant was being built)."""
    words = ["renewal", "benefits", "licensing", "registrations", "certificate", "inspection", "applying", "cafes",
             "subsidies", "employment", "a", "pensions", "requirements", "be", "cancellation"] * 400
    expected = [english_stem(w) for w in words]
    errors: list[BaseException] = []

    def stem_all() -> None:
        try:
            assert [english_stem(w) for w in words] == expected
        except BaseException as exc:  # noqa: BLE001 - any failure in a thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=stem_all) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
