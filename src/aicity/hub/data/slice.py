"""The city data hub: datasets (import, quality, versions, lineage), grading per GB/T 43697-2024,
desensitization, the catalog and its exports."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice

data = Slice(
    id="data",
    title="数据中枢 city data hub",
    depends_on=("identity", "events", "iot"),
    tables=("aicity.hub.data.models",),
    routers=(HttpRouter("aicity.hub.data.api:router"),),
    commands=(Command("data", "aicity.hub.data.cli:app", "数据中枢 datasets, grading, catalog, exports"),),
    pages=(Page("data", "数据目录", "pages/data.js", order=30),),
    settings=(Section("data", "aicity.hub.data.settings:DataSettings"),),
    demo="aicity.hub.data.demo:load_demo",
    health="aicity.hub.data.demo:health",
)
