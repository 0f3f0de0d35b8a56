"""CLI start-up time: how long each `aicity …` command takes from process start to exit.

    .venv/bin/python benchmarks/cli_start_bench.py [--runs 3] [--only=agents --only="data --help"]

Each command runs `--runs` times as a fresh process (`python -m aicity …`, the same as the `aicity`
script) in the repository root (its data dir, `.aicity`, already holding the demo city: the first
command in a new data dir loads it, which is not start-up time); the median wall time is reported
beside two baselines, `python -c pass` and `python -c "import aicity"`, and the machine's load
(`uptime`) before and after: on a shared machine the load moves every figure, so compare figures
taken in one run. Beside the wall time, the CPU time (user + system) of the process: what the command
itself costs, much less moved by other work on the machine. `--pythonpath DIR` measures another copy of
the source (e.g. a snapshot before a change); `--data-dir DIR` another data dir (loaded first, not timed),
e.g. one per copy of the source, whose demo data may differ.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["--help", "version", "agents", "agents --json", "data --help", "eval --help", "ask --help",
            "kb --help", "office --help", "sim --help", "mcp --help", "iot --help", "events --help"]


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of `runs` fresh processes, and the last exit status."""
    times, cpu = [], []
    code = 0
    for _ in range(runs):
        start, cpu0 = time.perf_counter(), children_cpu()
        code = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False).returncode
        times.append(time.perf_counter() - start)
        cpu.append(children_cpu() - cpu0)
    return statistics.median(times), statistics.median(cpu), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", help="a command line after `aicity` (repeatable)")
    parser.add_argument("--pythonpath", help="put this source folder first on sys.path")
    parser.add_argument("--data-dir", help="the data dir the commands use (AICITY_DATA_DIR)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    if args.data_dir:
        env["AICITY_DATA_DIR"] = args.data_dir
        subprocess.run([sys.executable, "-m", "aicity", "agents"], cwd=ROOT, env=env, capture_output=True,
                       check=True)  # the demo city loaded into it first: loading is not start-up time
    print(f"load before: {load()}")
    print(f"{'command':<32} {'wall':>8} {'cpu':>8}")
    rows = [("python -c pass", [sys.executable, "-c", "pass"]),
            ('python -c "import aicity"', [sys.executable, "-c", "import aicity"])]
    rows += [(f"aicity {c}", [sys.executable, "-m", "aicity", *c.split()]) for c in (args.only or COMMANDS)]
    for label, argv in rows:
        wall, cpu, code = timed(argv, env, args.runs)
        note = "" if code == 0 else f"  (exit {code})"
        print(f"{label:<32} {wall:6.2f} s {cpu:6.2f} s{note}", flush=True)
    print(f"load after:  {load()}")


if __name__ == "__main__":
    main()
