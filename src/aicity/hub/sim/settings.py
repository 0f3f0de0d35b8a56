"""`[aicity.sim]`: simulation jobs (each key also `AICITY_SIM_<KEY>`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SimSettings(BaseModel):
    """[aicity.sim]: simulation jobs (time_limit_s, max_storm_min, max_parallel, agent_wait_s)"""

    model_config = ConfigDict(extra="forbid")

    #: at most 540 s: in the distributed mode the supervisor is an rq job, stopped by rq after 600 s
    time_limit_s: float = Field(default=300, gt=0, le=540, description="the longest one run may take; killed after")
    max_storm_min: int = Field(default=720, ge=10, le=2880, description="the longest storm a flood run accepts (minutes)")
    max_parallel: int = Field(default=2, ge=1, le=16, description="runs at once in one process; the rest wait queued")
    agent_wait_s: float = Field(default=20, ge=0, le=120,
                                description="how long the assistant waits for a run before answering with its job id")
