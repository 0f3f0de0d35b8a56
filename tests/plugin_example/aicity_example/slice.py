"""The example slice's declaration: everything the city learns about it."""

from aicity.core.slices import Command, HttpRouter, Page, Section, Slice, Subscription

example = Slice(
    id="example",
    title="示例 the example slice",
    depends_on=("assistant",),
    routers=(HttpRouter("aicity_example:router"),),
    commands=(Command("example", "aicity_example:hello", "示例 say hello"),),
    pages=(Page("example", "示例", "example/page.js", order=90),),
    static="aicity_example:static",
    subscriptions=(Subscription("assistant.answered", "aicity_example:on_answer"),),
    settings=(Section("example", "aicity_example:ExampleSettings"),),
)
