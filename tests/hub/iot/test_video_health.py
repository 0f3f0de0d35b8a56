"""Video source health: synthesized frames (NumPy + Pillow) through
`POST /api/v1/iot/cameras/{id}/frames` — healthy, black, frozen, blurred, occluded, bad input —
and the camera's alarms raised once and cleared by a healthy frame."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter

from aicity.hub.iot import rules, service, video
from aicity.identity import service as identity
from aicity.server import create_app
from tests.support.iot import provision

W, H = 480, 360
_rng = np.random.default_rng(7)


@pytest.fixture(scope="module")
def iot(city: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_city=False)) as c:
        yield c


@pytest.fixture(scope="module")
def pkey(city: Path) -> str:
    return service.new_provisioning_key("test")


@pytest.fixture(scope="module")
def staff(city: Path) -> dict[str, str]:
    _, key = identity.create_api_key("video-operator", "operator", "gas")
    return {"Authorization": f"Bearer {key}"}


def scene(seed: int | None = None) -> Image.Image:
    """A textured street-like picture: noise over horizontal and vertical gradients."""
    rng = np.random.default_rng(seed) if seed is not None else _rng
    y, x = np.mgrid[0:H, 0:W]
    base = 60 + 80 * x / W + 60 * y / H
    rgb = np.stack([base, base * 0.9, base * 1.1], axis=-1) + rng.normal(0, 30, (H, W, 3))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, quality=90) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def send(iot: TestClient, camera: str, key: dict[str, str], data: bytes, multipart: bool = False) -> Any:
    url = f"/api/v1/iot/cameras/{camera}/frames"
    if multipart:
        return iot.post(url, files={"file": ("frame.jpg", data, "image/jpeg")}, headers=key)
    return iot.post(url, content=data, headers={**key, "Content-Type": "image/jpeg"})


def kinds(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [f["kind"] for f in resp.json()["findings"]]


def test_a_textured_scene_is_healthy(iot: TestClient, pkey: str) -> None:
    camera, key = provision(iot, pkey, "Camera")
    for _ in range(3):  # a live picture changes from frame to frame
        resp = send(iot, camera, key, encode(scene()))
        assert kinds(resp) == [] and resp.json()["healthy"] is True
    assert kinds(send(iot, camera, key, encode(scene(), "PNG"), multipart=True)) == []


def test_black_frozen_blur_and_occlusion_are_found(iot: TestClient, pkey: str) -> None:
    camera, key = provision(iot, pkey, "Camera")
    black = send(iot, camera, key, encode(Image.new("RGB", (W, H))))
    assert kinds(black) == ["black"] and black.json()["healthy"] is False
    assert black.json()["findings"][0]["threshold"] == video.BLACK_P95

    frame = encode(scene())
    assert kinds(send(iot, camera, key, frame)) == []
    frozen = send(iot, camera, key, frame)
    assert kinds(frozen) == ["frozen"] and frozen.json()["findings"][0]["score"] < video.FROZEN_DIFF

    blurred = send(iot, camera, key, encode(scene().filter(ImageFilter.GaussianBlur(6))))
    assert kinds(blurred) == ["blur"]
    assert blurred.json()["findings"][0]["score"] < video.BLUR_VAR

    covered = scene()
    covered.paste((128, 128, 128), (0, 0, round(W * 0.7), H))  # 70 % of the frame behind flat grey
    occluded = send(iot, camera, key, encode(covered))
    assert kinds(occluded) == ["occlusion"] and occluded.json()["findings"][0]["score"] >= video.OCCLUDED_SHARE


def test_bad_frames_are_rejected(iot: TestClient, pkey: str, staff: dict[str, str]) -> None:
    camera, key = provision(iot, pkey, "Camera")
    sensor, sensor_key = provision(iot, pkey, "GasSensor")
    good = encode(scene())
    for data, status in ((b"not an image at all", 422), (good[: len(good) // 2], 422), (b"", 422),
                         (encode(scene(), "GIF"), 422), (encode(Image.new("RGB", (8, 8))), 422)):
        resp = send(iot, camera, key, data)
        assert resp.status_code == status, (data[:20], resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert send(iot, camera, key, b"\0" * (video.MAX_BYTES + 100_000)).status_code == 413
    huge = Image.new("L", (video.MAX_SIDE + 1, 40))
    assert send(iot, camera, key, encode(huge, "PNG")).status_code == 413
    assert iot.post(f"/api/v1/iot/cameras/{camera}/frames", files={"other": ("x", good)},
                    headers=key).status_code == 422
    # who may send: the camera itself or staff; not another device, not anonymous; cameras only
    assert send(iot, camera, sensor_key, good).status_code == 403
    assert send(iot, camera, {}, good).status_code == 401
    assert send(iot, camera, staff, good).status_code == 200
    assert send(iot, sensor, sensor_key, good).status_code == 422
    assert send(iot, "no-such-camera", staff, good).status_code == 404


def test_an_alarm_is_raised_once_and_cleared_by_a_healthy_frame(iot: TestClient, pkey: str,
                                                               staff: dict[str, str]) -> None:
    camera, key = provision(iot, pkey, "Camera")
    first = send(iot, camera, key, encode(scene().filter(ImageFilter.GaussianBlur(6))))
    assert kinds(first) == ["blur"] and len(first.json()["alarms"]) == 1
    again = send(iot, camera, key, encode(scene().filter(ImageFilter.GaussianBlur(6))))
    assert kinds(again) == ["blur"] and again.json()["alarms"] == []  # refreshed, not raised anew
    open_alarms = rules.list_alarms("active", camera)
    assert [(a.rule_id, a.count) for a in open_alarms] == [("video:blur", 2)]
    assert "模糊" in open_alarms[0].message

    black = send(iot, camera, key, encode(Image.new("RGB", (W, H))))
    raised = black.json()["alarms"]
    assert [a["severity"] for a in raised] == ["high"] and raised[0]["event_id"]  # a black screen is a city event
    assert {a.rule_id for a in rules.list_alarms("active", camera)} == {"video:blur", "video:black"}

    healthy = send(iot, camera, staff, encode(scene()))
    assert kinds(healthy) == [] and healthy.json()["healthy"] is True
    assert rules.list_alarms("active", camera) == []
    assert {a.rule_id for a in rules.list_alarms("cleared", camera)} == {"video:blur", "video:black"}
