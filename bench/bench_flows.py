"""Benchmark reading flow logs: ten million Hubble records (gzip), aggregated and resolved.

The records are written once by ``gen_flows.py`` for a synthetic cluster of ``gen_cluster.py``
(``--from map``: the traffic its policies allow) and cached under ``bench/.cache/flows-*``. Then a
fresh process reads them with DuckDB on ``--threads`` cores and resolves the tuples to workloads,
so that its peak RSS is its own. Prints records/s and peak memory against the target (60 s and
2 GB for 10 million records on 2 cores)::

    python bench/bench_flows.py                      # 10,000,000 records, 2 threads
    python bench/bench_flows.py --records 1000000    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
CACHE = HERE / ".cache"
TARGET_SECONDS, TARGET_BYTES, TARGET_RECORDS = 60.0, 2_000_000_000, 10_000_000

_CHILD = """
import json, sys, time
sys.path.insert(0, {src!r})
from kubefence.api import load_cluster
from kubefence.analysis.discover.flows_resolve import resolve_flows
from kubefence.io.flows import read_flows
cluster = load_cluster([{cluster!r}])
start = time.perf_counter()
log = read_flows([{flows!r}], threads={threads})
read = time.perf_counter() - start
observed = resolve_flows(cluster, log)
total = time.perf_counter() - start
print(json.dumps({{"records": log.records, "tuples": len(log.flows), "connections": len(observed.flows),
    "unresolved": observed.unresolved, "replies": log.stats.replies, "read": read, "total": total}}))
"""


def _ensure(workloads: int, policies: int, records: int, files: int) -> tuple[Path, Path]:
    cluster = CACHE / f"{workloads}_{policies}_0"
    if not (cluster / "namespaces.yaml").exists():
        subprocess.run(
            [sys.executable, str(HERE / "gen_cluster.py"), "--workloads", str(workloads),
             "--policies", str(policies), str(cluster)],
            check=True,
        )  # fmt: skip
    flows = CACHE / f"flows-{workloads}_{policies}-{records}-{files}"
    if not (flows / ".done").exists():
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(HERE / "gen_flows.py"), str(cluster), "--from", "map", "--records",
             str(records), "--files", str(files), "--gzip", "-o", str(flows)],
            check=True,
        )  # fmt: skip
        (flows / ".done").write_text("")
        print(f"generated {records:,} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return cluster, flows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=TARGET_RECORDS)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cluster", default="1000:500", metavar="W:P", help="gen_cluster.py size")
    args = parser.parse_args(argv)
    workloads, policies = (int(x) for x in args.cluster.split(":"))
    cluster, flows = _ensure(workloads, policies, args.records, args.files)
    size = sum(p.stat().st_size for p in flows.glob("*.gz"))
    code = _CHILD.format(src=str(SRC), cluster=str(cluster), flows=str(flows), threads=args.threads)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss * 1024
    cpu = usage.ru_utime + usage.ru_stime
    r = json.loads(next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("{")))
    target = TARGET_SECONDS * args.records / TARGET_RECORDS
    ok = r["total"] <= target and peak <= TARGET_BYTES
    header = ["records", "gzip MB", "threads", "tuples", "connections", "read s", "read+resolve s"]
    header += ["records/s", "peak MB", "target"]
    print("| " + " | ".join(header) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['records']:,} | {size / 1e6:,.0f} | {args.threads} | {r['tuples']:,} | {r['connections']:,} "
        f"| {r['read']:.1f} | {r['total']:.1f} | {r['records'] / r['total']:,.0f} | {peak / 1e6:,.0f} "
        f"| {'ok' if ok else 'missed'} (<{target:.0f} s, <{TARGET_BYTES / 1e9:.0f} GB) |"
    )
    print(
        f"(the child process: {wall:.1f} s wall with start-up and manifest loading, {cpu:.0f} s of CPU "
        f"= {cpu / args.threads:.0f} s on {args.threads} idle cores; load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
