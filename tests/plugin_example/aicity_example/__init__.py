"""The example slice's code: a route, a command, a bus handler, its settings."""

from __future__ import annotations

from typing import Any

import typer
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from aicity.core.config import settings

router = APIRouter(prefix="/api/v1/example", tags=["example"])
#: what the bus handler heard (`assistant.answered` payloads)
heard: list[dict[str, Any]] = []


class ExampleSettings(BaseModel):
    """[aicity.example]: the greeting"""

    model_config = ConfigDict(extra="forbid")

    greeting: str = "你好"


class Hello(BaseModel):
    hello: str


@router.get("/hello", response_model=Hello, summary="示例 Example")
def hello_route() -> Hello:
    return Hello(hello=settings().section(ExampleSettings).greeting)


def hello(name: str = typer.Argument("城市")) -> None:
    typer.echo(f"{settings().section(ExampleSettings).greeting}, {name}")


def on_answer(_topic: str, payload: dict[str, Any]) -> None:
    heard.append(payload)
