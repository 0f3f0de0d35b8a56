"""`aicity backup` / `aicity restore` (ops/backup.py): a backup taken while a real server keeps
writing, restored into a fresh data dir, holds every write acknowledged before it began, and the
restored city answers through the app's HTTP interface; damaged and foreign archives, and a
restore over a non-empty data dir, are refused with a clear message and nothing written."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from aicity.core.config import configure, settings
from aicity.core.db import use_database
from aicity.hub.data import store
from aicity.hub.iot import service as iot
from aicity.identity import service as identity
from aicity.ops import backup
from aicity.server import create_app
from tests.support.net import free_port

AICITY = [sys.executable, "-m", "aicity.cli"]
DEVICE = "backup-wl-1"


def cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AICITY_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.run([*AICITY, *args], capture_output=True, text=True, env=env, timeout=300)


def serve(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen([*AICITY, "serve", "--port", str(port), "--data-dir", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 240
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def restored_values(data_dir: Path) -> set[float]:
    conn = sqlite3.connect(data_dir / "aicity.db")
    try:
        return {r[0] for r in conn.execute("SELECT value FROM iot_readings WHERE device_id = ?", (DEVICE,))}
    finally:
        conn.close()


def test_backup_while_the_server_writes_restores_every_acknowledged_write(city: Path, tmp_path: Path) -> None:
    _, credential = iot.create_device(iot.DeviceSpec(type="WaterLevelObserved", id=DEVICE), "test")
    _, admin = identity.create_api_key("backup-admin", "admin")
    store.close()  # this process hands the analytical store over (DuckDB: one process holds the file)
    proc, base = serve(city)
    acked: list[float] = []
    sent: list[float] = []
    failures: list[str] = []
    done = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=base, headers={"X-Device-Key": credential}, timeout=30) as c:
            i = 0
            while not done.is_set():
                i += 1
                value = i / 1000  # distinct, inside the water level's physical range (-5 … 20 m)
                sent.append(value)
                r = c.post("/api/v1/iot/telemetry", json={"attribute": "waterLevel", "value": value, "unit": "m"})
                if r.status_code != 202 or r.json()["stored"] != 1:
                    failures.append(r.text)
                    return
                acked.append(value)

    writer = threading.Thread(target=write, daemon=True)
    try:
        writer.start()
        while len(acked) < 20:
            assert writer.is_alive(), failures
            time.sleep(0.05)
        before = set(acked)  # acknowledged before the backup began
        made = cli(["backup", str(tmp_path), "--json"], city)
        during = len(acked) - len(before)
        time.sleep(0.3)
    finally:
        done.set()
        writer.join(timeout=30)
        proc.terminate()
        proc.wait(timeout=60)
    assert made.returncode == 0, made.stderr
    assert not failures, failures
    report = json.loads(made.stdout)
    archive = Path(report["path"])
    assert archive.parent == tmp_path and report["schema_revision"] == backup.schema_head()
    assert isinstance(report["analytics"], dict) and report["analytics"]["tables_and_views"] > 0
    assert during > 0, "the server was not writing while the backup ran"

    target = tmp_path / "restored"
    done_restore = cli(["restore", str(archive)], target)
    assert done_restore.returncode == 0, done_restore.stderr
    values = restored_values(target)
    assert before <= values  # every write acknowledged before the backup began
    assert values <= set(sent)  # and nothing that was never sent
    assert not any(target.glob("aicity.db-*")) and (target / "data" / "hub.duckdb").is_file()

    with restored_city(target) as client:  # the restored city answers, through the app's HTTP interface
        headers = {"Authorization": f"Bearer {admin}"}
        readings = client.get(f"/api/v1/iot/devices/{DEVICE}/readings", params={"limit": 5000}, headers=headers)
        assert {r["value"] for r in readings.json()} == values
        districts = client.get("/api/v1/data/datasets/districts", headers=headers)
        assert districts.status_code == 200 and districts.json()["sample"]  # rows from the restored DuckDB store
        answer = client.post("/api/v1/assistant/ask", json={"text": "公积金怎么提取"})
        assert answer.status_code == 200 and "hpf" in answer.json()["departments"]


@contextmanager
def restored_city(data_dir: Path) -> Iterator[TestClient]:
    """This process pointed at a restored data dir for a while (the session's city afterwards)."""
    previous = settings().data_dir
    store.close()
    configure(data_dir=data_dir)
    use_database(settings().resolved_database_url)
    try:
        with TestClient(create_app(load_city=False)) as client:
            yield client
    finally:
        store.close()
        configure(data_dir=previous)
        use_database(settings().resolved_database_url)


@pytest.fixture(scope="module")
def archive(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store.close()
    (city / "notes").mkdir(exist_ok=True)
    (city / "notes" / "backup-marker.txt").write_text("数据目录里的其他文件", encoding="utf-8")
    path, _ = backup.create(tmp_path_factory.mktemp("backups"))
    return path


def rewrite(archive: Path, out: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of `archive` with members replaced (bytes) or dropped (None), the manifest left as it was
    unless `manifest.json` is among them."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz", compresslevel=1) as dst:
        for member in src:
            data = change.get(member.name, src.extractfile(member).read())  # type: ignore[union-attr]
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile(backup.MANIFEST).read())  # type: ignore[union-attr]


def test_damaged_archives_are_refused_and_nothing_is_written(archive: Path, tmp_path: Path) -> None:
    flipped = tmp_path / "flipped.tar.gz"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 3])
    not_gzip = tmp_path / "notes.tar.gz"
    not_gzip.write_text("not an archive", encoding="utf-8")
    altered = rewrite(archive, tmp_path / "altered.tar.gz", {"db/aicity.db": b"SQLite format 3\x00" + b"\x00" * 100})
    dropped = rewrite(archive, tmp_path / "dropped.tar.gz", {"db/aicity.db": None})
    for bad, why in [(flipped, ""), (truncated, ""), (not_gzip, ""), (altered, "checksum mismatch"),
                     (dropped, "members missing")]:
        target = tmp_path / f"city-{bad.stem}"
        with pytest.raises(backup.BackupError, match="damaged or not an aicity backup") as err:
            backup.restore(bad, target)
        assert why in str(err.value)
        assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_a_schema_newer_than_the_code_is_refused(archive: Path, tmp_path: Path) -> None:
    manifest = manifest_of(archive)
    manifest["schema_revision"] = "9999"
    newer = rewrite(archive, tmp_path / "newer.tar.gz", {backup.MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(backup.BackupError, match="unknown to this aicity"):
        backup.restore(newer, tmp_path / "city")
    assert not (tmp_path / "city").exists()
    manifest["format"] = 99
    future = rewrite(archive, tmp_path / "future.tar.gz", {backup.MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(backup.BackupError, match="unsupported backup format 99"):
        backup.verify(future)


def test_restore_over_a_non_empty_data_dir_needs_force(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "city"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(archive, target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    result = backup.restore(archive, target, force=True)
    kept = Path(result["replaced"])
    assert (kept / "notes.txt").read_text(encoding="utf-8") == "keep me"  # the old data dir is kept aside
    assert (target / "aicity.db").is_file() and not (target / "notes.txt").exists()
    assert (target / "notes" / "backup-marker.txt").read_text(encoding="utf-8") == "数据目录里的其他文件"
    names = {m["path"] for m in manifest_of(archive)["members"]}
    assert "db/aicity.db" in names and "analytics/schema.sql" in names and "files/notes/backup-marker.txt" in names
    assert not [n for n in names if n.endswith(("-wal", "-shm", ".duckdb", ".wal"))]
    assert result["schema"] == "current"


def test_backup_of_a_postgresql_city_points_to_pg_dump(tmp_path: Path) -> None:
    env = {**os.environ, "AICITY_DATABASE_URL": "postgresql+psycopg://aicity@127.0.0.1:9/aicity", "COLUMNS": "200"}
    pg = subprocess.run([*AICITY, "backup", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert pg.returncode == 2 and "pg_dump" in pg.stderr
    assert not list(tmp_path.iterdir())


@pytest.fixture(autouse=True)
def _release_store() -> Iterator[None]:
    """The tests hand the analytical store to other processes; it reopens on the next use."""
    yield
    store.close()
