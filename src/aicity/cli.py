"""`aicity`: the command line. Each slice declares its commands (`Slice.commands`, core/slices.py);
this file mounts them, lazily: `aicity --help` lists them from the declarations alone, and a
slice's command module is imported when one of its commands runs or shows its help. Before any
command runs, the settings are checked (a wrong one is an error naming its key) and the slices
are activated (their bus subscriptions), until the command ends."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import DefaultPlaceholder, TyperInfo

from aicity import __version__
from aicity.core import jobs, scale, slices
from aicity.core.cli import fail, open_city, set_city_loader
from aicity.core.config import ConfigError, settings
from aicity.demo.loader import ensure_city


def _declared() -> list[slices.Command]:
    try:
        return [c for s in slices.slices() for c in s.commands]
    except slices.SliceError as exc:
        fail(f"插件切片有误 a slice cannot be loaded: {exc}")


def _load(declared: slices.Command) -> TyperCommand | TyperGroup:
    """The click command a declaration names; a group lists the commands other slices put into it
    (`Command.parent`) from their declarations and imports each when it runs or shows its help."""
    target = slices.resolve(declared.ref)
    command: TyperCommand | TyperGroup
    if isinstance(target, typer.Typer):  # always a group: `get_command` would collapse a one-command Typer
        if isinstance(target.info.cls, DefaultPlaceholder):  # the slice's group, its children loaded on demand
            command = typer.main.get_group_from_info(
                TyperInfo(target, cls=SliceCommands), pretty_exceptions_short=target.pretty_exceptions_short,
                suggest_commands=target.suggest_commands, rich_markup_mode=target.rich_markup_mode)
        else:  # a group class of the slice's own: its children are added now
            command = typer.main.get_group(target)
            for child in _declared():
                if child.parent == declared.name:
                    command.add_command(_load(child), child.name)
    else:  # one function: a top-level command shows its declared help, a group's its docstring
        single = typer.Typer()
        single.command(declared.name, help=declared.help if declared.parent is None else None)(target)
        command = typer.main.get_command(single)
    command.name = declared.name
    if isinstance(command, SliceCommands):
        command.declared_parent = declared.name
    _starting(command)
    if not declared.activate:
        command.context_class = Reading
    return command


def _starting(command: TyperCommand | TyperGroup) -> TyperCommand | TyperGroup:
    """The command, and those in it, with the context that starts the city when it runs (`Starting`)."""
    command.context_class = Starting
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            if isinstance(sub, TyperCommand | TyperGroup):
                _starting(sub)
    return command


class Starting(typer.Context):
    """A slice command's context: the settings are checked and the slices activated
    (`_start_command`) when the command runs, not when it only shows its help; a group's
    callback starts them when the group runs as the command itself (no subcommand)."""

    activates = True

    def invoke(self, callback: Any, /, *args: Any, **kwargs: Any) -> Any:
        if callback is self.command.callback and (
                not isinstance(self.command, TyperGroup) or self.invoked_subcommand is None):
            _start_command(self, activate=self.activates)
        return super().invoke(callback, *args, **kwargs)


class Reading(Starting):
    """The context of a command declared `activate=False`: the settings are checked, the slices not activated."""

    activates = False


def _start_command(ctx: typer.Context, activate: bool = True) -> None:
    """Before a command runs (once per invocation): the settings are checked (a wrong one is an
    error naming its key) and the slices activated (their bus subscriptions) until it ends."""
    root = ctx.find_root()
    if root.meta.get("aicity.started"):
        return
    root.meta["aicity.started"] = True
    try:
        settings()
    except (ConfigError, slices.SliceError) as exc:
        fail(str(exc))
    if activate:
        root.call_on_close(slices.activate())


class SliceCommands(TyperGroup):
    """A group with the commands the slices declare into it (`Command.parent`; the root: those
    without a parent) beside its own: `--help` lists them from their declarations, and a
    declared command's module is imported when it runs or shows its own help."""

    #: the group name the declarations use as `parent` (None: the root, `aicity` itself)
    declared_parent: str | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listing = False

    def _children(self) -> list[slices.Command]:
        return [c for c in _declared() if c.parent == self.declared_parent]

    def list_commands(self, ctx: typer.Context) -> list[str]:
        own = super().list_commands(ctx)
        declared = [c.name for c in self._children() if c.name not in own]
        return [*declared, *own] if self.declared_parent is None else [*own, *declared]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        declared = next((c for c in self._children() if c.name == cmd_name), None)
        if declared is None:
            return None
        if self._listing:  # this group's `--help`: the declared help, without importing the slice
            return TyperCommand(cmd_name, help=declared.help, short_help=declared.help)
        command = _load(declared)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(cls=SliceCommands, help="aicity — 城市超级助理与城市智能中枢 the AI CITY platform",
                  no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def _start() -> None:
    set_city_loader(ensure_city)  # every command opens the demo city into an empty data dir


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")] = None,
    workers: Annotated[int, typer.Option(help="工作进程数")] = 1,
) -> None:
    """启动 API 与控制台（空数据目录会先载入示范城市）Serve the API and console."""
    _start_command(ctx)
    import uvicorn  # here: the server's dependencies load only for `serve` (CLI start-up time)

    from aicity.server import create_app  # here: as uvicorn; the web app is not built for other commands

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if data_dir is not None:  # worker processes read the data dir from the environment
        os.environ["AICITY_DATA_DIR"] = str(data_dir)
    open_city(data_dir)  # load before binding, with a progress bar, so the first request is fast
    if (warning := scale.per_process_warning(workers)) is not None:
        logging.getLogger(__name__).warning(warning)
    typer.echo(f"aicity {__version__} · 控制台 console: http://{host}:{port}/ · API 文档: http://{host}:{port}/docs")
    if workers > 1:
        uvicorn.run("aicity.server:create_app", factory=True, host=host, port=port, workers=workers,
                    timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
    else:
        uvicorn.run(create_app(), host=host, port=port, timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
    _exit_past_stuck_threads()


#: on SIGTERM, in-flight requests get this long to finish; then the process exits
SHUTDOWN_GRACE_S = 10


def _exit_past_stuck_threads() -> None:
    """After the server stopped: a worker thread stuck in native code (a model call) would keep
    the interpreter from exiting; a daemon watchdog ends the process if it is still here after
    the grace period (a normal exit ends the watchdog with it)."""

    def watchdog() -> None:
        time.sleep(SHUTDOWN_GRACE_S)
        logging.getLogger(__name__).warning("服务已停止，但有工作线程仍未结束，强制退出 stopping with worker threads still busy")
        logging.shutdown()
        os._exit(0)

    threading.Thread(target=watchdog, name="shutdown-watchdog", daemon=True).start()


@app.command()
def worker(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(help="作业队列，逗号分隔 rq queues, comma-separated")] = ",".join(jobs.QUEUES),
    burst: Annotated[bool, typer.Option(help="队列清空即退出 stop when the queues are empty")] = False,
) -> None:
    """后台工作进程：持久总线、定时任务与作业（需 redis_url）Run a background worker (distributed mode)."""
    _start_command(ctx)
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    if not scale.distributed():
        fail("aicity worker 需要 redis_url（分布式模式）the worker needs redis_url (AICITY_REDIS_URL); "
             "the embedded server runs its background work itself")
    if unknown := [q for q in chosen if q not in jobs.QUEUES]:
        fail(f"未知队列 unknown queue(s): {', '.join(unknown)}; known: {', '.join(jobs.QUEUES)}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from aicity import worker as background  # here: rq, an optional dependency, loads only for this command

    background.run(chosen or list(jobs.QUEUES), burst=burst)


@app.command()
def version(ctx: typer.Context) -> None:
    """显示版本 Show the version."""
    _start_command(ctx, activate=False)  # a wrong setting is reported here too; nothing to activate
    typer.echo(__version__)


if __name__ == "__main__":
    app()
