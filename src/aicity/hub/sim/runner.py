"""The job's own process: `python -m aicity.hub.sim.runner`, a fresh interpreter per run (as
`multiprocessing`'s spawn gives, without re-importing the parent's main module — seconds per run
under `aicity serve`). It reads one JSON object from stdin — `{"ref", "payload", "sys_path"}` —
runs `ref(payload, progress)` and writes JSON lines to its stdout: `{"progress": f, "message": m}`
…, then `{"done": result}` or `{"error": message}`. Anything the run itself prints goes to stderr,
so it cannot break the protocol. No database, no settings: everything the run needs is in the
payload.

`die_with_parent` is the `preexec_fn` of the processes a job starts (this runner, SUMO): the kernel
sends them SIGKILL when the thread that started them ends (Linux `PR_SET_PDEATHSIG`), so a killed
supervisor — a cancelled job, a worker killed mid-run — leaves no engine running behind it."""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import sys
import traceback
from typing import IO, Any

PR_SET_PDEATHSIG = 1
#: libc's prctl, loaded here rather than in the forked child (None where there is none: not Linux)
_PRCTL = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def die_with_parent() -> None:  # pragma: no cover — runs in the forked child before exec
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def _resolve(ref: str) -> Any:
    module_name, _, path = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def _send(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, ensure_ascii=False) + "\n")
    out.flush()


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever the run prints goes to stderr
    try:
        asked = json.loads(sys.stdin.read())
        for entry in reversed(asked.get("sys_path", [])):
            if entry not in sys.path:
                sys.path.insert(0, entry)
        run = _resolve(asked["ref"])
        result = run(asked["payload"], lambda fraction, message: _send(out, {"progress": float(fraction),
                                                                             "message": str(message)}))
        _send(out, {"done": result})
        return 0
    except Exception as exc:  # the parent records it: the job fails with this message
        traceback.print_exc(limit=5)
        _send(out, {"error": str(exc) or type(exc).__name__})
        return 1


if __name__ == "__main__":
    sys.exit(main())
