"""`[aicity.infra]`: infrastructure operations' settings (each key also `AICITY_INFRA_<KEY>`).

Kept in a module of its own that registers no Prometheus metric: the settings class is built while
a collector may hold the registry's lock (ops/api.py's bus collector reads the settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class InfraSettings(BaseModel):
    """[aicity.infra]: what counts as a slow query; how long the broker probe waits"""

    model_config = ConfigDict(extra="forbid")

    slow_query_ms: float = Field(default=250.0, gt=0, description="a statement slower than this is a slow query")
    broker_probe_timeout_s: float = Field(default=1.5, gt=0, le=10,
                                          description="how long to wait for the MQTT broker's $SYS clients count")
    broker_probe_cache_s: float = Field(default=30.0, ge=0, description="a broker probe's answer is reused this long")
