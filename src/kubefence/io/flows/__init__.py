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

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kubefence.errors import InputError
from kubefence.io.flows import gadget, hubble, table
from kubefence.io.flows.engine import Aggregated, Window, aggregate, connect, run
from kubefence.io.flows.files import FlowFile, FlowFormat, classify, expand_flow_paths
from kubefence.model.flows import FlowEndpoint, FlowLog, FlowStats, ObservedFlow

if TYPE_CHECKING:
    import duckdb

__all__ = ["FlowFormat", "Window", "read_flows"]

# one query per group: CSV and Parquet share the table's columns
_QUERIES = ((FlowFormat.HUBBLE,), (FlowFormat.GADGET,), (FlowFormat.CSV, FlowFormat.PARQUET))
_NEVER = datetime.max.replace(tzinfo=UTC)


def read_flows(
    paths: Iterable[str | Path], *, window: Window | None = None, threads: int | None = None
) -> FlowLog:
    """The flows in ``paths`` (files, directories, globs), aggregated; ``threads``: DuckDB's (all cores)."""
    window = window or Window()
    files = [classify(p) for p in expand_flow_paths(paths)]
    con = connect(threads)
    try:
        flows: list[ObservedFlow] = []
        stats = FlowStats()
        for formats in _QUERIES:
            group = [f for f in files if f.format in formats]
            if not group:
                continue
            # as many files at once as threads read them (one each, gzip is sequential): memory
            # stays that of a few readers however many files there are
            step = max(1, threads or os.cpu_count() or 1)
            for batch in (group[i : i + step] for i in range(0, len(group), step)):
                if FlowFormat.HUBBLE in formats:
                    result = _json_lines(con, hubble.records_query, batch, window, "Hubble flows")
                elif FlowFormat.GADGET in formats:
                    result = _json_lines(con, gadget.records_query, batch, window, "Inspektor Gadget events")
                else:
                    result = run(con, aggregate(table.records_query(con, batch), window), "flow tables")
                flows.extend(result.flows)
                stats = stats + result.stats
    finally:
        con.close()
    return FlowLog(tuple(_merge(flows)), stats, tuple(f.path for f in files))


def _json_lines(
    con: duckdb.DuckDBPyConnection,
    query: Callable[[Sequence[FlowFile], bool], str],
    files: Sequence[FlowFile],
    window: Window,
    what: str,
) -> Aggregated:
    """DuckDB's JSON reader first; when it fails (a malformed record), the exact line reader, which
    names the record's file and line."""
    try:
        return run(con, aggregate(query(files, False), window), what)
    except InputError:
        return run(con, aggregate(query(files, True), window), what)


def _merge(flows: list[ObservedFlow]) -> list[ObservedFlow]:
    """One flow per key (formats are aggregated apart), sorted."""
    merged: dict[tuple[FlowEndpoint, FlowEndpoint, str, int], ObservedFlow] = {}
    for f in flows:
        key = (f.src, f.dst, f.protocol, f.port)
        prev = merged.get(key)
        if prev is None:
            merged[key] = f
            continue
        firsts = [t for t in (prev.first_seen, f.first_seen) if t is not None]
        lasts = [t for t in (prev.last_seen, f.last_seen) if t is not None]
        earlier = f if (f.first_seen or _NEVER) < (prev.first_seen or _NEVER) else prev
        merged[key] = replace(
            prev,
            count=prev.count + f.count,
            dropped=prev.dropped + f.dropped,
            first_seen=min(firsts) if firsts else None,
            last_seen=max(lasts) if lasts else None,
            sample=earlier.sample,
            drop_reason=prev.drop_reason or f.drop_reason,
        )
    return [merged[k] for k in sorted(merged)]
