"""The web console: the shell (`/`, `/static`), the page list, the dashboard."""

from aicity.core.slices import HttpRouter, Page, Slice

web = Slice(
    id="web",
    title="控制台 web console",
    depends_on=("ops",),
    routers=(HttpRouter("aicity.web:router"),),
    pages=(Page("dashboard", "一屏统览", "pages/dashboard.js", order=40),),
)
