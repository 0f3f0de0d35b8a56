"""The city-safety agent: its skills, the gas loop (on the bus), the waterlogging watch
(a server thread), `/api/v1/safety` and `aicity safety`."""

from aicity.core.slices import Command, HttpRouter, Section, Slice, Subscription

city_safety = Slice(
    id="city_safety",
    title="城市安全 city safety",
    depends_on=("agents", "approvals", "events", "iot", "twin"),
    routers=(HttpRouter("aicity.agents.city_safety.api:router"),),
    commands=(Command("safety", "aicity.agents.city_safety.cli:app",
                      "城市安全 the city-safety agent: waterlogging watch"),),
    schedules=("aicity.agents.city_safety.flood:start_watch",),
    # a local simulator run (`aicity simulate`) ends with the waterlogging watch
    activation=("aicity.agents.city_safety.flood:watch_simulated_floods",),
    subscriptions=(Subscription("iot.alarm.raised", "aicity.agents.city_safety.loop:on_alarm"),
                   Subscription("events.reported", "aicity.agents.city_safety.loop:on_event")),
    agents=("aicity.agents.city_safety.agent:build",),
    settings=(Section("safety", "aicity.agents.city_safety.settings:SafetySettings"),),
)
