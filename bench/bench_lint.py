"""Benchmark ``kubefence lint`` on the synthetic clusters of ``gen_cluster.py``.

For each size W:P the cluster is generated once and cached as ``bench_map.py`` does
(``bench/.cache/<W>_<P>_<seed>/``). Then, in this process: reading the manifests, every check
together, and the exact redundancy checks alone (rules and policies, the expensive part). Figures go
to stdout as a Markdown table, progress to stderr.

Example::

    python bench/bench_lint.py                       # 1,000/500 and 10,000/5,000
    python bench/bench_lint.py --sizes 200:100
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from bench_map import DEFAULT_CACHE, ensure_cluster, parse_sizes  # noqa: E402
from kubefence.analysis.lint import LintOptions, lint  # noqa: E402
from kubefence.api import load_cluster  # noqa: E402

DEFAULT_SIZES = ((1000, 500), (10000, 5000))
REDUNDANCY = frozenset({"redundant-rule", "redundant-policy"})
TARGET_SECONDS = 120.0
T = TypeVar("T")  # exact redundancy on 10,000/5,000 on 2 cores


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES), help="W:P[,W:P...]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    gc.set_threshold(100_000, 50, 1000)  # as the CLI runs
    print(f"kubefence lint on {os.cpu_count()} CPU(s); seconds, wall clock, in one process\n")
    print("| size W / P | read | all checks | redundancy only | rules / policies redundant | findings |")
    print("|---|---|---|---|---|---|")
    for workloads, policies in args.sizes:
        directory = ensure_cluster(args.cache, workloads, policies, args.seed)
        cluster, read = _timed(partial(load_cluster, [str(directory)]))
        print(f"[{workloads}:{policies}] read in {read:.1f} s; linting", file=sys.stderr)
        result, everything = _timed(partial(lint, cluster))
        only, redundancy = _timed(partial(lint, cluster, LintOptions(enable=REDUNDANCY)))
        counts = Counter(f.check for f in only.findings)
        by_check = Counter(f.check for f in result.findings)
        top = ", ".join(f"{name} {n}" for name, n in by_check.most_common(4))
        mark = "" if workloads < 10000 or redundancy < TARGET_SECONDS else " (over the 120 s target)"
        print(
            f"| {workloads:,} / {policies:,} | {read:.1f} | {everything:.1f} | {redundancy:.1f}{mark} | "
            f"{counts['redundant-rule']} / {counts['redundant-policy']} | {len(result.findings)} ({top}) |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
