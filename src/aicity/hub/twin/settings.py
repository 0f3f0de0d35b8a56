"""[aicity.twin]: where the NGSI-LD twin may fetch the user @context documents clients name by URL, and how
many instances of one attribute a temporal answer carries before it is paged."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TwinSettings(BaseModel):
    """[aicity.twin]: user @context fetching (the core context and the platform's own are never fetched)"""

    model_config = ConfigDict(extra="forbid")

    context_hosts: list[str] = Field(
        default_factory=list,
        description="hosts whose @context documents may be fetched (\"*\": any host the egress policy allows); "
                    "none: only the core and inline contexts are understood")
    context_max_bytes: int = Field(default=256 * 1024, ge=1024, description="largest @context document fetched")
    context_timeout_s: float = Field(default=3.0, gt=0, description="longest a @context fetch may take")
    context_ttl_s: int = Field(default=3600, ge=0, description="how long a fetched @context is kept")
    temporal_max_instances: int = Field(
        default=1000, ge=1,
        description="most instances of one attribute (and datasetId) a temporal answer carries; more: the answer is "
                    "cut at a common time and is 206 with Content-Range (GS CIM 009 clause 6.3.10)")
