"""Rain for the flood simulation: the city's design storm as a Chicago hyetograph, or what the live
rain gauges report.

The storm intensity formula (暴雨强度公式, GB 50014-2021) in its usual Chinese form

    q = 167·A1·(1 + C·lgP) / (t + b)^n      q in L/(s·ha), A1 in mm/min, t in min, P in years

is the one the waterlogging watch uses (`hub/geo/drainage.py`, `demo/data/waterlogging.yaml`,
where A = 167·A1 is stored; a DEMO-CITY ASSUMPTION), so a simulation and the watch see the same
storm. The Chicago hyetograph (Keifer & Chu) puts the peak at `r`·T and keeps, for every window
around the peak, the depth the formula gives for that duration: the rain that has fallen within
t_b before the peak is A1'·t_b / (t_b / r + b)^n with A1' = A1·(1 + C·lgP) (and likewise after the
peak with 1 − r), so the intensity of each step follows by difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from aicity.hub.geo.drainage import StormFormula, drainage

#: 1 L/(s·ha) as mm/min
L_S_HA_PER_MM_MIN = 166.67
#: the design return periods a simulation accepts (years)
PERIODS = (2.0, 100.0)


@dataclass(frozen=True)
class Hyetograph:
    """Rain intensity per step: `intensities[k]` (mm/h) falls from k·step to (k+1)·step minutes."""

    step_min: int
    intensities: tuple[float, ...]
    label: str

    @property
    def duration_min(self) -> int:
        return self.step_min * len(self.intensities)

    @property
    def depth_mm(self) -> float:
        return sum(self.intensities) * self.step_min / 60

    @property
    def peak_mm_h(self) -> float:
        return max(self.intensities, default=0.0)

    def at(self, minute: float) -> float:
        """The intensity (mm/h) falling at `minute` (0 outside the storm)."""
        k = int(minute // self.step_min)
        return self.intensities[k] if 0 <= k < len(self.intensities) else 0.0

    def timeseries(self, start: datetime) -> list[tuple[datetime, float]]:
        """(time, mm/h) rows, each intensity held until the next row; a last 0 ends the storm."""
        rows = [(start + timedelta(minutes=k * self.step_min), v) for k, v in enumerate(self.intensities)]
        return rows + [(start + timedelta(minutes=self.duration_min), 0.0)]


def a1(formula: StormFormula) -> float:
    """The formula's A1 (mm/min) from its A (L/(s·ha))."""
    return formula.A / L_S_HA_PER_MM_MIN


def depth_mm(formula: StormFormula, period_years: float, minutes: float) -> float:
    """Rain depth of the design storm of `minutes` (the formula's average intensity times the time)."""
    return formula.intensity_mm_h(period_years, minutes) * minutes / 60


def chicago(period_years: float, duration_min: int, peak_ratio: float, step_min: int,
            formula: StormFormula | None = None) -> Hyetograph:
    """The design storm of return period `period_years` lasting `duration_min`, as a Chicago
    hyetograph with its peak at `peak_ratio` of the duration, in steps of `step_min`."""
    f = formula or drainage().formula
    scale = a1(f) * (1 + f.C * math.log10(period_years))
    peak = peak_ratio * duration_min

    def cumulative(minute: float) -> float:
        """Rain (mm) fallen from the storm's start to `minute`."""
        before = peak
        fallen_before = scale * before / (before / peak_ratio + f.b) ** f.n if before > 0 else 0.0
        if minute <= peak:
            tb = peak - minute
            return fallen_before - (scale * tb / (tb / peak_ratio + f.b) ** f.n if tb > 0 else 0.0)
        ta = minute - peak
        return fallen_before + scale * ta / (ta / (1 - peak_ratio) + f.b) ** f.n

    steps = math.ceil(duration_min / step_min)
    edges = [min(k * step_min, duration_min) for k in range(steps + 1)]
    intensities = tuple(round((cumulative(b) - cumulative(a)) / (b - a) * 60, 3) for a, b in zip(edges, edges[1:]))
    return Hyetograph(step_min, intensities, f"{period_years:g} 年一遇 {duration_min} 分钟设计暴雨（芝加哥雨型 r={peak_ratio:g}）")


def steady(intensity_mm_h: float, duration_min: int, step_min: int, label: str) -> Hyetograph:
    """A constant intensity for the duration (the live gauges' latest reading held: persistence)."""
    steps = math.ceil(duration_min / step_min)
    return Hyetograph(step_min, tuple([round(max(intensity_mm_h, 0.0), 3)] * steps), label)
