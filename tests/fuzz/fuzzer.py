"""A seeded, time-bounded mutation fuzzer over the connlist corpus and the bundled example.

Each iteration copies one seed case, mutates one document of one file (:mod:`mutations`) and
reads the copy as ``kubefence map`` would. The invariants:

- the input is rejected with one line naming a file (an :class:`~kubefence.errors.KubefenceError`,
  exit code 2 on the command line), or
- its map equals what the reference evaluator (``tests/analysis/reference_evaluator.py``) computes
  for the objects kubefence read;
- never an internal error (any other exception);
- an *invalid* mutation that is accepted never makes the map wider than the original's.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mutations
import reference_evaluator as ref
import yaml

from kubefence import KubefenceError, MapOptions, load_cluster, map_connectivity
from kubefence.cli import main
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import ConnectivityMap

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus" / "connlist"
EXAMPLE = REPO / "examples" / "shop"
MAX_SEED_BYTES = 10_000  # the reference evaluator is naive: small cases only
OPTIONS = MapOptions(ingress_controller_namespace="ingress-controller-ns")
CLI_EVERY = 10  # every tenth input also goes through the command line


@dataclass(frozen=True)
class Seed:
    name: str
    root: Path
    files: tuple[Path, ...]  # relative to root
    cluster: Cluster
    cmap: ConnectivityMap
    reference_agrees: bool


@dataclass
class Report:
    iterations: int = 0
    rejected: int = 0
    accepted: int = 0
    accepted_widening: int = 0  # valid mutations that widened the map (allowed)
    skipped: int = 0  # mutations that did not apply
    by_mutation: Counter[str] = field(default_factory=Counter)
    rejected_by_mutation: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"iterations {self.iterations}: rejected {self.rejected}, accepted {self.accepted} "
            f"(valid widenings {self.accepted_widening}), not applicable {self.skipped}, "
            f"failures {len(self.failures)}",
        ]
        for name, count in sorted(self.by_mutation.items()):
            lines.append(f"  {name}: {count} ({self.rejected_by_mutation[name]} rejected)")
        return "\n".join(lines)


def seed_dirs() -> list[Path]:
    dirs = [EXAMPLE]
    if CORPUS.is_dir():
        for case in sorted(CORPUS.iterdir()):
            inputs = case / "input"
            files = [p for p in inputs.rglob("*") if p.is_file()] if inputs.is_dir() else []
            if files and sum(p.stat().st_size for p in files) <= MAX_SEED_BYTES:
                dirs.append(inputs)
    return dirs


def load_seed(root: Path) -> Seed | None:
    files = tuple(
        sorted(p.relative_to(root) for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    )
    try:
        cluster = load_cluster([root])
    except KubefenceError:
        return None
    cmap = map_connectivity(cluster, options=OPTIONS)
    agrees = not reference_problems(cluster, cmap)
    return Seed(root.parent.name if root.name == "input" else root.name, root, files, cluster, cmap, agrees)


def reference_problems(cluster: Cluster, cmap: ConnectivityMap, limit: int = 5) -> list[str]:
    """Where the map and the reference evaluator disagree, between workloads and from the ingress
    controller (probes whose verdict depends on the order of tied policies aside)."""
    reference = ref.evaluate(cluster, ingress_controller_namespace=OPTIONS.ingress_controller_namespace)
    names = [w.peer_name for w in cluster.workloads]
    pairs = [(s, d) for s in names for d in names if s != d]
    if cluster.ingresses and strict_backends(cluster):
        pairs += [(ref.INGRESS_CONTROLLER, d) for d in names]
    out: list[str] = []
    for pair in pairs:
        conn = cmap.conn(*pair)
        expected = reference.allowed.get(pair, set())
        uncertain = reference.uncertain.get(pair, set())
        for probe in reference.probes:
            if probe not in uncertain and (probe in conn) != (probe in expected):
                out.append(f"{pair[0]} => {pair[1]} {probe}: map {'allows' if probe in conn else 'denies'}")
                if len(out) >= limit:
                    return out
    return out


def strict_backends(cluster: Cluster) -> bool:
    """Whether every ingress backend names a port its Service has (an Ingress a Service port, a
    Route a target). Where one does not, the map tries the other reading, as netpol-analyzer does,
    and the reference evaluator, read from the API texts, does not: they are not compared there."""
    services = {(s.namespace, s.name): s for s in cluster.services}
    for obj in cluster.ingresses:
        for backend in obj.backends:
            svc = services.get((backend.namespace or obj.namespace, backend.service))
            if svc is None or backend.port is None:
                continue
            names = {sp.name for sp in svc.ports}
            numbers = {sp.target_port if backend.target_port else sp.port for sp in svc.ports}
            if backend.port not in names | numbers:
                return False
    return True


def widened(before: Seed, cmap: ConnectivityMap, cluster: Cluster) -> list[str]:
    """Pairs (of workloads in both clusters) the new map allows more between."""
    names = {w.peer_name for w in before.cluster.workloads} & {w.peer_name for w in cluster.workloads}
    names |= {ref.INGRESS_CONTROLLER}
    out = []
    for c in cmap.connections:
        src, dst = str(c.src), str(c.dst)
        if src in names and dst in names and not c.conn <= before.cmap.conn(src, dst):
            out.append(f"{src} => {dst}: {c.conn} (was {before.cmap.conn(src, dst)})")
    return out


def _read_docs(path: Path) -> list[Any] | None:
    text = path.read_text(encoding="utf-8-sig")
    try:
        return [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    except (yaml.YAMLError, ValueError):
        return None


def one_iteration(seed: Seed, rng: random.Random, work: Path, report: Report, use_cli: bool) -> None:
    case = work / "case"
    if case.exists():
        shutil.rmtree(case)
    shutil.copytree(seed.root, case, symlinks=True)
    target = rng.choice(seed.files)
    docs = _read_docs(seed.root / target)
    if docs is None:
        report.skipped += 1
        return
    if rng.random() < 0.1:
        text = mutations.dump(docs)
        done = mutations.duplicate_key_text(text, rng)
        if done is None:
            report.skipped += 1
            return
        new_text, mutation = done
    else:
        result = mutations.mutate(docs, rng)
        if result is None:
            report.skipped += 1
            return
        new_docs, mutation = result
        new_text = mutations.dump(new_docs)
    (case / target).with_suffix(".yaml").write_text(new_text, encoding="utf-8")
    if target.suffix != ".yaml":
        (case / target).unlink()
    report.iterations += 1
    report.by_mutation[mutation.name] += 1
    where = f"{seed.name}/{target} {mutation.name} {mutation.where}"
    try:
        cluster = load_cluster([case])
        cmap = map_connectivity(cluster, options=OPTIONS)
    except KubefenceError as exc:
        report.rejected += 1
        report.rejected_by_mutation[mutation.name] += 1
        text = str(exc)
        if "\n" in text or (not text.startswith(str(case)) and "no guardrail" not in text):
            report.failures.append(f"{where}: error not one line at a file: {text!r}")
        if use_cli:
            _check_cli(case, work, where, report, expect_error=True)
        return
    except Exception as exc:  # the invariant under test: nothing else escapes
        report.failures.append(f"{where}: internal error {type(exc).__name__}: {exc}")
        return
    report.accepted += 1
    if use_cli:
        _check_cli(case, work, where, report, expect_error=False)
    if seed.reference_agrees:
        problems = reference_problems(cluster, cmap)
        if problems:
            report.failures.append(f"{where}: map differs from the reference: {problems}")
    wider = widened(seed, cmap, cluster)
    if wider and mutation.invalid:
        report.failures.append(f"{where}: invalid input accepted and the map is wider: {wider[:3]}")
    elif wider:
        report.accepted_widening += 1


def _check_cli(case: Path, work: Path, where: str, report: Report, expect_error: bool) -> None:
    err = io.StringIO()
    out_file = work / "map.txt"
    with contextlib.redirect_stderr(err):
        code = main(["map", str(case), "-q", "-f", str(out_file)])
    text = err.getvalue()
    if code != (2 if expect_error else 0):
        report.failures.append(
            f"{where}: command line exit {code}, library {'error' if expect_error else 'ok'}"
        )
    if expect_error and (text.count("\n") != 1 or not text.startswith("kubefence: error: ")):
        report.failures.append(f"{where}: command line error is not one line: {text!r}")
    if "internal error" in text:
        report.failures.append(f"{where}: {text.strip()}")


def run(seed: int, seconds: float, max_iterations: int) -> Report:
    """Fuzz for up to ``seconds`` or ``max_iterations`` iterations, reproducibly from ``seed``."""
    deadline = time.monotonic() + seconds  # reading the seeds counts too
    rng = random.Random(seed)
    seeds = [s for s in (load_seed(d) for d in seed_dirs()) if s is not None and s.files]
    report = Report()
    with tempfile.TemporaryDirectory(prefix="kubefence-fuzz-") as tmp:
        work = Path(tmp)
        n = 0
        while time.monotonic() < deadline and report.iterations < max_iterations:
            n += 1
            one_iteration(rng.choice(seeds), rng, work, report, use_cli=n % CLI_EVERY == 0)
    return report
