"""`aicity worker`: a background worker of a city in the distributed mode (docs/scale-out.md).

One process: opens the city (the shared PostgreSQL), joins the durable bus's consumer group
(core/streams.py), runs the slices' scheduled work (each period once in the cluster,
core/scale.py `every`) and runs rq jobs from its queues (core/jobs.py) on its main thread.

Liveness: the worker keeps a Redis key alive (`workers:<host>-<pid>`, a few seconds' expiry,
refreshed from a thread, also while a job runs). A job rq still lists as started whose
worker's key is gone was abandoned (the worker was killed): any worker puts it back on its
queue, at start and every few seconds. Jobs are therefore run at least once; the job
functions are written to be repeated safely.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import rq
import rq.scheduler

from aicity.core import jobs, scale, slices, streams
from aicity.core.bus import bus
from aicity.core.cli import open_city

log = logging.getLogger(__name__)

#: a worker's liveness key expires this long after its last refresh
ALIVE_TTL_S = 6
ALIVE_EVERY_S = 2.0


def alive_key(name: str) -> str:
    return scale.key("workers", name)


def keep_alive(name: str, stop: threading.Event) -> None:
    redis = scale.redis_client()
    while True:
        try:
            redis.set(alive_key(name), "1", ex=ALIVE_TTL_S)
        except Exception:  # Redis restarting: try again on the next beat
            log.warning("worker liveness: Redis unavailable", exc_info=True)
        if stop.wait(ALIVE_EVERY_S):
            return


def recover(queues: Sequence[str]) -> list[str]:
    """Put back on their queues the jobs started by workers that are gone; returns their ids."""
    redis = scale.redis_client()
    requeued = []
    for name in queues:
        queue = jobs.rq_queue(name)
        registry = rq.registry.StartedJobRegistry(queue=queue)
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            job = rq.job.Job.fetch(job_id, connection=redis) if redis.exists(f"rq:job:{job_id}") else None
            worker = job.worker_name if job is not None else None
            if job is None or (worker and redis.exists(alive_key(worker))):
                continue
            # the entry's removal is atomic: of several workers recovering at once, one requeues it
            if redis.zrem(registry.key, f"{job_id}:{execution_id}"):
                queue.enqueue_job(job, at_front=True)
                requeued.append(job_id)
                log.warning("job %s of a worker that is gone (%s) put back on %s", job_id, worker, name)
    return requeued


def enqueue_due(queues: Sequence[str]) -> None:
    """Jobs waiting for a retry whose time has come go back on their queues (rq's scheduler, run
    here on a thread under rq's own per-queue locks rather than as a child process, which a
    SIGKILL of the worker would leave behind)."""
    scheduler = rq.scheduler.RQScheduler([jobs.rq_queue(q) for q in queues], connection=scale.redis_client())
    if scheduler.acquire_locks():
        try:
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()


def _maintain(queues: Sequence[str]) -> None:
    recover(queues)
    enqueue_due(queues)


def run(queues: Sequence[str], burst: bool = False) -> None:
    """Run the worker until stopped (SIGINT/SIGTERM), or with `burst` until its queues are empty."""
    scale.set_role("worker")
    open_city()
    name = scale.process_name()
    stop = threading.Event()
    threading.Thread(target=keep_alive, args=(name, stop), name="worker-alive", daemon=True).start()
    undo: list[Callable[[], None]] = [stop.set, streams.connect(bus, consume=True),
                                      slices.start_schedules()]
    undo.append(scale.every("jobs-maintain", 1.0, lambda: _maintain(queues)))
    recover(queues)
    try:
        worker: Any = rq.SimpleWorker([jobs.rq_queue(q) for q in queues], connection=scale.redis_client(),
                                      name=name)
        log.info("aicity worker %s: queues %s, durable bus, scheduled work", name, ", ".join(queues))
        worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
    finally:
        for fn in reversed(undo):
            fn()
