"""`aicity agents`: the agents the assistant serves, read from their declarations (the slices'
agents, `aicity.agents` entry points, YAML, co-created agents published for the city) without
building the assistant: no classifier is fitted, no vector loaded, no model session opened.
Other slices add commands to the group (agents/studio: create, publish …)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aicity.agents.studio import service as studio
from aicity.core.cli import open_city, print_json

agents_app = typer.Typer(help="智能体：列出，及智能体共创 agents: list them; co-create (create, publish, test …)",
                         no_args_is_help=False)


@agents_app.callback(invoke_without_command=True)
def agents(ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False,
           data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """列出智能体与技能 List agents and their skills."""
    if ctx.invoked_subcommand is not None:
        return
    open_city(data_dir)
    cards = [a.card() for a in studio.city_registry().agents()]
    if json_out:
        print_json({"agents": cards})
        return
    for card in cards:
        typer.echo(f"{card['id']}  {card['name']}  [{card['department']}]  ({card['source']})")
        for s in card["skills"]:
            typer.echo(f"    {s['id']:<16} {s['name']}  risk={s['risk']}  roles={s['roles'] or 'all'}")
