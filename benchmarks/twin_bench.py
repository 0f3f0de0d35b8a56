"""NGSI-LD twin queries on a large twin.

    .venv/bin/python benchmarks/twin_bench.py [--entities 20000] [--database-url postgresql+psycopg://…]

Fills a fresh twin (SQLite in a temporary data dir unless `--database-url` is given) with
street lights, water-level sensors, cameras and valves spread over the demo city's extent,
a tenth of them scoped, then prints the median of five runs of each query the twin pushes
into SQL (type, geo `near`/`within`, idPattern prefix, scopeQ) and of a `q` filter, which
still runs in Python over every entity of the type.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

from rich.progress import track

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aicity.core.db import use_database
from aicity.demo.loader import open_demo_city
from aicity.hub.twin import service

TYPES = ("Streetlight", "WaterLevelObserved", "Camera", "Valve")
CASES: dict[str, dict[str, Any]] = {
    "type only, first 20, count": {"type": "Streetlight"},
    "near 500 m": {"type": "Streetlight", "georel": "near;maxDistance==500", "geometry": "Point",
                   "coordinates": "[114.4,30.55]", "limit": 1000},
    "within a 1 km square": {"type": "Streetlight", "georel": "within", "geometry": "Polygon",
                             "coordinates": "[[[114.4,30.55],[114.41,30.55],[114.41,30.56],[114.4,30.56],[114.4,30.55]]]",
                             "limit": 1000},
    "idPattern prefix": {"type": "Streetlight", "id_pattern": "urn:ngsi-ld:Streetlight:d7-.*", "limit": 1000},
    "scopeQ, count": {"type": "Streetlight", "scope_q": "/Demo/d7", "limit": 1000},
    "q (in Python), first 20, count": {"type": "Streetlight", "q": "illuminanceLevel>2900"},
}


def entity(i: int, rng: random.Random) -> dict[str, Any]:
    kind = TYPES[i % len(TYPES)]
    lon, lat = 114.2 + rng.random() * 0.4, 30.4 + rng.random() * 0.3
    out: dict[str, Any] = {
        "id": f"urn:ngsi-ld:{kind}:d{i % 13}-{i}", "type": kind,
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "illuminanceLevel": {"type": "Property", "value": rng.randint(0, 3000), "unitCode": "LUX"},
    }
    if i % 10 == 0:
        out["scope"] = f"/Demo/d{i % 13}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    open_demo_city(Path(mkdtemp(prefix="aicity-twin-bench-")))
    if args.database_url:
        use_database(args.database_url).migrate()
    rng = random.Random(7)
    for i in track(range(args.entities), description="filling the twin", transient=True):
        service.upsert_entity(entity(i, rng))
    print(f"{service.entity_count():,} entities (the demo city's and {args.entities:,} generated); median of 5 runs")
    for name, kw in CASES.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            found, total = service.query(**kw)
            times.append(time.perf_counter() - start)
        print(f"{name:32s} {statistics.median(times) * 1000:9.1f} ms  page={len(found):4d} total={total}")


if __name__ == "__main__":
    main()
