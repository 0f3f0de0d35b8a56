from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from aicity.hub.data import ask as ask_mod
from aicity.hub.data import sqlcheck
from tests.support.data_store import pack_dataset


def test_probe(city: Path) -> None:
    pack_dataset("low_income_households")
    out = {}
    conn, source = ask_mod.connection()
    engine = ask_mod._engine(conn, source)
    acc = ask_mod.caller_access(engine, "official", "data_bureau")
    for q in ["SELECT district_id, start_date, household_size, monthly_allowance_yuan, count(*) FROM low_income_households GROUP BY ALL",
              "SELECT district_id, start_date, household_size, monthly_allowance_yuan, count(*) AS n FROM low_income_households GROUP BY 1,2,3,4 ORDER BY n",
              "SELECT e FROM enterprises e", "SELECT e.* FROM enterprises e", "SELECT count(DISTINCT l) FROM low_income_households l",
              "SELECT max(l) FROM low_income_households l", "SELECT list(l) FROM low_income_households l"]:
        try:
            c = sqlcheck.check(q, acc, 1000)
            cols, rows = ask_mod.run_checked(conn, c)
            out[q] = ["ALLOWED", len(rows), json.dumps(rows[:1], ensure_ascii=False, default=str)[:300]]
        except sqlcheck.SqlRefused as exc:
            out[q] = ["refused", exc.kind]
    conn.close()
    env = {**os.environ, "AICITY_DATA_DIR": str(city)}
    p = subprocess.run([".venv/bin/aicity", "data", "import", "src/aicity/demo/data/datasets/districts.csv", "--dataset", "rt_busy"],
                       capture_output=True, text=True, env=env, timeout=120)
    out["busy"] = [p.returncode, p.stdout[-400:], p.stderr[-600:]]
    p = subprocess.run([".venv/bin/aicity", "data", "show", "districts"], capture_output=True, text=True, env=env, timeout=120)
    out["busy_show"] = [p.returncode, p.stdout[-300:], p.stderr[-400:]]
    for k, v in out.items():
        print("\n==", k, json.dumps(v, ensure_ascii=False, default=str)[:1200])
