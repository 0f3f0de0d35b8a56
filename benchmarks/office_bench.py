"""Office drafting benchmark: how long the embedded drafter takes to draft a document of each kind
(request → knowledge-center search → city data → text → number from the register → GB/T 9704
DOCX → stored), and, for comparison in the same run, the DOCX layout alone, the checker alone and
one LibreOffice rendering (DOCX → PDF → PNG) when soffice is installed.

    .venv/bin/python benchmarks/office_bench.py [--rounds 3] [--data-dir DIR]

The first draft of a process (which builds the search index) is reported apart as `first`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from aicity.agents.office import checker, drafting, render
from aicity.agents.office.docx_writer import OfficialDoc, write_docx
from aicity.agents.office.kinds import KINDS
from aicity.core import slices
from aicity.core.cli import open_city, set_city_loader
from aicity.demo.loader import ensure_city
from aicity.identity.models import Role
from aicity.identity.service import Principal

REQUESTS = {
    "通知": "起草一份关于开展燃气安全隐患排查整治的通知",
    "请示": "向市政府请示增加城区防汛排涝应急经费",
    "函": "给市水务局发函商请协助做好汛期道路积水监测",
    "报告": "起草关于夏季食品安全监管工作情况的报告",
    "纪要": "起草一份会议纪要，研究老旧小区改造",
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="drafts of every kind per round")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="aicity-office-bench-"))
    slices.activate()
    set_city_loader(ensure_city)
    open_city(data_dir)
    who = Principal(Role.official, department="gov_office")

    t = time.perf_counter()
    drafting.draft(REQUESTS["通知"], principal=who)
    first = time.perf_counter() - t

    times: list[float] = []
    per_kind: dict[str, list[float]] = {}
    last = b""
    for _ in range(args.rounds):
        for kind in KINDS:
            request = REQUESTS.get(kind, f"起草关于开展燃气安全隐患排查整治的{kind}")
            t = time.perf_counter()
            made = drafting.draft(request, kind=kind, principal=who)
            elapsed = time.perf_counter() - t
            times.append(elapsed)
            per_kind.setdefault(kind, []).append(elapsed)
            last = made.docx if kind == "通知" else last
    layout = []
    sample = OfficialDoc(kind="通知", title="关于开展燃气安全隐患排查整治的通知", issuers=["江城市人民政府办公室"],
                         body=["为切实做好燃气安全工作，现将有关事项通知如下。"] * 20, doc_number="江政办发〔2026〕1号",
                         recipients=["各区人民政府"], date="2026-12-06", cc=["市委办公室"], printer="江城市人民政府办公室")
    for _ in range(20):
        t = time.perf_counter()
        write_docx(sample)
        layout.append(time.perf_counter() - t)
    checks = []
    for _ in range(20):
        t = time.perf_counter()
        checker.check_docx(last)
        checks.append(time.perf_counter() - t)
    print(f"drafts (embedded, {len(times)} over {len(KINDS)} kinds): p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {pct(times, 0.95) * 1000:.0f} ms; first of the process {first * 1000:.0f} ms")
    slowest = max(per_kind, key=lambda k: statistics.median(per_kind[k]))
    print(f"  slowest kind: {slowest} p50 {statistics.median(per_kind[slowest]) * 1000:.0f} ms")
    print(f"layout alone (write_docx): p50 {statistics.median(layout) * 1000:.1f} ms")
    print(f"checker alone (check_docx): p50 {statistics.median(checks) * 1000:.1f} ms")
    if shutil.which("soffice") and shutil.which("pdftoppm"):
        renders = []
        for _ in range(3):
            t = time.perf_counter()
            render.pdf_page_png(render.docx_to_pdf(last), 1)
            renders.append(time.perf_counter() - t)
        print(f"render page 1 (LibreOffice → PDF → PNG): p50 {statistics.median(renders) * 1000:.0f} ms")
    else:
        print("render: skipped (LibreOffice or poppler-utils not installed)")


if __name__ == "__main__":
    main()
