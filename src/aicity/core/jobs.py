"""Background jobs: work that must not run inside a request.

Embedded (the default): a job runs on a thread of this process, as before. Distributed
(`redis_url` set): it is put on an rq queue in Redis and a background worker (`aicity worker
--queues …`) runs it; rq keeps started jobs in a registry, so a worker killed mid-job leaves
the job to be found and run again when a worker starts (`recover`). A job is named by
reference (`"package.module:function"`) with JSON-able arguments, so any process can run it.

Queues: `default`, `notify` (NGSI-LD notifications), `ingest` (documents, readings files),
`embed` (vectors), `reports`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aicity.core import scale
from aicity.core.config import settings
from aicity.core.slices import resolve

log = logging.getLogger(__name__)

QUEUES = ("default", "notify", "ingest", "embed", "reports")
#: the longest one job may run before rq stops it (and counts it failed)
JOB_TIMEOUT_S = 600
#: a job that raised is tried again after these pauses (rq's Retry), then left in the failed registry
RETRY_INTERVALS_S = (2, 10, 60)


def run(ref: str, *args: Any) -> Any:
    """What a worker (or the embedded thread) calls: the function `ref` names, with `args`."""
    return resolve(ref)(*args)


def submit(queue: str, ref: str, *args: Any) -> None:
    """Run `ref(*args)` in the background: on a thread here (embedded), or on rq's `queue`."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; one of {QUEUES}")
    resolve(ref)  # a wrong reference fails here, in the caller, not later in a worker
    if scale.distributed():
        try:
            rq_queue(queue).enqueue(run, ref, *args, job_timeout=JOB_TIMEOUT_S, retry=_retry(),
                                    result_ttl=3600, failure_ttl=7 * 24 * 3600)
            return
        except Exception:  # Redis away: run it here rather than lose it
            log.warning("job %s not queued (Redis unavailable); running it in this process", ref, exc_info=True)
    threading.Thread(target=_run_logged, args=(ref, *args), name=f"job-{queue}", daemon=True).start()


def _run_logged(ref: str, *args: Any) -> None:
    try:
        run(ref, *args)
    except Exception:  # a thread has no one to report to
        log.exception("background job %s failed", ref)


def rq_queue(name: str) -> Any:
    """rq's queue `name` of this city (the optional `scale` extra: imported here, only when used)."""
    import rq  # here: an optional dependency of the distributed mode (the `scale` extra)

    return rq.Queue(f"{settings().redis_prefix}-{name}", connection=scale.redis_client())


def _retry() -> Any:
    import rq  # here: as in rq_queue

    return rq.Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S))
