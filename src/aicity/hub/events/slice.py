"""Unified event management: reports, lifecycle and SLA, Open311, reports."""

from aicity.core.slices import Command, HttpRouter, Page, Slice

events = Slice(
    id="events",
    title="统一事件管理 unified event management",
    depends_on=("identity", "gateway"),
    tables=("aicity.hub.events.models",),
    routers=(HttpRouter("aicity.hub.events.api:router"), HttpRouter("aicity.hub.events.open311:router")),
    commands=(Command("events", "aicity.hub.events.cli:app", "统一事件管理 unified event management"),
              Command("report", "aicity.hub.events.report_cli:app", "城市运行报告 city-operations reports.")),
    pages=(Page("events", "事件中心", "pages/events.js", order=30),),
    startup=("aicity.hub.events.classify:warm_up",),
    schedules=("aicity.hub.events.lifecycle:start_sla_watcher",),
)
