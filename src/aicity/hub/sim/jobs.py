"""Simulation jobs: queued → running → succeeded | failed | cancelled, with progress, a result and
a history (`sim_jobs`).

A job kind names three functions by reference (`KINDS`; a new simulator adds its own):
- `prepare(params) -> payload`, in the asking process: checks the parameters (a `Problem` → 4xx,
  no job; it may complete `params` in place with their defaults) and gathers what the run needs
  from the city (the model, live readings) into a JSON payload;
- `run(payload, progress) -> raw result`, in a process of its own (a fresh interpreter per run,
  `hub/sim/runner.py`: SWMM and SUMO keep their state in globals and are not re-entrant), with no
  database;
- `finish(job_id, params, payload, raw) -> result`, back in the supervising process: writes what
  the run means for the city (forecast entities, warnings). It either completes or undoes its
  writes and raises: a failed job leaves no forecast.

`supervise(job_id)` starts the process and watches it: progress written back to the row at most
twice a second, a cancel request (`cancel`, from any process: a flag in the row) or the time limit
kills the process. It runs through `core.jobs.submit`: on a thread here when embedded, on an
`aicity worker` (rq) in the distributed mode. At most `max_parallel` runs at once per process.

The run's process dies with its supervisor (`runner.die_with_parent`). A supervisor that stops
mid-run: embedded, its jobs fail when the server next starts (`recover`); distributed, the worker's
rq job is put back on its queue by another worker once the dead one's liveness key expires
(worker.py), and the job runs again from the start (`_claim` takes over a `running` row; a forecast
left half-written by the killed run is replaced, not duplicated). A job whose cancel was asked while
its supervisor was gone ends `cancelled` when the next supervisor picks it up.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from aicity.core import audit, jobs, scale
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request, not_found
from aicity.core.ids import new_id, utcnow
from aicity.core.slices import resolve
from aicity.hub.sim.models import SimJob
from aicity.hub.sim.runner import die_with_parent
from aicity.hub.sim.settings import SimSettings

log = logging.getLogger(__name__)

FINAL = ("succeeded", "failed", "cancelled")
STATUS_LABELS = {"queued": "排队中", "running": "运行中", "succeeded": "已完成", "failed": "失败", "cancelled": "已取消"}
#: how often the supervisor writes progress and looks for a cancel request
POLL_S = 0.5
TOPIC_FINISHED = "sim.job.finished"
#: the module a run's process runs (`python -m`)
RUNNER = "aicity.hub.sim.runner"


@dataclass(frozen=True)
class JobKind:
    id: str
    label: str
    prepare: str
    run: str
    finish: str


KINDS: dict[str, JobKind] = {
    "flood": JobKind("flood", "内涝模拟（SWMM）", "aicity.hub.sim.flood:prepare", "aicity.hub.sim.swmm:run",
                     "aicity.hub.sim.flood:finish"),
    "traffic": JobKind("traffic", "干道信号配时仿真（SUMO）", "aicity.hub.sim.traffic:prepare",
                       "aicity.hub.sim.traffic_sumo:run", "aicity.hub.sim.traffic:finish"),
}


def register_kind(kind: JobKind) -> None:
    """Add a simulator's job kind (its three references are checked now)."""
    for ref in (kind.prepare, kind.run, kind.finish):
        resolve(ref)
    KINDS[kind.id] = kind


def config() -> SimSettings:
    return settings().section(SimSettings)


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot() -> threading.BoundedSemaphore:
    n = config().max_parallel
    with _slots_lock:
        return _slots.setdefault(n, threading.BoundedSemaphore(n))


# --- asking ----------------------------------------------------------------------------------------

def create(kind: str, params: dict[str, Any], requested_by: str, start: bool = True) -> dict[str, Any]:
    """Check the parameters, queue the job and (by default) start it; returns the job's view."""
    spec = KINDS.get(kind)
    if spec is None:
        raise bad_request(f"未知的模拟类型 unknown simulation kind '{kind}'（可选：{'、'.join(KINDS)}）",
                          "unknown-sim-kind")
    payload = resolve(spec.prepare)(params)
    now = utcnow()
    row = SimJob(id=new_id("sim"), kind=kind, params=params, payload=payload, status="queued", progress=0.0,
                 message="排队中", requested_by=requested_by, created_at=now, time_limit_s=config().time_limit_s,
                 cancel_requested=False)
    with database().session() as s:
        s.add(row)
        view = _view(row)
    audit.record(requested_by, "sim.job.created", row.id, {"kind": kind, "params": params})
    if start:
        jobs.submit("default", "aicity.hub.sim.jobs:supervise", row.id)
    return view


def get(job_id: str, with_result: bool = True) -> dict[str, Any]:
    with database().session() as s:
        row = s.get(SimJob, job_id)
        if row is None:
            raise not_found(f"模拟任务不存在 no simulation job '{job_id}'", "unknown-sim-job")
        return _view(row, with_result)


def history(kind: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0,
            requested_by: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Jobs newest first (without their results), and how many match."""
    stmt = select(SimJob)
    if kind:
        stmt = stmt.where(SimJob.kind == kind)
    if status:
        stmt = stmt.where(SimJob.status == status)
    if requested_by:
        stmt = stmt.where(SimJob.requested_by == requested_by)
    with database().session() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = s.scalars(stmt.order_by(SimJob.created_at.desc(), SimJob.id.desc()).offset(offset).limit(limit))
        return [_view(r, with_result=False) for r in rows], total


def cancel(job_id: str, actor: str) -> dict[str, Any]:
    """Ask a job to stop: a queued one is cancelled at once, a running one when its supervisor next
    looks (within `POLL_S`): its process is killed. 409 for a job already finished."""
    with database().session() as s:
        row = s.get(SimJob, job_id)
        if row is None:
            raise not_found(f"模拟任务不存在 no simulation job '{job_id}'", "unknown-sim-job")
        if row.status in FINAL:
            raise Problem(409, "任务已结束 Job already finished",
                          f"任务 {job_id} 已{STATUS_LABELS[row.status]}，不能取消", "sim-job-finished",
                          status_now=row.status)
        row.cancel_requested = True
        if row.status == "queued":
            _close(row, "cancelled", "已取消（未开始运行）")
        view = _view(row)
    audit.record(actor, "sim.job.cancel", job_id, {"status": view["status"]})
    if view["status"] == "cancelled":
        bus.publish(TOPIC_FINISHED, {"id": job_id, "kind": view["kind"], "status": "cancelled"})
    return view


def wait(job_id: str, timeout_s: float, poll_s: float = 0.25) -> dict[str, Any]:
    """The job once finished, or as it stands after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        view = get(job_id)
        if view["status"] in FINAL or time.monotonic() >= deadline:
            return view
        time.sleep(poll_s)


def _view(row: SimJob, with_result: bool = True) -> dict[str, Any]:
    out = {"id": row.id, "kind": row.kind, "status": row.status, "status_label": STATUS_LABELS.get(row.status, ""),
           "progress": round(row.progress, 3), "message": row.message, "params": row.params,
           "requested_by": row.requested_by, "created_at": _iso(row.created_at), "started_at": _iso(row.started_at),
           "finished_at": _iso(row.finished_at), "time_limit_s": row.time_limit_s, "error": row.error,
           "cancel_requested": row.cancel_requested}
    if with_result:
        out["result"] = row.result
    return out


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _close(row: SimJob, status: str, message: str, error: str | None = None,
           result: dict[str, Any] | None = None) -> None:
    row.status, row.message, row.error, row.finished_at = status, message, error, utcnow()
    if result is not None:
        row.result, row.progress = result, 1.0


# --- running ---------------------------------------------------------------------------------------

def supervise(job_id: str) -> None:
    """Run the job in a process of its own and see it to its end (never raises: a failure is the
    job's status)."""
    with _slot():
        try:
            _supervise(job_id)
        except Exception as exc:  # the job, not the worker, fails
            log.exception("simulation job %s failed in its supervisor", job_id)
            _finish(job_id, "failed", f"模拟失败：{exc}", str(exc))


def _claim(job_id: str) -> SimJob | None:
    """The job, now `running` under this process; None when it is not to run (finished, or its
    cancel was asked). A `running` row is taken over: its supervisor died and the queue gave the
    job to this one (distributed), which runs it again from the start."""
    now = utcnow()
    with database().session() as s:
        before = s.scalar(select(SimJob.worker).where(SimJob.id == job_id, SimJob.status == "running"))
        message = "启动模拟进程" if before is None else f"原工作进程 {before} 已中断，重新运行"
        claimed = s.execute(update(SimJob).where(SimJob.id == job_id, SimJob.status.in_(("queued", "running")),
                                                 SimJob.cancel_requested.is_(False))
                            .values(status="running", started_at=now, progress=0.0, message=message,
                                    worker=_me())).rowcount
        row = s.get(SimJob, job_id)
        if not claimed or row is None:
            return None
        s.expunge(row)
    if before is not None:
        log.warning("simulation job %s of a supervisor that is gone (%s) runs again", job_id, before)
    return row


def _supervise(job_id: str) -> None:
    job = _claim(job_id)
    if job is None:  # finished, or cancelled while no supervisor watched it: closed now
        _finish(job_id, "cancelled", "已取消，模拟未运行")
        return
    kind = KINDS[job.kind]
    run = Run(kind.run, job.payload or {})
    deadline = time.monotonic() + job.time_limit_s
    progress, message, written = 0.0, "模拟进行中", 0.0
    outcome: dict[str, Any] | None = None
    try:
        while outcome is None:
            msg = run.next(0.1)
            if msg is not None and "progress" in msg:
                progress, message = msg["progress"], msg["message"]
            elif msg is not None:
                outcome = msg
            elif run.ended:
                outcome = {"error": f"模拟进程意外退出（退出码 {run.returncode()}）{run.stderr_tail()}"}
            if outcome is None and time.monotonic() - written >= POLL_S:
                written = time.monotonic()
                if _progress(job.id, progress, message):
                    run.kill()
                    _finish(job.id, "cancelled", "已取消，模拟进程已终止")
                    return
            if outcome is None and time.monotonic() > deadline:
                run.kill()
                limit = f"{job.time_limit_s:g}"
                _finish(job.id, "failed", f"超过时间限制 {limit} 秒，模拟进程已终止",
                        f"time limit of {limit} s exceeded")
                return
    finally:
        run.close()
    if "error" in outcome:
        _finish(job.id, "failed", f"模拟失败：{outcome['error']}", outcome["error"])
        return
    if _cancel_requested(job.id):
        _finish(job.id, "cancelled", "已取消（结果未写入）")
        return
    _progress(job.id, 1.0, "写入结果")
    try:
        result = resolve(kind.finish)(job.id, job.params, job.payload or {}, outcome["done"])
    except Problem as exc:
        _finish(job.id, "failed", f"结果未写入：{exc.detail or exc.title}", exc.detail or exc.title)
        return
    _finish(job.id, "succeeded", "模拟完成", result=result)


class Run:
    """A run's process (`python -m aicity.hub.sim.runner`, `RUNNER`): the request goes in on its
    stdin, its messages are read from its stdout on a thread; its stderr is kept for a crash."""

    def __init__(self, ref: str, payload: dict[str, Any]) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", RUNNER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr,
                                     preexec_fn=die_with_parent)  # noqa: PLW1509 — only prctl, before exec
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.ended = False
        threading.Thread(target=self._read, name="sim-run-reader", daemon=True).start()
        stdin = self.proc.stdin
        if stdin is not None:
            try:
                stdin.write(json.dumps({"ref": ref, "payload": payload, "sys_path": sys.path}).encode())
                stdin.close()
            except BrokenPipeError:  # it died at once: its stdout ends, and `ended` says so
                pass

    def _read(self) -> None:
        if self.proc.stdout is not None:
            for line in self.proc.stdout:
                try:
                    self.messages.put(json.loads(line))
                except ValueError:
                    continue
        self.messages.put(None)

    def next(self, timeout_s: float) -> dict[str, Any] | None:
        """The next message, or None (none within `timeout_s`, or the process's output ended)."""
        try:
            msg = self.messages.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if msg is None:
            self.ended = True
        return msg

    def returncode(self) -> int | None:
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            return None

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        tail = self.stderr.read().decode("utf-8", "replace").strip().splitlines()[-2:]
        return f"：{' '.join(tail)}" if tail else ""

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def close(self) -> None:
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


def _progress(job_id: str, progress: float, message: str) -> bool:
    """Write the progress; True when a cancel was asked for."""
    with database().session() as s:
        s.execute(update(SimJob).where(SimJob.id == job_id, SimJob.status == "running")
                  .values(progress=round(min(max(progress, 0.0), 0.99), 3), message=message))
        return bool(s.scalar(select(SimJob.cancel_requested).where(SimJob.id == job_id)))


def _cancel_requested(job_id: str) -> bool:
    with database().session() as s:
        return bool(s.scalar(select(SimJob.cancel_requested).where(SimJob.id == job_id)))


def _finish(job_id: str, status: str, message: str, error: str | None = None,
            result: dict[str, Any] | None = None) -> None:
    with database().session() as s:
        row = s.get(SimJob, job_id)
        if row is None or row.status in FINAL:
            return
        _close(row, status, message, error, result)
        kind = row.kind
    audit.record("system:sim", f"sim.job.{status}", job_id, {"kind": kind, "error": error})
    bus.publish(TOPIC_FINISHED, {"id": job_id, "kind": kind, "status": status})


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover() -> None:
    """Start-up (embedded): a job left running by a process of this host that is gone (the server or
    CLI that supervised it stopped) fails with a message saying so. Distributed, nothing: the
    workers put a dead worker's rq job back on its queue and the job runs again (worker.py)."""
    if scale.distributed():
        return None
    host = socket.gethostname()
    with database().session() as s:
        for row in s.scalars(select(SimJob).where(SimJob.status == "running")):
            where, _, pid = (row.worker or "").rpartition(":")
            if where == host and pid.isdigit() and not _alive(int(pid)):
                _close(row, "failed", "运行模拟的进程已停止，模拟被中断，请重新发起", "supervisor stopped")
    return None
