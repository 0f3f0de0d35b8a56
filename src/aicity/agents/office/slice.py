"""The office agent (政务办公智能体, issue #15): drafting official documents to GB/T 9704-2012,
checking a DOCX against it, rendering pages; the register of documents sent and received."""

from aicity.core.slices import Command, HttpRouter, Slice

office = Slice(
    id="office",
    title="政务办公 office agent",
    depends_on=("agents", "knowledge", "events", "iot"),
    tables=("aicity.agents.office.models",),
    routers=(HttpRouter("aicity.agents.office.api:router"),),
    commands=(Command("office", "aicity.agents.office.cli:app", "政务办公 official documents: draft, check"),),
)
