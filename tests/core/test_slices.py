"""The slice contract: discovery from the `aicity.slices` entry points, dependency order, and a
plug-in slice (tests/plugin_example) that reaches the city only through its entry point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aicity.cli import app as cli
from aicity.core import slices
from aicity.core.bus import bus
from aicity.core.config import load
from aicity.core.slices import Slice, SliceError
from aicity.server import create_app

PLUGIN = Path(__file__).resolve().parents[1] / "plugin_example"


def test_builtin_slices_load_from_the_entry_points_in_dependency_order() -> None:
    ids = [s.id for s in slices.slices()]
    assert {"identity", "knowledge", "catalog", "iot", "twin", "agents", "city_safety", "assistant", "audit",
            "guard", "approvals", "auth", "security", "ops", "web"} <= set(ids)
    for s in slices.slices():
        assert all(ids.index(dep) < ids.index(s.id) for dep in s.depends_on), s.id
    agents = [b.__module__ for b in slices.agent_builders()]
    assert agents.index("aicity.agents.city_safety.agent") > agents.index("aicity.agents.gov_service.agent")


def test_order_is_deterministic_and_refuses_unknown_dependencies_and_cycles() -> None:
    a, b, c = Slice(id="a"), Slice(id="b", depends_on=("c",)), Slice(id="c", depends_on=("a",))
    assert [s.id for s in slices.order([b, c, a])] == ["a", "c", "b"]
    with pytest.raises(SliceError, match="'x' depends on 'nowhere'"):
        slices.order([a, Slice(id="x", depends_on=("nowhere",))])
    with pytest.raises(SliceError, match="cycle: p → q → p"):
        slices.order([Slice(id="p", depends_on=("q",)), Slice(id="q", depends_on=("p",))])
    with pytest.raises(SliceError, match="declared twice"):
        slices.order([a, Slice(id="a")])
    with pytest.raises(SliceError, match="module:attribute"):
        Slice(id="bad", startup=("not a reference",))


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """aicity_example installed as pip would leave it: a dist-info folder with its entry point."""
    dist = tmp_path / "aicity_example-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aicity-example\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[aicity.slices]\nexample = aicity_example.slice:example\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGIN))
    slices.refresh()
    yield
    monkeypatch.undo()
    slices.refresh()


@pytest.mark.usefixtures("plugin")
def test_a_plugin_slice_plugs_in_through_its_entry_point_only() -> None:
    import aicity_example  # noqa: PLC0415  (importable only while the plug-in is installed)

    assert slices.get("example").depends_on == ("assistant",)
    assert load().section(aicity_example.ExampleSettings).greeting == "你好"
    with TestClient(create_app(load_city=False)) as client:
        assert client.get("/api/v1/example/hello").json() == {"hello": "你好"}
        assert "/api/v1/example/hello" in client.get("/openapi.json").json()["paths"]
        pages = client.get("/api/v1/console/pages").json()
        assert pages[-1] == {"id": "example", "title": "示例", "module": "example/page.js", "icon": ""}
        assert "export async function render" in client.get("/static/example/page.js").text
        assert client.get("/static/app.js").status_code == 200  # the console's own assets still served
        assert "example" in slices.active()
        bus.publish("assistant.answered", {"trace_id": "t-1"})
        assert aicity_example.heard == [{"trace_id": "t-1"}]
    assert "example" not in slices.active()  # removed at shutdown
    bus.publish("assistant.answered", {"trace_id": "t-2"})
    assert aicity_example.heard == [{"trace_id": "t-1"}]

    runner = CliRunner()
    listing = runner.invoke(cli, ["--help"])
    assert listing.exit_code == 0 and "example" in listing.output and "示例 say hello" in listing.output
    said = runner.invoke(cli, ["example", "居民"])
    assert said.exit_code == 0, said.output
    assert said.output.strip() == "你好, 居民"
    assert "example" not in slices.active()  # the command's activation ended with it


def test_a_failing_stop_does_not_leave_the_others_running(caplog: pytest.LogCaptureFixture) -> None:
    stopped: list[str] = []

    def broken() -> None:
        raise RuntimeError("stop failed")

    with caplog.at_level("ERROR"):
        slices._stop_all([lambda: stopped.append("first"), broken, lambda: stopped.append("last")])
    assert stopped == ["last", "first"] and "stop failed" in caplog.text
