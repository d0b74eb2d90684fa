"""Reading flow logs: Hubble JSON, Inspektor Gadget trace_tcp events, CSV/Parquet tables.

>>> log = read_flows(["hubble/*.json.gz"])     # doctest: +SKIP
>>> log.flows[0].count                           # doctest: +SKIP
1824

Files, directories and globs of any of these formats, gzip-compressed or not, mix freely. DuckDB
reads and aggregates the records (:mod:`.engine`); the result is one :class:`ObservedFlow` per
distinct (source endpoint, destination endpoint, protocol, port). Replies, ICMP, node-local traffic
and records outside the window are counted in :class:`FlowStats`, never returned as flows. A
malformed record is an :class:`InputError` naming its file and line.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubefence.errors import InputError
from kubefence.gcpause import no_cycle_collection
from kubefence.io.flows import gadget, hubble, table
from kubefence.io.flows.engine import Totals, Window, aggregate, connect, execute, has_malformed
from kubefence.io.flows.files import FlowFile, FlowFormat, classify, expand_flow_paths
from kubefence.model.flows import FlowLog, ObservedFlow

if TYPE_CHECKING:
    import duckdb

__all__ = ["FlowFormat", "Progress", "Window", "read_flows"]

_NEVER = datetime.max.replace(tzinfo=UTC)


def read_flows(
    paths: Iterable[str | Path],
    *,
    window: Window | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> FlowLog:
    """The flows in ``paths`` (files, directories, globs), aggregated; ``threads``: DuckDB's (all
    cores); ``progress(done, total)``: bytes of the files read, called as each file is done."""
    window = window or Window()
    files = [classify(p) for p in expand_flow_paths(paths)]
    threads = max(1, threads or os.cpu_count() or 1)
    done = _Done(files, progress)
    with no_cycle_collection():
        totals = Totals()
        con = connect(threads)
        try:
            lines = [f for f in files if f.format in _JSON_LINES]
            if lines:
                _read_json_lines(con, lines, window, threads, totals, done)
            tables = [f for f in files if f.format not in _JSON_LINES]
            # a table scan is parallel within a file: DuckDB's threads share each batch
            for batch in (tables[i : i + threads] for i in range(0, len(tables), threads)):
                totals.add(execute(con, aggregate(table.records_query(con, batch), window), "flow tables"))
                done(*batch)
        finally:
            con.close()
        result = totals.result()
        return FlowLog(tuple(_merge(result.flows)), result.stats, tuple(f.path for f in files))


_JSON_LINES = {
    FlowFormat.HUBBLE: (hubble.records_query, "Hubble flows"),
    FlowFormat.GADGET: (gadget.records_query, "Inspektor Gadget events"),
}


Progress = Callable[[int, int], None]


class _Done:
    """Reports the bytes of the files read so far to a progress callback."""

    def __init__(self, files: Sequence[FlowFile], progress: Progress | None) -> None:
        self._progress = progress
        self._sizes = {f.path: _size(f.path) for f in files} if progress else {}
        self._total = sum(self._sizes.values())
        self._done = 0
        if progress:
            progress(0, self._total)

    def __call__(self, *files: FlowFile) -> None:
        if self._progress:
            self._done += sum(self._sizes[f.path] for f in files)
            self._progress(self._done, self._total)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # DuckDB says why when it reads the file


def _read_json_lines(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FlowFile],
    window: Window,
    threads: int,
    totals: Totals,
    done: _Done,
) -> None:
    """One query per file, ``threads`` at a time: a gzip stream is read by one thread, so files are
    the unit of parallelism. At most ``threads`` files are in flight (memory stays that of a few
    readers however many files there are), and their rows are added up in the given order, so the
    first malformed record reported is that of the first file that has one."""
    reading = _Reading(con, window)
    con.execute("SET threads = 1")  # each query runs in its own thread, never waiting for another's
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="kubefence-flows") as pool:
            queue = iter(files)
            pending = deque((f, pool.submit(reading.file, f)) for f in itertools.islice(queue, threads))
            try:
                while pending:
                    f, future = pending.popleft()
                    rows = future.result()
                    pending.extend((n, pool.submit(reading.file, n)) for n in itertools.islice(queue, 1))
                    totals.add(rows)
                    done(f)
                    if has_malformed(rows):  # reported at this file's record: later files do not matter
                        break
            finally:
                reading.stop()  # nothing left to read, a malformed record, an error or Ctrl-C
    finally:
        con.execute(f"SET threads = {threads}")


class _Reading:
    """The queries of :func:`_read_json_lines`, each on its own cursor, all stopped at once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, window: Window) -> None:
        self._con = con
        self._window = window
        self._lock = threading.Lock()
        self._cursors: set[duckdb.DuckDBPyConnection] = set()
        self._stopped = False

    def file(self, f: FlowFile) -> list[tuple[Any, ...]]:
        """DuckDB's JSON reader first; when it fails or meets a malformed record, the exact line
        reader, which names the record's file and line."""
        query, what = _JSON_LINES[f.format]
        with self._lock:
            if self._stopped:
                return []
            cursor = self._con.cursor()
            cursor.execute("SET enable_progress_bar = false")  # a session setting: each cursor's own
            self._cursors.add(cursor)
        try:
            try:
                rows = execute(cursor, aggregate(query([f], False), self._window), what)
            except InputError:
                rows = None
            if (rows is None or has_malformed(rows)) and not self._stopped:
                rows = execute(cursor, aggregate(query([f], True), self._window), what)
            return rows or []
        finally:
            with self._lock:
                self._cursors.discard(cursor)
            cursor.close()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for cursor in self._cursors:
                cursor.interrupt()


def _merge(flows: list[ObservedFlow]) -> list[ObservedFlow]:
    """One flow per key, sorted as the flows' own order would sort them: rows that differ as the logs
    spell them can be one endpoint (labels as a Hubble list and as a table's text). Endpoints are
    few and flows many: endpoints are sorted once and flows by their ranks, since comparing
    dataclasses field by field is many times slower."""
    # by identity first (the reader shares one object per endpoint), then equal values share a rank
    distinct = sorted({id(ep): ep for f in flows for ep in (f.src, f.dst)}.values())
    rank: dict[int, int] = {}
    for i, ep in enumerate(distinct):
        rank[id(ep)] = rank[id(distinct[i - 1])] if i and distinct[i - 1] == ep else i
    merged: dict[tuple[int, int, str, int], ObservedFlow] = {}
    for f in flows:
        k = (rank[id(f.src)], rank[id(f.dst)], f.protocol, f.port)
        prev = merged.get(k)
        if prev is None:
            merged[k] = f
            continue
        firsts = [t for t in (prev.first_seen, f.first_seen) if t is not None]
        lasts = [t for t in (prev.last_seen, f.last_seen) if t is not None]
        earlier = f if (f.first_seen or _NEVER) < (prev.first_seen or _NEVER) else prev
        merged[k] = replace(
            prev,
            count=prev.count + f.count,
            dropped=prev.dropped + f.dropped,
            first_seen=min(firsts) if firsts else None,
            last_seen=max(lasts) if lasts else None,
            sample=earlier.sample,
            drop_reason=prev.drop_reason or f.drop_reason,
        )
    return [merged[k] for k in sorted(merged)]
