"""The demo city's declared assets (`assets/declared.yaml`: applications, cloud resources, owners,
prices — demo-city assumptions), then the index synced from the platform."""

from __future__ import annotations

from pathlib import Path

from aicity.core.slices import Progress
from aicity.ops.assets import index


def load_demo(root: Path, _progress: Progress) -> None:
    index.declare((root / "assets" / "declared.yaml").read_text(encoding="utf-8"))
