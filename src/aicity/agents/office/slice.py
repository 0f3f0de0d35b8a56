"""The office agent (政务办公智能体, issue #15): drafting official documents to GB/T 9704-2012,
checking a DOCX against it, rendering pages; the register of documents sent and received."""

from aicity.core.slices import Command, HttpRouter, Page, Slice

office = Slice(
    id="office",
    title="政务办公 office agent",
    depends_on=("agents", "knowledge", "events", "iot"),
    tables=("aicity.agents.office.models",),
    routers=(HttpRouter("aicity.agents.office.api:router"), HttpRouter("aicity.agents.office.api_text:router")),
    commands=(Command("office", "aicity.agents.office.cli:app", "政务办公 official documents: draft, check"),
              Command("register", "aicity.agents.office.cli_text:register_command", "收文登记 register", parent="office"),
              Command("summarize", "aicity.agents.office.cli_text:summarize_command", "摘要 summarize", parent="office"),
              Command("polish", "aicity.agents.office.cli_text:polish_command", "润色 polish", parent="office"),
              Command("revise", "aicity.agents.office.cli_text:revise_command", "修改 revise", parent="office"),
              Command("office", "aicity.agents.office.cli_text:eval_office", "收文登记评测", parent="eval"),),
    agents=("aicity.agents.office.agent:build",),
    pages=(Page("office", "公文办理", "pages/office.js", order=35),),
)
