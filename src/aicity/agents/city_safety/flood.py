"""Waterlogging watch (内涝预警): which roads will flood in the next hour, given the rain, the
water already on the road and the river level at the outfalls.

For each watch point (易涝点, `demo/data/waterlogging.yaml`) a mass balance on its catchment:
rain falls on `catchment_ha` with runoff coefficient ψ; the drains carry away what the design
storm of their return period P would bring (the city's storm intensity formula, GB 50014), and
only `backwater_factor` of that when the river or lake stands above the outfall; the rest ponds
on `ponding_area_m2` of road. So the water on the road rises (or drains) at

    dh/dt = ψ · (i − b·i_cap) · F / S

(i the rain in mm/h, i_cap the drains' capacity as rain intensity, b the backwater factor, F the
catchment and S the ponding area). Where a ponding sensor stands at the point and has watched the
water rise, the faster of the observed and the modelled rise is taken: a warning should err early.
A road is waterlogged at 15 cm on a lane (GB 51222); `warn` files an event for the water
department for each road that is, or will be within the horizon, so that it hears before the
road floods. Readings older than `FRESH` are not used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from aicity.agents.city_safety.settings import SafetySettings
from aicity.core import audit, scale
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.errors import bad_request
from aicity.core.ids import utcnow
from aicity.hub.events.service import Reporter, report
from aicity.hub.geo.drainage import Drainage, WatchPoint, drainage
from aicity.hub.geo.gazetteer import district_by_name
from aicity.hub.iot import service as iot
from aicity.hub.iot import simulator
from aicity.hub.iot.models import Device
from aicity.hub.twin.query import distance_m

log = logging.getLogger(__name__)

FRESH = timedelta(minutes=30)
#: the readings a trend is fitted on must span at least this long
TREND_SPAN = timedelta(minutes=5)
HORIZONS = (10, 180)
DEFAULT_HORIZON_MIN = 60
#: how far a sensor may stand from a point and still speak for it
PONDING_RADIUS_M = 300.0
RAIN_RADIUS_M = 5_000.0
RIVER_RADIUS_M = 3_000.0
#: modelled water this deep within the horizon makes a point worth watching
WATCH_DEPTH_M = 0.05
ACTOR = "system:city_safety"


class Level(StrEnum):
    flooded = "flooded"
    warning = "warning"
    watch = "watch"
    normal = "normal"
    no_data = "no_data"


LEVEL_LABELS = {Level.flooded: "内涝", Level.warning: "预警", Level.watch: "关注", Level.normal: "正常",
                Level.no_data: "无数据"}
KIND_LABELS = {"underpass": "下穿通道", "bridge": "桥下", "low_road": "低洼路段"}


# --- what the sensors say ------------------------------------------------------------------------

@dataclass(frozen=True)
class Observed:
    device_id: str
    value: float
    at: datetime
    #: rise per hour fitted on the fresh readings (ponding sensors only; None: too few)
    rate_per_h: float | None = None


def _slope_per_h(series: list[tuple[datetime, float]]) -> float | None:
    if len(series) < 3 or series[-1][0] - series[0][0] < TREND_SPAN:
        return None
    t0 = series[0][0]
    xs = [(t - t0).total_seconds() / 3600 for t, _ in series]
    ys = [v for _, v in series]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else None


class Sensors:
    """The fresh readings of one device type's attribute, and which device speaks for a point:
    the nearest with a fresh reading within `radius_m`."""

    def __init__(self, device_type: str, attribute: str, radius_m: float, now: datetime) -> None:
        self.devices = [d for d in iot.list_devices(device_type, limit=100_000) if d.lat is not None and d.lon is not None]
        self.series = iot.readings_between((d.id for d in self.devices), attribute, now - FRESH, now)
        self.radius_m = radius_m

    def near(self, point: WatchPoint) -> Observed | None:
        here = (point.lon, point.lat)
        candidates = [(distance_m(here, (d.lon or 0.0, d.lat or 0.0)), d) for d in self.devices if d.id in self.series]
        in_reach: list[tuple[float, Device]] = sorted((c for c in candidates if c[0] <= self.radius_m),
                                                      key=lambda c: c[0])
        if not in_reach:
            return None
        device = in_reach[0][1]
        series = self.series[device.id]
        at, value = series[-1]
        return Observed(device.id, value, at, _slope_per_h(series))


# --- the outlook ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outlook:
    point: WatchPoint
    level: Level
    horizon_min: int
    capacity_mm_h: float
    depth: Observed | None
    rain: Observed | None
    river: Observed | None
    backwater: bool
    #: the rise (negative: draining) used for the forecast, m/h; None without rain or trend data
    rate_m_per_h: float | None
    predicted_depth_m: float | None
    #: minutes until the water is 15 cm deep: 0 when it is already; None when it is not rising
    minutes_to_flood: float | None
    closure: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        p = self.point
        district = district_by_name(p.district)

        def seen(o: Observed | None) -> dict[str, Any] | None:
            return None if o is None else {"device_id": o.device_id, "value": o.value, "at": o.at.isoformat(),
                                           "rate_per_h": o.rate_per_h}

        return {"id": p.id, "name": p.name, "road": p.road, "label": p.label,
                "district": district.name if district else p.district,
                "kind": KIND_LABELS.get(p.kind, p.kind), "lat": p.lat, "lon": p.lon, "level": self.level.value,
                "level_label": LEVEL_LABELS[self.level], "horizon_min": self.horizon_min,
                "capacity_mm_h": round(self.capacity_mm_h, 1), "design_period_years": p.design_period_years,
                "depth": seen(self.depth), "rain": seen(self.rain), "river": seen(self.river),
                "backwater": self.backwater,
                "rate_m_per_h": None if self.rate_m_per_h is None else round(self.rate_m_per_h, 3),
                "predicted_depth_m": None if self.predicted_depth_m is None else round(self.predicted_depth_m, 3),
                "minutes_to_flood": None if self.minutes_to_flood is None else round(self.minutes_to_flood),
                "closure": self.closure, "reasons": self.reasons}


def _forecast(point: WatchPoint, plan: Drainage, horizon_min: int, depth: Observed | None, rain: Observed | None,
              river: Observed | None) -> Outlook:
    capacity = plan.capacity_mm_h(point)
    backwater = river is not None and point.outfall_level_m is not None and river.value >= point.outfall_level_m
    effective = capacity * (plan.backwater_factor if backwater else 1.0)
    reasons: list[str] = []
    modelled = None
    if rain is not None:
        modelled = point.runoff * (rain.value - effective) / 1000 * point.catchment_ha * 10_000 / point.ponding_area_m2
        relation = "超过" if rain.value > effective else "未超过"
        reasons.append(f"雨强 {rain.value:.0f} mm/h {relation}排水能力 {effective:.0f} mm/h"
                       f"（按 {point.design_period_years:g} 年一遇设计）")
    if backwater and river is not None:
        reasons.append(f"外江（湖）水位 {river.value:.2f} m 高于排口 {point.outfall_level_m:g} m，"
                       f"排水能力按 {plan.backwater_factor:.0%} 计")
    observed = depth.rate_per_h if depth is not None else None
    rates = [r for r in (modelled, observed) if r is not None]
    rate = max(rates) if rates else None
    now_depth = depth.value if depth is not None else 0.0
    if depth is not None:
        trend = f"，近 {FRESH.seconds // 60} 分钟每小时 {observed:+.2f} m" if observed is not None else ""
        reasons.append(f"实测积水 {depth.value:.2f} m（{depth.device_id}）{trend}")
    if rate is None:
        return Outlook(point, Level.no_data, horizon_min, capacity, depth, rain, river, backwater, None, None, None,
                       False, reasons or ["附近没有近 30 分钟内的雨量或积水数据"])
    predicted = max(0.0, now_depth + rate * horizon_min / 60)
    minutes: float | None = None
    if now_depth >= plan.flood_depth_m:
        minutes, level = 0.0, Level.flooded
    else:
        if rate > 0:
            minutes = (plan.flood_depth_m - now_depth) / rate * 60
        if minutes is not None and minutes <= horizon_min:
            level = Level.warning
        elif predicted >= WATCH_DEPTH_M or (rain is not None and rain.value >= 0.8 * effective):
            level = Level.watch
        else:
            level = Level.normal
    closure = max(now_depth, predicted if level is not Level.normal else 0.0) >= plan.closure_depth_m
    if closure:
        reasons.append(f"积水将达 {plan.closure_depth_m:g} m 以上，建议封闭交通、设置警戒")
    return Outlook(point, level, horizon_min, capacity, depth, rain, river, backwater, rate, predicted, minutes,
                   closure, reasons)


_ORDER = [Level.flooded, Level.warning, Level.watch, Level.no_data, Level.normal]


def check_horizon(horizon_min: int) -> int:
    low, high = HORIZONS
    if not low <= horizon_min <= high:
        raise bad_request(f"预测时长须在 {low}–{high} 分钟之间 horizon_min must be {low}–{high}", "invalid-horizon")
    return horizon_min


def as_of(at: datetime | None) -> datetime:
    """The moment an outlook is for: now, or a past moment (a replay of what the watch saw)."""
    now = utcnow()
    if at is None:
        return now
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at > now + timedelta(minutes=1):
        raise bad_request("只能查看现在或过去的时刻 `at` must not be in the future", "invalid-time")
    return at


def outlook(horizon_min: int = DEFAULT_HORIZON_MIN, district: str | None = None,
            now: datetime | None = None) -> list[Outlook]:
    """Every watch point's outlook (of one district, by id or name) at `now` (default: now), the
    most urgent first."""
    check_horizon(horizon_min)
    plan = drainage()
    points: Iterable[WatchPoint] = plan.points
    if district:
        wanted = district_by_name(district)
        if wanted is None:
            raise bad_request(f"未知区域 unknown district '{district}'", "unknown-district")
        points = [p for p in plan.points if p.district == wanted.id]
    now = now or utcnow()
    ponding = Sensors("FloodMonitoring", "waterLevel", PONDING_RADIUS_M, now)
    rain = Sensors("WeatherObserved", "precipitation", RAIN_RADIUS_M, now)
    river = Sensors("WaterLevelObserved", "waterLevel", RIVER_RADIUS_M, now)
    out = [_forecast(p, plan, horizon_min, ponding.near(p), rain.near(p), river.near(p)) for p in points]
    return sorted(out, key=lambda o: (_ORDER.index(o.level), o.minutes_to_flood if o.minutes_to_flood is not None
                                      else math.inf, -(o.predicted_depth_m or 0.0)))


# --- warnings ------------------------------------------------------------------------------------

def _warning_text(o: Outlook) -> str:
    p = o.point
    where = f"{p.label}（{KIND_LABELS.get(p.kind, p.kind)}）"
    if o.level is Level.flooded:
        head = f"内涝：{where}实测积水 {o.depth.value if o.depth else 0:.2f} m，已超过 15 cm"
    else:
        head = f"内涝预警：{where}预计约 {o.minutes_to_flood or 0:.0f} 分钟后积水超过 15 cm"
    return head + "。" + "；".join(o.reasons)


def warn(horizon_min: int = DEFAULT_HORIZON_MIN, now: datetime | None = None) -> list[dict[str, Any]]:
    """Warn for every watch point (see `file_warnings`); returns the warnings filed now."""
    now = now or utcnow()
    return file_warnings(outlook(horizon_min, now=now), now)


def file_warnings(items: list[Outlook], now: datetime) -> list[dict[str, Any]]:
    """File a waterlogging event for the water department for each of these outlooks that is
    flooded or will be within its horizon (one per point a day: the idempotency key), publish
    `city_safety.flood.warning` and audit it; returns the warnings filed now."""
    filed: list[dict[str, Any]] = []
    for o in items:
        if o.level not in (Level.flooded, Level.warning):
            continue
        p = o.point
        result = report(_warning_text(o), source="sensor", reporter=Reporter(ref="agent:city_safety"), lat=p.lat,
                        lon=p.lon, category="waterlogging", title=f"{LEVEL_LABELS[o.level]}：{p.label}",
                        idempotency_key=f"flood-watch:{p.id}:{now.date().isoformat()}")
        if not result.created:
            continue
        # a warning near an open waterlogging event (a ponding alarm's, say) joins it as a merged report
        warning = {**o.to_dict(), "event_id": result.event.id, "report_id": result.report_id, "merged": result.merged}
        audit.record(ACTOR, "city_safety.flood_warning", p.id,
                     {"event": result.event.id, "level": o.level.value, "minutes_to_flood": warning["minutes_to_flood"]})
        bus.publish("city_safety.flood.warning", warning)
        filed.append(warning)
    return filed


def start_watch() -> Callable[[], None]:
    """Run `warn` every `[aicity.safety] flood_check_s` seconds (default 60; 0 turns the watch
    off) looking `flood_horizon_min` ahead (default 60), on a daemon thread; returns the
    function that stops it."""
    config = settings().section(SafetySettings)
    interval_s = config.flood_check_s
    horizon_min = check_horizon(config.flood_horizon_min)
    if interval_s <= 0:
        return lambda: None
    # once per period in the whole city, however many workers run (core/scale.py)
    return scale.every("city-safety-flood-watch", interval_s, partial(warn, horizon_min))


def outlook_json(items: list[Outlook]) -> list[dict[str, Any]]:
    return [o.to_dict() for o in items]


def watch_simulated_floods() -> Callable[[], None]:
    """Activation (the city-safety slice): a local simulator run ends with this watch."""
    return simulator.watch_floods(warn)
