"""数字资产 the digital-asset platform: index, lineage, applications, chargeback, projects (ops/assets/)."""

from aicity.core.slices import Command, HttpRouter, Page, Slice

assets = Slice(
    id="assets",
    title="数字资产 digital assets",
    depends_on=("ops", "data", "gateway", "assistant"),
    tables=("aicity.ops.assets.models",),
    routers=(HttpRouter("aicity.ops.assets.api:router"),),
    commands=(Command("assets", "aicity.ops.assets.cli:app",
                      "数字资产：目录、申请审批、计量分摊、数字化项目 digital assets"),),
    pages=(Page("assets", "数字资产", "pages/assets.js", order=56),),
    demo="aicity.ops.assets.demo:load_demo",
)
