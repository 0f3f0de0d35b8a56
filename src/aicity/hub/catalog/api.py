"""Service-catalog HTTP API."""

from __future__ import annotations

from fastapi import APIRouter

from aicity.core.errors import forbidden
from aicity.hub.catalog import service
from aicity.hub.catalog.schemas import Bundle, BundleSummary, CatalogStats, ItemSummary, ServiceItem
from aicity.identity.api import Caller

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])


@router.get("/items", response_model=list[ItemSummary], summary="事项列表 Service items")
def items(department: str | None = None) -> list[dict]:
    return [{"id": i.id, "name": i.name, "department": i.department, "channels": i.channels}
            for i in service.catalog().items.values() if department in (None, i.department)]


@router.get("/items/{item_id}", response_model=ServiceItem, summary="事项详情 A service item")
def item(item_id: str) -> dict:
    return service.get_item(item_id).model_dump()


@router.get("/bundles", response_model=list[BundleSummary], summary="一件事列表 One-thing bundles")
def bundles() -> list[dict]:
    return [{"id": b.id, "name": b.name, "items": [s.item for s in b.items]} for b in service.catalog().bundles.values()]


@router.get("/bundles/{bundle_id}", response_model=Bundle, summary="一件事详情 A bundle")
def bundle(bundle_id: str) -> dict:
    return service.get_bundle(bundle_id).model_dump()


@router.get("/stats", response_model=CatalogStats, summary="事项统计（工作人员）Statistics (staff)")
def stats(principal: Caller) -> dict:
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return service.statistics()
