"""`aicity`: the command line. Each slice owns its commands; this file only mounts them."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from aicity import __version__
from aicity.agents.city_safety.cli import app as safety_app
from aicity.assistant.cli import ask
from aicity.cli_support import open_city, print_json
from aicity.hub.events.cli import app as events_app
from aicity.hub.events.report_cli import app as report_app
from aicity.hub.gateway.cli import app as gateway_app
from aicity.hub.iot.cli import app as iot_app
from aicity.hub.iot.cli import simulate
from aicity.hub.knowledge.cli import app as kb_app
from aicity.identity.cli import app as keys_app
from aicity.ops.cli import app as eval_app
from aicity.security.approvals_cli import app as approvals_app
from aicity.security.cli import app as audit_app
from aicity.security.guard_cli import app as guard_app
from aicity.security.report_cli import security as security_report

app = typer.Typer(help="aicity — 城市超级助理与城市智能中枢 the AI CITY platform", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.command(help="向城市超级助理提问 Ask the super assistant")(ask)
app.add_typer(kb_app, name="kb")
app.add_typer(events_app, name="events")
app.add_typer(gateway_app, name="gateway")
app.add_typer(iot_app, name="iot")
app.command("simulate", help="示范城市设备模拟器 The demo city simulator (= aicity iot simulate)")(simulate)
app.add_typer(safety_app, name="safety")
app.add_typer(audit_app, name="audit")
app.add_typer(approvals_app, name="approvals")
report_app.command("security")(security_report)  # one `aicity report` group: daily (events), security
app.add_typer(report_app, name="report")
app.add_typer(guard_app, name="guard")
app.add_typer(keys_app, name="keys")
app.add_typer(eval_app, name="eval")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
    workers: Annotated[int, typer.Option(help="工作进程数")] = 1,
) -> None:
    """启动 API 与控制台（空数据目录会先载入示范城市）Serve the API and console."""
    import uvicorn

    from aicity.server import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if data_dir is not None:  # worker processes read the data dir from the environment
        os.environ["AICITY_DATA_DIR"] = str(data_dir)
    open_city(data_dir)  # load before binding, with a progress bar, so the first request is fast
    typer.echo(f"aicity {__version__} · 控制台 console: http://{host}:{port}/ · API 文档: http://{host}:{port}/docs")
    if workers > 1:
        uvicorn.run("aicity.server:create_app", factory=True, host=host, port=port, workers=workers)
    else:
        uvicorn.run(create_app(), host=host, port=port)


@app.command()
def agents(json_out: Annotated[bool, typer.Option("--json")] = False,
           data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """列出智能体与技能 List agents and their skills."""
    from aicity.assistant.service import assistant

    open_city(data_dir)
    cards = [a.card() for a in assistant().registry.agents()]
    if json_out:
        print_json({"agents": cards})
        return
    for card in cards:
        typer.echo(f"{card['id']}  {card['name']}  [{card['department']}]  ({card['source']})")
        for s in card["skills"]:
            typer.echo(f"    {s['id']:<16} {s['name']}  risk={s['risk']}  roles={s['roles'] or 'all'}")


@app.command()
def version() -> None:
    """显示版本 Show the version."""
    typer.echo(__version__)


if __name__ == "__main__":
    app()
