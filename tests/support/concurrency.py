"""Run one function on several threads at the same moment (a barrier), collecting results and errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_together(fn: Callable[[], T], n: int) -> tuple[list[T], list[BaseException]]:
    results: list[T] = []
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def one() -> None:
        try:
            start.wait()
            results.append(fn())
        except BaseException as exc:  # noqa: BLE001 - returned to the caller
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
