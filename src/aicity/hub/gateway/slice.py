"""The model gateway: the only code that talks to a model (`/v1`, `/api/v1/gateway`, `aicity gateway`)."""

from aicity.core.slices import Command, HttpRouter, Section, Slice

gateway = Slice(
    id="gateway",
    title="模型网关 model gateway",
    depends_on=("identity",),
    tables=("aicity.hub.gateway.models",),
    routers=(HttpRouter("aicity.hub.gateway.api:v1"), HttpRouter("aicity.hub.gateway.api:router")),
    commands=(Command("gateway", "aicity.hub.gateway.cli:app", "模型网关 Model gateway (中控网关)"),),
    settings=(Section("gateway", "aicity.hub.gateway.schemas:GatewayConfig"),),
)
