"""Loopback ports and whether the run is CI's (where a missing server fails instead of skipping)."""

from __future__ import annotations

import os
import socket

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
