"""Settings: defaults, `aicity.toml`, `AICITY_*` variables, and their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.core.config import Settings
from aicity.hub.gateway.schemas import GatewayConfig


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("AICITY_DATA_DIR", "AICITY_DATABASE_URL", "AICITY_CONFIG", "AICITY_DENSE"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.data_dir == Path(".aicity")
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / '.aicity' / 'aicity.db').resolve()}"
    assert s.max_text_chars == 8000 and s.dense is True


def test_toml_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AICITY_DATA_DIR", raising=False)
    monkeypatch.delenv("AICITY_CONFIG", raising=False)
    (tmp_path / "aicity.toml").write_text(
        '[aicity]\ndata_dir = "/srv/city"\nmax_text_chars = 4000\n'
        '[[aicity.gateway.deployments]]\nname = "qwen"\ngroup = "chat-large"\n'
        'base_url = "http://127.0.0.1:9/v1"\nmodel = "qwen2.5"\n',
        encoding="utf-8")
    s = Settings()
    assert s.data_dir == Path("/srv/city") and s.max_text_chars == 4000
    gateway = GatewayConfig.model_validate(s.gateway)
    assert gateway.deployments[0].name == "qwen" and gateway.group("chat-large") is not None
    monkeypatch.setenv("AICITY_MAX_TEXT_CHARS", "100")
    monkeypatch.setenv("AICITY_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/c")
    s = Settings()
    assert s.max_text_chars == 100  # the environment wins over the file
    assert s.resolved_database_url.startswith("postgresql+psycopg://")
    assert Settings(max_text_chars=7).max_text_chars == 7  # explicit values win over both


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AICITY_MAX_TEXT_CHARS", "0")
    with pytest.raises(ValueError):
        Settings()
