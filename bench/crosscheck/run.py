"""Cross-check kubefence against network-config-analyzer (NCA) on random clusters.

Usage::

    python bench/crosscheck/run.py --clusters 500 --seed 1 [--workers 2]
    python bench/crosscheck/run.py --time-large        # NCA's wall time on a gen_cluster.py cluster
    python bench/crosscheck/run.py --compare bench/crosscheck/cases/*.yaml   # given manifests

Each random cluster (bench/crosscheck/gen.py) is written to a temporary directory and analysed by
both tools; their connectivity is compared pair by pair and address by address (compare.py). A
disagreement is first matched against NCA's known bugs (known.py): each has a rewrite of the
manifests into an equivalent form that avoids the bug; when NCA agrees with kubefence on the
rewritten cluster, the disagreement is counted as that known difference, not as a failure. Every
other disagreement (and every crash) is saved under ``bench/crosscheck/failures/<seed>-<index>/``
with both outputs and the differing pairs.

Exit code: 0 when every cluster agrees or differs only by known NCA bugs, 1 otherwise, 2 on usage
errors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import kubefence

_BENCH = Path(__file__).resolve().parents[1]
if str(_BENCH) not in sys.path:  # run as a script: make ``crosscheck`` (and ``gen_cluster``) importable
    sys.path.insert(0, str(_BENCH))

from crosscheck.compare import Conns, Difference, compare  # noqa: E402
from crosscheck.gen import Manifest, cluster_features, random_cluster, write_cluster  # noqa: E402
from crosscheck.known import explain  # noqa: E402
from crosscheck.tools import AnalyzerError, Kubefence, Nca, ensure_nca  # noqa: E402

HERE = Path(__file__).resolve().parent
FAILURES = HERE / "failures"


@dataclass
class Outcome:
    """What happened to one cluster."""

    index: int
    status: str  # agree | known | disagree | error
    differences: list[Difference] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    error: str = ""
    features: Counter[str] = field(default_factory=Counter)
    nca_seconds: float = 0.0
    kubefence_seconds: float = 0.0
    # what kubefence allows, to show the comparison is not all-or-nothing
    pairs_all: int = 0  # workload pairs with every connection
    pairs_some: int = 0  # workload pairs with some ports only
    pairs_none: int = 0  # workload pairs with nothing allowed
    address_entries: int = 0  # (workload, direction, address range, ports) entries


def check_cluster(seed: int, index: int, nca_exe: Path, failures: Path) -> Outcome:
    """Generate cluster ``index`` of ``seed``, run both tools, compare, save it if unexplained."""
    docs = random_cluster(seed, index)
    outcome = Outcome(index, "agree", features=cluster_features(docs))
    nca = Nca(nca_exe)
    with tempfile.TemporaryDirectory(prefix=f"crosscheck-{seed}-{index}-") as tmp:
        cluster_dir = Path(tmp) / "cluster"
        write_cluster(cluster_dir, docs)
        ours_text = theirs_text = ""
        try:
            start = time.perf_counter()
            ours, ours_text = Kubefence().connlist(cluster_dir)
            outcome.kubefence_seconds = time.perf_counter() - start
            theirs, theirs_text = nca.connlist(cluster_dir)
            outcome.nca_seconds = nca.last_seconds
        except (AnalyzerError, ValueError) as exc:
            outcome.status, outcome.error = "error", str(exc)
            _save(failures / f"{seed}-{index}", docs, cluster_dir, ours_text, theirs_text, outcome)
            return outcome
        for conns in ours.pairs.values():
            if conns == Conns.all():
                outcome.pairs_all += 1
            else:
                outcome.pairs_some += 1
        names = {w.peer_name for w in kubefence.load_cluster([cluster_dir]).workloads}
        outcome.pairs_none = len(names) * (len(names) - 1) - len(ours.pairs)
        outcome.address_entries = sum(len(v) for v in [*ours.from_ips.values(), *ours.to_ips.values()])
        outcome.differences = compare(ours, theirs)
        if not outcome.differences:
            return outcome
        outcome.known = explain(docs, ours, nca, Path(tmp))
        if outcome.known:
            outcome.status = "known"
            return outcome
        outcome.status = "disagree"
        _save(failures / f"{seed}-{index}", docs, cluster_dir, ours_text, theirs_text, outcome)
    return outcome


def _save(
    dest: Path, docs: Sequence[Manifest], cluster_dir: Path, ours: str, theirs: str, outcome: Outcome
) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(cluster_dir, dest)
    (dest / "kubefence.txt").write_text(ours, encoding="utf-8")
    (dest / "nca.txt").write_text(theirs, encoding="utf-8")
    report = [outcome.error] if outcome.error else [str(d) for d in outcome.differences]
    (dest / "differences.txt").write_text("\n".join(report) + "\n", encoding="utf-8")


def _report(seed: int, outcomes: list[Outcome], elapsed: float, verbose: bool) -> str:
    counts = Counter(o.status for o in outcomes)
    lines = [
        f"clusters run: {len(outcomes)} (seed {seed}, {elapsed:.0f} s)",
        f"  agree:                  {counts['agree']}",
        f"  differ by known NCA bug: {counts['known']}",
        f"  disagree (unexplained): {counts['disagree']}",
        f"  errors:                 {counts['error']}",
    ]
    lines.append(
        "kubefence allowed, over all clusters: "
        f"{sum(o.pairs_all for o in outcomes)} workload pairs with all connections, "
        f"{sum(o.pairs_some for o in outcomes)} with some ports only, "
        f"{sum(o.pairs_none for o in outcomes)} with none; "
        f"{sum(o.address_entries for o in outcomes)} workload/address-range entries"
    )
    known = Counter(k for o in outcomes for k in o.known)
    if known:
        lines.append("known NCA bugs met (clusters):")
        lines += [f"  {n:5}  {name}" for name, n in sorted(known.items())]
    nca_times = sorted(o.nca_seconds for o in outcomes if o.nca_seconds)
    if nca_times:
        lines.append(
            f"nca per cluster: median {nca_times[len(nca_times) // 2]:.2f} s; kubefence total "
            f"{sum(o.kubefence_seconds for o in outcomes):.1f} s"
        )
    if verbose:
        features: Counter[str] = Counter()
        for o in outcomes:
            features.update({k: 1 for k in o.features})
        lines.append("clusters using each form:")
        lines += [f"  {n:5}  {name}" for name, n in sorted(features.items())]
    for o in outcomes:
        if o.status in ("disagree", "error"):
            lines.append(f"{o.status.upper()} {seed}-{o.index} (saved in {FAILURES / f'{seed}-{o.index}'}):")
            lines += [f"    {d}" for d in o.differences[:20]] or [f"    {o.error}"]
            if len(o.differences) > 20:
                lines.append(f"    ... {len(o.differences) - 20} more")
    return "\n".join(lines)


def time_large(nca_exe: Path, workloads: int, policies: int, seed: int) -> str:
    """NCA's and kubefence's wall time on one cluster made by bench/gen_cluster.py, and whether they
    agree on it."""
    from gen_cluster import generate, write

    with tempfile.TemporaryDirectory(prefix="crosscheck-large-") as tmp:
        write(tmp, generate(workloads=workloads, policies=policies, seed=seed))
        report, ours_s, nca_s = compare_path(nca_exe, Path(tmp))
    verdict = report.split(": ", 1)[1].splitlines()[0]
    return (
        f"gen_cluster {workloads} workloads / {policies} policies (seed {seed}): "
        f"nca {nca_s:.1f} s, kubefence {ours_s:.2f} s; {verdict}"
    )


def compare_path(nca_exe: Path, path: Path) -> tuple[str, float, float]:
    """Both tools on one manifest file or directory: the differences, or that they agree; and the
    two tools' wall times."""
    start = time.perf_counter()
    ours, _ = Kubefence().connlist(path)
    ours_s = time.perf_counter() - start
    nca = Nca(nca_exe)
    theirs, _ = nca.connlist(path)
    nca_s = nca.last_seconds
    diffs = compare(ours, theirs)
    if not diffs:
        return f"{path}: kubefence and nca agree ({len(ours.pairs)} workload pairs)", ours_s, nca_s
    # NCA reads the files in this order too, which matters for NCA-5
    files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
    docs = [
        d for f in files for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if isinstance(d, dict)
    ]
    with tempfile.TemporaryDirectory(prefix="crosscheck-compare-") as tmp:
        known = explain(docs, ours, nca, Path(tmp))
    verdict = (
        f"explained by known NCA bugs: {', '.join(known)}" if known else "not explained by known NCA bugs"
    )
    lines = [f"{path}: {len(diffs)} differences of {len(ours.pairs)} workload pairs, {verdict}"]
    return "\n".join(lines + [f"    {d}" for d in diffs]), ours_s, nca_s


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=100, help="how many random clusters (default 100)")
    parser.add_argument(
        "--seed", type=int, default=1, help="run seed: cluster i of seed s is always the same"
    )
    parser.add_argument("--start", type=int, default=0, help="first cluster index (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument("--failures", type=Path, default=FAILURES, help="where to save failing clusters")
    parser.add_argument("--verbose", "-v", action="store_true", help="also print the coverage of forms")
    parser.add_argument("--compare", type=Path, nargs="+", metavar="PATH", help="compare on these manifests")
    parser.add_argument("--time-large", action="store_true", help="time NCA on a gen_cluster.py cluster")
    parser.add_argument("--large-size", default="200x100", help="workloads x policies for --time-large")
    args = parser.parse_args(argv)
    if args.clusters < 0 or args.workers < 1:
        parser.error("--clusters must be >= 0 and --workers >= 1")
    nca_exe = ensure_nca()
    if args.compare:
        reports = [compare_path(nca_exe, path)[0] for path in args.compare]
        print("\n".join(reports))
        return 0 if all("not explained" not in r.splitlines()[0] for r in reports) else 1
    if args.time_large:
        w, _, p = args.large_size.partition("x")
        print(time_large(nca_exe, int(w), int(p), args.seed))
        return 0
    start = time.perf_counter()
    indices = range(args.start, args.start + args.clusters)
    if args.workers == 1:
        outcomes = [check_cluster(args.seed, i, nca_exe, args.failures) for i in indices]
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            futures = [pool.submit(check_cluster, args.seed, i, nca_exe, args.failures) for i in indices]
            outcomes = [f.result() for f in futures]
    print(_report(args.seed, outcomes, time.perf_counter() - start, args.verbose))
    return 0 if all(o.status in ("agree", "known") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
