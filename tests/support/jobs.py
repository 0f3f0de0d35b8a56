"""Job functions the background-worker tests enqueue (named by reference, run in a worker process)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def mark(path: str, seconds: float = 0.0) -> int:
    """Append `start <pid>`, wait `seconds`, append `done <pid>`: a job whose runs can be counted."""
    out = Path(path)
    with out.open("a", encoding="utf-8") as fh:
        fh.write(f"start {os.getpid()}\n")
    time.sleep(seconds)
    with out.open("a", encoding="utf-8") as fh:
        fh.write(f"done {os.getpid()}\n")
    return os.getpid()
