"""The web console: static assets, and the list of pages that slices plug in.

A page is a nav entry plus an ES module under `static/pages/` that exports
`render(root, api)`; a slice adds its page with `register_page` when it mounts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from fastapi import APIRouter


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    module: str  # path under /static/
    icon: str = ""


_pages: list[Page] = []


def register_page(page: Page) -> None:
    if all(p.id != page.id for p in _pages):
        _pages.append(page)


def static_dir() -> Path:
    return Path(str(resources.files("aicity") / "web" / "static"))


router = APIRouter(prefix="/api/v1/console", tags=["console"])


@router.get("/pages", summary="控制台页面 Console pages")
def pages() -> list[dict]:
    return [asdict(p) for p in _pages]


register_page(Page(id="chat", title="超级助理", module="pages/chat.js"))
register_page(Page(id="knowledge", title="知识中心", module="pages/knowledge.js"))
register_page(Page(id="events", title="事件中心", module="pages/events.js"))
register_page(Page(id="dashboard", title="一屏统览", module="pages/dashboard.js"))
