"""The service catalog: items, one-thing bundles, policies, life events."""

from aicity.core.slices import Command, HttpRouter, Slice

catalog = Slice(
    id="catalog",
    title="事项库 service catalog",
    depends_on=("identity", "knowledge"),
    tables=("aicity.hub.catalog.models",),
    routers=(HttpRouter("aicity.hub.catalog.api:router"),),
    commands=(Command("catalog", "aicity.hub.catalog.cli:app", "事项库 Service catalog"),),
    demo="aicity.hub.catalog.demo:load_demo",
)
