"""Video source health: a camera's submitted frame checked for a black screen, a frozen picture,
blur and occlusion, from image statistics (NumPy + Pillow).

The frame is decoded (JPEG or PNG, at most `MAX_BYTES` and `MAX_SIDE`×`MAX_SIDE`), turned to
grayscale and scaled down to at most `WORK_SIDE` pixels on its long side, then:

- black: the 95th percentile of luminance is below `BLACK_P95` (nearly every pixel dark; a
  timestamp overlay does not save it). A black frame is not checked for blur or occlusion.
- frozen: the mean absolute difference between this frame's 64×64 thumbnail and the camera's
  previous one (kept in memory per camera) is below `FROZEN_DIFF` gray levels.
- occlusion: at least `OCCLUDED_SHARE` of a `GRID`×`GRID` grid's cells are flat (standard
  deviation below `FLAT_STD`), or dark/bright and nearly flat (below `EXTREME_STD`).
- blur: the variance of the 4-neighbour Laplacian is below `BLUR_VAR` (not checked on an
  occluded frame, whose remainder says little about focus).

Each finding opens (or refreshes) an alarm on the camera through `rules.record_hits`, one per kind
and camera; a check that passes clears that kind's open alarm.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.iot import rules, service
from aicity.hub.iot.models import Alarm, Device, Rule

MAX_BYTES = 8 * 1024 * 1024
MAX_SIDE = 4096
MIN_SIDE = 32
WORK_SIDE = 640
FORMATS = ("JPEG", "PNG")

BLACK_P95 = 24.0
FROZEN_DIFF = 0.05
THUMB = 64
GRID = 10
FLAT_STD = 1.5
EXTREME_STD = 6.0
DARK, BRIGHT = 20.0, 235.0
OCCLUDED_SHARE = 0.6
BLUR_VAR = 60.0

Gray = NDArray[np.float32]


@dataclass(frozen=True)
class Check:
    kind: str
    rule: Rule
    #: True: a score below the threshold is the finding; False: at or above it
    below: bool
    threshold: float
    message: str


def _check(kind: str, name: str, severity: str, below: bool, threshold: float, message: str) -> Check:
    return Check(kind, rules.builtin_rule(f"video:{kind}", name, severity), below, threshold, message)


CHECKS: dict[str, Check] = {c.kind: c for c in (
    _check("black", "视频黑屏 Black screen", "high", True, BLACK_P95, "95% 像素亮度 {score:.1f}，低于 {threshold:g}"),
    _check("frozen", "画面冻结 Frozen picture", "medium", True, FROZEN_DIFF,
           "与上一帧平均差异 {score:.3f}，低于 {threshold:g}"),
    _check("occlusion", "镜头遮挡 Occluded view", "high", False, OCCLUDED_SHARE,
           "{score:.0%} 的画面区域无纹理，达到 {threshold:.0%}"),
    _check("blur", "画面模糊 Blurred picture", "low", True, BLUR_VAR, "清晰度（拉普拉斯方差）{score:.1f}，低于 {threshold:g}"),
)}


@dataclass(frozen=True)
class Finding:
    kind: str
    score: float
    threshold: float
    message: str


@dataclass(frozen=True)
class Health:
    device_id: str
    healthy: bool
    findings: list[Finding]
    alarms: list[Alarm]


def invalid_image(detail: str) -> Problem:
    service.count("video.rejected")
    return Problem(422, "图像无效 Invalid image", detail, "invalid-image")


def too_large(detail: str = f"图像超过 {MAX_BYTES // 2**20} MB / the image is over {MAX_BYTES // 2**20} MB") -> Problem:
    service.count("video.rejected")
    return Problem(413, "图像过大 Image too large", detail, "image-too-large")


# --- image statistics --------------------------------------------------------------------------

def decode(data: bytes) -> Gray:
    """The frame as grayscale (0–255), scaled to at most WORK_SIDE on its long side."""
    if len(data) > MAX_BYTES:
        raise too_large()
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        width, height = image.size  # known before the pixels are decoded
        if max(width, height) > MAX_SIDE:
            raise too_large(f"图像 {width}×{height} 超过 {MAX_SIDE}×{MAX_SIDE} / the image is over {MAX_SIDE} px")
        if min(width, height) < MIN_SIDE:
            raise invalid_image(f"图像 {width}×{height} 过小，至少 {MIN_SIDE} 像素 / at least {MIN_SIDE} px a side")
        gray = image.convert("L")
        scale = WORK_SIDE / max(width, height)
        if scale < 1:
            gray = gray.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)
        return np.asarray(gray, dtype=np.float32)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise invalid_image(f"无法解码为 JPEG 或 PNG 图像 / not a decodable JPEG or PNG image: {e}") from None


def black_score(gray: Gray) -> float:
    return float(np.percentile(gray, 95))


def laplacian_variance(gray: Gray) -> float:
    """Variance of the 4-neighbour Laplacian [[0,1,0],[1,-4,1],[0,1,0]] over the inner pixels."""
    lap = gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:] - 4 * gray[1:-1, 1:-1]
    return float(lap.var())


def occluded_share(gray: Gray) -> float:
    """The share of a GRID×GRID grid's cells that are flat, or dark/bright and nearly flat."""
    rows = np.array_split(np.arange(gray.shape[0]), GRID)
    cols = np.array_split(np.arange(gray.shape[1]), GRID)
    occluded = 0
    for r in rows:
        for c in cols:
            cell = gray[r[0]:r[-1] + 1, c[0]:c[-1] + 1]
            std, mean = float(cell.std()), float(cell.mean())
            occluded += std < FLAT_STD or (std < EXTREME_STD and not DARK <= mean <= BRIGHT)
    return occluded / (GRID * GRID)


def thumbnail(gray: Gray) -> Gray:
    image = Image.fromarray(gray).resize((THUMB, THUMB), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float32)


#: the last frame's thumbnail per (database, camera), for the frozen check
_previous: dict[tuple[str, str], Gray] = {}


def findings(device_id: str, gray: Gray) -> tuple[list[Finding], set[str]]:
    """The findings on a camera's frame, and the kinds that were checked."""
    scores: dict[str, float] = {"black": black_score(gray)}
    key = (database().url, device_id)
    thumb, before = thumbnail(gray), _previous.get(key)
    _previous[key] = thumb

    def found(kind: str) -> bool:
        check = CHECKS[kind]
        return scores[kind] < check.threshold if check.below else scores[kind] >= check.threshold

    if not found("black"):
        if before is not None:
            scores["frozen"] = float(np.abs(thumb - before).mean())
        scores["occlusion"] = occluded_share(gray)
        if not found("occlusion"):
            scores["blur"] = laplacian_variance(gray)
    result = [Finding(kind, round(score, 4), CHECKS[kind].threshold,
                      CHECKS[kind].message.format(score=score, threshold=CHECKS[kind].threshold))
              for kind, score in scores.items() if found(kind)]
    return result, set(scores)


# --- a camera's frame --------------------------------------------------------------------------

def check_frame(device_id: str, data: bytes) -> Health:
    """Check a frame of camera `device_id`, open or clear its video alarms, and say what was found."""
    device = service.get_device(device_id)
    if device.type != "Camera":
        raise Problem(422, "不是摄像头 Not a camera", f"设备 '{device_id}' 类型为 {device.type}，不是 Camera",
                      "not-a-camera")
    gray = decode(data)
    service.count("video.frames")
    found, checked = findings(device_id, gray)
    alarms = rules.record_hits(_hits(device, found, checked))
    return Health(device_id, not found, found, alarms)


def _hits(device: Device, found: list[Finding], checked: set[str]) -> list[rules.Hit]:
    by_kind = {f.kind: f for f in found}
    return [rules.Hit(CHECKS[kind].rule, device, ok=kind not in by_kind,
                      value=by_kind[kind].score if kind in by_kind else None,
                      message=by_kind[kind].message if kind in by_kind else "")
            for kind in CHECKS if kind in checked]


def health_json(health: Health) -> dict[str, object]:
    return {"device_id": health.device_id, "healthy": health.healthy,
            "findings": [{"kind": f.kind, "score": f.score, "threshold": f.threshold, "message": f.message}
                         for f in health.findings],
            "alarms": [rules.alarm_json(a) for a in health.alarms]}
