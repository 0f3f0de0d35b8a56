"""Closing the loop: a simulation's recommendation becomes an actuation request in the approval
queue, never an actuation. Opening a flood gate goes through `hub/iot/commands.request_command`
(once another person approves, the city-safety agent's `device_command` skill sends it);
pre-deploying pumps (no device to command: crews and pump trucks) is queued as the simulation
agent's `deploy_pumps` skill (`agents/sim/agent.py`), which on approval dispatches the water
department with an event. Both are `approvals.submit`: the requester's role is checked there,
and the request is audited."""

from __future__ import annotations

from typing import Any

from aicity.core import audit
from aicity.core.errors import Problem, not_found
from aicity.core.tracing import Tracer
from aicity.hub.iot import commands
from aicity.hub.iot import service as iot
from aicity.hub.sim import jobs
from aicity.identity.service import Principal
from aicity.security import approvals

#: the agent and skill an approved pump deployment runs, and its name
PUMPS = ("simulation", "deploy_pumps", "预置移动泵车")


def request(job_id: str, recommendation_id: str, principal: Principal) -> dict[str, Any]:
    """Queue the job's recommendation `recommendation_id` for approval; returns the decision."""
    job = jobs.get(job_id)
    if job["status"] != "succeeded" or not job.get("result"):
        raise Problem(409, "模拟尚未完成 Simulation not finished", f"任务 {job_id} 状态为{job['status_label']}",
                      "sim-job-not-finished")
    rec = next((r for r in job["result"].get("recommendations", []) if r["id"] == recommendation_id), None)
    if rec is None:
        raise not_found(f"任务 {job_id} 没有建议 '{recommendation_id}'", "unknown-recommendation")
    if not rec["actuation"]:
        raise Problem(422, "该建议没有可下发的设备 Nothing to actuate", rec["reason"], "no-device")
    reason = f"{rec['label']}：{rec['reason']}（{'信号配时仿真' if job['kind'] == 'traffic' else '内涝模拟'} {job_id}）"
    if rec["kind"] == "open_gate":
        outcome = commands.request_command(iot.get_device(rec["device_id"]), "open", {}, reason, principal)
    elif rec["kind"] == "signal_plan":  # the corridor simulation's new timing, as the device's peak plan
        outcome = commands.request_command(iot.get_device(rec["device_id"]), "set_plan", rec["params"], reason,
                                           principal)
    else:
        agent, skill, label = PUMPS
        places = {n["node"]: n["place"] for n in job["result"]["flooded"]}
        params = {"job": job_id, "district": rec["district"],
                  "places": "、".join(places.get(p, p) for p in rec["places"])}
        tracer = Tracer("sim", principal.role.value, {"job": job_id, "recommendation": recommendation_id})
        outcome = approvals.submit(agent, skill, params, reason, label, principal, tracer)
        tracer.save({"approval": outcome.approval_id, "decision": outcome.decision})
    audit.record(principal.actor, "sim.recommendation.requested", job_id,
                 {"recommendation": recommendation_id, "decision": outcome.decision, "approval": outcome.approval_id})
    return {"job_id": job_id, "recommendation": recommendation_id, "decision": outcome.decision,
            "approval_id": outcome.approval_id, "title": outcome.title, "body": outcome.body}
