"""The demo city's departments (`departments.yaml`), loaded by the identity slice."""

from __future__ import annotations

from pathlib import Path

import yaml

from aicity.core.slices import Progress
from aicity.identity.service import load_departments


def load_demo(root: Path, _progress: Progress) -> None:
    load_departments(yaml.safe_load((root / "departments.yaml").read_text(encoding="utf-8")))
