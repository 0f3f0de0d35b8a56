"""Pass rates per group and the failures of a Robot Framework run of ETSI's NGSI-LD suite.

    python scripts/ngsi_conformance/summary.py OUTDIR/output.xml [--failures]
"""

from __future__ import annotations

import argparse
import collections
import xml.etree.ElementTree as ET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--failures", action="store_true", help="list each failed test with its message")
    args = parser.parse_args()
    root = ET.parse(args.output).getroot()
    groups: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    failed = []
    for suite in root.iter("suite"):
        source = suite.get("source") or ""
        if not source.endswith(".robot"):
            continue
        parts = source.split("/TP/NGSI-LD/")[-1].split("/")
        group = "/".join(parts[:2])
        for test in suite.findall("test"):
            status = test.find("status")
            groups[group][status.get("status")] += 1
            if status.get("status") == "FAIL":
                failed.append((test.get("name"), "/".join(parts[2:]), (status.text or "").strip()[:300]))
    for group, counts in sorted(groups.items()):
        total = sum(counts.values())
        print(f"{group}: pass {counts['PASS']} / {total} = {counts['PASS'] / max(1, total):.3f}")
    if args.failures:
        for name, where, message in failed:
            print(f"--- {name} ({where})\n    {message}")


if __name__ == "__main__":
    main()
