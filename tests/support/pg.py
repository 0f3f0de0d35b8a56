"""A throw-away PostgreSQL server on loopback (Debian's postgresql), started, stopped and
started again on the same data and port (the fault tests restart it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.net import free_port


def pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@dataclass
class PgServer:
    bindir: Path
    #: not under pytest's tmp dir: that is private to root, and the server runs as postgres
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="aicity-pg-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def as_user(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://aicity@127.0.0.1:{self.port}/postgres"

    def init(self) -> PgServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        subprocess.run([*self.as_user, str(self.bindir / "initdb"), "-D", str(self.root / "data"), "-U", "aicity",
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        return self

    def start(self) -> PgServer:
        self.proc = subprocess.Popen([*self.as_user, str(self.bindir / "postgres"), "-D", str(self.root / "data"),
                                      "-p", str(self.port), "-h", "127.0.0.1", "-k", str(self.root)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while subprocess.run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                             capture_output=True).returncode != 0:
            if time.time() > deadline:
                self.proc.kill()
                raise RuntimeError("PostgreSQL did not start")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        """A fast shutdown (clients disconnected, data consistent): SIGTERM's smart shutdown would
        wait for every pooled connection of the city's processes to close."""
        if self.proc is not None:
            subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast",
                            "-w", "stop"], capture_output=True, timeout=60)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
