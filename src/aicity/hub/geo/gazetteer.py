"""The demo city's gazetteer (地名地址库): where a report happened.

`resolve` finds a place in free text — a house number on a road (幸福路12号), a landmark
(光谷三路桥下, 东湖新城小区门口), a road, or a named district with an unknown estate
(东湖区某某小区门口) — and `locate` says which district a point is in (None outside the
city). Data: `demo/data/gazetteer.yaml` (names and points) and `demo/data/districts.geojson`
(district polygons, also drawn by the console's map). Pure functions over data loaded once.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from aicity.core.text import normalize

Match = Literal["address", "landmark", "street", "district"]
#: estates and buildings citizens name that the gazetteer may not know (placed at the district's centre)
_ESTATE = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{1,10}?(?:小区|花园|家园|公寓|社区|新村|大厦|广场|苑))")


@dataclass(frozen=True)
class District:
    id: str
    name: str
    name_en: str
    #: [(lon, lat), …] as in the GeoJSON, closed
    ring: tuple[tuple[float, float], ...]

    def contains(self, lat: float, lon: float) -> bool:
        """Ray casting: is the point inside the polygon?"""
        inside = False
        for (x1, y1), (x2, y2) in zip(self.ring, self.ring[1:], strict=False):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    def centre(self) -> tuple[float, float]:
        """(lat, lon): the mean of the polygon's vertices (the districts are convex enough)."""
        points = self.ring[:-1]
        return (sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points))


@dataclass(frozen=True)
class Location:
    district: str
    district_name: str
    lat: float
    lon: float
    #: how the text matched: a house number on a road, a landmark, a road, or only a district
    matched: Match
    #: the road or landmark found (or the estate's name when only the district is known)
    place: str | None = None
    #: the address as written, e.g. "幸福路12号"
    address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Place:
    name: str
    district: str
    lat: float
    lon: float
    kind: str


@dataclass(frozen=True)
class _Road:
    name: str
    district: str
    start: tuple[float, float]
    end: tuple[float, float]
    numbers: int

    def point(self, number: int | None) -> tuple[float, float]:
        """The house number's position along the road (its middle without a number)."""
        t = 0.5 if number is None else (min(max(number, 1), self.numbers) - 1) / max(self.numbers - 1, 1)
        return (self.start[0] + t * (self.end[0] - self.start[0]), self.start[1] + t * (self.end[1] - self.start[1]))


@dataclass(frozen=True)
class Gazetteer:
    bbox: dict[str, float]
    districts: dict[str, District]
    roads: dict[str, _Road]
    #: every landmark name and alias → the landmark
    places: dict[str, _Place]
    #: names longest first, so 光谷广场站 wins over 光谷广场 and 光谷三路桥 over 光谷三路
    pattern: re.Pattern[str]
    address: re.Pattern[str]


def _data() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data"))


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The demo city's gazetteer, read once per process."""
    data = yaml.safe_load((_data() / "gazetteer.yaml").read_text(encoding="utf-8"))
    shapes = json.loads((_data() / "districts.geojson").read_text(encoding="utf-8"))
    rings = {f["properties"]["id"]: tuple((float(x), float(y)) for x, y in f["geometry"]["coordinates"][0])
             for f in shapes["features"]}
    districts = {d["id"]: District(d["id"], d["name"], d["name_en"], rings[d["id"]]) for d in data["districts"]}
    roads = {r["name"]: _Road(r["name"], r["district"], tuple(r["from"]), tuple(r["to"]), r["numbers"])
             for r in data["roads"]}
    places: dict[str, _Place] = {}
    for lm in data["landmarks"]:
        place = _Place(lm["name"], lm["district"], lm["lat"], lm["lon"], lm["kind"])
        for name in [lm["name"], *lm.get("aliases", [])]:
            places[name] = place
    names = sorted({*places, *roads, *(d.name for d in districts.values())}, key=len, reverse=True)
    road_names = "|".join(map(re.escape, sorted(roads, key=len, reverse=True)))
    return Gazetteer(
        bbox=data["bbox"], districts=districts, roads=roads, places=places,
        pattern=re.compile("|".join(map(re.escape, names))),
        address=re.compile(rf"({road_names})\s*(\d{{1,4}})\s*号"),
    )


def districts() -> list[District]:
    return list(gazetteer().districts.values())


def district_by_name(name: str) -> District | None:
    """A district by its id, Chinese name (东湖区, or 东湖) or English name."""
    key = normalize(name).lower()
    for d in districts():
        if key in (d.id, d.name, d.name.removesuffix("区"), d.name_en.lower()):
            return d
    return None


def district_in(text: str) -> District | None:
    """The first district a text names (东湖区, 东湖, Donghu or donghu)."""
    return district_named_in(text)[0]


def district_named_in(text: str) -> tuple[District | None, str]:
    """The first district a text names, and the words that named it."""
    lowered = text.lower()
    for d in districts():
        for name in (d.name, d.name.removesuffix("区"), d.name_en.lower(), d.id):
            if name in lowered:
                return d, name
    return None, ""


def locate(lat: float, lon: float) -> District | None:
    """The district that contains the point; None outside the city (the API refuses those)."""
    for d in districts():
        if d.contains(lat, lon):
            return d
    return None


def resolve(text: str) -> Location | None:
    """The most precise place named in `text`, or None when it names none of the city's."""
    g = gazetteer()
    text = normalize(text)
    if m := g.address.search(text):
        road = g.roads[m.group(1)]
        lat, lon = road.point(int(m.group(2)))
        return _location(road.district, lat, lon, "address", road.name, f"{road.name}{int(m.group(2))}号")
    found = g.pattern.findall(text)
    for name in found:
        if place := g.places.get(name):
            return _location(place.district, place.lat, place.lon, "landmark", place.name, name)
    for name in found:
        if road := g.roads.get(name):
            lat, lon = road.point(None)
            return _location(road.district, lat, lon, "street", road.name, road.name)
    for name in found:
        if district := district_by_name(name):
            estate = _ESTATE.search(text[text.index(name) + len(name):])
            lat, lon = district.centre()
            place = estate.group(1) if estate else None
            return _location(district.id, lat, lon, "district", place, f"{district.name}{place or ''}")
    return None


def _location(district: str, lat: float, lon: float, matched: Match, place: str | None,
              address: str | None) -> Location:
    return Location(district, gazetteer().districts[district].name, round(lat, 6), round(lon, 6), matched,
                    place, address)
