"""Device types (Smart Data Models names), the event category each one's alarms file, and the
physical range of each known attribute: a reading outside it is a broken sensor or bad input."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aicity.core.errors import Problem


@dataclass(frozen=True)
class DeviceType:
    label: str
    #: the event category (demo/data/event_categories.yaml) of this type's alarms; None: classify the text
    category: str | None


DEVICE_TYPES: dict[str, DeviceType] = {
    "WaterLevelObserved": DeviceType("水位传感器", "waterlogging"),
    "FloodMonitoring": DeviceType("内涝监测点", "waterlogging"),
    "GasSensor": DeviceType("燃气传感器", "gas_leak"),
    "AirQualityObserved": DeviceType("空气质量监测站", "industrial_pollution"),
    "WeatherObserved": DeviceType("气象站", None),
    "TrafficFlowObserved": DeviceType("交通流量检测器", None),
    "Streetlight": DeviceType("路灯", "streetlight"),
    "Valve": DeviceType("阀门", None),
    "SluiceGate": DeviceType("闸门", "waterlogging"),
    "TrafficSignal": DeviceType("交通信号机", "traffic_signal"),
    "Camera": DeviceType("摄像头", None),
    "Device": DeviceType("设备", None),
}

#: attribute → (lowest, highest) physically possible value
RANGES: dict[str, tuple[float, float]] = {
    "waterLevel": (-5.0, 20.0),          # m
    "gasConcentration": (0.0, 100_000.0),  # ppm
    "methane": (0.0, 100_000.0),         # ppm
    "temperature": (-50.0, 70.0),        # °C
    "relativeHumidity": (0.0, 100.0),    # %
    "precipitation": (0.0, 500.0),       # mm/h
    "pm25": (0.0, 1000.0),               # µg/m³
    "pm10": (0.0, 2000.0),               # µg/m³
    "illuminance": (0.0, 200_000.0),     # lx
    "powerState": (0.0, 1.0),            # off/on
    "openingLevel": (0.0, 100.0),        # %
    "intensity": (0.0, 100_000.0),       # vehicles/h
    "batteryLevel": (0.0, 100.0),        # %
}

#: no attribute without a known range may exceed this magnitude (1e308 is not a reading)
ABSURD = 1e9


def check_device_type(name: str) -> None:
    if name not in DEVICE_TYPES:
        raise Problem(422, "设备类型无效 Invalid device type",
                      f"未知设备类型 unknown device type '{name}'; types: {', '.join(DEVICE_TYPES)}",
                      "unknown-device-type")


def out_of_range(attribute: str, value: float) -> str | None:
    """Why `value` cannot be a real reading of `attribute`, or None."""
    if not math.isfinite(value):
        return "不是有限数值 not a finite number"
    low, high = RANGES.get(attribute, (-ABSURD, ABSURD))
    if not low <= value <= high:
        return f"超出物理范围 out of physical range [{low:g}, {high:g}]"
    return None

