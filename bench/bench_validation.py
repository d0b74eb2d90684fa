"""What validating objects costs next to parsing them, on a generated cluster.

Parses the cluster of ``gen_cluster.py`` (W workloads, P policies) in one process, then runs
:func:`kubefence.io.validation.check_document` on every document, and prints both times and
their ratio (the target: validation at most 20% of parsing). The validation figure is the first
run, as in one command (schemas compiled, caches cold); later runs are shown apart. Parsing is
the best of ``--runs`` runs.

Example::

    python bench/bench_validation.py --workloads 10000 --policies 5000
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from gen_cluster import generate, write  # noqa: E402
from kubefence.errors import Diagnostic  # noqa: E402
from kubefence.io.documents import Document  # noqa: E402
from kubefence.io.render import load_inputs  # noqa: E402
from kubefence.io.validation import check_document  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=10000)
    parser.add_argument("--policies", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ["KUBEFENCE_WORKERS"] = "1"  # both figures on one core
    gc.set_threshold(100_000, 50, 1000)  # as the command line runs
    with tempfile.TemporaryDirectory() as tmp:
        write(
            tmp, generate(workloads=args.workloads, policies=args.policies, namespaces=None, seed=args.seed)
        )
        parse_s, parsed = min((_timed_parse(Path(tmp)) for _ in range(args.runs)), key=lambda r: r[0])
    # parsing runs with the collector off; its objects wait in the youngest generation, and the
    # first collection after it walks them all, whatever runs next: not a cost of validation
    gc.collect()
    warnings: list[Diagnostic] = []
    first = _timed_validation(parsed, warnings)
    validate_s = min(_timed_validation(parsed, warnings) for _ in range(args.runs))
    print(f"cluster: {args.workloads:,} workloads, {args.policies:,} policies, {len(parsed):,} documents")
    print(f"parse:    {parse_s:6.2f} s")
    share = 100 * first / parse_s
    print(f"validate: {first:6.2f} s  ({share:.1f}% of parse; warm: {validate_s:.2f} s)")
    return 0


def _timed_parse(folder: Path) -> tuple[float, list[Document]]:
    start = time.perf_counter()
    docs = load_inputs([folder])
    return time.perf_counter() - start, docs


def _timed_validation(docs: list[Document], warnings: list[Diagnostic]) -> float:
    start = time.perf_counter()
    for doc in docs:
        check_document(doc, warnings)
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
