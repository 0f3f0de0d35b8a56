"""The web console: static assets, and the list of pages that slices declare.

A page is a nav entry plus an ES module under `static/pages/` that exports
`render(root, api)`; a slice declares its pages in its `slice.py` (`Slice.pages`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from pydantic import BaseModel, Field

from aicity.core import slices


class Page(BaseModel):
    id: str
    title: str
    module: str = Field(description="path under /static/")
    icon: str = ""


def static_dir() -> Path:
    return Path(str(resources.files("aicity") / "web" / "static"))


router = APIRouter(prefix="/api/v1/console", tags=["console"])


@router.get("/pages", response_model=list[Page], summary="控制台页面 Console pages")
def pages() -> list[Page]:
    """The installed slices' pages, in navigation order."""
    return [Page(id=p.id, title=p.title, module=p.module, icon=p.icon) for p in slices.pages()]
