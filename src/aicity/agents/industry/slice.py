"""The industry agent (产业经济智能体, 产业招商): its skills, the project pipeline's tables,
`/api/v1/industry`, `aicity industry` and the console's 产业招商 page."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice

industry = Slice(
    id="industry",
    title="产业招商 industry and investment promotion",
    depends_on=("agents", "audit", "data", "knowledge"),
    tables=("aicity.agents.industry.models",),
    routers=(HttpRouter("aicity.agents.industry.api:router"),),
    commands=(Command("industry", "aicity.agents.industry.cli:app",
                      "产业招商 the industry agent: chains, gaps, leads, projects, reports"),),
    pages=(Page("industry", "产业招商", "pages/industry.js", order=33),),
    agents=("aicity.agents.industry.agent:build",),
    settings=(Section("industry", "aicity.agents.industry.settings:IndustrySettings"),),
)
