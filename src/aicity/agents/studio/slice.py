"""智能体共创平台 the agent co-creation platform: agent definitions as versioned data, the builder and
catalogue in the console, publishing to the super assistant (agents/studio; docs/studio.md)."""

from aicity.core.slices import Command, HttpRouter, Page, Slice

_CLI = "aicity.agents.studio.cli"

studio = Slice(
    id="studio",
    title="智能体共创 agent studio: co-created agents, versions, catalogue",
    depends_on=("agents", "audit", "identity", "knowledge"),
    tables=("aicity.agents.studio.models",),
    routers=(HttpRouter("aicity.agents.studio.api:router"),),
    # `aicity agents …` (the assistant's group)
    commands=tuple(Command(name, f"{_CLI}:{name}_command", help_, parent="agents") for name, help_ in (
        ("create", "新建智能体 create from a file or template"), ("import", "导入 YAML/JSON import a file"),
        ("export", "导出 export one file"), ("publish", "发布或回滚 publish / roll back"),
        ("list", "智能体广场 the catalogue"), ("show", "详情与版本 details and versions"),
        ("test", "试运行 try an agent"))),
    pages=(Page("studio", "智能体共创", "pages/studio.js", order=12),),
)
