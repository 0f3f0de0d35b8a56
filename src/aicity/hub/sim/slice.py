"""Simulations (推演模拟): jobs in their own processes, the flood simulation on EPA SWMM,
`/api/v1/sim`, `aicity sim`, the 推演模拟 console page and the simulation agent."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice

sim = Slice(
    id="sim",
    title="推演模拟 simulation",
    depends_on=("agents", "approvals", "data", "events", "iot", "twin"),
    tables=("aicity.hub.sim.models",),
    routers=(HttpRouter("aicity.hub.sim.api:router"), HttpRouter("aicity.hub.sim.traffic_api:router")),
    commands=(Command("sim", "aicity.hub.sim.cli:app", "推演模拟 simulations: flood (SWMM) jobs"),
              Command("traffic", "aicity.hub.sim.traffic_cli:traffic", "干道信号配时仿真 corridor signal timing (SUMO)",
                      parent="sim")),
    pages=(Page("sim", "推演模拟", "pages/sim.js", order=45),),
    startup=("aicity.hub.sim.jobs:recover",),
    agents=("aicity.agents.sim.agent:build",),
    settings=(Section("sim", "aicity.hub.sim.settings:SimSettings"),),
)
