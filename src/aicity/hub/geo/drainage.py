"""The drainage network's waterlogging watch points (易涝点) and design parameters, read from
`demo/data/waterlogging.yaml`: where roads flood, the catchment and ponding area of each, and the
city's storm intensity formula (GB 50014). The city-safety agent forecasts flooding over these
(`agents/city_safety/flood.py`); the simulator places ponding sensors at them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class StormFormula:
    """q = A·(1 + C·lgP) / (t + b)^n in L/(s·ha)."""

    A: float
    C: float
    b: float
    n: float

    def intensity_mm_h(self, period_years: float, minutes: float) -> float:
        q = self.A * (1 + self.C * math.log10(period_years)) / (minutes + self.b) ** self.n
        return q * 0.36  # 1 L/(s·ha) = 0.36 mm/h


@dataclass(frozen=True)
class WatchPoint:
    id: str
    name: str
    road: str
    district: str
    lat: float
    lon: float
    kind: str
    catchment_ha: float
    ponding_area_m2: float
    runoff: float
    design_period_years: float
    concentration_min: float
    #: the river or lake level (m) above which the outfall is submerged; None: no river outfall
    outfall_level_m: float | None

    @property
    def label(self) -> str:
        """How people name the place: 江滨路下穿通道, 幸福路幸福桥下."""
        return self.name if self.name.startswith(self.road) else f"{self.road}{self.name}"


@dataclass(frozen=True)
class Drainage:
    formula: StormFormula
    flood_depth_m: float
    closure_depth_m: float
    backwater_factor: float
    points: tuple[WatchPoint, ...]

    def capacity_mm_h(self, point: WatchPoint) -> float:
        return self.formula.intensity_mm_h(point.design_period_years, point.concentration_min)


@lru_cache(maxsize=1)
def drainage() -> Drainage:
    """The demo city's watch points and drainage parameters, read once per process."""
    path = resources.files("aicity") / "demo" / "data" / "waterlogging.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Drainage(StormFormula(**raw["storm_formula"]), raw["flood_depth_m"], raw["closure_depth_m"],
                    raw["backwater_factor"], tuple(WatchPoint(**p) for p in raw["points"]))
