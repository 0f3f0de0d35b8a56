"""The job's own process (spawned by `hub/sim/jobs.py`): runs the kind's `run` function and sends
its progress and result back over a pipe. It imports only what that function needs: no database,
no settings — everything it needs is in the payload."""

from __future__ import annotations

import importlib
import traceback
from multiprocessing.connection import Connection
from typing import Any


def _resolve(ref: str) -> Any:
    module_name, _, path = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def child(ref: str, payload: dict[str, Any], conn: Connection) -> None:
    """Run `ref(payload, progress)`; send ("progress", fraction, message)…, then ("done", result)
    or ("error", message)."""
    try:
        result = _resolve(ref)(payload, lambda fraction, message: conn.send(("progress", float(fraction), message)))
        conn.send(("done", result))
    except Exception as exc:  # the parent records it: the job fails with this message
        message = str(exc) or type(exc).__name__
        conn.send(("error", message, traceback.format_exc(limit=5)))
    finally:
        conn.close()
