"""The city data hub: datasets (import, quality, versions, lineage), grading per GB/T 43697-2024,
desensitization, the catalog and its exports."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice

data = Slice(
    id="data",
    title="数据中枢 city data hub",
    depends_on=("identity", "events", "iot"),
    tables=("aicity.hub.data.models", "aicity.hub.data.spaces_models"),
    routers=(HttpRouter("aicity.hub.data.api:router"), HttpRouter("aicity.hub.data.ask_api:router"),
             HttpRouter("aicity.hub.data.spaces_api:router"),),
    commands=(Command("data", "aicity.hub.data.cli:app", "数据中枢 datasets, grading, catalog, exports"),
              Command("ask", "aicity.hub.data.ask_cli:ask_command", "一句话问数 ask the city's data", parent="data"),
              Command("spaces", "aicity.hub.data.spaces_cli:app", "可信数据空间 data spaces", parent="data"),),
    pages=(Page("data", "数据目录", "pages/data.js", order=30), Page("ask", "一句话问数", "pages/data_ask.js", order=31),
           Page("data-spaces", "数据空间", "pages/data_spaces.js", order=32),),
    settings=(Section("data", "aicity.hub.data.settings:DataSettings"),),
    demo="aicity.hub.data.demo:load_demo",
    health="aicity.hub.data.demo:health",
)
