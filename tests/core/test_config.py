"""Settings: defaults, `aicity.toml`, `AICITY_*` variables, and their precedence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aicity.agents.city_safety.settings import SafetySettings
from aicity.core.config import ConfigError, load
from aicity.hub.gateway.schemas import GatewayConfig
from aicity.hub.iot.settings import IotSettings
from aicity.identity.auth import OidcConfig


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("AICITY_DATA_DIR", "AICITY_DATABASE_URL", "AICITY_CONFIG", "AICITY_DENSE"):
        monkeypatch.delenv(var, raising=False)
    s = load()
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
    s = load()
    assert s.data_dir == Path("/srv/city") and s.max_text_chars == 4000
    gateway = GatewayConfig.model_validate(s.gateway)
    assert gateway.deployments[0].name == "qwen" and gateway.group("chat-large") is not None
    monkeypatch.setenv("AICITY_MAX_TEXT_CHARS", "100")
    monkeypatch.setenv("AICITY_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/c")
    s = load()
    assert s.max_text_chars == 100  # the environment wins over the file
    assert s.resolved_database_url.startswith("postgresql+psycopg://")
    assert load(max_text_chars=7).max_text_chars == 7  # explicit values win over both


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AICITY_MAX_TEXT_CHARS", "0")
    with pytest.raises(ValueError):
        load()


def test_sections_are_typed_and_read_from_file_and_environment(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AICITY_CONFIG", raising=False)
    (tmp_path / "aicity.toml").write_text(
        '[aicity.iot]\noffline_after_s = 120\n[aicity.iot.command_policy]\n"Valve.open" = "direct"\n'
        '[aicity.safety]\nflood_check_s = 0\n', encoding="utf-8")
    s = load()
    assert s.section(IotSettings).offline_after_s == 120
    assert s.section(IotSettings).command_policy == {"Valve.open": "direct"}
    assert s.section(SafetySettings).flood_check_s == 0 and s.section(SafetySettings).flood_horizon_min == 60
    assert s.optional_section(OidcConfig) is None  # [aicity.oidc] is off unless configured
    monkeypatch.setenv("AICITY_IOT_OFFLINE_AFTER_S", "30")  # one key of a section, from the environment
    monkeypatch.setenv("AICITY_IOT_MQTT_URL", "mqtt://127.0.0.1:1883")
    s = load()
    assert (s.section(IotSettings).offline_after_s, s.section(IotSettings).mqtt_url) == (30, "mqtt://127.0.0.1:1883")
    assert s.section(IotSettings).command_policy == {"Valve.open": "direct"}  # the rest still from the file


@pytest.mark.parametrize(("toml", "key"), [
    ('[aicity.iot]\noffline_after_s = "soon"\n', "aicity.iot.offline_after_s"),
    ('[aicity.iot]\nofline_after_s = 30\n', "aicity.iot.ofline_after_s"),  # a typo is not ignored
    ('[aicity.safety]\nflood_horizon_min = 600\n', "aicity.safety.flood_horizon_min"),
    ('[aicity.auth]\nsession_minutes = 0\n', "aicity.auth.session_minutes"),
])
def test_a_wrong_setting_names_its_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, key: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AICITY_CONFIG", raising=False)
    (tmp_path / "aicity.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load()
    assert key in str(err.value)


def test_the_cli_refuses_a_wrong_setting_with_its_key(tmp_path: Path) -> None:
    config = tmp_path / "aicity.toml"
    config.write_text('[aicity.iot]\noffline_after_s = "soon"\n', encoding="utf-8")
    env = {**os.environ, "AICITY_CONFIG": str(config), "AICITY_DATA_DIR": str(tmp_path / "city")}
    run = subprocess.run([sys.executable, "-m", "aicity.cli", "version"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 2
    assert "aicity.iot.offline_after_s" in run.stderr and "Traceback" not in run.stderr
