"""What signing a tree head on every audit write costs (issue 21, finding 5).

    .venv/bin/python benchmarks/audit_bench.py [--entries 2000] [--database-url URL]

In one run, on fresh ledgers of the same database kind (SQLite in a temporary directory unless
`--database-url` names an empty PostgreSQL database): appends per second with a signed head
after every entry (`SIGN_EVERY = 1`, as shipped) and after every 100 (the earlier interval, the
baseline), the rows the heads add, and how long `aicity audit verify` takes on the result.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from tempfile import mkdtemp

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import func, select

from aicity.core import audit
from aicity.core.audit_models import AuditTreeHead
from aicity.core.config import configure
from aicity.core.db import database, use_database


def ledger(url: str | None, name: str, key: str) -> None:
    """A fresh, migrated ledger for this run's `name`."""
    folder = Path(mkdtemp(prefix=f"audit-bench-{name}-"))
    url = url or f"sqlite:///{folder / 'ledger.db'}"
    configure(data_dir=folder / "data", database_url=url, audit_signing_key=key)
    use_database(url).migrate()


def run(sign_every: int, entries: int, url: str | None, key: str) -> dict[str, float]:
    ledger(url, f"every-{sign_every}", key)
    audit.SIGN_EVERY = sign_every
    times = []
    start = time.perf_counter()
    for i in range(entries):
        t = time.perf_counter()
        audit.record("bench", "bench.write", f"target-{i}", {"i": i, "note": "审计基准"})
        times.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - start
    with database().session() as s:
        heads = s.scalar(select(func.count()).select_from(AuditTreeHead)) or 0
    t = time.perf_counter()
    report = audit.verify()
    verify_s = time.perf_counter() - t
    assert report.ok, report.findings
    return {"writes_per_s": entries / elapsed, "p50_ms": statistics.median(times),
            "p95_ms": statistics.quantiles(times, n=20)[-1], "heads": heads, "verify_s": verify_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    shipped = audit.SIGN_EVERY
    try:
        rows = {every: run(every, args.entries, args.database_url, key) for every in (100, 1)}
    finally:
        audit.SIGN_EVERY = shipped
    kind = (args.database_url or "sqlite").split(":")[0]
    print(f"audit ledger, {args.entries} appends each, {kind}, one process")
    print(f"{'SIGN_EVERY':>10} {'writes/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'heads':>6} {'verify s':>8}")
    for every, r in rows.items():
        print(f"{every:>10} {r['writes_per_s']:>9.0f} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} {r['heads']:>6.0f} "
              f"{r['verify_s']:>8.2f}")
    print(f"signing every write: {rows[1]['writes_per_s'] / rows[100]['writes_per_s']:.2f}× the baseline's writes/s")


if __name__ == "__main__":
    main()
