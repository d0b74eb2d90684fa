"""Benchmark ``kubefence map`` on synthetic clusters of growing size.

For each size W:P (workloads:policies) the cluster from ``gen_cluster.py`` is generated once and
cached under ``bench/.cache/<W>_<P>_<seed>/``; it is regenerated only when the generator changes.
Then these programs run, each in a fresh process so that its peak RSS is its own:

* parse-only: read every YAML file with ``yaml.load_all(..., Loader=yaml.CSafeLoader)``, the
  floor that any tool reading these manifests with PyYAML pays;
* ``python -m kubefence map DIR -o txt -f OUT --quiet``, the command under test;
* with ``--nca``, once per size, network-config-analyzer's connectivity map of the same directory
  (``crosscheck.tools.Nca``, from its own venv made by ``ensure_nca``), stopped after 600 s; once
  it has been stopped, larger sizes skip it.

Figures go to stdout as a Markdown table, progress to stderr, so ``> results.md`` keeps only the
table. Times are wall-clock seconds of the whole child process, interpreter start-up included,
so the columns compare like with like.

``--profile dense`` measures clusters made with ``gen_cluster.py --density`` instead (open
namespaces, open egress, ``namespaceSelector: {}`` peers), whose maps have hundreds of pairs per
workload: besides ``map -o txt`` it times ``-o json`` and ``--summary``, and reports microseconds
per printed pair beyond the parse. Above ``--dense-full-max`` workloads only ``--summary`` runs
(the full map would be gigabytes of text).

Example::

    python bench/bench_map.py --sizes 200:100,1000:500
    python bench/bench_map.py --nca --include-huge --check
    python bench/bench_map.py --profile dense --repeat 3
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import dataclasses
import hashlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

HERE = Path(__file__).resolve().parent
GENERATOR = HERE / "gen_cluster.py"
REPO_SRC = HERE.parent / "src"
DEFAULT_CACHE = HERE / ".cache"
DEFAULT_SIZES = ((200, 100), (1000, 500), (5000, 2500), (10000, 5000))
HUGE_SIZE = (50000, 20000)
MB = 1_000_000


@dataclass(frozen=True)
class Target:
    """A goal for one size: ``map`` on W:P within ``seconds`` and, if set, ``rss_bytes``."""

    workloads: int
    policies: int
    seconds: float
    rss_bytes: int | None = None

    def describe(self) -> str:
        limit = f"under {self.seconds:g} s"
        if self.rss_bytes is not None:
            limit += f" and {self.rss_bytes / 1e9:g} GB"
        return f"W={self.workloads:,}/P={self.policies:,} {limit}"


TARGETS = (
    Target(1000, 500, 2.0),
    Target(10000, 5000, 30.0, 2_000_000_000),
    Target(50000, 20000, 300.0, 4_000_000_000),
)
# At every size: kubefence's own work, (map - parse) / parse, at most this multiple of the parse.
MAX_OWN_WORK = 1.0
# At every size where NCA finishes: NCA's time / map's time at least this.
MIN_SPEEDUP = 100.0

# The dense profile (issue #21): its default sizes, density and targets.
DENSE_SIZES = ((1000, 500), (2000, 1000), (5000, 2500), (10000, 5000))
DENSE_DENSITY = 0.7  # about 190 pairs per workload at 1,000/500, 1,300 at 5,000/2,500
DENSE_FULL_MAX = 5000  # workloads above which the dense profile runs --summary only
DENSE_OWN_WORK_AT = (1000, 500)  # where (txt - parse)/parse <= MAX_OWN_WORK is required
MAX_JSON_RATIO = 1.5  # -o json at most this multiple of -o txt ...
MAX_JSON_RSS = 150_000_000  # ... and under this peak RSS, at DENSE_OWN_WORK_AT
MAX_US_PER_PAIR = 2.5  # txt time beyond the parse per printed pair, at every full-map size
DENSE_SUMMARY_TARGET = Target(10000, 5000, 30.0, 2_000_000_000)  # --summary


@dataclass(frozen=True)
class Run:
    """One child process: wall time, peak RSS and how it ended."""

    seconds: float
    max_rss_bytes: int
    exit_code: int
    timed_out: bool
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@dataclass(frozen=True)
class NcaRun:
    """network-config-analyzer on one cluster: its wall time when it finished."""

    status: Literal["ok", "timeout", "failed", "skipped"]
    seconds: float = 0.0
    limit: float = 0.0  # the timeout it ran under
    output_lines: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Row:
    workloads: int
    policies: int
    yaml_bytes: int
    parse: Run
    map: Run
    output_lines: int
    nca: NcaRun | None = None  # None without --nca

    @property
    def own_work(self) -> float | None:
        """(map - parse) / parse: kubefence's work beyond parsing, as a multiple of the parse."""
        if not (self.map.ok and self.parse.ok and self.parse.seconds > 0):
            return None
        return (self.map.seconds - self.parse.seconds) / self.parse.seconds

    @property
    def speedup(self) -> float | None:
        """NCA's time / map's time when both finished; with NCA stopped, the lower bound."""
        if self.nca is None or not self.map.ok or self.map.seconds <= 0:
            return None
        if self.nca.ok:
            return self.nca.seconds / self.map.seconds
        if self.nca.status == "timeout":
            return self.nca.limit / self.map.seconds
        return None


# -- child processes -----------------------------------------------------------------------------


def run_child(argv: Sequence[str], env: dict[str, str], timeout: float, stdout: Path) -> Run:
    """Run ``argv`` to completion and return its own resource usage.

    ``os.wait4`` gives the rusage of exactly this child, where ``RUSAGE_CHILDREN`` would give the
    maximum over every child reaped so far. ``posix_spawn`` rather than ``subprocess.Popen``,
    because Popen reaps the child itself and would lose the rusage.
    """
    with tempfile.NamedTemporaryFile("w+", suffix=".stderr") as err:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(stdout), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            # The child may have exited between the timer firing and this line.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], list(argv), env, file_actions=actions)
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(pid, 0)
        except BaseException:
            # Interrupted (Ctrl-C): do not leave a multi-gigabyte child running.
            timer.cancel()
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        seconds = time.perf_counter() - start
        timer.cancel()
        err.seek(0)
        stderr = err.read()
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return Run(seconds, rss, os.waitstatus_to_exitcode(status), timed_out.is_set(), stderr)


def best_of(runs: Sequence[Run]) -> Run:
    """The time of the fastest successful run (the least disturbed by the machine) with the highest
    peak RSS of all successful runs; the first failure if none succeeded."""
    good = [r for r in runs if r.ok]
    if not good:
        return runs[0]
    fastest = min(good, key=lambda r: r.seconds)
    peak = max(r.max_rss_bytes for r in good)
    return Run(fastest.seconds, peak, 0, False, fastest.stderr)


def child_env() -> dict[str, str]:
    """The environment for children: this checkout's ``src`` first, so the work tree is measured."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_SRC), env.get("PYTHONPATH", "")) if p)
    return env


def compile_sources() -> None:
    """Write kubefence's bytecode, as ``pip install`` does, so that no run spends its time compiling.

    Without it, an environment with ``PYTHONDONTWRITEBYTECODE`` set (some CI images and sandboxes)
    would compile every module from source in every timed run; NCA, installed by pip, has its
    bytecode.
    """
    compileall.compile_dir(REPO_SRC / "kubefence", quiet=1)


def parse_only(directory: Path) -> int:
    """Load every YAML file under ``directory`` and keep the documents, as a reader must."""
    docs: list[object] = []
    for path in sorted(directory.rglob("*.y*ml")):
        with path.open("rb") as fh:
            docs.extend(yaml.load_all(fh, Loader=yaml.CSafeLoader))
    print(len(docs))
    return 0


# -- clusters ------------------------------------------------------------------------------------


def generator_digest() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()


def ensure_cluster(cache: Path, workloads: int, policies: int, seed: int, density: float = 0.0) -> Path:
    """The cached cluster for this size, seed and density, generated first if missing or stale.

    A stamp beside the directory (not in it, so that only manifests are analysed) records the
    generator's digest: editing ``gen_cluster.py`` invalidates every cached cluster.
    """
    key = f"{workloads}_{policies}_{seed}" + (f"_d{density:g}" if density else "")
    target, stamp = cache / key, cache / f"{key}.stamp"
    digest = generator_digest()
    if target.is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        progress(f"[{workloads}:{policies}] using cached cluster {target}")
        return target
    progress(f"[{workloads}:{policies}] generating cluster into {target}")
    cache.mkdir(parents=True, exist_ok=True)
    # Generate beside the target and rename, so an interrupted run leaves no half cluster behind.
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    try:
        cmd = [sys.executable, str(GENERATOR), "--workloads", str(workloads), "--policies", str(policies)]
        cmd += ["--seed", str(seed), "--density", str(density), str(tmp)]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stamp.write_text(digest + "\n")
    return target


def yaml_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*.y*ml"))


# -- measurement ---------------------------------------------------------------------------------


def measure(cluster: Path, workloads: int, policies: int, repeat: int, timeout: float) -> Row:
    env = child_env()
    parse_cmd = [sys.executable, str(Path(__file__).resolve()), "--parse-only", str(cluster)]
    parse_runs: list[Run] = []
    map_runs: list[Run] = []
    lines = 0
    with tempfile.TemporaryDirectory(prefix="kubefence-bench-") as tmp:
        out, sink = Path(tmp) / "map.txt", Path(tmp) / "stdout"
        map_cmd = [sys.executable, "-m", "kubefence", "map", str(cluster), "-o", "txt", "-f", str(out)]
        map_cmd.append("--quiet")
        for i in range(1, repeat + 1):
            progress(f"[{workloads}:{policies}] parse-only, run {i}/{repeat}")
            parse_runs.append(run_child(parse_cmd, env, timeout, sink))
            progress(f"[{workloads}:{policies}]   {describe(parse_runs[-1])}")
            progress(f"[{workloads}:{policies}] kubefence map, run {i}/{repeat}")
            map_runs.append(run_child(map_cmd, env, timeout, sink))
            progress(f"[{workloads}:{policies}]   {describe(map_runs[-1])}")
            if not map_runs[-1].ok:
                break
        if out.exists():
            with out.open("rb") as fh:
                lines = sum(1 for _ in fh)
    return Row(workloads, policies, yaml_size(cluster), best_of(parse_runs), best_of(map_runs), lines)


def median_of(runs: Sequence[Run]) -> Run:
    """The median time of the successful runs (the dense profile quotes medians) with the highest
    peak RSS of them; the first failure if none succeeded."""
    good = sorted((r for r in runs if r.ok), key=lambda r: r.seconds)
    if not good:
        return runs[0]
    middle = good[(len(good) - 1) // 2]
    return Run(middle.seconds, max(r.max_rss_bytes for r in good), 0, False, middle.stderr)


@dataclass(frozen=True)
class DenseRow:
    """One size of the dense profile: the parse, ``map`` in txt and json (None above
    ``--dense-full-max``) and ``map --summary``; medians of the repeats."""

    workloads: int
    policies: int
    yaml_bytes: int
    parse: Run
    txt: Run | None
    json: Run | None
    summary: Run
    pairs: int
    nca: NcaRun | None = None

    @property
    def own_work(self) -> float | None:
        if self.txt is None or not (self.txt.ok and self.parse.ok and self.parse.seconds > 0):
            return None
        return (self.txt.seconds - self.parse.seconds) / self.parse.seconds

    @property
    def us_per_pair(self) -> float | None:
        """Microseconds of ``map -o txt`` beyond the parse, per printed pair."""
        if self.txt is None or not (self.txt.ok and self.parse.ok and self.pairs):
            return None
        return (self.txt.seconds - self.parse.seconds) / self.pairs * 1e6

    @property
    def json_ratio(self) -> float | None:
        if self.txt is None or self.json is None or not (self.txt.ok and self.json.ok):
            return None
        return self.json.seconds / self.txt.seconds

    @property
    def speedup(self) -> float | None:
        base = self.txt if self.txt is not None else self.summary
        if self.nca is None or not base.ok or base.seconds <= 0:
            return None
        if self.nca.ok:
            return self.nca.seconds / base.seconds
        if self.nca.status == "timeout":
            return self.nca.limit / base.seconds
        return None


def measure_dense(
    cluster: Path, workloads: int, policies: int, repeat: int, timeout: float, full: bool
) -> DenseRow:
    env = child_env()
    tag = f"[{workloads}:{policies} dense]"
    parse_cmd = [sys.executable, str(Path(__file__).resolve()), "--parse-only", str(cluster)]
    runs: dict[str, list[Run]] = {"parse": [], "txt": [], "json": [], "summary": []}
    pairs = 0
    with tempfile.TemporaryDirectory(prefix="kubefence-bench-") as tmp:
        sink = Path(tmp) / "stdout"
        base = [sys.executable, "-m", "kubefence", "map", str(cluster), "--quiet"]
        commands = {"parse": parse_cmd}
        if full:
            commands["txt"] = [*base, "-o", "txt", "-f", str(Path(tmp) / "map.txt")]
            commands["json"] = [*base, "-o", "json", "-f", str(Path(tmp) / "map.json")]
        commands["summary"] = [*base, "--summary", "-o", "txt", "-f", str(Path(tmp) / "summary.txt")]
        for i in range(1, repeat + 1):
            for name, cmd in commands.items():
                progress(f"{tag} {name}, run {i}/{repeat}")
                runs[name].append(run_child(cmd, env, timeout, sink))
                progress(f"{tag}   {describe(runs[name][-1])}")
        if full and (Path(tmp) / "map.txt").exists():
            with (Path(tmp) / "map.txt").open("rb") as fh:
                pairs = sum(1 for _ in fh)
    return DenseRow(
        workloads,
        policies,
        yaml_size(cluster),
        median_of(runs["parse"]),
        median_of(runs["txt"]) if full else None,
        median_of(runs["json"]) if full else None,
        median_of(runs["summary"]),
        pairs,
    )


DENSE_COLUMNS = (
    ("W", 7),
    ("P", 7),
    ("YAML MB", 8),
    ("parse s", 8),
    ("txt s", 8),
    ("txt RSS MB", 10),
    ("pairs", 10),
    ("µs/pair", 8),
    ("(txt-parse)/parse", 17),
    ("json s", 8),
    ("json RSS MB", 11),
    ("json/txt", 8),
    ("summary s", 9),
    ("summary RSS MB", 14),
)


def dense_columns(with_nca: bool) -> tuple[tuple[str, int], ...]:
    return (*DENSE_COLUMNS, *(NCA_COLUMNS if with_nca else ()), TARGET_COLUMN)


def dense_header(seed: int, repeat: int, nca_timeout: float | None, density: float) -> str:
    libyaml = "libyaml" if yaml.__with_libyaml__ else "no libyaml"
    versions = f"Python {platform.python_version()}, PyYAML {yaml.__version__} ({libyaml})"
    cols = dense_columns(nca_timeout is not None)
    head = "| " + " | ".join(name.rjust(width) for name, width in cols) + " |"
    rule = "|" + "|".join("-" * (width + 1) + ":" for _, width in cols) + "|"
    runs = f"median of {repeat} run(s)" + (", NCA once per size" if nca_timeout is not None else "")
    w, p = DENSE_OWN_WORK_AT
    lines = [
        f"kubefence map benchmark, dense profile (density {density:g}): seed {seed}, {runs}, {versions}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "targets (wall time, peak RSS):",
        f"  W={w:,}/P={p:,}: (txt-parse)/parse <= {MAX_OWN_WORK:g}; json/txt <= {MAX_JSON_RATIO:g} "
        f"and json under {MAX_JSON_RSS / 1e6:g} MB",
        f"  every full-map size: at most {MAX_US_PER_PAIR:g} µs per printed pair beyond the parse",
        f"  --summary on {DENSE_SUMMARY_TARGET.describe()}",
    ]
    if nca_timeout is not None:
        limit = f"NCA stopped after {nca_timeout:g} s"
        lines.append(f"  where NCA finishes, at least {MIN_SPEEDUP:g}x faster ({limit})")
    return "\n".join([*lines, "", head, rule])


def dense_misses(row: DenseRow) -> list[str]:
    runs = [r for r in (row.parse, row.txt, row.json, row.summary) if r is not None]
    if not all(r.ok for r in runs):
        return ["failed"]
    out = []
    if (row.workloads, row.policies) == DENSE_OWN_WORK_AT:
        own, ratio = row.own_work, row.json_ratio
        if own is not None and own > MAX_OWN_WORK:
            out.append("parse")
        if ratio is not None and ratio > MAX_JSON_RATIO:
            out.append("json time")
        if row.json is not None and row.json.max_rss_bytes >= MAX_JSON_RSS:
            out.append("json memory")
    per_pair = row.us_per_pair
    if per_pair is not None and per_pair > MAX_US_PER_PAIR:
        out.append("µs/pair")
    t = DENSE_SUMMARY_TARGET
    slow = row.summary.seconds >= t.seconds or (t.rss_bytes and row.summary.max_rss_bytes >= t.rss_bytes)
    if (row.workloads, row.policies) == (t.workloads, t.policies) and slow:
        out.append("summary")
    if row.nca is not None and row.nca.ok and row.speedup is not None and row.speedup < MIN_SPEEDUP:
        out.append("speedup")
    return out


def format_dense_row(row: DenseRow) -> str:
    def secs(run: Run | None) -> str:
        if run is None:
            return "skipped"
        if run.timed_out:
            return "timeout"
        return f"{run.seconds:.2f}" if run.ok else f"exit {run.exit_code}"

    def rss(run: Run | None) -> str:
        return f"{run.max_rss_bytes / MB:,.0f}" if run is not None and run.ok else ""

    def num(value: float | None, fmt: str) -> str:
        return "" if value is None else format(value, fmt)

    missed = dense_misses(row)
    nca: tuple[str, ...] = ()
    if row.nca is not None:
        nca = nca_cells(Row(row.workloads, row.policies, 0, row.parse, row.txt or row.summary, 0, row.nca))
    cells = (
        f"{row.workloads:,}",
        f"{row.policies:,}",
        f"{row.yaml_bytes / MB:.1f}",
        secs(row.parse),
        secs(row.txt),
        rss(row.txt),
        f"{row.pairs:,}" if row.txt is not None else "",
        num(row.us_per_pair, ".2f"),
        num(row.own_work, ".2f"),
        secs(row.json),
        rss(row.json),
        num(row.json_ratio, ".2f"),
        secs(row.summary),
        rss(row.summary),
        *nca,
        f"MISS ({', '.join(missed)})" if missed else "ok",
    )
    cols = dense_columns(row.nca is not None)
    return "| " + " | ".join(c.rjust(width) for c, (_, width) in zip(cells, cols, strict=True)) + " |"


class NcaRunner:
    """network-config-analyzer, run once per size by ``crosscheck.tools.Nca``.

    After one timeout it skips every size at least as large in both workloads and policies: NCA's
    time grows faster than the cluster, so those would only burn the timeout again.
    """

    def __init__(self, timeout: float | None) -> None:
        # Imported here, not at the top: this module is also the parse-only child, whose time
        # must not include importing kubefence (which crosscheck.tools does).
        from crosscheck.tools import Nca, ensure_nca

        self.nca = Nca(ensure_nca())
        if timeout is not None:
            self.nca.timeout = timeout
        self.stopped_at: tuple[int, int] | None = None
        self.skipped: list[tuple[int, int]] = []

    @property
    def timeout(self) -> float:
        return self.nca.timeout

    def measure(self, cluster: Path, workloads: int, policies: int) -> NcaRun:
        from crosscheck.tools import AnalyzerError

        tag = f"[{workloads}:{policies}]"
        if self.stopped_at is not None and workloads >= self.stopped_at[0] and policies >= self.stopped_at[1]:
            w, p = self.stopped_at
            progress(f"{tag} nca skipped: it did not finish {w}:{p} within {self.timeout:g} s")
            self.skipped.append((workloads, policies))
            return NcaRun("skipped", limit=self.timeout)
        progress(f"{tag} nca (once, timeout {self.timeout:g} s)")
        try:
            text = self.nca.run(cluster)
        except subprocess.TimeoutExpired:
            progress(f"{tag}   nca stopped after {self.timeout:g} s")
            self.stopped_at = (workloads, policies)
            return NcaRun("timeout", limit=self.timeout)
        except AnalyzerError as exc:
            progress(f"{tag}   nca failed: {exc}")
            return NcaRun("failed", self.nca.last_seconds, self.timeout)
        lines = text.count("\n")
        progress(f"{tag}   nca {self.nca.last_seconds:.2f} s, {lines:,} output lines")
        return NcaRun("ok", self.nca.last_seconds, self.timeout, lines)

    def footnote(self) -> str:
        """Which sizes were skipped and why; empty if none was."""
        if self.stopped_at is None or not self.skipped:
            return ""
        skipped = ", ".join(f"{w:,}/{p:,}" for w, p in self.skipped)
        w, p = self.stopped_at
        return (
            f"NCA not run on {skipped}: it did not finish {w:,}/{p:,} within {self.timeout:g} s,"
            " and takes longer on larger clusters."
        )


def describe(run: Run) -> str:
    if run.timed_out:
        return f"timed out after {run.seconds:.1f} s"
    text = f"{run.seconds:.2f} s, {run.max_rss_bytes / MB:.0f} MB peak RSS, exit {run.exit_code}"
    if run.exit_code != 0:
        tail = run.stderr.strip().splitlines()[-15:]
        text += "\n" + "\n".join(f"    {line}" for line in tail)
    return text


# -- report --------------------------------------------------------------------------------------

COLUMNS = (
    ("W", 7),
    ("P", 7),
    ("YAML MB", 8),
    ("parse s", 8),
    ("parse RSS MB", 12),
    ("map s", 8),
    ("map RSS MB", 10),
    ("lines", 9),
    ("(map-parse)/parse", 17),
)
NCA_COLUMNS = (("NCA s", 8), ("speedup", 8))
TARGET_COLUMN = ("target", 16)


def columns(with_nca: bool) -> tuple[tuple[str, int], ...]:
    return (*COLUMNS, *(NCA_COLUMNS if with_nca else ()), TARGET_COLUMN)


def targets_text(nca_timeout: float | None) -> str:
    """The targets, one per line, as the header prints them."""
    lines = [f"  map on {t.describe()}" for t in TARGETS]
    own = f"(map-parse)/parse <= {MAX_OWN_WORK:g}"
    lines.append(f"  at every size, our work beyond parsing no larger than the parse: {own}")
    speedup = f"  at every size where both finish, at least {MIN_SPEEDUP:g}x faster than NCA"
    if nca_timeout is None:
        lines.append(speedup + " (with --nca)")
    else:
        lines.append(speedup + f" (NCA stopped after {nca_timeout:g} s)")
    return "\n".join(lines)


def header(seed: int, repeat: int, nca_timeout: float | None) -> str:
    libyaml = "libyaml" if yaml.__with_libyaml__ else "no libyaml"
    versions = f"Python {platform.python_version()}, PyYAML {yaml.__version__} ({libyaml})"
    cols = columns(nca_timeout is not None)
    head = "| " + " | ".join(name.rjust(width) for name, width in cols) + " |"
    rule = "|" + "|".join("-" * (width + 1) + ":" for _, width in cols) + "|"
    runs = f"best of {repeat} run(s)" + (", NCA once per size" if nca_timeout is not None else "")
    return "\n".join(
        [
            f"kubefence map benchmark: seed {seed}, {runs}, {versions}, {os.cpu_count()} CPUs",
            "targets (wall time, peak RSS):",
            targets_text(nca_timeout),
            "",
            head,
            rule,
        ]
    )


def misses(row: Row) -> list[str]:
    """The targets this row misses: ``time``, ``memory``, ``parse`` (own work beyond parsing),
    ``speedup`` or ``failed`` (map did not finish)."""
    if not row.map.ok:
        return ["failed"]
    out = []
    for t in TARGETS:
        if (t.workloads, t.policies) == (row.workloads, row.policies):
            if row.map.seconds >= t.seconds:
                out.append("time")
            if t.rss_bytes is not None and row.map.max_rss_bytes >= t.rss_bytes:
                out.append("memory")
    own = row.own_work
    if own is not None and own > MAX_OWN_WORK:
        out.append("parse")
    speedup = row.speedup
    if row.nca is not None and row.nca.ok and speedup is not None and speedup < MIN_SPEEDUP:
        out.append("speedup")
    return out


def verdict(row: Row) -> str:
    """``ok``, or ``MISS (...)`` naming the targets missed."""
    missed = misses(row)
    return f"MISS ({', '.join(missed)})" if missed else "ok"


def nca_cells(row: Row) -> tuple[str, ...]:
    """The NCA and speedup cells; none without --nca."""
    if row.nca is None:
        return ()
    nca, speedup = row.nca, row.speedup
    if nca.status == "ok":
        text = f"{nca.seconds:.2f}"
    elif nca.status == "timeout":
        text = f"> {nca.limit:g} s"
    else:
        text = nca.status
    if speedup is None:
        return text, ""
    return text, (f"{speedup:,.0f}x" if nca.ok else f"> {speedup:,.0f}x")


def format_row(row: Row) -> str:
    def secs(run: Run) -> str:
        if run.timed_out:
            return "timeout"
        return f"{run.seconds:.2f}" if run.ok else f"exit {run.exit_code}"

    own = row.own_work
    cells = (
        f"{row.workloads:,}",
        f"{row.policies:,}",
        f"{row.yaml_bytes / MB:.1f}",
        secs(row.parse),
        f"{row.parse.max_rss_bytes / MB:,.0f}" if row.parse.ok else "",
        secs(row.map),
        f"{row.map.max_rss_bytes / MB:,.0f}" if row.map.ok else "",
        f"{row.output_lines:,}" if row.map.ok else "",
        "" if own is None else f"{own:.2f}",
        *nca_cells(row),
        verdict(row),
    )
    cols = columns(row.nca is not None)
    return "| " + " | ".join(c.rjust(width) for c, (_, width) in zip(cells, cols, strict=True)) + " |"


# -- command line --------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"200:100,1000:500"`` -> ``[(200, 100), (1000, 500)]``."""
    sizes = []
    for item in text.split(","):
        w, sep, p = item.strip().partition(":")
        if not sep or not w.isdigit() or not p.isdigit() or int(w) < 1:
            raise argparse.ArgumentTypeError(f"bad size {item!r}: expected WORKLOADS:POLICIES, e.g. 1000:500")
        sizes.append((int(w), int(p)))
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark. Exit 0 when every run succeeded (and, with --check, met its target)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="exit codes: 0 all runs succeeded, 1 a run failed or (with --check) missed its target,"
        " 2 usage error",
    )
    sizes_help = "comma-separated WORKLOADS:POLICIES (default: 200:100,1000:500,5000:2500,10000:5000)"
    parser.add_argument("--sizes", type=parse_sizes, default=None, help=sizes_help)
    parser.add_argument("--include-huge", action="store_true", help="also run 50000:20000")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size; the fastest counts (default: 1)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run (default: 900)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="default: bench/.cache")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--nca",
        action="store_true",
        help="also time network-config-analyzer once per size (its venv is made on first use)",
    )
    parser.add_argument(
        "--nca-timeout",
        type=float,
        metavar="SEC",
        help="stop NCA after SEC seconds and skip it on larger sizes (default: 600)",
    )
    parser.add_argument(
        "--profile",
        choices=("sparse", "dense"),
        default="sparse",
        help="sparse: today's clusters (the default); dense: gen_cluster --density, with -o json and "
        "--summary timed too (default sizes 1000:500,2000:1000,5000:2500,10000:5000)",
    )
    parser.add_argument(
        "--density", type=float, default=DENSE_DENSITY, help=f"dense profile's (default: {DENSE_DENSITY:g})"
    )
    parser.add_argument(
        "--dense-full-max",
        type=int,
        default=DENSE_FULL_MAX,
        metavar="W",
        help=f"dense profile: above W workloads time --summary only (default: {DENSE_FULL_MAX})",
    )
    parser.add_argument("--parse-only", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.parse_only is not None:
        return parse_only(args.parse_only)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.nca_timeout is not None and (args.nca_timeout <= 0 or not args.nca):
        parser.error("--nca-timeout needs --nca and a positive number of seconds")
    compile_sources()
    nca = NcaRunner(args.nca_timeout) if args.nca else None
    if args.profile == "dense":
        return run_dense(args, nca)
    sizes: list[tuple[int, int]] = args.sizes or list(DEFAULT_SIZES)
    sizes += [HUGE_SIZE] if args.include_huge else []
    print(header(args.seed, args.repeat, nca.timeout if nca else None), flush=True)
    failed = missed = False
    for workloads, policies in sizes:
        cluster = ensure_cluster(args.cache_dir, workloads, policies, args.seed)
        row = measure(cluster, workloads, policies, args.repeat, args.timeout)
        if nca is not None:
            row = dataclasses.replace(row, nca=nca.measure(cluster, workloads, policies))
        print(format_row(row), flush=True)
        failed |= not (row.map.ok and row.parse.ok)
        missed |= bool(misses(row))
    if nca is not None and nca.footnote():
        print("\n" + nca.footnote(), flush=True)
    return 1 if failed or (args.check and missed) else 0


def run_dense(args: argparse.Namespace, nca: NcaRunner | None) -> int:
    """The dense profile: one row per size, a note on the sizes whose full map was not timed."""
    sizes: list[tuple[int, int]] = args.sizes or list(DENSE_SIZES)
    print(dense_header(args.seed, args.repeat, nca.timeout if nca else None, args.density), flush=True)
    failed = missed = False
    for workloads, policies in sizes:
        cluster = ensure_cluster(args.cache_dir, workloads, policies, args.seed, args.density)
        full = workloads <= args.dense_full_max
        row = measure_dense(cluster, workloads, policies, args.repeat, args.timeout, full)
        if nca is not None:
            row = dataclasses.replace(row, nca=nca.measure(cluster, workloads, policies))
        print(format_dense_row(row), flush=True)
        failed |= "failed" in dense_misses(row)
        missed |= bool(dense_misses(row))
    if any(w > args.dense_full_max for w, _ in sizes):
        print(f"\nAbove {args.dense_full_max:,} workloads only --summary was timed.", flush=True)
    if nca is not None and nca.footnote():
        print("\n" + nca.footnote(), flush=True)
    return 1 if failed or (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
