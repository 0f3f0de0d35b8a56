"""`aicity backup` and `aicity restore`: the embedded store's backups (ops/backup.py).

Neither command opens the city: a backup reads the data dir as it is (a server may be running
on it), a restore writes a data dir that no server is using."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from aicity.core.cli import fail, print_json
from aicity.core.config import configure, settings
from aicity.ops import backup

DataDir = Annotated[Path | None, typer.Option(help="数据目录 (AICITY_DATA_DIR)")]
JsonOut = Annotated[bool, typer.Option("--json", help="JSON 输出")]
T = TypeVar("T")


def _run(data_dir: Path | None, action: Callable[[], T]) -> T:
    """`action` on the data dir given (or the configured one); its errors are clear CLI errors."""
    if data_dir is not None:
        configure(data_dir=data_dir)
    try:
        return action()
    except backup.BackupError as exc:
        fail(str(exc))
    except OSError as exc:  # a folder that cannot be written, a full disk
        fail(f"文件操作失败 {exc.strerror or exc}: {exc.filename or ''}")


def backup_command(
    dest: Annotated[Path | None, typer.Argument(help="备份文件或目录；默认当前目录 aicity-backup-<时间>.tar.gz")] = None,
    skip_analytics: Annotated[bool, typer.Option(
        "--skip-analytics", help="不含分析库（DuckDB 被运行中的服务占用时）leave the analytical store out")] = False,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """备份内嵌数据（SQLite 在线备份 + 分析库 + 数据目录）Back up the embedded store, also while the server runs."""
    path, manifest = _run(data_dir, lambda: backup.create(dest, skip_analytics=skip_analytics))
    if json_out:
        print_json({"path": str(path), **{k: v for k, v in manifest.items() if k != "members"},
                    "members": len(manifest["members"]), "bytes": path.stat().st_size})
        return
    analytics = manifest["analytics"]
    typer.echo(f"已备份 backed up {manifest['source_data_dir']} → {path} ({path.stat().st_size / 1e6:.1f} MB; "
               f"schema {manifest['schema_revision']}; {manifest['files']} files; analytics: "
               f"{analytics if isinstance(analytics, str) else str(analytics['tables_and_views']) + ' tables/views'})")


def restore_command(
    src: Annotated[Path, typer.Argument(help="备份文件 the archive `aicity backup` wrote")],
    force: Annotated[bool, typer.Option("--force", help="替换非空数据目录（原目录保留为 <目录>.replaced-<时间>）")] = False,
    check: Annotated[bool, typer.Option("--check", help="只校验，不恢复 verify only")] = False,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """从备份恢复数据目录（先校验校验和与数据库结构版本）Restore a data dir from a backup (stop the server first)."""
    manifest = _run(data_dir, lambda: backup.verify(src) if check else backup.restore(src, settings().data_dir,
                                                                                      force=force))
    if json_out:
        print_json({k: v for k, v in manifest.items() if k != "members"})
        return
    schema = "（较旧，下次启动时升级 older: upgraded at the next start）" if manifest["schema"] == "older" else ""
    if check:
        typer.echo(f"备份完好 the archive is sound: {src} ({manifest['created_at']}, schema "
                   f"{manifest['schema_revision']}{schema})")
        return
    typer.echo(f"已恢复 restored {src} ({manifest['created_at']}) → {manifest['restored_to']}{schema}")
    if manifest["replaced"]:
        typer.echo(f"原数据目录保留在 the old data dir is kept at {manifest['replaced']}")
