"""The digital twin: NGSI-LD entities that follow the devices."""

from aicity.core.slices import HttpRouter, Section, Slice, Subscription

twin = Slice(
    id="twin",
    title="数字孪生 digital twin (NGSI-LD)",
    depends_on=("identity", "iot"),
    tables=("aicity.hub.twin.models",),
    # NGSI-LD answers errors with its own bodies, not problem+json
    routers=(HttpRouter("aicity.hub.twin.api:router", problems=False),),
    subscriptions=(Subscription("iot.reading.stored", "aicity.hub.twin.mirror:mirror_readings",
                                delivery="durable"),),
    demo="aicity.hub.twin.seed:load_demo",
    settings=(Section("twin", "aicity.hub.twin.settings:TwinSettings"),),
)
