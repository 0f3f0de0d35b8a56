"""What the NGSI-LD API answers (ETSI GS CIM 009), for `/openapi.json`. Entities are open by nature:
beside `id` and `type` every member is an attribute named by the city's data models, so these models
allow extra members. With `Accept: application/ld+json` each object also carries `@context`; with
`application/json` the @context is in the `Link` header. Errors are the spec's ProblemDetails."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_OPEN = ConfigDict(extra="allow", populate_by_name=True)


class NgsiProblem(BaseModel):
    """An NGSI-LD error (ProblemDetails, `application/json`), alone or inside a batch's 207."""

    type: str = Field(examples=["https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"])
    title: str
    status: int
    detail: str


class Entity(BaseModel):
    """An entity: `id`, `type` and its attributes by name — normalized (`{"type": "Property", "value": …}`,
    `Relationship` with `object`, `GeoProperty`; a list for several `datasetId`s) or, with
    `options=keyValues`, plain values."""

    model_config = _OPEN

    id: str = Field(examples=["urn:ngsi-ld:WaterLevelObserved:wl-001"])
    type: str | list[str]
    context: Any = Field(default=None, alias="@context", description="with Accept: application/ld+json")


class TemporalEntity(Entity):
    """An entity's attribute history: each attribute a list of instances with `observedAt`, or with
    `options=temporalValues` `{type, values: [[value, observedAt], …]}`."""


class NotUpdated(BaseModel):
    attributeName: str
    reason: str


class UpdateResult(BaseModel):
    """207: some attributes were written, some not (all written: 204, no body)."""

    updated: list[str]
    notUpdated: list[NotUpdated]


class BatchError(BaseModel):
    entityId: str | None
    error: NgsiProblem


class BatchResult(BaseModel):
    """207 of a batch operation: the ids that succeeded and an error per entity that failed."""

    success: list[str]
    errors: list[BatchError]


class Subscription(BaseModel):
    """A subscription as stored (entities, watchedAttributes, q, notification.endpoint …) with its
    state: `isActive`, `status`, `notification.timesSent` / `timesFailed` / `lastSuccess` …"""

    model_config = _OPEN

    id: str
    type: str = Field(examples=["Subscription"])
    isActive: bool
    status: str = Field(description="active | paused")
    notification: dict[str, Any]


class EntityTypeList(BaseModel):
    model_config = _OPEN

    id: str
    type: str = Field(examples=["EntityTypeList"])
    typeList: list[str]


class EntityType(BaseModel):
    """One entry of `GET /types?details=true`."""

    model_config = _OPEN

    id: str
    type: str = Field(examples=["EntityType"])
    typeName: str
    attributeNames: list[str]


class AttributeRef(BaseModel):
    id: str
    type: str = Field(examples=["Attribute"])
    attributeName: str


class EntityTypeInfo(BaseModel):
    model_config = _OPEN

    id: str
    type: str = Field(examples=["EntityTypeInfo"])
    typeName: str
    entityCount: int
    attributeDetails: list[AttributeRef]


class AttributeList(BaseModel):
    model_config = _OPEN

    id: str
    type: str = Field(examples=["AttributeList"])
    attributeList: list[str]


class Attribute(AttributeRef):
    """An attribute with the entity types it occurs in, its attribute types and how many entities have it."""

    model_config = _OPEN

    attributeCount: int
    attributeTypes: list[str]
    typeNames: list[str]


class CoreContext(BaseModel):
    """The bundled NGSI-LD core @context (served offline)."""

    model_config = _OPEN

    context: dict[str, Any] = Field(alias="@context")
