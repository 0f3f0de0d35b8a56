"""Data-space differential privacy: how far released aggregates stand from the truth, and the
refusal once the budget is spent.

    .venv/bin/python benchmarks/data_dp_bench.py [--runs 500] [--json]

On a fresh data dir (temporary) the pack's `districts` and `low_income_households` are imported
with the data hub's importer. For ε = 0.1, 0.5 and 1.0 per query, each of `--runs` releases of
  - households per district (count, 6 groups),
  - allowance paid per district (sum of monthly_allowance_yuan clipped to [0, 6000] 元),
  - mean allowance per district (the same bounds, ε split between a sum and a count)
is compared with the exact value (computed in DuckDB without noise): mean absolute error and
mean relative error (|noisy − true| / true) over all groups and runs, and the theoretical
standard deviation of the mechanism. Then an agreement with budget ε = 1.0 is queried at
ε = 0.1 until it is refused: the number of released queries and the refusal's type. Query
latency (request → release, through the agreement, with the ledger entries) is timed too.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from aicity.core.config import configure, settings
from aicity.core.db import use_database
from aicity.core.errors import Problem
from aicity.hub.data import private_query, spaces, store
from aicity.hub.data.importer import import_path
from aicity.hub.data.policy import aggregate_policy
from aicity.hub.data.private_query import AggregateRequest
from aicity.hub.data.schema import load_spec
from aicity.identity.models import Role
from aicity.identity.service import Principal

PACK = Path(str(resources.files("aicity") / "demo" / "data" / "datasets"))
DATASET = "low_income_households"
EPSILONS = (0.1, 0.5, 1.0)
UPPER = 6000.0


def setup(folder: Path) -> None:
    configure(data_dir=folder / "data")  # the ledger signs with this user's key, as the CLI does
    use_database(settings().resolved_database_url).migrate()
    for name in ("districts", DATASET):
        path = PACK / f"{name}.csv"
        import_path(path, spec=load_spec(path.with_suffix(".yaml")), actor="bench", confirm=True)


def errors(request: AggregateRequest, runs: int) -> dict[str, float]:
    info = store.dataset(DATASET)
    found = private_query.truth(info, info.version, request)
    exact = {g.key: (g.rows if request.metric == "count" else g.total if request.metric == "sum"
                     else g.total / g.rows) for g in found}
    absolute, relative = [], []
    for _ in range(runs):
        for g in private_query.noisy_release(request, found, 10).groups:
            true = exact[tuple(g.key.values())]
            absolute.append(abs(g.value - true))
            relative.append(abs(g.value - true) / true)
    b = {"count": 1 / request.epsilon, "sum": UPPER / request.epsilon, "mean": math.nan}[request.metric]
    return {"mae": statistics.fmean(absolute), "mre": statistics.fmean(relative),
            "theory_sd": b * math.sqrt(2),  # the Laplace's; the geometric's is a little smaller
            "true_mean": statistics.fmean(exact.values())}


def until_refused() -> dict[str, object]:
    civil = Principal(Role.official, department="civil_affairs", key_id="bench")
    data = Principal(Role.official, department="data_bureau", key_id="bench")
    space = spaces.create_space(civil, "bench", "city")
    spaces.join_space(data, space.id)
    offer = spaces.make_offer(civil, space.id, DATASET, aggregate_policy(purposes=["统计"], epsilon=1.0))
    agreement = spaces.agree(civil, spaces.request_agreement(data, offer.id, "统计").id)
    request = AggregateRequest(metric="count", group_by=["district_id"], epsilon=0.1)
    released, times = 0, []
    while True:
        started = time.perf_counter()
        try:
            spaces.run_query(data, agreement.id, request)
        except Problem as exc:
            return {"released": released, "refused_with": exc.type_, "detail": exc.detail,
                    "query_ms_p50": round(statistics.median(times) * 1000, 1)}
        times.append(time.perf_counter() - started)
        released += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aicity-dp-bench-") as tmp:
        setup(Path(tmp))
        rows = []
        for eps in EPSILONS:
            for metric in ("count", "sum", "mean"):
                bounds = {} if metric == "count" else {"column": "monthly_allowance_yuan", "lower": 0, "upper": UPPER}
                request = AggregateRequest(metric=metric, group_by=["district_id"], epsilon=eps, **bounds)
                rows.append({"epsilon": eps, "metric": metric, **errors(request, args.runs)})
        refusal = until_refused()
        store.close()
    if args.json:
        json.dump({"errors": rows, "budget": refusal}, sys.stdout, ensure_ascii=False)
        print()
        return
    print(f"{'ε':>5} {'metric':>6} {'true mean':>12} {'MAE':>10} {'rel. err':>9} {'theory sd':>10}")
    for r in rows:
        print(f"{r['epsilon']:>5} {r['metric']:>6} {r['true_mean']:>12.1f} {r['mae']:>10.2f} {r['mre']:>9.2%} "
              f"{'—' if math.isnan(r['theory_sd']) else format(r['theory_sd'], '.2f'):>10}")
    print(f"budget ε=1.0 at ε=0.1 per query: {refusal['released']} released, then refused "
          f"({refusal['refused_with']}: {refusal['detail']}); query p50 {refusal['query_ms_p50']} ms")


if __name__ == "__main__":
    main()
