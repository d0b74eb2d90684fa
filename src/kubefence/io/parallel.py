"""Parsing many manifest files on several cores.

Parsing YAML is most of the time ``kubefence map`` spends on a large cluster, and it holds the GIL,
so threads do not help. On Linux, when the files are many and large enough, :func:`parse_files`
forks helper processes that each parse a share of the files and send the documents back pickled
(pickling is about twenty times faster than parsing). The result is the same as parsing the files
one by one, in the same order, with the same first error: a helper that fails for any reason is
ignored and its files are parsed again here, where their errors are raised in file order.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubefence.errors import KubefenceError, UsageError
from kubefence.gcpause import no_cycle_collection
from kubefence.io.documents import Document, parse_file

MIN_PARALLEL_BYTES = 1 << 20  # below about 1 MB, forking costs more than it saves
MAX_WORKERS = 4
WORKERS_ENV = "KUBEFENCE_WORKERS"  # a number of processes; 1 turns the helpers off

Parse = Callable[[Path], list[Document]]
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


def parse_files(
    paths: Sequence[Path],
    *,
    workers: int | None = None,
    min_bytes: int = MIN_PARALLEL_BYTES,
    parse: Parse = parse_file,
    progress: Progress | None = None,
) -> list[list[Document]]:
    """The documents of each file in ``paths``, in order, parsed on up to ``workers`` processes.

    ``workers`` defaults to ``$KUBEFENCE_WORKERS``, else the usable cores (at most 4). Files are
    parsed here one by one when there are fewer than ``min_bytes`` in all, when fork is unsafe
    (not Linux, or other threads running), or when ``workers`` is 1. ``progress(done, total)`` is
    called in bytes as files are parsed (with helpers, as this process's share goes: the shares
    are of equal size).
    """
    # parsing allocates millions of objects and no reference cycles
    with no_cycle_collection():
        return _parse_files(paths, workers, min_bytes, parse, progress or _no_progress)


def _parse_files(
    paths: Sequence[Path], workers: int | None, min_bytes: int, parse: Parse, progress: Progress
) -> list[list[Document]]:
    sizes = [_size(p) for p in paths]
    total = sum(sizes)
    count = min(_worker_count(workers), len(paths))
    if count < 2 or total < min_bytes or not _can_fork():
        out = []
        for path, done in zip(paths, itertools.accumulate(sizes), strict=True):
            out.append(parse(path))
            progress(done, total)
        return out
    own, *shares = _balance(sizes, count)
    helpers = [_Helper.start(share, paths, parse) for share in shares]
    results: dict[int, list[Document] | KubefenceError] = {}
    own_total, own_done = sum(sizes[i] for i in own) or 1, 0
    try:
        for i in own:
            try:
                results[i] = parse(paths[i])
            except KubefenceError as exc:  # raised below, in file order
                results[i] = exc
            own_done += sizes[i]
            progress(min(total * own_done // own_total, total - 1), total)
        for helper in helpers:
            results.update(helper.collect())
        progress(total, total)
    finally:
        for helper in helpers:  # interrupted: stop the helpers rather than leave them behind
            helper.stop()
    out = []
    for i, path in enumerate(paths):
        result = results.get(i)
        if result is None:  # a helper failed on this file, or failed altogether
            result = parse(path)
        if isinstance(result, KubefenceError):
            raise result
        out.append(result)
    return out


@dataclass
class _Helper:
    pid: int
    fd: int

    @classmethod
    def start(cls, share: list[int], paths: Sequence[Path], parse: Parse) -> _Helper:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: parse, send, and leave without running the parent's exit code
            status = 1
            try:
                os.close(read_fd)
                parsed = {}
                for i in share:
                    # a file that fails is left out: the parent parses it again to report it
                    with contextlib.suppress(Exception):
                        parsed[i] = parse(paths[i])
                with os.fdopen(write_fd, "wb") as out:
                    out.write(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
                status = 0
            finally:
                os._exit(status)
        os.close(write_fd)
        return cls(pid, read_fd)

    def collect(self) -> dict[int, list[Document]]:
        with os.fdopen(self.fd, "rb") as stream:
            data = stream.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if status != 0:
            return {}
        try:
            parsed = pickle.loads(data)
        except Exception:  # a truncated message: parse those files here instead
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def stop(self) -> None:
        if self.pid:
            os.close(self.fd)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


def _worker_count(workers: int | None) -> int:
    if workers is not None:
        return workers
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        if not configured.isdigit():
            raise UsageError(f"{WORKERS_ENV}={configured!r}: give a number of processes (1 to parse in one)")
        return int(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def _can_fork() -> bool:
    # fork copies only the calling thread: with other threads running, a lock they hold could
    # stay locked forever in the helper
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _balance(sizes: Sequence[int], count: int) -> list[list[int]]:
    """Split file indexes into ``count`` shares of about equal bytes (largest files first)."""
    shares: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        k = loads.index(min(loads))
        shares[k].append(i)
        loads[k] += sizes[i]
    return [sorted(share) for share in shares]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # parse_file reports it
