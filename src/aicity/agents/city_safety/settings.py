"""`[aicity.safety]`: the city-safety agent's settings (each key also `AICITY_SAFETY_<KEY>`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SafetySettings(BaseModel):
    """[aicity.safety]: the waterlogging watch (flood_check_s, flood_horizon_min)"""

    model_config = ConfigDict(extra="forbid")

    flood_check_s: float = Field(default=60, ge=0, description="how often the server runs the watch (0: off)")
    flood_horizon_min: int = Field(default=60, ge=10, le=180, description="how far ahead the watch looks, in minutes")
