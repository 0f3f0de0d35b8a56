"""Backups of the embedded store: `aicity backup` and `aicity restore` (docs/deployment.md).

One archive (tar, gzip level 1) holds, manifest first:

    manifest.json     format, created_at, the aicity/SQLite/DuckDB versions, the schema's Alembic
                      revision, and every other member's size and SHA-256
    db/aicity.db      the SQLite database, copied with SQLite's online backup API: one consistent
                      snapshot while a server keeps writing (in WAL mode the copy reads, writers go on)
    analytics/…       the DuckDB analytical store (`<data_dir>/data/hub.duckdb`), written by
                      `EXPORT DATABASE` as Parquet files with schema.sql and load.sql
    files/…           the data dir's other files (training rows, YAML agents, synonyms, relations)

Why `EXPORT DATABASE` and not a copy of the DuckDB file: DuckDB lets one process hold the file,
committed rows may still sit in its `.wal`, and a checkpoint rewrites blocks in place, so a byte
copy taken beside a writer can be torn; the export runs inside one transaction of a connection
that holds the store (a consistent snapshot), and Parquet plus SQL is read by any later DuckDB,
where a database file is read only by versions that know its storage format. The price is a
re-import on restore (seconds for the demo pack's 46,000 rows). When another process (a running
server, after its first data query) holds the store, this process cannot open it: the backup then
stops and says so, unless told to leave the analytical store out (`skip_analytics`). When the
analytical store is PostgreSQL (`data.store_url`), the archive does not hold it: the manifest says
where it is, and `pg_dump -Fc -n <store_schema>` (restored with `pg_restore`) backs it up, with
the database's other backups.

Left out on purpose: caches (passage vectors and fitted models live under ~/.cache and are
rebuilt), earlier backups, SQLite's -wal/-shm files (the snapshot has what they held), and the
audit signing key, which lives outside the data dir so that a copy of the data cannot re-sign
the ledger: back it up apart (docs/deployment.md).

A restore checks everything before it writes anything: the archive reads, every member is a
plain file named in the manifest with its size and checksum, the database passes SQLite's
integrity check and carries the revision the manifest names, a revision the code knows (older
ones are upgraded at the next start; a newer one is refused). It builds the new data dir beside
the target and swaps it in last; a non-empty target is replaced only when forced, and is then
kept aside (`<dir>.replaced-<time>`), not deleted.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from aicity import __version__
from aicity.core.config import settings
from aicity.hub.data import store
from aicity.hub.data.settings import DataSettings

FORMAT = 1
MANIFEST = "manifest.json"
#: the data dir's entries that are not copied as files: the databases (copied their own way),
#: SQLite's side files, earlier backups and caches that rebuild themselves
_SKIP_NAMES = {"aicity.db-wal", "aicity.db-shm", "aicity.db-journal", "backups", "cache"}
#: (other DuckDB files beside the store belong to other metadata databases: not this city's)
_SKIP_SUFFIXES = (".npy", ".tmp", ".partial", ".duckdb", ".duckdb.wal")

PG_MESSAGE = ("数据库不是内嵌的 SQLite（database_url 指向外部数据库）：请用数据库自己的工具备份，"
              "PostgreSQL 用 pg_dump -Fc / pg_restore（见 docs/deployment.md） — aicity backup covers the embedded "
              "store only; back up PostgreSQL with pg_dump -Fc and restore with pg_restore")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# ---- backup -----------------------------------------------------------------------------------

def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL; a BackupError for any other database."""
    if not url.startswith("sqlite"):
        raise BackupError(PG_MESSAGE)
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        raise BackupError("内存数据库无法备份 an in-memory database has nothing to back up")
    return Path(path)


def default_name() -> str:
    return f"aicity-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"


def create(dest: Path | None = None, *, skip_analytics: bool = False) -> tuple[Path, dict[str, Any]]:
    """Write a backup of the configured data dir to `dest` (a file, or a folder to put it in;
    default: the current directory). Returns the archive's path and its manifest."""
    cfg = settings()
    db_path = sqlite_path(cfg.resolved_database_url)
    if not db_path.is_file():
        raise BackupError(f"没有可备份的数据库 no database at {db_path}")
    data_dir = cfg.data_dir.resolve()
    target = (dest or Path.cwd()).expanduser().resolve()
    if target.is_dir():
        target = target / default_name()
    target.parent.mkdir(parents=True, exist_ok=True)
    analytics_path = store.store_path()
    with tempfile.TemporaryDirectory(prefix=".aicity-backup-", dir=target.parent) as tmp:
        stage = Path(tmp)
        schema = _copy_sqlite(db_path, stage / "db" / "aicity.db")
        analytics = None if skip_analytics else _pg_analytics() if store.backend() == "postgres" else \
            _export_analytics(analytics_path, stage / "analytics")
        skipped = {db_path.resolve(), analytics_path, analytics_path.with_name(analytics_path.name + ".wal"),
                   target, stage}
        files = _copy_files(data_dir, stage / "files", skipped)
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "aicity": __version__, "sqlite": sqlite3.sqlite_version, "duckdb": duckdb.__version__,
            "schema_revision": schema, "source_data_dir": str(data_dir),
            "analytics": analytics if analytics is not None else "skipped" if skip_analytics else "absent",
            "files": files, "members": _members(stage),
        }
        partial = target.with_name(target.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
                for member in manifest["members"]:
                    tar.add(stage / member["path"], arcname=member["path"], recursive=False)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return target, manifest


def _copy_sqlite(source: Path, copy: Path) -> str | None:
    """SQLite's online backup of `source` into `copy` (all pages in one step: one read
    transaction, so one consistent snapshot); returns the copy's Alembic revision."""
    copy.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _revision(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"数据库无法读取 the database {source} cannot be read: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _export_analytics(path: Path, folder: Path) -> dict[str, Any] | None:
    """`EXPORT DATABASE` of the analytical store through the store's own connection (this
    process's, when it holds the file already); None when there is no store."""
    if not path.exists():
        return None
    try:
        cur = store.read_connection()
    except store.StoreBusy as exc:
        raise BackupError(
            f"分析库 {path} 正被另一个进程（运行中的 aicity serve）占用，无法一致地导出：请先停止服务再备份，"
            "或加 --skip-analytics 只备份其余部分 — the analytical store is held by another process (a running "
            "server after its first data query; DuckDB allows one): stop it, or pass --skip-analytics") from exc
    try:
        tables = cur.execute("SELECT count(*) FROM information_schema.tables").fetchone()
        cur.execute(f"EXPORT DATABASE '{_sql_literal(folder)}' (FORMAT PARQUET)")
    except duckdb.Error as exc:
        raise BackupError(f"分析库导出失败 exporting the analytical store failed: {exc}") from exc
    finally:
        cur.close()
    return {"method": "EXPORT DATABASE (FORMAT PARQUET)", "tables_and_views": int(tables[0]) if tables else 0}


def _pg_analytics() -> dict[str, Any]:
    """The manifest's note on a PostgreSQL store: not in the archive, and what backs it up."""
    schema = settings().section(DataSettings).store_schema
    return {"method": "external", "backend": "postgres", "store": store.location(),
            "backup_with": f"pg_dump -Fc -n {schema}", "restore_with": "pg_restore"}


def _sql_literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _copy_files(data_dir: Path, folder: Path, skipped: set[Path]) -> int:
    """Copy the data dir's plain files (no links, no caches) into `folder`; returns how many."""
    count = 0
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if path.is_symlink() or not path.is_file() or _skipped(path.resolve(), rel, skipped):
            continue
        out = folder / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)
        count += 1
    return count


def _skipped(path: Path, rel: Path, skipped: set[Path]) -> bool:
    """A database file (the analytical store's side files too), a cache, a backup, a staging dir."""
    return (any(path == s or path.is_relative_to(s) or path.name.startswith(s.name + ".") and path.parent == s.parent
                for s in skipped)
            or any(part in _SKIP_NAMES or part.startswith((".aicity-backup-", ".aicity-verify-")) for part in rel.parts)
            or path.name.endswith(_SKIP_SUFFIXES))


def _members(stage: Path) -> list[dict[str, Any]]:
    return [{"path": p.relative_to(stage).as_posix(), "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(stage.rglob("*")) if p.is_file()]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))


# ---- verify and restore -----------------------------------------------------------------------

def _corrupt(detail: str) -> BackupError:
    return BackupError(f"备份文件已损坏或不是 aicity 备份 the archive is damaged or not an aicity backup: {detail}")


def _extract(src: Path, stage: Path) -> dict[str, Any]:
    """Unpack `src` into `stage`, checking every member against the manifest; the manifest."""
    if not src.is_file():
        raise BackupError(f"备份文件不存在 no such backup: {src}")
    try:
        with tarfile.open(src, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise _corrupt("no manifest.json at its start")
            raw = tar.extractfile(first)
            assert raw is not None
            try:
                manifest = json.loads(raw.read())
                expected = {m["path"]: m for m in manifest["members"]}
            except (ValueError, KeyError, TypeError) as exc:
                raise _corrupt(f"manifest.json cannot be read ({exc})") from None
            if manifest.get("format") != FORMAT:
                raise BackupError(f"不支持的备份格式 unsupported backup format {manifest.get('format')!r} "
                                  f"(this aicity reads format {FORMAT})")
            seen: set[str] = set()
            for member in tar:
                if member is first:  # iterating a TarFile starts again from its first member
                    continue
                _check_member(member, expected, seen)
                _write_member(tar, member, stage, expected[member.name])
                seen.add(member.name)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _corrupt(str(exc) or type(exc).__name__) from None
    if missing := sorted(set(expected) - seen):
        raise _corrupt(f"members missing: {', '.join(missing[:5])}")
    return dict(manifest)


def _check_member(member: tarfile.TarInfo, expected: dict[str, Any], seen: set[str]) -> None:
    name = PurePosixPath(member.name)
    if not member.isfile() or name.is_absolute() or ".." in name.parts or member.name not in expected:
        raise _corrupt(f"unexpected member {member.name!r}")
    if member.name in seen:
        raise _corrupt(f"member {member.name!r} twice")


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, stage: Path, meta: dict[str, Any]) -> None:
    out = stage / member.name
    out.parent.mkdir(parents=True, exist_ok=True)
    fh = tar.extractfile(member)
    assert fh is not None
    digest, size = hashlib.sha256(), 0
    with out.open("wb") as dst:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            dst.write(block)
    if size != meta["bytes"] or digest.hexdigest() != meta["sha256"]:
        raise _corrupt(f"{member.name}: checksum mismatch")


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("aicity") / "migrations"))
    return ScriptDirectory.from_config(cfg)


def schema_head() -> str:
    """The newest Alembic revision this code knows (what `Database.migrate()` brings a database to)."""
    return ", ".join(sorted(_scripts().get_heads()))


def check_schema(revision: str | None) -> str:
    """How the backup's schema stands to this code's migrations: `current`, or `older` (upgraded
    at the next start); a BackupError for a revision the code does not know."""
    scripts = _scripts()
    heads = set(scripts.get_heads())
    if revision is None:
        raise _corrupt("the database has no Alembic revision")
    if revision in heads:
        return "current"
    try:
        found = scripts.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise BackupError(f"备份的数据库结构 {revision} 比本程序新（本程序为 {', '.join(sorted(heads))}）：请先升级 aicity — "
                          f"the backup's schema revision {revision} is unknown to this aicity (head "
                          f"{', '.join(sorted(heads))}): restore it with the version that wrote it")
    return "older"


def _check_database(path: Path, revision: str | None) -> None:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
        stored = _revision(conn)
    except sqlite3.DatabaseError as exc:
        raise _corrupt(f"db/aicity.db: {exc}") from None
    finally:
        conn.close()
    if not result or result[0] != "ok":
        raise _corrupt(f"db/aicity.db fails SQLite's integrity check: {result}")
    if stored != revision:
        raise _corrupt(f"db/aicity.db holds schema revision {stored}, the manifest says {revision}")


def verify(src: Path) -> dict[str, Any]:
    """Check an archive completely without restoring it; its manifest, with `schema` added."""
    with tempfile.TemporaryDirectory(prefix=".aicity-verify-") as tmp:
        return _verified(src, Path(tmp))


def _verified(src: Path, stage: Path) -> dict[str, Any]:
    manifest = _extract(src, stage)
    if not (stage / "db" / "aicity.db").is_file():
        raise _corrupt("no db/aicity.db")
    manifest["schema"] = check_schema(manifest.get("schema_revision"))
    _check_database(stage / "db" / "aicity.db", manifest.get("schema_revision"))
    return manifest


def restore(src: Path, data_dir: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore the archive `src` into `data_dir`. Refuses a non-empty `data_dir` unless `force`
    (which keeps the old one aside as `<data_dir>.replaced-<time>`). Returns the manifest, with
    `schema`, `restored_to` and `replaced` (where the old data dir went, or None)."""
    cfg = settings()
    if cfg.database_url and not cfg.database_url.startswith("sqlite"):
        raise BackupError(PG_MESSAGE)
    if cfg.database_url or cfg.section(DataSettings).store_path or cfg.section(DataSettings).store_url:
        raise BackupError("restore 只恢复默认布局（数据库与分析库都在数据目录内）：请取消 database_url / data.store_path / data.store_url 设置 — "
                          "restore writes the default layout only: unset database_url, data.store_path and "
                          "data.store_url")
    target = data_dir.expanduser().resolve()
    occupied = target.exists() and (not target.is_dir() or any(target.iterdir()))
    if occupied and not force:
        raise BackupError(f"目标数据目录 {target} 不为空；确认覆盖请加 --force（原目录会保留为 {target.name}.replaced-…）— "
                          f"the data dir {target} is not empty: pass --force to replace it (the old one is kept aside)")
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.restore-", dir=target.parent) as tmp:
        stage, built = Path(tmp) / "archive", Path(tmp) / "city"
        manifest = _verified(src, stage)
        built.mkdir()
        if (stage / "files").is_dir():
            shutil.copytree(stage / "files", built, dirs_exist_ok=True)
        shutil.move(stage / "db" / "aicity.db", built / "aicity.db")
        if (stage / "analytics").is_dir():
            _import_analytics(stage / "analytics", built / "data" / "hub.duckdb")
        replaced = None
        if target.exists():
            if occupied:
                replaced = target.with_name(f"{target.name}.replaced-{stamp}")
                target.rename(replaced)
            else:
                target.rmdir()
        built.rename(target)
    manifest["restored_to"] = str(target)
    manifest["replaced"] = str(replaced) if replaced else None
    return manifest


def _import_analytics(folder: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path))
        try:
            conn.execute(f"IMPORT DATABASE '{_sql_literal(folder)}'")
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
    except duckdb.Error as exc:
        raise BackupError(f"分析库无法导入 the analytical store cannot be imported: {exc}") from exc
