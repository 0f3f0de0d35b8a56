"""The slice contract's `Mount` (core/slices.py), which serves the MCP server at /mcp."""

from __future__ import annotations

import pytest

from aicity.core import slices
from aicity.core.slices import Mount, Mounted, Slice, SliceError


def test_a_mount_path_and_reference_are_checked() -> None:
    for bad in ("mcp", "/mcp/", "/m cp", "/"):
        with pytest.raises(SliceError, match="mount path"):
            Slice(id="x", mounts=(Mount(bad, "aicity.hub.mcp_bridge.server:mount"),))
    with pytest.raises(SliceError, match="not a reference"):
        Slice(id="x", mounts=(Mount("/x", "not a reference"),))


def test_a_mount_factory_must_build_a_mounted_app() -> None:
    wrong = Slice(id="x", mounts=(Mount("/x", "aicity.hub.mcp_bridge.server:build_server"),))
    with pytest.raises(SliceError, match="not Mounted"):
        slices.mounted([wrong])
    built = slices.mounted([Slice(id="y", mounts=(Mount("/y", "aicity.hub.mcp_bridge.server:mount"),))])
    assert [path for path, _ in built] == ["/y"] and isinstance(built[0][1], Mounted)
    assert built[0][1].lifespan is not None
