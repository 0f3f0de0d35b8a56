"""Simulation HTTP API under `/api/v1/sim` (staff only).

- `POST /jobs` — start a simulation (a flood run: `return_period` 2–100, `duration_min`, `district`,
  `river_level_m`, `rain` design|gauges); 202 with the job (with `wait_s`, the job as it stands
  then: finished runs carry their result); bad parameters → 400/422 problems, no job. A corridor
  signal-timing run (`kind: "traffic"`, `corridor`, `optimize`, `period` am|pm): `traffic_schemas.py`.
- `GET /jobs` — the history, newest first (`kind`, `status`, `limit`, `offset`).
- `GET /jobs/{id}` — the job with its progress (0–1) and message.
- `GET /jobs/{id}/result` — the result of a finished run (409 until then; a failed run's problem
  says why).
- `POST /jobs/{id}/cancel` — stop it (the run's process is killed); 409 once finished.
- `POST /jobs/{id}/actions` (operator, admin) — turn a recommendation (open a flood gate, pre-deploy
  pumps) into a request in the approval queue; another person approves it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from aicity.core.errors import Problem, forbidden, unauthorized
from aicity.hub.events.service import actor_name
from aicity.hub.sim import actions, jobs
from aicity.hub.sim.schemas import ActionOutcome, ActionRequest, FloodJobRequest, FloodResult, JobPage, JobView
from aicity.hub.sim.traffic_schemas import TrafficJobRequest, TrafficResult
from aicity.identity.api import Caller
from aicity.identity.models import STAFF_ROLES
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/sim", tags=["sim"])


def _staff(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if principal.role not in STAFF_ROLES:
        raise forbidden("模拟推演仅供工作人员使用 simulations are for staff")
    return principal


@router.post("/jobs", response_model=JobView, status_code=202, summary="发起模拟 Start a simulation")
async def create_job(body: FloodJobRequest | TrafficJobRequest, principal: Caller) -> dict[str, Any]:
    who = _staff(principal)
    job = await run_in_threadpool(jobs.create, body.kind, body.params(), actor_name(who))
    if body.wait_s:
        job = await run_in_threadpool(jobs.wait, job["id"], body.wait_s)
    return job


@router.get("/jobs", response_model=JobPage, summary="模拟历史 Simulation history")
async def list_jobs(principal: Caller, kind: Annotated[str | None, Query(max_length=40)] = None,
                    status: Annotated[str | None, Query(max_length=20)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    _staff(principal)
    rows, total = await run_in_threadpool(jobs.history, kind, status, limit, offset)
    return {"total": total, "jobs": rows}


@router.get("/jobs/{job_id}", response_model=JobView, summary="模拟进度 A job's progress")
async def get_job(job_id: str, principal: Caller) -> dict[str, Any]:
    _staff(principal)
    return await run_in_threadpool(jobs.get, job_id, False)


@router.get("/jobs/{job_id}/result", response_model=FloodResult | TrafficResult, summary="模拟结果 A finished job's result")
async def get_result(job_id: str, principal: Caller) -> dict[str, Any]:
    _staff(principal)
    job = await run_in_threadpool(jobs.get, job_id)
    if job["status"] == "failed":
        raise Problem(409, "模拟失败 Simulation failed", job["error"] or job["message"], "sim-job-failed")
    if job["status"] != "succeeded":
        raise Problem(409, "模拟尚未完成 Simulation not finished",
                      f"任务状态：{job['status_label']}（{job['progress']:.0%}）", "sim-job-not-finished",
                      job_status=job["status"])
    return dict(job["result"])


@router.post("/jobs/{job_id}/cancel", response_model=JobView, summary="取消模拟 Cancel a job")
async def cancel_job(job_id: str, principal: Caller) -> dict[str, Any]:
    who = _staff(principal)
    return await run_in_threadpool(jobs.cancel, job_id, actor_name(who))


@router.post("/jobs/{job_id}/actions", response_model=ActionOutcome, status_code=202,
             summary="建议转审批 Queue a recommendation for approval")
async def request_action(job_id: str, body: ActionRequest, principal: Caller) -> dict[str, Any]:
    # staff ask as they do through the assistant (the approval policy's request roles); another person approves
    outcome = await run_in_threadpool(actions.request, job_id, body.recommendation, _staff(principal))
    if outcome["approval_id"] is None:  # a role the approval policy does not let ask
        raise forbidden(outcome["body"])
    return outcome
