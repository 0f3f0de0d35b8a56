"""`aicity catalog check`: every legal-basis citation against the article text, with the coverage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from aicity.demo.loader import data_dir
from aicity.hub.catalog.cli import app


def test_the_bundled_catalog_is_fully_verified(city: Path) -> None:
    result = CliRunner().invoke(app, ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["coverage"] == 1.0 and report["verified"] == report["refs"] > 600 and report["problems"] == []


def test_a_wrong_quote_is_named_and_fails(city: Path, tmp_path: Path) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(data_dir() / "catalog", copy)
    items = copy / "items" / "tobacco.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace(
        'quote: "二十日内作出行政许可决定"', 'quote: "十日内作出行政许可决定并公告"', 1), encoding="utf-8")
    result = CliRunner().invoke(app, [str(copy), "--json"])
    assert result.exit_code == 1
    assert any("第四十二条 中没有“十日内作出行政许可决定并公告”" in p for p in json.loads(result.output)["problems"])


def test_not_a_catalog_directory_is_a_clear_error(city: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [str(tmp_path)])
    assert result.exit_code == 2 and "not a catalog directory" in result.output
